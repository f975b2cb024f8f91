package tools

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"

	"github.com/contraforce/contraforce-mcp/client"
	"github.com/contraforce/contraforce-mcp/resources"
	"github.com/contraforce/contraforce-mcp/schema"
)

// BulkUpdateInput is one change for up to 50 incidents.
type BulkUpdateInput struct {
	Incidents            []IncidentArgs              `json:"incidents" jsonschema:"required,minItems=1,maxItems=50" desc:"The incidents (from list_incidents)."`
	Status               client.Status               `json:"status,omitempty" desc:"New status."`
	UserID               string                      `json:"userId,omitempty" jsonschema:"maxLength=200" desc:"New assignee's user id (list_users)."`
	Email                string                      `json:"email,omitempty" jsonschema:"maxLength=320" desc:"New assignee's email."`
	RemoveAssignee       bool                        `json:"removeAssignee,omitempty" desc:"Unassign them."`
	Classification       client.Classification       `json:"classification,omitempty" desc:"Verdict."`
	ClassificationReason client.ClassificationReason `json:"classificationReason,omitempty" desc:"Reason for the verdict."`
	Comment              string                      `json:"comment,omitempty" jsonschema:"maxLength=30000" desc:"Why; posted on each."`
	DryRun               bool                        `json:"dryRun,omitempty" desc:"Only show each change."`
}

// Rules: every closure says why.
func (BulkUpdateInput) Rules() []schema.Rule {
	return []schema.Rule{schema.RequiredWhen{When: map[string]any{"status": string(client.StatusClosed)}, Require: []string{"comment"},
		Why: "every closure must say why (this server's policy)"}}
}

// Check states the rules the schema cannot.
func (in BulkUpdateInput) Check() error {
	assignee := in.UserID != "" || in.Email != ""
	switch {
	case in.Status == "" && !assignee && !in.RemoveAssignee && in.Comment == "":
		return &schema.ArgError{Kind: schema.KindRule, Problem: "give a change: status, userId or email, removeAssignee, or comment"}
	case assignee && in.RemoveAssignee:
		return &schema.ArgError{Field: "removeAssignee", Kind: schema.KindRule, Problem: "cannot go with userId or email"}
	case (in.Classification != "" || in.ClassificationReason != "") && in.Status != client.StatusClosed:
		return &schema.ArgError{Field: "classification", Kind: schema.KindRule, Problem: `and classificationReason go with status "Closed" only`}
	case in.Comment != "" && blank(in.Comment):
		return &schema.ArgError{Field: "comment", Kind: schema.KindRule, Problem: "is blank; say why"}
	}
	for i, a := range in.Incidents {
		if slices.ContainsFunc(in.Incidents[:i], func(b IncidentArgs) bool { return sameIncident(a.Ref(), b.Ref()) }) {
			return &schema.ArgError{Field: fmt.Sprintf("incidents[%d]", i), Kind: schema.KindRule, Problem: "repeats an incident"}
		}
	}
	return nil
}

func sameIncident(a, b client.IncidentRef) bool {
	return strings.EqualFold(a.WorkspaceID, b.WorkspaceID) && a.Source == b.Source && a.IncidentID == b.IncidentID
}

// BulkUpdateOutput is each incident's change and what came of it.
type BulkUpdateOutput struct {
	Incidents []BulkRow `json:"incidents"`
	Accepted  int       `json:"accepted"`
	Forbidden int       `json:"forbidden"`
	DryRun    bool      `json:"dryRun,omitempty" desc:"Nothing was changed."`
	Comment   string    `json:"comment,omitempty"`
	Notes     []string  `json:"notes,omitempty"`
	RequestID string    `json:"requestId,omitempty"`
}

// BulkRow is one incident: before → after, and the result.
type BulkRow struct {
	WorkspaceID string `json:"workspaceId"`
	Source      string `json:"source"`
	IncidentID  string `json:"incidentId"`
	Before      string `json:"before"`
	After       string `json:"after"`
	Result      string `json:"result" desc:"accepted, forbidden, unknown; dry run: planned, refused."`
	Reason      string `json:"reason,omitempty"`
}

// Results of a row.
const (
	resultAccepted  = "accepted"
	resultForbidden = "forbidden"
	resultUnknown   = "unknown"
	resultPlanned   = "planned"
	resultRefused   = "refused"
)

// bulkReads bounds the concurrent reads of a batch's incidents.
const bulkReads = 8

// BulkUpdate is the bulk_update tool.
func BulkUpdate(d Deps) Tool {
	if d.Confirmations == nil {
		d.Confirmations = NewConfirmations(ConfirmationOptions{})
	}
	return newTool(spec[BulkUpdateInput, BulkUpdateOutput]{
		deps:  d,
		name:  "bulk_update",
		title: "Bulk update incidents",
		description: "One change (status, assignee, verdict, comment) to up to 50 incidents, each checked as update_status " +
			"and assign would (Sentinel closures need the verdict). dryRun shows before → after; one confirmation covers all.",
		scope:  client.ScopeIncidentsWrite,
		hints:  hints{destructive: true, openWorld: true},
		handle: func(ctx context.Context, in BulkUpdateInput) (BulkUpdateOutput, error) { return bulkUpdate(ctx, d, in) },
		text:   renderBulk,
	})
}

// bulkItem is one incident of the batch as the tool works on it.
type bulkItem struct {
	ref    client.IncidentRef
	row    BulkRow
	before StatusState
	holder string // assignee before
	err    error  // reading it failed
}

func bulkUpdate(ctx context.Context, d Deps, in BulkUpdateInput) (BulkUpdateOutput, error) {
	sess, err := d.Session(ctx)
	if err != nil {
		return BulkUpdateOutput{}, err
	}
	out := BulkUpdateOutput{DryRun: in.DryRun, Incidents: []BulkRow{}}
	var user *client.UserRef
	var roles map[string][]client.RoleAssignment // the assignee's, by workspace
	if in.UserID != "" || in.Email != "" {
		if user, roles, err = resolveUser(ctx, sess.Client, in.UserID, in.Email); err != nil {
			return out, err
		}
	}
	items := make([]*bulkItem, len(in.Incidents))
	for i, a := range in.Incidents {
		items[i] = &bulkItem{ref: a.Ref()}
	}
	readBefore(ctx, sess.Client, items)

	req := client.UpdateStatusRequest{Status: in.Status}
	if in.Comment != "" {
		out.Comment = attribute(attribution(ctx, sess), in.Comment)
		req.Comment = &out.Comment
	}
	if in.Classification != "" {
		req.Classification = &in.Classification
	}
	if in.ClassificationReason != "" {
		req.ClassificationReason = &in.ClassificationReason
	}
	readOnly := readOnlyWorkspaces(ctx, sess)
	var refused int
	noVerdict := map[client.Source]bool{}
	for _, it := range items {
		it.row = BulkRow{WorkspaceID: oneLine(it.ref.WorkspaceID, 100), Source: string(it.ref.Source), IncidentID: oneLine(it.ref.IncidentID, 200)}
		if why := it.problem(in, readOnly); why != "" {
			refused++
			it.row.Result, it.row.Reason = resultRefused, why
			it.row.Before, it.row.After = "unknown", "unchanged"
			if it.err == nil {
				it.row.Before = describeBulk(it.before, it.holder)
				it.row.After = it.row.Before
			}
			continue
		}
		after := it.before
		if in.Status != "" {
			after = predictState(it.ref.Source, it.before, req)
		}
		holder := it.holder
		switch {
		case user != nil:
			holder = resources.UserName(user)
			if roles != nil && len(roles[strings.ToLower(it.ref.WorkspaceID)]) == 0 {
				it.row.Reason = holder + " has no role on this workspace"
			}
		case in.RemoveAssignee:
			holder = assigneeNone
		}
		it.row.Before, it.row.After, it.row.Result = describeBulk(it.before, it.holder), describeBulk(after, holder), resultPlanned
		if req.Classification != nil && !it.ref.Source.RecordsClassification() {
			noVerdict[it.ref.Source] = true
		}
	}
	for _, src := range client.SourcesWithoutClassification() {
		if noVerdict[src] {
			out.Notes = append(out.Notes, fmt.Sprintf("%s does not record classification or classificationReason: the comment should state the verdict.", src))
		}
	}
	for _, it := range items {
		out.Incidents = append(out.Incidents, it.row)
	}
	if refused > 0 {
		if in.DryRun {
			out.Notes = append(out.Notes, fmt.Sprintf("%d of %d incidents cannot take this change (result refused): the batch would change nothing until they are fixed or left out.", refused, len(items)))
			return out, nil
		}
		return out, refuse("%s", refusedText(items, refused))
	}
	if in.DryRun {
		return out, nil
	}
	look := fmt.Sprintf("call get_incident on each of the batch's %d incidents to see its state", len(items))
	ok, err := askHuman(ctx, d, d.ConfirmClose, question{text: bulkQuestion(in, out), change: bulkChange(items), look: look}, "Nothing updated",
		"The user can make the change in the ContraForce portal, or the agent can change the incidents one by one.")
	if err != nil {
		return out, err
	}
	body := client.BulkUpdateRequest{}
	for _, it := range items {
		bi := client.BulkUpdateItem{ID: it.ref.IncidentID, Workspace: it.ref.WorkspaceID, IncidentSource: it.ref.Source,
			User: user, RemoveAssignee: in.RemoveAssignee, Comment: req.Comment,
			Classification: req.Classification, ClassificationReason: req.ClassificationReason}
		if in.Status != "" {
			bi.Status = &in.Status
		}
		body.Items = append(body.Items, bi)
	}
	res, meta, err := sess.Client.BulkUpdate(ctx, body)
	ok.settle(err)
	switch {
	case errors.Is(err, client.ErrOutcomeUnknown):
		for _, it := range items {
			d.changed(ctx, it.ref)
		}
		return out, &unknownOutcome{cause: err, look: look}
	case err != nil:
		return out, fmt.Errorf("nothing was updated: %w", err)
	}
	out.RequestID = meta.RequestID
	settle(ctx, d, sess.Client, items, res, &out)
	return out, nil
}

// bulkChange names a batch for a later call that carries its confirmation again.
func bulkChange(items []*bulkItem) string {
	ids := make([]string, 0, min(len(items), 5))
	for _, it := range items[:min(len(items), 5)] {
		ids = append(ids, oneLine(it.ref.IncidentID, 100))
	}
	more := ""
	if len(items) > len(ids) {
		more = fmt.Sprintf(" and %d more", len(items)-len(ids))
	}
	return fmt.Sprintf("the batch of %d incidents (%s%s)", len(items), strings.Join(ids, ", "), more)
}

// resolveUser finds the active user a userId or email names (both must
// name the same one) with GET /users, and the user's roles by workspace
// (nil when the roles are not shown).
func resolveUser(ctx context.Context, api *client.Client, id, email string) (*client.UserRef, map[string][]client.RoleAssignment, error) {
	users, err := api.ListUsers(ctx)
	if err != nil {
		return nil, nil, fmt.Errorf("nothing was updated: the users could not be read to find the assignee: %w", err)
	}
	named := resources.Clean(cmp.Or(email, id), 320)
	for _, u := range users {
		if id != "" && u.ID != id || id == "" && !strings.EqualFold(u.Email, email) {
			continue
		}
		if email != "" && !strings.EqualFold(u.Email, email) {
			return nil, nil, refuse("Nothing updated: userId %s is %s <%s>, but email is %s. Give only the one that names the intended user.",
				resources.Clean(id, 200), resources.Clean(u.DisplayName, 200), resources.Clean(u.Email, 320), resources.Clean(email, 320))
		}
		if !u.Active() {
			return nil, nil, refuse("Nothing updated: %s is deactivated and cannot be assigned. Call list_users to find who can.", named)
		}
		roles := map[string][]client.RoleAssignment{}
		for _, ra := range u.RoleAssignments {
			k := strings.ToLower(ra.WorkspaceID)
			roles[k] = append(roles[k], ra)
		}
		return &client.UserRef{ID: u.ID, DisplayName: u.DisplayName, Email: u.Email}, roles, nil
	}
	return nil, nil, refuse("Nothing updated: no user is %s. Call list_users (query: part of the name or email) to find who can be assigned.", named)
}

// readBefore reads each incident's state, bulkReads at a time.
func readBefore(ctx context.Context, api *client.Client, items []*bulkItem) {
	forEach(len(items), bulkReads, func(i int) {
		it := items[i]
		_, st, err := api.GetIncidentState(ctx, it.ref, false)
		if err != nil {
			it.err = err
			return
		}
		it.before, it.holder = stateOf(st), assigneeOf(st)
	})
}

// forEach runs fn(0…n-1), limit at a time, and returns when all are done.
func forEach(n, limit int, fn func(i int)) {
	var wg sync.WaitGroup
	sem := make(chan struct{}, limit)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			sem <- struct{}{}
			defer func() { <-sem }()
			fn(i)
		}()
	}
	wg.Wait()
}

// problem says why the incident cannot take the change ("" when it can),
// by the rules of update_status.
func (it *bulkItem) problem(in BulkUpdateInput, readOnly map[string]client.WorkspaceRole) string {
	closing := in.Status == client.StatusClosed
	switch {
	case it.err != nil:
		return "it could not be read: " + resources.ShortError(it.err) + nextRead(it.err)
	case readOnly[strings.ToLower(it.ref.WorkspaceID)] != "":
		return fmt.Sprintf("the service account's role on its workspace is %s, which is read-only", readOnly[strings.ToLower(it.ref.WorkspaceID)])
	case closing && it.before.Status == string(client.StatusClosed):
		return "it is already Closed; leave it out"
	case closing && it.ref.Source == client.SourceSentinel && (in.Classification == "" || in.ClassificationReason == ""):
		return "Sentinel requires classification and classificationReason to close an incident"
	}
	return ""
}

// nextRead says what to do about an incident that could not be read.
func nextRead(err error) string {
	switch client.ErrorCode(err) {
	case client.CodeNotFound:
		return "; check its ids (list_incidents shows them)"
	case client.CodeWorkspaceNotAllowed:
		return "; its workspace is outside this server's allowlist"
	case client.CodeInsufficientWorkspaceRole:
		return "; the service account has no role on its workspace"
	}
	return ""
}

// describeBulk words a state and assignee: "Active, assigned to a@b.c".
func describeBulk(s StatusState, holder string) string {
	switch holder {
	case assigneeNone:
		return describeState(s) + ", unassigned"
	case assigneeUnknown, "":
		return describeState(s)
	}
	return describeState(s) + ", assigned to " + holder
}

// refusedText lists the incidents that cannot take the change.
func refusedText(items []*bulkItem, n int) string {
	var b strings.Builder
	fmt.Fprintf(&b, "Nothing updated: %d of %d incidents cannot take this change, and the batch is checked whole before anything is sent:", n, len(items))
	for _, it := range items {
		if it.row.Result == resultRefused {
			fmt.Fprintf(&b, "\n- %s incident %s (workspace %s): %s", it.ref.Source, it.row.IncidentID, it.row.WorkspaceID, it.row.Reason)
		}
	}
	b.WriteString("\nFix them or leave them out, then call bulk_update again.")
	return b.String()
}

// bulkQuestion is what the human is asked: the change, and each incident's before → after.
func bulkQuestion(in BulkUpdateInput, o BulkUpdateOutput) string {
	var b strings.Builder
	fmt.Fprintf(&b, "Update %d incidents?\n", len(o.Incidents))
	for _, r := range o.Incidents {
		fmt.Fprintf(&b, "- %s %s (workspace %s): %s → %s\n", r.Source, r.IncidentID, r.WorkspaceID, r.Before, r.After)
	}
	if o.Comment != "" {
		fmt.Fprintf(&b, "Comment on each: %s", resources.Clean(o.Comment, 1000))
	}
	return schema.SafeText(strings.TrimSpace(b.String()))
}

// settle reads the API's answer into the rows: accepted, forbidden with
// the reason, or unknown when the answer names the incident in neither
// list; and reads the accepted incidents again to show their state.
func settle(ctx context.Context, d Deps, api *client.Client, items []*bulkItem, res *client.BulkUpdateResult, out *BulkUpdateOutput) {
	for i, it := range items {
		row := &out.Incidents[i]
		fi := slices.IndexFunc(res.Forbidden, func(f client.BulkForbidden) bool {
			return f.IncidentID == it.ref.IncidentID && (f.WorkspaceID == "" || strings.EqualFold(f.WorkspaceID, it.ref.WorkspaceID))
		})
		switch {
		case fi >= 0:
			row.Result, row.Reason, row.After = resultForbidden, oneLine(res.Forbidden[fi].Reason, 300), row.Before
			out.Forbidden++
		case slices.Contains(res.Accepted, it.ref.IncidentID):
			row.Result = resultAccepted
			out.Accepted++
			d.changed(ctx, it.ref)
		default:
			row.Result, row.Reason = resultUnknown, "ContraForce's answer does not say; check it with get_incident"
			d.changed(ctx, it.ref)
		}
	}
	forEach(len(items), bulkReads, func(i int) {
		row := &out.Incidents[i]
		if row.Result != resultAccepted {
			return
		}
		_, st, err := api.GetIncidentState(ctx, items[i].ref, false)
		if err != nil {
			row.Reason = "accepted, but reading it afterwards failed (" + resources.ShortError(err) + "); call get_incident to confirm"
			return
		}
		row.After = describeBulk(stateOf(st), assigneeOf(st))
	})
}

func renderBulk(o BulkUpdateOutput) string {
	var b strings.Builder
	n := len(o.Incidents)
	unknown := n - o.Accepted - o.Forbidden
	switch {
	case o.DryRun:
		fmt.Fprintf(&b, "Dry run, nothing changed: %d incidents would change as follows.", n)
	case o.Accepted == n:
		fmt.Fprintf(&b, "Updated all %d incidents.", n)
	default:
		fmt.Fprintf(&b, "NOT ALL APPLIED: %d of %d incidents updated, %d forbidden, %d not confirmed.", o.Accepted, n, o.Forbidden, unknown)
	}
	for _, r := range o.Incidents {
		fmt.Fprintf(&b, "\n- [%s] %s %s (workspace %s): %s → %s", r.Result, r.Source, r.IncidentID, r.WorkspaceID, r.Before, r.After)
		if r.Reason != "" {
			fmt.Fprintf(&b, " (%s)", r.Reason)
		}
	}
	writeTail(&b, o.Comment, o.Notes, o.RequestID)
	return b.String()
}
