package resources

import (
	"fmt"
	"sort"
	"time"
	"unicode/utf8"

	"github.com/contraforce/contraforce-mcp/client"
	"github.com/contraforce/contraforce-mcp/schema"
)

// Compact views of the API's objects, as the resources, prompts and tools
// show them (this file is their one definition): what an analyst reads, without envelopes, nulls and plumbing. Every
// string from an incident passes through schema.SafeText when the view is
// built, so the JSON that carries it needs no further cleaning. Limits keep
// one incident within a model's context; whatever is cut is named in the
// document's notes.
const (
	maxTitle        = 300
	maxDescription  = 2000
	maxCommentText  = 2000
	maxComments     = 20
	maxAlerts       = 25
	maxEntities     = 30
	maxEntityProps  = 6
	maxCell         = 160
	maxEvidenceRows = 10
	maxQuery        = 600
)

// IncidentView is the compact incident: its identity and state, and its
// description.
type IncidentView struct {
	IncidentHead
	Description string `json:"description,omitempty"`
}

// IncidentHead is the compact incident without its description: what a
// program reads of it (get_incident's structured content).
type IncidentHead struct {
	WorkspaceID          string   `json:"workspaceId"`
	Workspace            string   `json:"workspace,omitempty"`
	Source               string   `json:"source"`
	IncidentID           string   `json:"incidentId"`
	Number               int      `json:"number,omitempty"`
	Title                string   `json:"title"`
	Severity             string   `json:"severity"`
	Status               string   `json:"status"`
	Classification       string   `json:"classification,omitempty"`
	ClassificationReason string   `json:"classificationReason,omitempty"`
	Assignee             string   `json:"assignee,omitempty"`
	Created              string   `json:"created"`
	Updated              string   `json:"updated,omitempty"`
	LastActivity         string   `json:"lastActivity,omitempty"`
	Tactics              []string `json:"tactics,omitempty"`
	TicketID             string   `json:"ticketId,omitempty"`
	// Unknown names the state members the API did not show: their absence
	// above means "not known", not "none".
	Unknown []string `json:"unknown,omitempty" desc:"Fields the API did not show: not known, not empty."`
}

// The names IncidentView.Unknown uses.
const (
	UnknownAssignee       = "assignee"
	UnknownClassification = "classification"
	UnknownTicket         = "ticketId"
)

// IncidentRow is one incident of a list: compact, with the three values
// that identify it (the per-incident tools' arguments).
type IncidentRow struct {
	WorkspaceID  string `json:"workspaceId"`
	Source       string `json:"source"`
	IncidentID   string `json:"incidentId"`
	Number       int    `json:"number"`
	Title        string `json:"title"`
	Severity     string `json:"severity"`
	Status       string `json:"status"`
	Workspace    string `json:"workspace,omitempty"`
	Assignee     string `json:"assignee,omitempty"`
	Created      string `json:"created"`
	LastActivity string `json:"lastActivity,omitempty"`
	Alerts       int    `json:"alerts"`
	// Classification is the verdict of a closed incident, as the row shows it.
	Classification string `json:"classification,omitempty"`
}

// ViewRow is the compact row of a listed incident.
func ViewRow(i client.IncidentSummary) IncidentRow {
	assignee, _ := i.Assignee()
	row := IncidentRow{
		WorkspaceID: Clean(i.WorkspaceID, maxCell), Source: Clean(string(i.Source), maxCell), IncidentID: Clean(i.ID, maxCell),
		Number: i.Number, Title: Clean(i.Title, maxTitle), Severity: Clean(string(i.Severity), maxCell),
		Status: Clean(string(i.Status), maxCell), Workspace: Clean(i.WorkspaceName, maxCell),
		Assignee: Clean(UserName(assignee), maxCell), Created: ViewTime(i.CreationTime),
		LastActivity: ViewTime(i.LastActivityTime), Alerts: i.AlertsCount,
	}
	if c := i.Classification.Value; c != nil {
		row.Classification = Clean(string(*c), maxCell)
	}
	return row
}

// AlertView is the compact alert.
type AlertView struct {
	Title    string   `json:"title"`
	Severity string   `json:"severity,omitempty"`
	Product  string   `json:"product,omitempty"`
	Created  string   `json:"created,omitempty"`
	Tactics  []string `json:"tactics,omitempty"`
}

// EntityView is the compact entity: its kind, a name and a few properties.
type EntityView struct {
	Kind  string            `json:"kind"`
	Name  string            `json:"name"`
	Props map[string]string `json:"props,omitempty"`
}

// EvidenceView is the head of an evidence table.
type EvidenceView struct {
	Title    string     `json:"title,omitempty"`
	Query    string     `json:"query,omitempty"`
	Columns  []string   `json:"columns"`
	Rows     [][]string `json:"rows"`
	RowCount int        `json:"rowCount"`
}

// CommentView is the compact comment; Agent says an AI agent wrote it.
type CommentView struct {
	Author    string `json:"author"`
	Created   string `json:"created"`
	Text      string `json:"text"`
	Agent     bool   `json:"agent,omitempty"`
	AgentName string `json:"agentName,omitempty"`
	Closing   bool   `json:"closing,omitempty"`
	Activity  bool   `json:"activity,omitempty"`
}

// ViewIncident is the compact view of an incident of source src, with the
// state read by client.StateOf.
func ViewIncident(src client.Source, inc client.Incident, st client.IncidentState) IncidentView {
	v := IncidentView{Description: Clean(inc.Description, maxDescription), IncidentHead: IncidentHead{
		WorkspaceID: Clean(inc.WorkspaceID, maxCell), Workspace: Clean(inc.WorkspaceName, maxCell),
		Source: string(src), IncidentID: Clean(inc.ID, maxCell), Number: inc.Number,
		Title: Clean(inc.Title, maxTitle), Severity: Clean(string(inc.Severity), maxCell),
		Status: Clean(string(inc.Status), maxCell), Created: ViewTime(inc.CreatedAt),
		Updated: ViewTime(inc.UpdatedAt), LastActivity: ViewTime(inc.LastActivityTime),
		Tactics: cleanAll(inc.Tactics), Assignee: Clean(UserName(st.Assignee), maxCell),
	}}
	if !st.AssigneeKnown {
		v.Unknown = append(v.Unknown, UnknownAssignee)
	}
	if !st.ClassificationKnown {
		v.Unknown = append(v.Unknown, UnknownClassification)
	}
	if !st.TicketKnown {
		v.Unknown = append(v.Unknown, UnknownTicket)
	}
	if st.Classification != nil {
		v.Classification = Clean(string(*st.Classification), maxCell)
	}
	if st.ClassificationReason != nil {
		v.ClassificationReason = Clean(string(*st.ClassificationReason), maxCell)
	}
	if st.TicketID != nil {
		v.TicketID = Clean(*st.TicketID, maxCell)
	}
	return v
}

// ViewAlerts is the compact view of alerts; a cut is added to notes.
func ViewAlerts(alerts []client.Alert, notes []string) ([]AlertView, []string) {
	if len(alerts) > maxAlerts {
		notes = append(notes, fmt.Sprintf("%d of %d alerts shown", maxAlerts, len(alerts)))
		alerts = alerts[:maxAlerts]
	}
	out := make([]AlertView, len(alerts))
	for i, a := range alerts {
		out[i] = AlertView{Title: Clean(a.Title, maxTitle), Severity: Clean(string(a.Severity), maxCell),
			Product: Clean(a.ProductName, maxCell), Created: ViewTime(a.CreatedAt), Tactics: cleanAll(a.Tactics)}
	}
	return out, notes
}

// nameKeys are the properties that name an entity, by preference.
var nameKeys = []string{"accountName", "userPrincipalName", "hostName", "address", "fileName", "url",
	"processName", "domainName", "name"}

// ViewEntities is the compact view of entities; a cut is added to notes.
func ViewEntities(ents []client.Entity, notes []string) ([]EntityView, []string) {
	if len(ents) > maxEntities {
		notes = append(notes, fmt.Sprintf("%d of %d entities shown", maxEntities, len(ents)))
		ents = ents[:maxEntities]
	}
	out := make([]EntityView, len(ents))
	for i, e := range ents {
		name := e.Name()
		for _, k := range nameKeys {
			if name != "" {
				break
			}
			name = scalar(e.Properties[k])
		}
		kind := e.Kind
		if kind == "" {
			kind = e.Type
		}
		v := EntityView{Kind: Clean(kind, maxCell), Name: Clean(name, maxCell)}
		keys := make([]string, 0, len(e.Properties))
		for k, val := range e.Properties {
			if s := scalar(val); s != "" && s != name {
				keys = append(keys, k)
			}
		}
		sort.Strings(keys)
		for _, k := range keys[:min(len(keys), maxEntityProps)] {
			if v.Props == nil {
				v.Props = make(map[string]string, maxEntityProps)
			}
			v.Props[Clean(k, maxCell)] = Clean(scalar(e.Properties[k]), maxCell)
		}
		out[i] = v
	}
	return out, notes
}

// ViewEvidence is the head of an evidence table; nil for an absent or
// empty table. A cut is added to notes.
func ViewEvidence(ev *client.Evidence, notes []string) (*EvidenceView, []string) {
	if ev == nil || (len(ev.Columns) == 0 && len(ev.Rows) == 0) {
		return nil, notes
	}
	v := &EvidenceView{Title: Clean(ev.Title, maxTitle), Query: Clean(ev.Query, maxQuery), RowCount: len(ev.Rows),
		Columns: make([]string, len(ev.Columns))}
	for i, c := range ev.Columns {
		v.Columns[i] = Clean(c.Name, maxCell)
	}
	rows := ev.Rows
	if len(rows) > maxEvidenceRows {
		notes = append(notes, fmt.Sprintf("%d of %d evidence rows shown", maxEvidenceRows, len(rows)))
		rows = rows[:maxEvidenceRows]
	}
	v.Rows = make([][]string, len(rows))
	for i, r := range rows {
		cells := make([]string, len(r))
		for j, c := range r {
			cells[j] = Clean(scalar(c), maxCell)
		}
		v.Rows[i] = cells
	}
	return v, notes
}

// CommentPage is the position of a page of an incident's comments, which
// the API lists all at once, oldest first. Comments are numbered from 1,
// oldest first; the API only appends, so a number keeps naming the same
// comment and a page can be asked for again.
type CommentPage struct {
	// Total is how many comments the incident has.
	Total int
	// First and Last are the numbers of the first and last comment shown
	// (1 and 0 when none is: a page is empty only before comment 1).
	First, Last int
}

// Older reports whether comments older than the page exist.
func (p CommentPage) Older() bool { return p.First > 1 }

// ViewComments is the compact view of a page of at most maxComments
// comments, oldest first: the newest ones before comment number before
// (0: the newest of all).
func ViewComments(cs []client.Comment, before int) ([]CommentView, CommentPage) {
	hi := len(cs)
	if before > 0 {
		hi = min(hi, before-1)
	}
	lo := max(0, hi-maxComments)
	out := make([]CommentView, 0, hi-lo)
	for _, c := range cs[lo:hi] {
		author := c.AuthorName
		if author == "" {
			author = c.AuthorEmail
		}
		v := CommentView{Author: Clean(author, maxCell), Created: ViewTime(c.CreatedTime),
			Text: Clean(c.Message, maxCommentText), Agent: c.IsAgentComment, Closing: c.IsClosingComment,
			Activity: c.IsActivityComment}
		if c.AgentName != nil {
			v.AgentName = Clean(*c.AgentName, maxCell)
		}
		out = append(out, v)
	}
	return out, CommentPage{Total: len(cs), First: lo + 1, Last: hi}
}

// commentsNote says which comments a page shows and where the older ones
// are ("" when it shows them all).
func commentsNote(ref client.IncidentRef, p CommentPage) string {
	if p.First <= 1 && p.Last == p.Total {
		return ""
	}
	note := fmt.Sprintf("comments %d to %d of %d shown", p.First, p.Last, p.Total)
	if p.Older() {
		note += "; older ones: resource " + CommentsPageURI(ref, p.First)
	}
	return note
}

// UserName names a user by email, else display name, else id; "" for nil,
// and "a user the API did not name" for an assignment without a user.
func UserName(u *client.UserRef) string {
	switch {
	case u == nil:
		return ""
	case u.Email != "":
		return u.Email
	case u.DisplayName != "":
		return u.DisplayName
	case u.ID != "":
		return u.ID
	}
	return "a user the API did not name"
}

// ViewTime renders an API time as RFC 3339 in UTC to the second
// ("2006-01-02T15:04:05Z"): the form the tools accept as input (a time
// window's bounds), so an agent can pass back what it was shown. Anything
// it cannot parse passes through, cleaned.
func ViewTime(s string) string {
	if s == "" {
		return ""
	}
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return Clean(s, maxCell)
	}
	return t.UTC().Format(time.RFC3339)
}

// scalar renders a JSON scalar as text; "" for null, objects and arrays.
func scalar(v any) string {
	switch x := v.(type) {
	case string:
		return x
	case float64, bool, int, int64:
		return fmt.Sprint(x)
	}
	return ""
}

// Clean makes incident text safe for a model's context (schema.SafeText)
// and shortens it to at most n runes, marking the cut. The prompts use it
// for the text they take from incidents.
func Clean(s string, n int) string {
	s = schema.SafeText(s)
	if len(s) <= n || utf8.RuneCountInString(s) <= n {
		return s
	}
	r := []rune(s)
	return string(r[:n-1]) + "…"
}

// cleanAll applies Clean to each of a list of short strings.
func cleanAll(ss []string) []string {
	if len(ss) == 0 {
		return nil
	}
	out := make([]string, len(ss))
	for i, s := range ss {
		out[i] = Clean(s, maxCell)
	}
	return out
}
