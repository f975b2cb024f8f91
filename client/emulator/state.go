package emulator

import (
	"cmp"
	"encoding/json"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/contraforce/contraforce-mcp/client"
)

// streamKey names one (workspace, source) stream of the list call.
type streamKey struct {
	ws     string
	source client.Source
}

// record is one incident's state. Fields are read under Emulator.mu (read
// lock) and written under its write lock.
type record struct {
	ref            client.IncidentRef
	wsName         string
	number         int
	title          string
	description    string
	severity       client.Severity
	status         client.Status
	classification *client.Classification
	reason         *client.ClassificationReason
	created        time.Time
	updated        time.Time
	lastActivity   time.Time
	tactics        []string
	alerts         []client.Alert
	entities       []client.Entity
	evidence       client.Evidence
	assignee       *client.UserRef
	ticketID       *string
	providerURL    string
	comments       []client.Comment

	// search is the lower-cased text the list call's query matches: title,
	// description, id, number and entity names (all immutable).
	search string
	// summaryJSON caches the encoded list row; refresh rebuilds it after
	// every change so that a list call only concatenates bytes.
	summaryJSON []byte
}

// load indexes the generated incidents and builds the list streams.
func (e *Emulator) load(recs []*record) {
	for _, rec := range recs {
		rec.wsName = e.wsNames[rec.ref.WorkspaceID]
		var b strings.Builder
		for _, s := range []string{rec.title, rec.description, rec.ref.IncidentID, strconv.Itoa(rec.number)} {
			b.WriteString(strings.ToLower(s))
			b.WriteByte(0)
		}
		for _, en := range rec.entities {
			b.WriteString(strings.ToLower(en.FriendlyName))
			b.WriteByte(0)
		}
		rec.search = b.String()
		rec.refresh()
		e.incidents[rec.ref] = rec
		e.order = append(e.order, rec)
		k := streamKey{rec.ref.WorkspaceID, rec.ref.Source}
		e.streams[k] = append(e.streams[k], rec)
	}
	slices.SortStableFunc(e.order, func(a, b *record) int {
		return cmp.Or(cmp.Compare(e.wsIndex(a.ref.WorkspaceID), e.wsIndex(b.ref.WorkspaceID)), cmp.Compare(a.number, b.number))
	})
	for _, s := range e.streams {
		slices.SortStableFunc(s, newestFirst)
	}
}

// newestFirst orders incidents by creation time, newest first, then by id.
func newestFirst(a, b *record) int {
	return cmp.Or(b.created.Compare(a.created), cmp.Compare(a.ref.IncidentID, b.ref.IncidentID))
}

func (e *Emulator) wsIndex(id string) int {
	return slices.IndexFunc(e.workspaces, func(w Workspace) bool { return w.ID == id })
}

// refresh re-encodes the cached list row; call it after every change.
func (rec *record) refresh() {
	b, err := json.Marshal(rec.summary())
	if err != nil { // only plain strings, numbers and maps of them: cannot happen
		b = []byte("null")
	}
	rec.summaryJSON = b
}

// summary is the list row of the incident.
func (rec *record) summary() client.IncidentSummary {
	return client.IncidentSummary{
		ID: rec.ref.IncidentID, Title: rec.title, Description: rec.description, Number: rec.number,
		Source: rec.ref.Source, Severity: rec.severity, Status: rec.status,
		Classification: rec.classification, ClassificationReason: rec.reason,
		CreationTime: wireTime(rec.created), LastModificationTime: wireTime(rec.updated),
		LastActivityTime: wireTime(rec.lastActivity), Tactics: rec.tactics, AlertsCount: len(rec.alerts),
		IsAssigned: rec.assignee != nil, User: rec.assignee, Entities: rec.entities,
		WorkspaceID: rec.ref.WorkspaceID, WorkspaceName: rec.wsName,
	}
}

// incident is the "incident" object of GET one.
func (rec *record) incident() client.Incident {
	inc := client.Incident{
		ID: rec.ref.IncidentID, Title: rec.title, Description: rec.description, Number: rec.number,
		Severity: rec.severity, Status: rec.status, Classification: rec.classification,
		ClassificationReason: rec.reason, WorkspaceID: rec.ref.WorkspaceID, WorkspaceName: rec.wsName,
		CreatedAt: wireTime(rec.created), UpdatedAt: wireTime(rec.updated),
		LastActivityTime: wireTime(rec.lastActivity), Tactics: slices.Clone(rec.tactics),
		AlertsCount: len(rec.alerts), ProviderIncidentURL: rec.providerURL,
	}
	if rec.assignee != nil {
		a := *rec.assignee
		inc.Assignee = &a
	}
	if rec.ticketID != nil {
		t := *rec.ticketID
		inc.TicketID = &t
	}
	return inc
}

// loadUsers adds the organisation's people and seeded service accounts.
func (e *Emulator) loadUsers() {
	for _, p := range people {
		e.addUserLocked(client.User{ID: p.id, DisplayName: p.name, Email: p.email,
			OrganizationalRole: "Member", IsActive: p.active, RoleAssignments: slices.Clone(p.roles)})
	}
	for _, u := range seededServiceUsers {
		u.RoleAssignments = slices.Clone(u.RoleAssignments)
		e.addUserLocked(u)
	}
}

// addUserLocked appends a user, naming its workspaces; e.mu must be held
// (or the emulator not yet shared).
func (e *Emulator) addUserLocked(u client.User) {
	for i := range u.RoleAssignments {
		u.RoleAssignments[i].WorkspaceName = e.wsNames[u.RoleAssignments[i].WorkspaceID]
	}
	e.userIndex[u.ID] = len(e.users)
	e.users = append(e.users, u)
}

// userByID returns a user by id.
func (e *Emulator) userByID(id string) (client.User, bool) {
	i, ok := e.userIndex[id]
	if !ok {
		return client.User{}, false
	}
	return e.users[i], true
}

// userByEmail returns a user by e-mail, compared case-insensitively.
func (e *Emulator) userByEmail(email string) (client.User, bool) {
	for _, u := range e.users {
		if strings.EqualFold(u.Email, email) {
			return u, true
		}
	}
	return client.User{}, false
}
