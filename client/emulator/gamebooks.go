package emulator

import (
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/contraforce/contraforce-mcp/client"
)

// playbookSpec is one action of a workspace's playbook catalog: what it
// does, the kind of entity it acts on (its entity type is entityTypes of
// the kind), and whether it is high-impact (a workspace Owner must approve
// it: the vendor's approval gates).
type playbookSpec struct {
	name, description, kind string
	admin                   bool
}

// playbookCatalog is every workspace's catalog (the vendor's Gamebook
// actions by entity type, as its guides list them).
var playbookCatalog = []playbookSpec{
	{"Revoke user sessions", "Sign the user out of every session and revoke their refresh tokens.", "account", false},
	{"Disable user account", "Block sign-in for the account in Entra ID.", "account", true},
	{"Reset user password", "Force a password reset at the next sign-in.", "account", true},
	{"Isolate device", "Cut the device off the network, except for the EDR channel.", "host", true},
	{"Run antivirus scan", "Run a full antivirus scan on the device.", "host", false},
	{"Quarantine file", "Quarantine the file on every device where it is found.", "file", false},
	{"Block file hash", "Add the file's SHA-256 to the block list.", "file", false},
	{"Block IP address", "Add the address to the perimeter firewall's deny list.", "ip", false},
	{"Block URL", "Add the URL to the web filter's block list.", "url", false},
}

// gamebookThemes are the gamebooks proposed for an incident: each takes
// the catalog actions named, on every entity of the incident they apply to.
var gamebookThemes = []struct {
	title   string
	actions []string
}{
	{"Contain compromised identity", []string{"Revoke user sessions", "Disable user account", "Reset user password"}},
	{"Contain affected device", []string{"Isolate device", "Run antivirus scan", "Quarantine file", "Block file hash"}},
	{"Block network indicators", []string{"Block IP address", "Block URL"}},
}

// playbookRef is the catalog id of an action in a workspace.
func playbookRef(ws, name string) string { return hashGUID("playbook", ws, name) }

// catalogEntry finds a workspace's catalog action by its id.
func catalogEntry(ws, id string) (playbookSpec, bool) {
	for _, p := range playbookCatalog {
		if strings.EqualFold(playbookRef(ws, p.name), id) {
			return p, true
		}
	}
	return playbookSpec{}, false
}

// actsOn reports whether an action applies to an entity (blocking an
// address applies to external ones only).
func (p playbookSpec) actsOn(en client.Entity) bool {
	if en.Kind != p.kind {
		return false
	}
	private, _ := en.Properties["isPrivate"].(bool)
	return !(p.kind == "ip" && private)
}

// gamebookRun is a gamebook that was submitted (seeded history or a write).
type gamebookRun struct {
	ref client.IncidentRef
	gb  client.Gamebook
	at  time.Time
}

// proposals are the gamebooks proposed for an incident, status Pending;
// derived from its (immutable) entities, so the same for every request.
func (e *Emulator) proposals(rec *record) []client.Gamebook {
	var out []client.Gamebook
	at := rec.created.Add(time.Minute)
	for _, th := range gamebookThemes {
		gb := client.Gamebook{
			ID: hashGUID("gamebook", rec.ref.WorkspaceID, rec.ref.IncidentID, th.title), IncidentID: rec.ref.IncidentID,
			Source: rec.ref.Source, IncidentTitle: rec.title, IncidentNumber: rec.number, DisplayName: th.title,
			ModificationDate: wireTime(at), CreationDate: wireTime(at), Status: "Pending", Title: th.title,
			WorkspaceID: rec.ref.WorkspaceID, WorkspaceName: rec.wsName, TenantID: entraTenantID, Playbooks: []client.Playbook{},
		}
		for _, name := range th.actions {
			spec := playbookCatalog[slices.IndexFunc(playbookCatalog, func(p playbookSpec) bool { return p.name == name })]
			for _, en := range rec.entities {
				if !spec.actsOn(en) {
					continue
				}
				gb.Playbooks = append(gb.Playbooks, client.Playbook{
					ID: hashGUID("playbook instance", gb.ID, spec.name, en.ID), ReferenceID: playbookRef(rec.ref.WorkspaceID, spec.name),
					EntityID: en.ID, Name: spec.name, Description: spec.description, EntityType: entityTypes[spec.kind],
					AffectedEntity: en.Name(), IsRecommended: !spec.admin || rec.severity == client.SeverityHigh,
					Status: "Pending", Sequence: len(gb.Playbooks) + 1, Parameters: map[string]any{}, IsAdminRequired: spec.admin,
					ModificationDate: new(wireTime(at)),
				})
				gb.IsAdminRequired = gb.IsAdminRequired || spec.admin
			}
		}
		if len(gb.Playbooks) > 0 {
			gb.Summary = fmt.Sprintf("Proposed for incident #%d: %d actions.", rec.number, len(gb.Playbooks))
			out = append(out, gb)
		}
	}
	return out
}

// seedRuns records the history of the dataset: the recommended actions of
// the first proposal ran before closing every incident closed as a true
// positive, and before about three in eight closed incidents of the sources
// that keep no verdict (chosen by a hash of the id, so the PCG stream is
// untouched); an incident whose first proposal has no recommended action
// has no run.
func (e *Emulator) seedRuns() {
	for _, rec := range e.order {
		if rec.status != client.StatusClosed {
			continue
		}
		ran := rec.classification != nil && *rec.classification == client.ClassificationTruePositive ||
			!rec.ref.Source.RecordsClassification() && hashGUID("ran", rec.ref.IncidentID)[0] < '6'
		if !ran {
			continue
		}
		props := e.proposals(rec)
		if len(props) == 0 {
			continue
		}
		gb := props[0]
		at := rec.updated.Add(-15 * time.Minute)
		gb.ID = hashGUID("run", gb.ID)
		gb.Status, gb.CreationDate, gb.ModificationDate = "Success", wireTime(at), wireTime(at.Add(2*time.Minute))
		gb.TriggeredByUserID = CopilotUserID
		if rec.assignee != nil {
			gb.TriggeredByUserID = rec.assignee.ID
		}
		var kept []client.Playbook
		for _, p := range gb.Playbooks {
			if p.IsRecommended {
				p.ID, p.Status, p.Sequence = hashGUID("run", p.ID), "Success", len(kept)+1
				p.StartingDate, p.FinishingDate, p.ExecutionTime = new(wireTime(at)), new(wireTime(at.Add(time.Minute))), new("00:01:00")
				p.ModificationDate = p.FinishingDate
				kept = append(kept, p)
			}
		}
		if len(kept) == 0 {
			continue
		}
		gb.Playbooks = kept
		gb.Summary = fmt.Sprintf("Ran %d actions on incident #%d.", len(kept), rec.number)
		e.runs = append(e.runs, &gamebookRun{ref: rec.ref, gb: gb, at: at})
	}
}

// handleIncidentGamebooks serves GET /workspaces/{ws}/gamebooks/by-incident/{incidentId}:
// the incident's submitted gamebooks, newest first, then its proposals. An
// id no incident of the workspace has is 404.
func (e *Emulator) handleIncidentGamebooks(w http.ResponseWriter, r *http.Request, c *call) {
	ws, ok := e.workspaceTarget(w, r, c)
	if !ok {
		return
	}
	id := r.PathValue("incidentId")
	e.mu.RLock()
	var rec *record
	for _, x := range e.order {
		if x.ref.WorkspaceID == ws && x.ref.IncidentID == id {
			rec = x
			break
		}
	}
	if rec == nil {
		e.mu.RUnlock()
		e.writeProblem(w, c, problem{status: http.StatusNotFound, code: client.CodeNotFound, target: "incidentId",
			detail: fmt.Sprintf("Incident %q not found in workspace %s.", id, ws)})
		return
	}
	out := []client.Gamebook{}
	for i := len(e.runs) - 1; i >= 0; i-- {
		if e.runs[i].ref == rec.ref {
			out = append(out, e.runs[i].gb)
		}
	}
	out = append(out, e.proposals(rec)...)
	e.mu.RUnlock()
	e.writeData(w, c, http.StatusOK, out)
}

// historyPageSize is the page size of the gamebook history.
const historyPageSize = 20

// handleGamebookHistory serves GET /workspaces/{ws}/gamebooks/history:
// the workspace's submitted gamebooks, newest first, 20 a page; pageToken
// (query) is the opaque token of the previous answer.
func (e *Emulator) handleGamebookHistory(w http.ResponseWriter, r *http.Request, c *call) {
	ws, ok := e.workspaceTarget(w, r, c)
	if !ok {
		return
	}
	offset := 0
	if tok := r.URL.Query().Get("pageToken"); tok != "" {
		n, err := strconv.Atoi(strings.TrimPrefix(tok, "gh-"))
		if err != nil || !strings.HasPrefix(tok, "gh-") || n <= 0 {
			errs := fieldErrors{}
			errs.add("pageToken", "Not a page token of this API; send back the pageToken of the previous answer.")
			e.writeProblem(w, c, validationProblem(errs))
			return
		}
		offset = n
	}
	e.mu.RLock()
	var all []*gamebookRun
	for _, run := range e.runs {
		if run.ref.WorkspaceID == ws {
			all = append(all, run)
		}
	}
	e.mu.RUnlock()
	slices.SortStableFunc(all, func(a, b *gamebookRun) int { return b.at.Compare(a.at) })
	page := client.GamebookHistory{Gamebooks: []client.Gamebook{}, TotalCount: len(all)}
	for _, run := range all[min(offset, len(all)):min(offset+historyPageSize, len(all))] {
		page.Gamebooks = append(page.Gamebooks, run.gb)
	}
	if offset+historyPageSize < len(all) {
		page.PageToken = "gh-" + strconv.Itoa(offset+historyPageSize)
	}
	e.writeData(w, c, http.StatusOK, page)
}

// submitRequest is the snake_case body of the agent tool "submit gamebook".
type submitRequest struct {
	IncidentNumber *int               `json:"incident_number"`
	IncidentTitle  *string            `json:"incident_title"`
	TriggerType    client.TriggerType `json:"trigger_type"`
	Playbooks      []submitPlaybook   `json:"playbooks"`
}

type submitPlaybook struct {
	PlaybookID     string `json:"playbook_id"`
	EntityID       string `json:"entity_id"`
	AffectedEntity string `json:"affected_entity"`
	Sequence       int    `json:"sequence"`
}

// handleSubmitGamebook serves POST …/agent/tools/incidents/{source}/{incidentId}/gamebooks.
func (e *Emulator) handleSubmitGamebook(w http.ResponseWriter, r *http.Request, c *call) {
	ref, ok := e.incidentTarget(w, r, c, true)
	if !ok {
		return
	}
	if role := c.cred.role(ref.WorkspaceID); !role.CanRunGamebooks() {
		e.writeProblem(w, c, problem{status: http.StatusForbidden, code: client.CodeInsufficientWorkspaceRole, target: "workspaceId",
			detail: fmt.Sprintf("Service account %q has the role %s on workspace %s: running gamebooks needs IncidentResponder or higher.",
				c.cred.Name, role, ref.WorkspaceID)})
		return
	}
	var req submitRequest
	if !e.decodeBody(w, r, c, &req) {
		return
	}
	now := e.now()
	e.mu.Lock()
	rec, ok := e.lookup(w, c, ref)
	if !ok {
		e.mu.Unlock()
		return
	}
	specs, errs := checkSubmission(rec, &req)
	if len(errs) > 0 {
		e.mu.Unlock()
		e.writeProblem(w, c, validationProblem(errs))
		return
	}
	approval := false
	for _, s := range specs {
		approval = approval || s.admin
	}
	approval = approval && c.cred.role(ref.WorkspaceID) != client.RoleOwner
	status := "Success"
	if approval {
		status = "PendingApproval"
	}
	n := len(e.runs) + 1
	gb := client.Gamebook{
		ID: fmt.Sprintf("9a3e0000-0000-4000-8000-%012x", n), IncidentID: ref.IncidentID, Source: ref.Source,
		IncidentTitle: rec.title, IncidentNumber: rec.number, TriggeredByUserID: c.cred.UserID,
		DisplayName: "Agent gamebook", Title: "Agent gamebook", ModificationDate: wireTime(now), CreationDate: wireTime(now),
		Status: status, IsAdminRequired: approval, WorkspaceID: ref.WorkspaceID, WorkspaceName: rec.wsName, TenantID: entraTenantID,
	}
	for i, p := range req.Playbooks {
		en := rec.entities[slices.IndexFunc(rec.entities, func(en client.Entity) bool { return en.ID == p.EntityID })]
		pb := client.Playbook{
			ID: fmt.Sprintf("9a3e0000-0000-4000-8001-%08x%04x", n, i), ReferenceID: playbookRef(ref.WorkspaceID, specs[i].name),
			EntityID: en.ID, Name: specs[i].name, Description: specs[i].description, EntityType: entityTypes[specs[i].kind],
			AffectedEntity: en.Name(), Status: map[bool]string{true: "PendingApproval", false: "Success"}[approval],
			Sequence: p.Sequence, Parameters: map[string]any{}, IsAdminRequired: specs[i].admin, ModificationDate: new(wireTime(now)),
		}
		if !approval {
			pb.StartingDate, pb.FinishingDate, pb.ExecutionTime = new(wireTime(now)), new(wireTime(now)), new("00:00:01")
		}
		gb.Playbooks = append(gb.Playbooks, pb)
	}
	slices.SortStableFunc(gb.Playbooks, func(a, b client.Playbook) int { return a.Sequence - b.Sequence })
	gb.Summary = fmt.Sprintf("%d actions submitted by %s (%s).", len(gb.Playbooks), c.cred.Name, req.TriggerType)
	if approval {
		gb.Summary += " High-impact actions await a workspace Owner's approval."
	}
	e.runs = append(e.runs, &gamebookRun{ref: ref, gb: gb, at: now})
	rec.lastActivity = now
	rec.refresh()
	e.mu.Unlock()
	e.faults.applied(c.endpoint)
	e.writeData(w, c, http.StatusOK, client.SubmitGamebookResult{Success: true, Summary: gb.Summary, GamebookID: gb.ID, Status: status})
}

// checkSubmission validates a submission against the incident and the
// catalog; it returns each playbook's catalog action.
func checkSubmission(rec *record, req *submitRequest) ([]playbookSpec, fieldErrors) {
	errs := fieldErrors{}
	switch {
	case req.TriggerType == "":
		errs.add("trigger_type", "Required; allowed: %s.", allowed[client.TriggerType]())
	case !req.TriggerType.Valid():
		checkEnum(errs, "trigger_type", "trigger type", req.TriggerType)
	case req.TriggerType == client.TriggerManualInvestigateOnly:
		errs.add("trigger_type", "An investigate-only run cannot submit gamebooks; use ManualInvestigateAndRespond.")
	case req.TriggerType == client.TriggerOnQueue && (rec.severity == client.SeverityInformational || rec.severity == client.SeverityLow):
		errs.add("trigger_type", "Gamebooks are not enabled for %s incidents in background (OnQueue) runs.", rec.severity)
	}
	if req.IncidentNumber != nil && *req.IncidentNumber != rec.number {
		errs.add("incident_number", "%d is not this incident's number (%d).", *req.IncidentNumber, rec.number)
	}
	if len(req.Playbooks) == 0 {
		errs.add("playbooks", "At least one playbook is required; empty arrays are rejected.")
	}
	specs := make([]playbookSpec, len(req.Playbooks))
	seqs := map[int]bool{}
	for i, p := range req.Playbooks {
		key := func(f string) string { return fmt.Sprintf("playbooks[%d].%s", i, f) }
		spec, ok := catalogEntry(rec.ref.WorkspaceID, p.PlaybookID)
		if !ok {
			errs.add(key("playbook_id"), "%q is not a playbook of this workspace's catalog.", p.PlaybookID)
		}
		specs[i] = spec
		j := slices.IndexFunc(rec.entities, func(en client.Entity) bool { return en.ID == p.EntityID })
		switch {
		case j < 0:
			errs.add(key("entity_id"), "%q is not an entity of this incident.", p.EntityID)
		case ok && !spec.actsOn(rec.entities[j]):
			errs.add(key("entity_id"), "%s cannot act on the %s entity %q.", spec.name, rec.entities[j].Kind, rec.entities[j].Name())
		case !strings.EqualFold(strings.TrimSpace(p.AffectedEntity), rec.entities[j].Name()):
			errs.add(key("affected_entity"), "%q is not the name of entity %s (%q).", p.AffectedEntity, p.EntityID, rec.entities[j].Name())
		}
		if p.Sequence < 1 || seqs[p.Sequence] {
			errs.add(key("sequence"), "Sequences are positive and distinct; %d is not.", p.Sequence)
		}
		seqs[p.Sequence] = true
	}
	return specs, errs
}

// GamebookRuns returns the gamebooks submitted for an incident, oldest
// first, seeded ones included (test inspection).
func (e *Emulator) GamebookRuns(ref client.IncidentRef) []client.Gamebook {
	e.mu.RLock()
	defer e.mu.RUnlock()
	var out []client.Gamebook
	for _, run := range e.runs {
		if run.ref == ref {
			out = append(out, run.gb)
		}
	}
	return out
}
