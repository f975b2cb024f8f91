package emulator

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strings"

	"github.com/contraforce/contraforce-mcp/client"
)

// handleList serves POST /incidents/across-workspaces. Where the next-page
// position goes follows e.paging.
func (e *Emulator) handleList(w http.ResponseWriter, r *http.Request, c *call) {
	var req listRequest
	if !e.decodeBody(w, r, c, &req) {
		return
	}
	f, errs := parseFilter(&req, e.now())
	tokens := req.WorkspacePageTokens
	if req.ContinuationToken != "" {
		if e.paging != PagingContinuation && e.paging != PagingContinuationArray {
			errs.add("continuationToken", "This API does not issue continuation tokens: send back data.workspacePageTokens in workspacePageTokens, with isFirstCall false.")
		} else if ts, ok := decodeContinuation(req.ContinuationToken); !ok {
			errs.add("continuationToken", "Not a continuation token of this API, or altered; send it back exactly as received.")
		} else {
			tokens = append(slices.Clone(tokens), ts...)
		}
	}
	if len(errs) > 0 {
		e.writeProblem(w, c, validationProblem(errs))
		return
	}
	// An absent isFirstCall is a first call unless tokens are sent.
	first := req.IsFirstCall != nil && *req.IsFirstCall || req.IsFirstCall == nil && len(tokens) == 0
	var cursors []cursor
	if first || e.paging == PagingIgnoresTokens {
		cursors = e.firstCursors(c.cred, f)
	} else if cursors, errs = e.cursorsFromTokens(c.cred, tokens, f); len(errs) > 0 {
		e.writeProblem(w, c, validationProblem(errs))
		return
	}
	e.mu.RLock()
	res := e.page(cursors, f)
	e.mu.RUnlock()

	next := e.tokensOf(res.next, f)
	more := len(res.next) > 0
	size := 200
	for _, b := range res.json {
		size += len(b) + 1
	}
	var buf bytes.Buffer
	buf.Grow(size)
	if e.paging != PagingContinuationArray {
		buf.WriteString(`{"incidents":`)
	}
	buf.WriteByte('[')
	for i, b := range res.json {
		if i > 0 {
			buf.WriteByte(',')
		}
		buf.Write(b)
	}
	buf.WriteByte(']')
	var pagination []byte
	switch e.paging {
	case PagingContinuation, PagingContinuationArray:
		p := client.Pagination{HasMore: more}
		if more {
			p.ContinuationToken = encodeContinuation(next)
		}
		pagination, _ = json.Marshal(p) // strings and a bool
		if e.paging == PagingContinuation {
			buf.WriteByte('}')
		}
	default:
		tokens, _ := json.Marshal(next) // strings only
		buf.WriteString(`,"workspacePageTokens":`)
		buf.Write(tokens)
		fmt.Fprintf(&buf, `,"hasMore":%t}`, more)
	}
	e.writeRawData(w, c, http.StatusOK, buf.Bytes(), pagination)
}

// lookup returns the incident of a ref, or answers 404. e.mu must be held.
func (e *Emulator) lookup(w http.ResponseWriter, c *call, ref client.IncidentRef) (*record, bool) {
	rec, ok := e.incidents[ref]
	if !ok {
		e.notFound(w, c, ref)
	}
	return rec, ok
}

// handleGetIncident serves GET …/incidents/{source}/{incidentId}[?withDetails=true].
func (e *Emulator) handleGetIncident(w http.ResponseWriter, r *http.Request, c *call) {
	ref, ok := e.incidentTarget(w, r, c, false)
	if !ok {
		return
	}
	withDetails := false
	if v, present := r.URL.Query()["withDetails"]; present {
		switch s := strings.ToLower(v[0]); s {
		case "true", "false":
			withDetails = s == "true"
		default:
			errs := fieldErrors{}
			errs.add("withDetails", "The value %q is not valid: use true or false.", v[0])
			e.writeProblem(w, c, validationProblem(errs))
			return
		}
	}
	e.mu.RLock()
	rec, ok := e.lookup(w, c, ref)
	if !ok {
		e.mu.RUnlock()
		return
	}
	detail := client.IncidentDetail{Source: ref.Source, Incident: rec.incident(e.detail)}
	if withDetails {
		// Entities and evidence never change and alerts are replaced, not
		// modified, by writes: sharing them outside the lock is safe.
		detail.InvestigationDetails = &client.InvestigationDetails{Entities: rec.entities, Alerts: rec.alerts}
		ev := rec.evidence
		detail.Evidence = &ev
		detail.GamebookCatalog = json.RawMessage(`{}`)
	}
	e.mu.RUnlock()
	if detail.InvestigationDetails != nil && detail.InvestigationDetails.Entities == nil {
		detail.InvestigationDetails.Entities = []client.Entity{}
	}
	e.writeData(w, c, http.StatusOK, detail)
}

// handleListComments serves GET …/comments (oldest first).
func (e *Emulator) handleListComments(w http.ResponseWriter, r *http.Request, c *call) {
	ref, ok := e.incidentTarget(w, r, c, false)
	if !ok {
		return
	}
	e.mu.RLock()
	rec, ok := e.lookup(w, c, ref)
	var comments []client.Comment
	if ok {
		comments = append([]client.Comment{}, rec.comments...)
	}
	e.mu.RUnlock()
	if ok {
		e.writeData(w, c, http.StatusOK, comments)
	}
}

// handleEvidence serves GET …/evidence.
func (e *Emulator) handleEvidence(w http.ResponseWriter, r *http.Request, c *call) {
	ref, ok := e.incidentTarget(w, r, c, false)
	if !ok {
		return
	}
	e.mu.RLock()
	rec, ok := e.lookup(w, c, ref)
	var ev client.Evidence
	if ok {
		ev = rec.evidence
	}
	e.mu.RUnlock()
	if ok {
		e.writeData(w, c, http.StatusOK, ev)
	}
}

// handleUsers serves GET /users: every user of the organisation, with the
// role assignments limited to the workspaces the caller has a role on.
func (e *Emulator) handleUsers(w http.ResponseWriter, r *http.Request, c *call) {
	e.mu.RLock()
	users := make([]client.User, len(e.users))
	for i, u := range e.users {
		users[i] = e.visibleRoles(c, u)
	}
	e.mu.RUnlock()
	e.writeData(w, c, http.StatusOK, users)
}
