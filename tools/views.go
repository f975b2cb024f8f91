package tools

import (
	"fmt"
	"sort"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/contraforce/contraforce-mcp/client"
)

// Compact views of the API's objects: what an analyst (or a model) reads,
// without the envelope, nulls and vendor plumbing. Limits keep one incident
// within a model's context; whatever is cut is named in the output's notes.
const (
	maxDescription  = 2000
	maxCommentText  = 1000
	maxComments     = 20
	maxAlerts       = 25
	maxEntities     = 30
	maxEntityProps  = 6
	maxCell         = 160
	maxEvidenceRows = 10
	maxQuery        = 600
)

// IncidentView is the compact incident.
type IncidentView struct {
	WorkspaceID          string   `json:"workspaceId"`
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
	Description          string   `json:"description,omitempty"`
	Tactics              []string `json:"tactics,omitempty"`
	TicketID             string   `json:"ticketId,omitempty"`
}

// AlertView is the compact alert.
type AlertView struct {
	Title    string   `json:"title"`
	Severity string   `json:"severity,omitempty"`
	Product  string   `json:"product,omitempty"`
	Created  string   `json:"created,omitempty"`
	Tactics  []string `json:"tactics,omitempty"`
}

// EntityView is the compact entity: its kind, a name, and a few properties.
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
	Agent     bool   `json:"agent,omitempty" desc:"AI agent wrote it."`
	AgentName string `json:"agentName,omitempty"`
	Closing   bool   `json:"closing,omitempty" desc:"Closed the incident."`
	Activity  bool   `json:"activity,omitempty"`
}

func viewIncident(src client.Source, inc client.Incident) IncidentView {
	v := IncidentView{
		WorkspaceID: inc.WorkspaceID, Source: string(src), IncidentID: inc.ID, Number: inc.Number,
		Title: inc.Title, Severity: string(inc.Severity), Status: string(inc.Status),
		Created: shortTime(inc.CreatedAt), Updated: shortTime(inc.UpdatedAt),
		Description: cut(inc.Description, maxDescription), Tactics: inc.Tactics,
	}
	if inc.Classification != nil {
		v.Classification = string(*inc.Classification)
	}
	if inc.ClassificationReason != nil {
		v.ClassificationReason = string(*inc.ClassificationReason)
	}
	v.Assignee = userName(inc.Assignee)
	if inc.TicketID != nil {
		v.TicketID = *inc.TicketID
	}
	return v
}

func viewAlerts(alerts []client.Alert, notes []string) ([]AlertView, []string) {
	if len(alerts) > maxAlerts {
		notes = append(notes, fmt.Sprintf("%d of %d alerts shown", maxAlerts, len(alerts)))
		alerts = alerts[:maxAlerts]
	}
	out := make([]AlertView, len(alerts))
	for i, a := range alerts {
		out[i] = AlertView{Title: cut(a.Title, 300), Severity: string(a.Severity), Product: a.ProductName,
			Created: shortTime(a.CreatedAt), Tactics: a.Tactics}
	}
	return out, notes
}

// nameKeys are the properties that name an entity, by preference.
var nameKeys = []string{"accountName", "userPrincipalName", "hostName", "address", "fileName", "url", "processName", "domainName", "name"}

func viewEntities(ents []client.Entity, notes []string) ([]EntityView, []string) {
	if len(ents) > maxEntities {
		notes = append(notes, fmt.Sprintf("%d of %d entities shown", maxEntities, len(ents)))
		ents = ents[:maxEntities]
	}
	out := make([]EntityView, len(ents))
	for i, e := range ents {
		v := EntityView{Kind: e.Kind, Name: e.FriendlyName}
		if v.Name == "" {
			for _, k := range nameKeys {
				if s, ok := e.Properties[k].(string); ok && s != "" {
					v.Name = s
					break
				}
			}
		}
		v.Name = cut(v.Name, maxCell)
		keys := make([]string, 0, len(e.Properties))
		for k, val := range e.Properties {
			if scalar(val) != "" {
				keys = append(keys, k)
			}
		}
		sort.Strings(keys)
		for _, k := range keys {
			s := scalar(e.Properties[k])
			if s == v.Name || len(v.Props) == maxEntityProps {
				continue
			}
			if v.Props == nil {
				v.Props = make(map[string]string, maxEntityProps)
			}
			v.Props[k] = cut(s, maxCell)
		}
		out[i] = v
	}
	return out, notes
}

func viewEvidence(ev *client.Evidence, notes []string) (*EvidenceView, []string) {
	if ev == nil || (len(ev.Columns) == 0 && len(ev.Rows) == 0) {
		return nil, notes
	}
	v := &EvidenceView{Title: ev.Title, Query: cut(ev.Query, maxQuery), RowCount: len(ev.Rows)}
	for _, c := range ev.Columns {
		v.Columns = append(v.Columns, c.Name)
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
			cells[j] = cut(scalar(c), maxCell)
		}
		v.Rows[i] = cells
	}
	return v, notes
}

// viewComments keeps the most recent maxComments, oldest first.
func viewComments(cs []client.Comment, notes []string) ([]CommentView, []string) {
	if len(cs) > maxComments {
		notes = append(notes, fmt.Sprintf("the %d most recent of %d comments shown", maxComments, len(cs)))
		cs = cs[len(cs)-maxComments:]
	}
	out := make([]CommentView, len(cs))
	for i, c := range cs {
		v := CommentView{Author: c.AuthorName, Created: shortTime(c.CreatedTime), Text: cut(c.Message, maxCommentText),
			Agent: c.IsAgentComment, Closing: c.IsClosingComment, Activity: c.IsActivityComment}
		if v.Author == "" {
			v.Author = c.AuthorEmail
		}
		if c.AgentName != nil {
			v.AgentName = *c.AgentName
		}
		out[i] = v
	}
	return out, notes
}

// userName names a user by email, else display name.
func userName(u *client.UserRef) string {
	switch {
	case u == nil:
		return ""
	case u.Email != "":
		return u.Email
	case u.DisplayName != "":
		return u.DisplayName
	}
	return u.ID
}

// shortTime renders an API time as "2006-01-02T15:04Z" (UTC, minutes),
// and passes through anything it cannot parse.
func shortTime(s string) string {
	if s == "" {
		return ""
	}
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return s
	}
	return t.UTC().Format("2006-01-02T15:04Z")
}

// scalar renders a JSON scalar as text; "" for null, objects and arrays.
func scalar(v any) string {
	switch x := v.(type) {
	case string:
		return x
	case float64:
		return fmt.Sprint(x)
	case bool:
		return fmt.Sprint(x)
	case nil:
		return ""
	}
	if s, ok := v.(fmt.Stringer); ok {
		return s.String()
	}
	switch v.(type) {
	case map[string]any, []any:
		return ""
	}
	return fmt.Sprint(v)
}

// cut shortens s to at most n runes, marking the cut.
func cut(s string, n int) string {
	if len(s) <= n || utf8.RuneCountInString(s) <= n {
		return s
	}
	r := []rune(s)
	return string(r[:n-1]) + "…"
}

// oneLine folds s onto one line of at most n runes.
func oneLine(s string, n int) string {
	return cut(strings.Join(strings.Fields(s), " "), n)
}
