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

	// classificationComment is the closing note of a recorded verdict.
	classificationComment *string
	// ruleIDs are the detection rules of a Sentinel incident (nil otherwise).
	ruleIDs []string
	// productID names the workspace's connection to the source; extensionID
	// is the write-back extension (Sentinel, DefenderXDR), nil for the others.
	productID   string
	extensionID *string
	// commentExt maps the id of each comment posted through the API to the
	// extensionId its request carried ("" for none).
	commentExt map[string]string

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
			b.WriteString(strings.ToLower(en.Name()))
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

// summary is the list row of the incident: every member of the list page's
// response example, null where the emulator has nothing (name for sources
// other than Sentinel, type, comment), plus workspaceId and workspaceName.
func (rec *record) summary() client.IncidentSummary {
	display := productNames[rec.ref.Source]
	product := rec.productID
	row := client.IncidentSummary{
		ID: rec.ref.IncidentID, Title: rec.title, Description: rec.description, Number: rec.number,
		Source: rec.ref.Source, SourceDisplayName: &display,
		LastModificationTime: wireTime(rec.updated), CreationTime: wireTime(rec.created),
		LastActivityTime: wireTime(rec.lastActivity), Severity: rec.severity,
		Classification: client.Some(rec.classification), ClassificationReason: client.Some(rec.reason),
		ClassificationComment: rec.classificationComment,
		Tactics:               nonNil(rec.tactics), RuleIDs: rec.ruleIDs, AlertProductNames: rec.alertProducts(),
		User: client.Some(rec.assignee), IsAssigned: new(rec.assignee != nil), ProductID: &product,
		Status: rec.status, AlertsCount: len(rec.alerts), Entities: client.EntitiesOf(rec.entities),
		WorkspaceID: rec.ref.WorkspaceID, WorkspaceName: rec.wsName,
	}
	if rec.ref.Source == client.SourceSentinel {
		name := rec.ref.IncidentID // Sentinel's incident resource name
		row.Name = &name
	}
	return row
}

// alertProducts lists the distinct product names of the incident's alerts.
func (rec *record) alertProducts() []string {
	out := []string{}
	for _, a := range rec.alerts {
		if a.ProductName != "" && !slices.Contains(out, a.ProductName) {
			out = append(out, a.ProductName)
		}
	}
	return out
}

// nonNil turns a nil slice into an empty one, so that it encodes as [].
func nonNil[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}

// incident is the "incident" object of GET one in the given shape: the
// seven members of the data-models page's example, and unless shape is
// DetailDocumented the members of the list row (same names) plus ticketId,
// extensionId and providerIncidentUrl.
func (rec *record) incident(shape DetailShape) client.Incident {
	inc := client.Incident{
		ID: rec.ref.IncidentID, Title: rec.title, Severity: rec.severity, Status: rec.status,
		WorkspaceID: rec.ref.WorkspaceID, CreatedAt: wireTime(rec.created), UpdatedAt: wireTime(rec.updated),
	}
	if shape == DetailDocumented {
		return inc
	}
	inc.Number, inc.Description, inc.WorkspaceName = rec.number, rec.description, rec.wsName
	inc.LastActivityTime, inc.Tactics, inc.AlertsCount = wireTime(rec.lastActivity), slices.Clone(rec.tactics), len(rec.alerts)
	inc.ProviderIncidentURL = rec.providerURL
	inc.Classification, inc.ClassificationReason = client.Some(rec.classification), client.Some(rec.reason)
	inc.ClassificationComment = clonePtr(rec.classificationComment)
	inc.User, inc.IsAssigned = client.Some(clonePtr(rec.assignee)), new(rec.assignee != nil)
	inc.TicketID, inc.ExtensionID = client.Some(clonePtr(rec.ticketID)), client.Some(clonePtr(rec.extensionID))
	product := rec.productID
	inc.ProductID = &product
	return inc
}

func clonePtr[T any](p *T) *T {
	if p == nil {
		return nil
	}
	v := *p
	return &v
}

// IncidentState is an incident's full state in the emulator, whatever an
// answer shows of it (for tests).
type IncidentState struct {
	Ref                   client.IncidentRef
	WorkspaceName         string
	Number                int
	Title                 string
	Description           string
	AlertsCount           int
	Severity              client.Severity
	Status                client.Status
	Classification        *client.Classification
	ClassificationReason  *client.ClassificationReason
	ClassificationComment *string
	Assignee              *client.UserRef
	TicketID              *string
	// ExtensionID is the incident's write-back extension ("" for sources
	// without one); ProductID its source connection.
	ExtensionID string
	ProductID   string
	// CreatedAt, UpdatedAt and LastActivityTime are RFC 3339 UTC, as the API sends them.
	CreatedAt        string
	UpdatedAt        string
	LastActivityTime string
}

// state is the test-inspection view of the record; e.mu must be held.
func (rec *record) state() IncidentState {
	st := IncidentState{
		Ref: rec.ref, WorkspaceName: rec.wsName, Number: rec.number, Title: rec.title, Description: rec.description,
		AlertsCount: len(rec.alerts), Severity: rec.severity, Status: rec.status,
		Classification: clonePtr(rec.classification), ClassificationReason: clonePtr(rec.reason),
		ClassificationComment: clonePtr(rec.classificationComment), Assignee: clonePtr(rec.assignee),
		TicketID: clonePtr(rec.ticketID), ProductID: rec.productID,
		CreatedAt: wireTime(rec.created), UpdatedAt: wireTime(rec.updated), LastActivityTime: wireTime(rec.lastActivity),
	}
	if rec.extensionID != nil {
		st.ExtensionID = *rec.extensionID
	}
	return st
}

// loadUsers adds the organisation's people and seeded service accounts.
func (e *Emulator) loadUsers() {
	for _, p := range people {
		e.addUserLocked(personUser(p))
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
		u.RoleAssignments[i].UserID = u.ID
		u.RoleAssignments[i].AssignmentType = new("Direct")
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
