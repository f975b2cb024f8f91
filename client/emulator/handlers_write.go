package emulator

import (
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/contraforce/contraforce-mcp/client"
)

// addCommentRequest is the body of POST …/comments.
type addCommentRequest struct {
	Content     *string         `json:"content"`
	ExtensionID *string         `json:"extensionId"`
	Source      json.RawMessage `json:"source"`
}

// statusRequest is the body of PUT …/status.
type statusRequest struct {
	Source               json.RawMessage              `json:"source"`
	Status               client.Status                `json:"status"`
	Comment              *string                      `json:"comment"`
	Classification       *client.Classification       `json:"classification"`
	ClassificationReason *client.ClassificationReason `json:"classificationReason"`
	UpdateTicket         bool                         `json:"updateTicket"`
	TicketID             *string                      `json:"ticketId"`
}

// assignRequest is the body of PUT …/assignee.
type assignRequest struct {
	UserID string          `json:"userId"`
	Email  string          `json:"email"`
	Source json.RawMessage `json:"source"`
}

// checkBodySource refuses the older documentation's body "source": no v2
// body has one (the path carries the source). The real API would most
// likely ignore it; refusing it proves that clients do not send it.
func checkBodySource(errs fieldErrors, body json.RawMessage) {
	if body != nil {
		errs.add("source", "source is not a member of this v2 body: the path carries the source; omit it.")
	}
}

func checkText(errs fieldErrors, key, text string) {
	if n := textLength(text); n > maxCommentChars {
		errs.add(key, "The text is %d characters long; the maximum is %d.", n, maxCommentChars)
	}
}

// handleAddComment serves POST …/comments: the comment is attributed to the
// credential's service account and flagged as an agent's. An extensionId
// must be the incident's own; without one the comment is stored but not
// routed back (recorded for CommentExtensionID either way).
func (e *Emulator) handleAddComment(w http.ResponseWriter, r *http.Request, c *call) {
	ref, ok := e.incidentTarget(w, r, c, true)
	if !ok {
		return
	}
	var req addCommentRequest
	if !e.decodeBody(w, r, c, &req) {
		return
	}
	errs := fieldErrors{}
	if req.Content == nil || strings.TrimSpace(*req.Content) == "" {
		errs.add("content", "The comment content is required and cannot be blank.")
	} else {
		checkText(errs, "content", *req.Content)
	}
	checkBodySource(errs, req.Source)
	if len(errs) > 0 {
		e.writeProblem(w, c, validationProblem(errs))
		return
	}
	now := e.now()
	e.mu.Lock()
	rec, ok := e.lookup(w, c, ref)
	if !ok {
		e.mu.Unlock()
		return
	}
	ext := ""
	if req.ExtensionID != nil {
		ext = strings.TrimSpace(*req.ExtensionID)
	}
	if msg := extensionMismatch(rec, ext); msg != "" {
		e.mu.Unlock()
		errs.add("extensionId", "%s", msg)
		e.writeProblem(w, c, validationProblem(errs))
		return
	}
	cm := e.agentCommentLocked(c.cred, *req.Content, now)
	rec.comments = append(rec.comments, cm)
	if rec.commentExt == nil {
		rec.commentExt = map[string]string{}
	}
	rec.commentExt[cm.ID] = ext
	rec.lastActivity = now
	rec.refresh()
	e.mu.Unlock()
	e.faults.applied(c.endpoint)
	e.writeData(w, c, http.StatusCreated, cm)
}

// extensionMismatch says why an extensionId cannot route a write of the
// incident ("" when it can, or when none is sent).
func extensionMismatch(rec *record, ext string) string {
	switch {
	case ext == "":
		return ""
	case rec.extensionID == nil:
		return fmt.Sprintf("%s incidents have no extension to route a write back to; omit extensionId.", rec.ref.Source)
	case ext != *rec.extensionID:
		return fmt.Sprintf("%q is not the extension of this incident.", ext)
	}
	return ""
}

// agentCommentLocked makes a comment by the credential's service account; e.mu must be held.
func (e *Emulator) agentCommentLocked(cred *Credential, msg string, at time.Time) client.Comment {
	e.commentSeq++
	u, _ := e.userByID(cred.UserID) // AddCredential created it
	name := cred.Name
	return client.Comment{
		ID:      fmt.Sprintf("c0ffee00-0000-4000-8000-%012x", e.commentSeq),
		Message: msg, CreatedTime: wireTime(at), AuthorEmail: u.Email, AuthorName: u.DisplayName,
		IsAgentComment: true, AgentName: &name,
	}
}

// handleUpdateStatus serves PUT …/status.
func (e *Emulator) handleUpdateStatus(w http.ResponseWriter, r *http.Request, c *call) {
	ref, ok := e.incidentTarget(w, r, c, true)
	if !ok {
		return
	}
	var req statusRequest
	if !e.decodeBody(w, r, c, &req) {
		return
	}
	errs := fieldErrors{}
	var status *client.Status
	if req.Status == "" {
		errs.add("status", "The status is required; allowed: %s.", allowed[client.Status]())
	} else {
		status = &req.Status
	}
	checkStatusChange(errs, func(f string) string { return f }, ref.Source, status, req.Classification, req.ClassificationReason, req.Comment)
	if req.UpdateTicket && (req.TicketID == nil || strings.TrimSpace(*req.TicketID) == "") {
		errs.add("ticketId", "Required when updateTicket is true: the id of the linked service ticket.")
	}
	checkBodySource(errs, req.Source)
	if len(errs) > 0 {
		e.writeProblem(w, c, validationProblem(errs))
		return
	}
	now := e.now()
	e.mu.Lock()
	rec, ok := e.lookup(w, c, ref)
	if !ok {
		e.mu.Unlock()
		return
	}
	e.applyStatusLocked(rec, c.cred, &req, now)
	e.mu.Unlock()
	e.faults.applied(c.endpoint)
	w.WriteHeader(http.StatusNoContent)
}

// checkStatusChange checks the values of a status change as PUT …/status
// does (the bulk update too): status, classification and reason when given,
// the pair Sentinel requires to close, and the comment's length. key names
// each field's error key.
func checkStatusChange(errs fieldErrors, key func(string) string, src client.Source, status *client.Status,
	class *client.Classification, reason *client.ClassificationReason, comment *string) {
	if status != nil {
		checkEnum(errs, key("status"), "status", *status)
	}
	if class != nil {
		checkEnum(errs, key("classification"), "classification", *class)
	}
	if reason != nil {
		checkEnum(errs, key("classificationReason"), "classification reason", *reason)
	}
	if status != nil && *status == client.StatusClosed && src == client.SourceSentinel {
		if class == nil {
			errs.add(key("classification"), "Required by Sentinel when closing an incident; allowed: %s.", allowed[client.Classification]())
		}
		if reason == nil {
			errs.add(key("classificationReason"), "Required by Sentinel when closing an incident; allowed: %s.", allowed[client.ClassificationReason]())
		}
	}
	if comment != nil {
		checkText(errs, key("comment"), *comment)
	}
}

// applyStatusLocked changes an incident's status as the portal does; e.mu must be held.
func (e *Emulator) applyStatusLocked(rec *record, cred *Credential, req *statusRequest, now time.Time) {
	wasClosed := rec.status == client.StatusClosed
	rec.status = req.Status
	rec.classification, rec.reason, rec.classificationComment = nil, nil, nil
	if req.Status == client.StatusClosed && rec.ref.Source.RecordsClassification() {
		if req.Classification != nil {
			v := *req.Classification
			rec.classification = &v
		}
		if req.ClassificationReason != nil {
			v := *req.ClassificationReason
			rec.reason = &v
		}
	}
	var ticket *string
	if req.UpdateTicket {
		t := strings.TrimSpace(*req.TicketID)
		ticket, rec.ticketID = &t, &t
	}
	if req.Comment != nil && strings.TrimSpace(*req.Comment) != "" {
		cm := e.agentCommentLocked(cred, *req.Comment, now)
		cm.IsClosingComment = req.Status == client.StatusClosed
		cm.TicketID = ticket
		rec.comments = append(rec.comments, cm)
		if rec.classification != nil || rec.reason != nil {
			rec.classificationComment = &cm.Message
		}
	}
	// Alerts follow the incident; the slice is replaced, never modified in
	// place, because readers share it outside the lock.
	if closing := req.Status == client.StatusClosed; closing != wasClosed {
		alerts := slices.Clone(rec.alerts)
		for i := range alerts {
			alerts[i].Status = map[bool]string{true: "Resolved", false: "New"}[closing]
		}
		rec.alerts = alerts
	}
	rec.updated, rec.lastActivity = now, now
	rec.refresh()
}

// handleAssign serves PUT …/assignee: the user is named by id or e-mail.
func (e *Emulator) handleAssign(w http.ResponseWriter, r *http.Request, c *call) {
	ref, ok := e.incidentTarget(w, r, c, true)
	if !ok {
		return
	}
	var req assignRequest
	if !e.decodeBody(w, r, c, &req) {
		return
	}
	req.UserID, req.Email = strings.TrimSpace(req.UserID), strings.TrimSpace(req.Email)
	errs := fieldErrors{}
	if req.UserID == "" && req.Email == "" {
		errs.add("", "Either userId or email is required.")
	}
	checkBodySource(errs, req.Source)
	if len(errs) > 0 {
		e.writeProblem(w, c, validationProblem(errs))
		return
	}
	now := e.now()
	e.mu.Lock()
	rec, ok := e.lookup(w, c, ref)
	if !ok {
		e.mu.Unlock()
		return
	}
	u, errs := e.resolveAssigneeLocked(req)
	if len(errs) > 0 {
		e.mu.Unlock()
		e.writeProblem(w, c, validationProblem(errs))
		return
	}
	rec.assignee = &client.UserRef{ID: u.ID, DisplayName: u.DisplayName, Email: u.Email}
	rec.updated, rec.lastActivity = now, now
	rec.refresh()
	e.mu.Unlock()
	e.faults.applied(c.endpoint)
	w.WriteHeader(http.StatusNoContent)
}

// resolveAssigneeLocked finds the active user an assign request names; e.mu must be held.
func (e *Emulator) resolveAssigneeLocked(req assignRequest) (client.User, fieldErrors) {
	errs := fieldErrors{}
	var u client.User
	key, ok := "userId", false
	if req.UserID != "" {
		if u, ok = e.userByID(req.UserID); !ok {
			errs.add("userId", "No user with id %q in the organisation.", req.UserID)
			return u, errs
		}
		if req.Email != "" && !strings.EqualFold(u.Email, req.Email) {
			errs.add("email", "%q is not the e-mail of user %s; send one of userId or email.", req.Email, req.UserID)
			return u, errs
		}
	} else if u, ok = e.userByEmail(req.Email); !ok {
		errs.add("email", "No user with e-mail %q in the organisation.", req.Email)
		return u, errs
	} else {
		key = "email"
	}
	if !u.Active() {
		errs.add(key, "User %s (%s) is deactivated and cannot be assigned.", u.DisplayName, u.Email)
	}
	return u, errs
}
