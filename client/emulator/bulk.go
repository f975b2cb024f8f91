package emulator

import (
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/contraforce/contraforce-mcp/client"
)

// bulkItem is one item of POST /incidents/across-workspaces/bulk-update.
type bulkItem struct {
	ID                   string                       `json:"id"`
	Status               *client.Status               `json:"status"`
	User                 *client.UserRef              `json:"user"`
	Workspace            string                       `json:"workspace"`
	RemoveAssignee       bool                         `json:"removeAssignee"`
	Comment              *string                      `json:"comment"`
	Classification       *client.Classification       `json:"classification"`
	ClassificationReason *client.ClassificationReason `json:"classificationReason"`
	IncidentSource       client.Source                `json:"incidentSource"`
}

type bulkRequest struct {
	Items []bulkItem `json:"items"`
}

// handleBulkUpdate serves POST /incidents/across-workspaces/bulk-update.
// The whole body is validated first (400, nothing applied); then each item
// is authorized on its own: an incident whose workspace the caller has no
// role on, or only a read-only one, or that does not exist, is "forbidden"
// with the reason, and the others are applied, all under one lock.
func (e *Emulator) handleBulkUpdate(w http.ResponseWriter, r *http.Request, c *call) {
	var req bulkRequest
	if !e.decodeBody(w, r, c, &req) {
		return
	}
	errs := fieldErrors{}
	if n := len(req.Items); n == 0 || n > client.MaxBulkItems {
		errs.add("items", "Between 1 and %d items are required; %d were sent.", client.MaxBulkItems, n)
	}
	now := e.now()
	e.mu.Lock()
	users := make([]*client.UserRef, len(req.Items))
	for i := range req.Items {
		users[i] = e.checkBulkItem(errs, i, &req.Items[i])
	}
	if len(errs) > 0 {
		e.mu.Unlock()
		e.writeProblem(w, c, validationProblem(errs))
		return
	}
	res := client.BulkUpdateResult{Accepted: []string{}, Forbidden: []client.BulkForbidden{}}
	for i, it := range req.Items {
		ws := strings.ToLower(strings.TrimSpace(it.Workspace))
		ref := client.IncidentRef{WorkspaceID: ws, Source: it.IncidentSource, IncidentID: it.ID}
		forbid := func(format string, args ...any) {
			res.Forbidden = append(res.Forbidden, client.BulkForbidden{IncidentID: it.ID, WorkspaceID: it.Workspace, Reason: fmt.Sprintf(format, args...)})
		}
		role := c.cred.role(ws)
		rec := e.incidents[ref]
		switch {
		case role == "":
			forbid("The service account has no role on workspace %s.", ws)
		case !role.CanWrite():
			forbid("The service account's role on workspace %s is %s, which is read-only.", ws, role)
		case rec == nil:
			forbid("No %s incident %q in workspace %s.", it.IncidentSource, it.ID, ws)
		default:
			e.applyBulkLocked(rec, c.cred, it, users[i], now)
			res.Accepted = append(res.Accepted, it.ID)
		}
	}
	e.mu.Unlock()
	if len(res.Accepted) > 0 {
		e.faults.applied(c.endpoint)
	}
	e.writeData(w, c, http.StatusOK, res)
}

// checkBulkItem validates one item as PUT …/status and …/assignee would,
// keyed "items[i].…", and resolves its user; e.mu must be held.
func (e *Emulator) checkBulkItem(errs fieldErrors, i int, it *bulkItem) *client.UserRef {
	key := func(f string) string { return fmt.Sprintf("items[%d].%s", i, f) }
	if strings.TrimSpace(it.ID) == "" {
		errs.add(key("id"), "The incident id is required.")
	}
	if !isGUID(strings.TrimSpace(it.Workspace)) {
		errs.add(key("workspace"), "The workspace id is required and must be a GUID.")
	}
	if it.IncidentSource == "" {
		errs.add(key("incidentSource"), "The incident's source is required; allowed: %s.", allowed[client.Source]())
	} else {
		checkEnum(errs, key("incidentSource"), "source", it.IncidentSource)
	}
	checkStatusChange(errs, key, it.IncidentSource, it.Status, it.Classification, it.ClassificationReason, it.Comment)
	if it.Status == nil && it.User == nil && !it.RemoveAssignee && (it.Comment == nil || strings.TrimSpace(*it.Comment) == "") {
		errs.add(key(""), "Nothing to change: give status, user, removeAssignee or comment.")
	}
	if it.User == nil {
		return nil
	}
	if it.RemoveAssignee {
		errs.add(key("removeAssignee"), "Give user or removeAssignee, not both.")
		return nil
	}
	if strings.TrimSpace(it.User.ID) == "" && strings.TrimSpace(it.User.Email) == "" {
		errs.add(key("user"), "The user needs an id or an e-mail.")
		return nil
	}
	u, uerrs := e.resolveAssigneeLocked(assignRequest{UserID: strings.TrimSpace(it.User.ID), Email: strings.TrimSpace(it.User.Email)})
	for k, msgs := range uerrs {
		for _, m := range msgs {
			errs.add(key("user."+k), "%s", m)
		}
	}
	return &client.UserRef{ID: u.ID, DisplayName: u.DisplayName, Email: u.Email}
}

// applyBulkLocked applies one accepted item as the status and assignee
// writes do; a comment without a status change is a plain comment. e.mu
// must be held.
func (e *Emulator) applyBulkLocked(rec *record, cred *Credential, it bulkItem, user *client.UserRef, now time.Time) {
	switch {
	case user != nil:
		u := *user
		rec.assignee = &u
	case it.RemoveAssignee:
		rec.assignee = nil
	}
	switch {
	case it.Status != nil:
		e.applyStatusLocked(rec, cred, &statusRequest{Status: *it.Status, Comment: it.Comment,
			Classification: it.Classification, ClassificationReason: it.ClassificationReason}, now)
		return
	case it.Comment != nil && strings.TrimSpace(*it.Comment) != "":
		rec.comments = append(rec.comments, e.agentCommentLocked(cred, *it.Comment, now))
	}
	rec.updated, rec.lastActivity = now, now
	rec.refresh()
}
