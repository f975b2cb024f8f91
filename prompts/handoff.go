package prompts

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/mark3labs/mcp-go/mcp"

	"github.com/contraforce/contraforce-mcp/client"
	"github.com/contraforce/contraforce-mcp/resources"
)

// Shift hand-off limits: the window is at most the API's longest named
// window (thirty days); the lists are capped so that they fit a model's
// context, and so are the API pages read to fill them.
const (
	defaultHours     = 12
	maxHours         = 720
	maxOpenRows      = 100
	maxClosedRows    = 50
	maxHandoffPages  = 5 // per listing: the open incidents, then the closed ones
	handoffTitleCut  = 200
	handoffPromptCut = 200
)

var handoffArgs = []argSpec{
	{name: "workspaceId", title: "Workspace",
		description: "Only this workspace (GUID); default: every workspace the credential sees."},
	{name: "hours", title: "Hours", check: checkHours,
		description: fmt.Sprintf("The shift's length: what changed in the last this many hours (1–%d, default %d).", maxHours, defaultHours)},
}

// ShiftHandoff is the shift_handoff prompt: every open incident, and what
// changed or closed during the shift, for the next analyst.
func ShiftHandoff(d Deps) Prompt {
	const name = "shift_handoff"
	return Prompt{
		Def: newPrompt(name, "Shift hand-off",
			"Hand over to the next analyst: every open (New and Active) incident, what changed during the shift, "+
				"and what was closed. Read-only: nothing is changed.", handoffArgs),
		Handler: func(ctx context.Context, req mcp.GetPromptRequest) (*mcp.GetPromptResult, error) {
			return shiftHandoff(ctx, d, req.Params.Arguments)
		},
		Tools: []string{"list_incidents", "get_incident"},
	}
}

type handoffText struct {
	Hours       int
	WorkspaceID string
	Data        string
	Open        int
	// OpenCursor continues the open incidents' listing when it was cut
	// (OpenCut without a cursor: the server could not issue one).
	OpenCursor   string
	OpenCut      bool
	ClosedCursor string
	ClosedCut    bool
}

// handoffRow is a listed incident and what the shift did to it.
type handoffRow struct {
	inc              client.IncidentSummary
	created, changed bool // in the window
}

// listing is one bounded scan of list-across-workspaces.
type listing struct {
	rows []handoffRow
	// cut says the scan stopped before the listing's end; cursor (when
	// the server could issue one) continues it in list_incidents.
	cut    bool
	cursor string
	// omitted counts rows that matched but were not kept (over the cap).
	omitted int
}

func shiftHandoff(ctx context.Context, d Deps, given map[string]string) (*mcp.GetPromptResult, error) {
	const name = "shift_handoff"
	args, err := parseArgs(name, handoffArgs, given)
	if err != nil {
		return nil, err
	}
	hours := defaultHours
	if h, ok := args["hours"]; ok {
		hours, _ = strconv.Atoi(h) // checkHours accepted it
	}
	api, err := d.apiClient(ctx)
	if err != nil {
		return nil, fmt.Errorf("prompt %s: %v", name, err)
	}
	end := d.now().UTC().Truncate(time.Second) // the window shown is the window used
	start := end.Add(-time.Duration(hours) * time.Hour)
	ws := args["workspaceId"]
	w := window{start: start, end: end}

	// Every open incident, whenever it was created.
	open, err := scan(ctx, d, api, client.IncidentFilter{Statuses: []client.Status{client.StatusNew, client.StatusActive}},
		ws, w, maxOpenRows, func(handoffRow) bool { return true }, false)
	if err != nil {
		return nil, fmt.Errorf("prompt %s: %s", name, resources.Describe("listing open incidents", err))
	}
	// The closed ones changed in the window: the API filters on creation
	// time only, so every closed incident is looked at, newest pages first.
	closed, err := scan(ctx, d, api, client.IncidentFilter{Statuses: []client.Status{client.StatusClosed}},
		ws, w, maxClosedRows, func(r handoffRow) bool { return r.changed }, true)
	if err != nil {
		return nil, fmt.Errorf("prompt %s: %s", name, resources.Describe("listing closed incidents", err))
	}

	body, err := render("shift_handoff.md", handoffText{Hours: hours, WorkspaceID: resources.Clean(ws, handoffPromptCut),
		Data: untrusted(handoffData(w, open, closed)), Open: len(open.rows),
		OpenCursor: open.cursor, OpenCut: open.cut, ClosedCursor: closed.cursor, ClosedCut: closed.cut})
	if err != nil {
		return nil, err
	}
	more := ""
	if open.cut {
		more = " (and more)"
	}
	return &mcp.GetPromptResult{
		Description: fmt.Sprintf("Shift hand-off: %d open incidents%s, %d closed in the last %d hours", len(open.rows), more,
			len(closed.rows), hours),
		Messages: []mcp.PromptMessage{mcp.NewPromptMessage(mcp.RoleUser, mcp.NewTextContent(body))},
	}, nil
}

// window is the shift.
type window struct{ start, end time.Time }

// in reports whether an API time falls in the window.
func (w window) in(s string) bool {
	t, err := time.Parse(time.RFC3339Nano, s)
	return err == nil && !t.Before(w.start) && !t.After(w.end)
}

// scan lists the incidents of filter f (of workspace ws, if given: the API
// has no workspace filter) that keep accepts, at most limit, reading at
// most maxHandoffPages API pages. Past the limit it stops, or with count
// goes on counting what it omits. Where it stops early it issues a
// list_incidents cursor at the first row not looked at.
func scan(ctx context.Context, d Deps, api *client.Client, f client.IncidentFilter, ws string, w window, limit int,
	keep func(handoffRow) bool, count bool) (listing, error) {
	var out listing
	var pos client.PageToken
	for pages := 1; ; pages++ {
		page, err := api.ListIncidents(ctx, f, pos)
		if err != nil {
			return out, err
		}
		for i, inc := range page.Incidents {
			if ws != "" && !strings.EqualFold(inc.WorkspaceID, ws) {
				continue
			}
			r := handoffRow{inc: inc, created: w.in(inc.CreationTime),
				changed: w.in(inc.LastModificationTime) || w.in(inc.LastActivityTime)}
			if !keep(r) {
				continue
			}
			if len(out.rows) == limit {
				if count {
					out.omitted++
					continue
				}
				out.cut = true
				out.cursor = d.listCursor(api, f, pos, i)
				return out, nil
			}
			out.rows = append(out.rows, r)
		}
		if page.Halted != "" || !page.HasMore {
			out.cut = page.Halted != ""
			return out, nil
		}
		pos = page.Next
		if pages == maxHandoffPages {
			out.cut = true
			out.cursor = d.listCursor(api, f, pos, 0)
			return out, nil
		}
	}
}

// handoffData renders the two lists, by workspace, each incident on one
// line that starts with "- ", most severe first, then newest.
func handoffData(w window, open, closed listing) string {
	var b strings.Builder
	fmt.Fprintf(&b, "Shift: %s to %s.\n", w.start.Format(time.RFC3339), w.end.Format(time.RFC3339))
	section(&b, "Open incidents (New and Active, whenever created)", open, func(r handoffRow) string {
		flags := ""
		switch {
		case r.created:
			flags = "; new this shift"
		case r.changed:
			flags = "; changed this shift"
		}
		return assignee(r.inc) + flags
	})
	section(&b, "Closed incidents changed during the shift", closed, func(r handoffRow) string {
		verdict := ""
		if c := r.inc.Classification.Value; c != nil {
			verdict = "verdict " + fold(string(*c), handoffTitleCut)
			if cr := r.inc.ClassificationReason.Value; cr != nil {
				verdict += "/" + fold(string(*cr), handoffTitleCut)
			}
			verdict += "; "
		}
		return verdict + assignee(r.inc)
	})
	if closed.omitted > 0 {
		fmt.Fprintf(&b, "(%d more closed incidents changed during the shift are not listed.)\n", closed.omitted)
	}
	return strings.TrimRight(b.String(), "\n")
}

func section(b *strings.Builder, title string, l listing, detail func(handoffRow) string) {
	fmt.Fprintf(b, "\n%s: %d", title, len(l.rows))
	if l.cut {
		b.WriteString(" listed, and more not listed")
	}
	b.WriteString("\n")
	rows := slices.Clone(l.rows)
	slices.SortStableFunc(rows, func(a, c handoffRow) int {
		return cmp.Or(strings.Compare(strings.ToLower(a.inc.WorkspaceID), strings.ToLower(c.inc.WorkspaceID)),
			cmp.Compare(severityRank(c.inc.Severity), severityRank(a.inc.Severity)),
			resources.NewestFirst(a.inc.CreationTime, c.inc.CreationTime))
	})
	for i, r := range rows {
		v := resources.ViewRow(r.inc)
		if i == 0 || !strings.EqualFold(r.inc.WorkspaceID, rows[i-1].inc.WorkspaceID) {
			if v.Workspace != "" {
				fmt.Fprintf(b, "Workspace %s (workspaceId %s):\n", resources.OneLine(v.Workspace), v.WorkspaceID)
			} else {
				fmt.Fprintf(b, "Workspace %s:\n", v.WorkspaceID)
			}
		}
		fmt.Fprintf(b, "- %s %s, %s #%d, incidentId %s: %s. Created %s", v.Severity, v.Status, v.Source, v.Number,
			resources.OneLine(v.IncidentID), fold(v.Title, handoffTitleCut), v.Created)
		if v.LastActivity != "" && v.LastActivity != v.Created {
			fmt.Fprintf(b, ", last activity %s", v.LastActivity)
		}
		alerts := "alerts"
		if v.Alerts == 1 {
			alerts = "alert"
		}
		fmt.Fprintf(b, "; %d %s; %s.\n", v.Alerts, alerts, detail(r))
	}
}

// assignee says who holds an incident, as its row shows it.
func assignee(inc client.IncidentSummary) string {
	u, known := inc.Assignee()
	switch {
	case !known:
		return "assignee unknown"
	case u == nil:
		return "unassigned"
	}
	return "assigned to " + fold(resources.UserName(u), handoffTitleCut)
}

// severityRank orders severities, the most severe highest.
func severityRank(s client.Severity) int {
	return slices.Index(client.Severity("").Values(), s)
}

// checkHours accepts a whole number of hours within the window's bounds.
func checkHours(v string) (string, error) {
	h, err := strconv.Atoi(v)
	if err != nil || h < 1 || h > maxHours {
		return "", fmt.Errorf("%q is not a whole number of hours from 1 to %d", resources.Clean(v, 20), maxHours)
	}
	return strconv.Itoa(h), nil
}
