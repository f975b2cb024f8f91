package prompts

import (
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
// window (thirty days); the list is capped so that it fits a model's
// context, and so are the API pages read to fill it.
const (
	defaultHours    = 12
	maxHours        = 720
	maxHandoffRows  = 50
	maxHandoffPages = 5
)

var handoffArgs = []argSpec{
	{name: "workspaceId", title: "Workspace",
		description: "Only this workspace (GUID); default: every workspace the credential sees."},
	{name: "hours", title: "Hours", check: checkHours,
		description: fmt.Sprintf("The shift's length: incidents created in the last this many hours (1–%d, default %d).", maxHours, defaultHours)},
}

// ShiftHandoff is the shift_handoff prompt: a hand-off summary of the
// incidents still open from a shift.
func ShiftHandoff(d Deps) Prompt {
	const name = "shift_handoff"
	return Prompt{
		Def: newPrompt(name, "Shift hand-off",
			"Summarise the open (New and Active) incidents created during a shift, newest first, for the next "+
				"analyst on duty. Read-only: nothing is changed.", handoffArgs),
		Handler: func(ctx context.Context, req mcp.GetPromptRequest) (*mcp.GetPromptResult, error) {
			return shiftHandoff(ctx, d, req.Params.Arguments)
		},
		Tools: []string{"list_incidents", "get_incident"},
	}
}

// handoffData is the fenced data of the hand-off.
type handoffData struct {
	WindowStart string                  `json:"windowStart"`
	WindowEnd   string                  `json:"windowEnd"`
	Shown       int                     `json:"shown"`
	More        bool                    `json:"more,omitempty"`
	Incidents   []resources.IncidentRow `json:"incidents"`
}

type handoffText struct {
	Hours       int
	WorkspaceID string
	Data        string
	Empty       bool
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
	data, err := openIncidents(ctx, api, args["workspaceId"], start, end)
	if err != nil {
		return nil, fmt.Errorf("prompt %s: %s", name, resources.Describe("listing open incidents", err))
	}
	fenced, err := untrusted(data)
	if err != nil {
		return nil, err
	}
	body, err := render("shift_handoff.md", handoffText{Hours: hours, WorkspaceID: resources.Clean(args["workspaceId"], 200),
		Data: fenced, Empty: len(data.Incidents) == 0})
	if err != nil {
		return nil, err
	}
	return &mcp.GetPromptResult{
		Description: fmt.Sprintf("Shift hand-off: %d open incidents from the last %d hours", data.Shown, hours),
		Messages:    []mcp.PromptMessage{mcp.NewPromptMessage(mcp.RoleUser, mcp.NewTextContent(body))},
	}, nil
}

// openIncidents lists the New and Active incidents created in [start, end],
// of one workspace if given (the API has no workspace filter, so rows are
// filtered here), newest first, at most maxHandoffRows.
func openIncidents(ctx context.Context, api *client.Client, workspace string, start, end time.Time) (handoffData, error) {
	f := client.IncidentFilter{
		Statuses:            []client.Status{client.StatusNew, client.StatusActive},
		TimeFilterSelection: &client.TimeFilter{Type: client.TimeCustom, CustomStartUTC: &start, CustomEndUTC: &end},
	}
	var rows []client.IncidentSummary
	more := false
	var pos client.PageToken
	for range maxHandoffPages {
		page, err := api.ListIncidents(ctx, f, pos)
		if err != nil {
			return handoffData{}, err
		}
		for _, r := range page.Incidents {
			if workspace == "" || strings.EqualFold(r.WorkspaceID, workspace) {
				rows = append(rows, r)
			}
		}
		more = page.HasMore
		if !page.HasMore {
			break
		}
		pos = page.Next
	}
	slices.SortStableFunc(rows, func(a, b client.IncidentSummary) int { return resources.NewestFirst(a.CreationTime, b.CreationTime) })
	if len(rows) > maxHandoffRows {
		rows, more = rows[:maxHandoffRows], true
	}
	data := handoffData{WindowStart: start.Format(time.RFC3339), WindowEnd: end.Format(time.RFC3339),
		Shown: len(rows), More: more, Incidents: make([]resources.IncidentRow, len(rows))}
	for i, r := range rows {
		data.Incidents[i] = resources.ViewRow(r)
	}
	return data, nil
}

// checkHours accepts a whole number of hours within the window's bounds.
func checkHours(v string) (string, error) {
	h, err := strconv.Atoi(v)
	if err != nil || h < 1 || h > maxHours {
		return "", fmt.Errorf("%q is not a whole number of hours from 1 to %d", resources.Clean(v, 20), maxHours)
	}
	return strconv.Itoa(h), nil
}
