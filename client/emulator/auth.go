package emulator

import (
	"crypto/sha256"
	"crypto/subtle"
	"fmt"
	"net/http"
	"strings"

	"github.com/contraforce/contraforce-mcp/client"
)

// wwwAuthenticate is sent with every 401.
const wwwAuthenticate = `Basic realm="ContraForce"`

// authorize authenticates the request (HTTP Basic) and checks the scope of
// the operation; on failure it answers 401 or 403 and returns false.
func (e *Emulator) authorize(w http.ResponseWriter, r *http.Request, c *call, scope client.Scope) bool {
	id, secret, ok := r.BasicAuth()
	cred := e.credential(id, secret)
	if !ok || cred == nil {
		detail := "The client id or client secret is wrong."
		switch h := r.Header.Get("Authorization"); {
		case h == "":
			detail = "No credentials were sent: use HTTP Basic with the service account's client id and client secret."
		case !ok:
			detail = "The Authorization header is not HTTP Basic: the v2 API authenticates with Basic base64(clientId:clientSecret)."
		}
		w.Header().Set("WWW-Authenticate", wwwAuthenticate)
		e.writeProblem(w, c, problem{status: http.StatusUnauthorized, code: client.CodeUnauthorized, detail: detail})
		return false
	}
	if !cred.hasScope(scope) {
		e.writeProblem(w, c, problem{status: http.StatusForbidden, code: client.CodeInsufficientScope,
			detail: fmt.Sprintf("This operation requires the scope %q, which the credential of service account %q does not have.", scope, cred.Name)})
		return false
	}
	c.cred = cred
	return true
}

// credential returns the credential with this id and secret, or nil. The
// secret is compared in constant time (over fixed-length digests, so that
// neither its content nor its length leaks through timing), and an unknown id
// costs the same comparison.
func (e *Emulator) credential(id, secret string) *Credential {
	e.credMu.RLock()
	cred := e.creds[id]
	e.credMu.RUnlock()
	want := ""
	if cred != nil {
		want = cred.ClientSecret
	}
	got, exp := sha256.Sum256([]byte(secret)), sha256.Sum256([]byte(want))
	if subtle.ConstantTimeCompare(got[:], exp[:]) != 1 || cred == nil || want == "" {
		return nil
	}
	return cred
}

// workspaceTarget checks the {workspaceId} of a workspace-scoped call and
// the caller's role on it; on failure it answers and returns false.
func (e *Emulator) workspaceTarget(w http.ResponseWriter, r *http.Request, c *call) (string, bool) {
	ws := strings.ToLower(r.PathValue("workspaceId"))
	if !isGUID(ws) {
		// The vendor declares workspaceId as string<uuid>: a route constraint
		// that does not match is a 404, as for any unknown path.
		e.writeProblem(w, c, problem{status: http.StatusNotFound, code: client.CodeNotFound, target: "workspaceId",
			detail: fmt.Sprintf("Workspace %q not found: workspace ids are GUIDs.", r.PathValue("workspaceId"))})
		return "", false
	}
	if c.cred.role(ws) == "" {
		e.writeProblem(w, c, problem{status: http.StatusForbidden, code: client.CodeInsufficientWorkspaceRole, target: "workspaceId",
			detail: fmt.Sprintf("Service account %q has no role on workspace %s.", c.cred.Name, ws)})
		return "", false
	}
	return ws, true
}

// incidentTarget resolves the path of a per-incident call and checks the
// credential's role on the workspace (a write role if write). On failure it
// answers and returns false.
func (e *Emulator) incidentTarget(w http.ResponseWriter, r *http.Request, c *call, write bool) (client.IncidentRef, bool) {
	ws, ok := e.workspaceTarget(w, r, c)
	if !ok {
		return client.IncidentRef{}, false
	}
	role := c.cred.role(ws)
	if write && !role.CanWrite() {
		e.writeProblem(w, c, problem{status: http.StatusForbidden, code: client.CodeInsufficientWorkspaceRole, target: "workspaceId",
			detail: fmt.Sprintf("Service account %q has the role %s on workspace %s, which is read-only: changing an incident needs Owner, ContentAdmin, IncidentResponder or IncidentAnalyst.",
				c.cred.Name, role, ws)})
		return client.IncidentRef{}, false
	}
	src := client.Source(r.PathValue("source"))
	if !src.Valid() {
		errs := fieldErrors{}
		errs.add("source", "%q is not a source; allowed: %s.", src, allowed[client.Source]())
		e.writeProblem(w, c, validationProblem(errs))
		return client.IncidentRef{}, false
	}
	return client.IncidentRef{WorkspaceID: ws, Source: src, IncidentID: r.PathValue("incidentId")}, true
}

// isGUID reports whether s is a GUID in its canonical 8-4-4-4-12 form.
func isGUID(s string) bool {
	if len(s) != 36 {
		return false
	}
	for i := 0; i < len(s); i++ {
		ch := s[i]
		switch i {
		case 8, 13, 18, 23:
			if ch != '-' {
				return false
			}
		default:
			if !('0' <= ch && ch <= '9' || 'a' <= ch && ch <= 'f' || 'A' <= ch && ch <= 'F') {
				return false
			}
		}
	}
	return true
}

// notFound answers 404 for an incident that does not exist (or not under this source).
func (e *Emulator) notFound(w http.ResponseWriter, c *call, ref client.IncidentRef) {
	e.writeProblem(w, c, problem{status: http.StatusNotFound, code: client.CodeNotFound, target: "incidentId",
		detail: fmt.Sprintf("Incident %q not found: no %s incident has this id in workspace %s.", ref.IncidentID, ref.Source, ref.WorkspaceID)})
}
