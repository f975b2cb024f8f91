package tools

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/contraforce/contraforce-mcp/client"
	"github.com/contraforce/contraforce-mcp/resources"
	"github.com/contraforce/contraforce-mcp/schema"
)

// ListIncidentsInput holds every filter of the list-across-workspaces call,
// named as in the API, plus paging.
type ListIncidentsInput struct {
	Severities          []client.Severity `json:"severities,omitempty" desc:"Only these severities."`
	Statuses            []client.Status   `json:"statuses,omitempty" desc:"Only these statuses."`
	Sources             []client.Source   `json:"sources,omitempty" desc:"Only these sources."`
	TimeFilterSelection *TimeWindow       `json:"timeFilterSelection,omitempty" desc:"Creation-time window (default: all)."`
	Query               string            `json:"query,omitempty" jsonschema:"maxLength=500" desc:"Free text matched in titles, descriptions, ids and entities."`
	AssigneeIDs         []string          `json:"assigneeIds,omitempty" desc:"Only incidents assigned to these user ids."`
	AssigneeEmails      []string          `json:"assigneeEmails,omitempty" desc:"Only incidents assigned to these emails."`
	IncludeUnassigned   bool              `json:"includeUnassigned,omitempty" desc:"Add unassigned incidents to the assignee filters; alone, list only unassigned ones."`
	Limit               int               `json:"limit,omitempty" jsonschema:"minimum=1,maximum=100" desc:"Rows per page (default 25)."`
	Cursor              string            `json:"cursor,omitempty" jsonschema:"maxLength=64" desc:"nextCursor of the previous page; it carries the filters."`
}

// TimeWindow is the API's timeFilterSelection.
type TimeWindow struct {
	Type           client.TimeFilterType `json:"type" jsonschema:"required" desc:"Window; Custom needs both bounds."`
	CustomStartUTC *time.Time            `json:"customStartUtc,omitempty" desc:"Start, RFC 3339 UTC (Custom)."`
	CustomEndUTC   *time.Time            `json:"customEndUtc,omitempty" desc:"End, RFC 3339 UTC (Custom)."`
}

// ListIncidentsOutput is one page of compact rows.
type ListIncidentsOutput struct {
	Incidents  []IncidentRow `json:"incidents"`
	HasMore    bool          `json:"hasMore"`
	NextCursor string        `json:"nextCursor,omitempty" desc:"Pass as cursor for the next page."`
	Note       string        `json:"note,omitempty" desc:"Why the listing stopped early."`
}

// IncidentRow is one compact list row; (workspaceId, source, incidentId)
// are the arguments of the per-incident tools.
type IncidentRow = resources.IncidentRow

const (
	defaultLimit = 25
	// maxPageCalls bounds the API pages one call reads to fill a page.
	maxPageCalls = 5
	// maxRowTitle bounds a title in the text: one line of it.
	maxRowTitle = 300
)

// ListIncidents is the list_incidents tool: incidents across workspaces, filtered and paged.
func ListIncidents(d Deps) Tool {
	if d.Cursors == nil {
		d.Cursors = NewCursors(CursorOptions{})
	}
	return newTool(spec[ListIncidentsInput, ListIncidentsOutput]{
		deps:  d,
		name:  "list_incidents",
		title: "List incidents",
		description: "List and filter incidents across every workspace the credential sees, in the API's order " +
			"(not sorted across pages). Page with nextCursor.",
		scope: client.ScopeIncidentsRead,
		hints: hints{readOnly: true, idempotent: true, openWorld: true},
		handle: func(ctx context.Context, in ListIncidentsInput) (ListIncidentsOutput, error) {
			return listIncidents(ctx, d, in)
		},
		text: renderList,
	})
}

func listIncidents(ctx context.Context, d Deps, in ListIncidentsInput) (ListIncidentsOutput, error) {
	limit := in.Limit
	if limit == 0 {
		limit = defaultLimit
	}
	api, err := d.api(ctx)
	if err != nil {
		return ListIncidentsOutput{}, err
	}
	pos := cursor{Filter: in.filter()}
	if in.Cursor != "" {
		if pos, err = d.Cursors.take(api, in.Cursor); err != nil {
			return ListIncidentsOutput{}, &schema.ArgError{Field: "cursor", Problem: err.Error()}
		}
	}

	out := ListIncidentsOutput{Incidents: make([]IncidentRow, 0, limit)}
	for calls := 1; ; calls++ {
		need := limit - len(out.Incidents)
		// Only the rows shown are decoded: an API page holds more.
		page, err := api.ListIncidentRange(ctx, pos.Filter, pos.Page, pos.Skip, need)
		if err != nil {
			return ListIncidentsOutput{}, err
		}
		if page.Halted != "" {
			// The API repeated itself: end here, saying so, rather than loop.
			out.Note = page.Halted
			pos = cursor{}
			break
		}
		out.Incidents = appendRows(out.Incidents, page.Incidents)
		if page.Rows-min(pos.Skip, page.Rows) > need {
			// The API page has more than we show: the cursor points into it.
			pos.Skip += need
			break
		}
		if !page.HasMore {
			pos = cursor{}
			break
		}
		pos = cursor{Filter: pos.Filter, Page: page.Next}
		if len(out.Incidents) == limit || calls == maxPageCalls {
			break
		}
	}
	if !pos.Page.IsZero() || pos.Skip > 0 {
		out.HasMore = true
		if out.NextCursor, err = d.Cursors.issue(api, pos); err != nil {
			out.Note = err.Error()
		}
	}
	return out, nil
}

// hasFilters reports whether any filter argument was given.
func (in ListIncidentsInput) hasFilters() bool {
	return len(in.Severities) > 0 || len(in.Statuses) > 0 || len(in.Sources) > 0 || in.TimeFilterSelection != nil ||
		in.Query != "" || len(in.AssigneeIDs) > 0 || len(in.AssigneeEmails) > 0 || in.IncludeUnassigned
}

// Check states the rules a flat schema cannot: a cursor carries its
// filters, and a custom window needs ordered bounds.
func (in ListIncidentsInput) Check() error {
	if in.Cursor != "" && in.hasFilters() {
		return &schema.ArgError{Kind: schema.KindRule,
			Problem: "pass either cursor or filters, not both (the cursor carries the filters of its first page)"}
	}
	w := in.TimeFilterSelection
	if w == nil {
		return nil
	}
	custom := w.Type == client.TimeCustom
	switch {
	case custom && (w.CustomStartUTC == nil || w.CustomEndUTC == nil):
		return &schema.ArgError{Field: "timeFilterSelection", Kind: schema.KindRule,
			Problem: `of type "Custom" needs both customStartUtc and customEndUtc (RFC 3339 UTC)`}
	case custom && !w.CustomStartUTC.Before(*w.CustomEndUTC):
		return &schema.ArgError{Field: "timeFilterSelection.customStartUtc", Kind: schema.KindRule, Problem: "must be before customEndUtc"}
	case !custom && (w.CustomStartUTC != nil || w.CustomEndUTC != nil):
		return &schema.ArgError{Field: "timeFilterSelection", Kind: schema.KindRule,
			Problem: `takes customStartUtc and customEndUtc only with type "Custom"`}
	}
	return nil
}

// filter returns the API filter of the arguments.
func (in ListIncidentsInput) filter() client.IncidentFilter {
	f := client.IncidentFilter{
		Severities: in.Severities, Statuses: in.Statuses, Sources: in.Sources, Query: strings.TrimSpace(in.Query),
		AssigneeIDs: in.AssigneeIDs, AssigneeEmails: in.AssigneeEmails, IncludeUnassigned: in.IncludeUnassigned,
	}
	if w := in.TimeFilterSelection; w != nil {
		f.TimeFilterSelection = &client.TimeFilter{Type: w.Type, CustomStartUTC: utc(w.CustomStartUTC), CustomEndUTC: utc(w.CustomEndUTC)}
	}
	return f
}

func utc(t *time.Time) *time.Time {
	if t == nil {
		return nil
	}
	u := t.UTC()
	return &u
}

func appendRows(rows []IncidentRow, incs []client.IncidentSummary) []IncidentRow {
	for _, i := range incs {
		rows = append(rows, resources.ViewRow(i))
	}
	return rows
}

// renderList is list_incidents' text rendering: one line per incident with
// the three identifying arguments.
func renderList(o ListIncidentsOutput) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%d incidents", len(o.Incidents))
	for _, r := range o.Incidents {
		fmt.Fprintf(&b, "\n- [%s %s] %s #%d %s | workspaceId=%s incidentId=%s | created %s", r.Severity, r.Status, r.Source,
			r.Number, oneLine(r.Title, maxRowTitle), r.WorkspaceID, r.IncidentID, r.Created)
		if r.LastActivity != "" && r.LastActivity != r.Created {
			fmt.Fprintf(&b, ", last activity %s", r.LastActivity)
		}
		fmt.Fprintf(&b, ", alerts %d", r.Alerts)
		if r.Assignee != "" {
			fmt.Fprintf(&b, ", assigned to %s", r.Assignee)
		}
		if r.Classification != "" {
			fmt.Fprintf(&b, ", classified %s", r.Classification)
		}
	}
	if o.NextCursor != "" {
		fmt.Fprintf(&b, "\nmore: call list_incidents with cursor %s", o.NextCursor)
	}
	if o.Note != "" {
		fmt.Fprintf(&b, "\nnote: %s", o.Note)
	}
	return b.String()
}
