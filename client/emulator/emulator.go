package emulator

import (
	"context"
	"crypto/sha256"
	"fmt"
	"maps"
	"net/http"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/contraforce/contraforce-mcp/client"
)

// Options configure an Emulator. The zero value is usable.
type Options struct {
	// Seed selects the dataset; 0 means the default seed (1).
	Seed int64
	// Now is the clock; nil means time.Now. Dataset times are relative to
	// Now() at New; time filters are relative to Now() at each request.
	Now func() time.Time
	// Credentials are the accepted credentials; nil means DefaultCredentials().
	Credentials []Credential
	// PageSize is the number of incidents per (workspace, source) stream per
	// page of the list call; 0 means 10.
	PageSize int
	// Detail selects what GET …/{source}/{incidentId} shows of the incident
	// (the zero value: the documented members and the list row's).
	Detail DetailShape
	// Paging selects where the list call puts its next-page position (the
	// zero value: data.workspacePageTokens).
	Paging Paging
}

// DetailShape is what the "incident" object of GET one holds. No page shows
// more than seven members there; the emulator's default shows more, and
// DetailDocumented lets tests prove that clients cope with the seven.
type DetailShape int

const (
	// DetailWithRow (the default) holds the seven documented members, the
	// members of the incident's list row under the row's names (number,
	// description, tactics, alertsCount, lastActivityTime, classification,
	// classificationReason, classificationComment, user, isAssigned,
	// productId), and ticketId, extensionId, providerIncidentUrl and
	// workspaceName. The state members are always present (null for none).
	DetailWithRow DetailShape = iota
	// DetailDocumented holds only id, title, severity, status, workspaceId,
	// createdAt and updatedAt (the data-models page's example).
	DetailDocumented
)

// Paging is where the list call's answer puts the next-page position. No
// page documents it; the default is the likeliest reading, and the others
// let tests prove that clients accept every plausible placement and survive
// a server that ignores tokens.
type Paging int

const (
	// PagingWorkspaceTokens (the default): data.workspacePageTokens and
	// data.hasMore, sent back in the request's workspacePageTokens.
	PagingWorkspaceTokens Paging = iota
	// PagingContinuation: data {incidents} with the envelope's
	// pagination {continuationToken, hasMore}, the token sent back in the
	// request's continuationToken.
	PagingContinuation
	// PagingContinuationArray: as PagingContinuation, with data the bare
	// array of rows (the data-models page's "Paginated response").
	PagingContinuationArray
	// PagingIgnoresTokens: as PagingWorkspaceTokens, but every request is
	// answered with the first page (a server that ignores page tokens).
	PagingIgnoresTokens
)

// DefaultPageSize is the page size of each (workspace, source) stream.
const DefaultPageSize = 10

// Emulator is an in-memory ContraForce v2 API. It is an http.Handler serving
// every endpoint under /api/v2; it is safe for concurrent use.
type Emulator struct {
	now      func() time.Time
	pageSize int
	detail   DetailShape
	paging   Paging
	tokenKey []byte // HMAC key of the page tokens
	mux      *http.ServeMux
	reqSeq   atomic.Uint64

	workspaces []Workspace
	wsNames    map[string]string

	credMu sync.RWMutex
	creds  map[string]*Credential // by client id

	mu         sync.RWMutex // guards everything below
	incidents  map[client.IncidentRef]*record
	order      []*record               // every incident, stable order
	streams    map[streamKey][]*record // newest first; fixed after New
	users      []client.User           // organisation users, stable order
	userIndex  map[string]int          // user id -> index in users
	commentSeq int                     // ids of comments created by writes
	runs       []*gamebookRun          // submitted gamebooks, oldest first

	faults faultState
}

// New builds an emulator with its seeded dataset.
func New(opts Options) *Emulator {
	if opts.Seed == 0 {
		opts.Seed = 1
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.PageSize <= 0 {
		opts.PageSize = DefaultPageSize
	}
	if opts.Credentials == nil {
		opts.Credentials = DefaultCredentials()
	}
	key := sha256.Sum256(fmt.Appendf(nil, "contraforce-emulator page tokens, seed %d", opts.Seed))
	e := &Emulator{
		now:       opts.Now,
		pageSize:  opts.PageSize,
		detail:    opts.Detail,
		paging:    opts.Paging,
		tokenKey:  key[:],
		wsNames:   map[string]string{},
		creds:     map[string]*Credential{},
		incidents: map[client.IncidentRef]*record{},
		streams:   map[streamKey][]*record{},
		userIndex: map[string]int{},
	}
	for _, ws := range workspaceSpecs {
		e.workspaces = append(e.workspaces, ws.Workspace)
		e.wsNames[ws.ID] = ws.Name
	}
	e.loadUsers()
	e.load(generate(opts.Seed, opts.Now()))
	e.seedRuns()
	for _, c := range opts.Credentials {
		e.AddCredential(c)
	}
	e.faults.init()
	e.mux = e.routes()
	return e
}

// ServeHTTP serves the API under /api/v2. Every answer carries X-Request-Id.
func (e *Emulator) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	c := &call{
		requestID: fmt.Sprintf("0HNCF%07X", e.reqSeq.Add(1)),
		legacy:    r.Header.Get(LegacyErrorsHeader) == "1",
		instance:  r.URL.EscapedPath(),
	}
	w.Header().Set("X-Request-Id", c.requestID)
	e.mux.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), callKey{}, c)))
}

type callKey struct{}

func callOf(r *http.Request) *call { return r.Context().Value(callKey{}).(*call) }

// operation is one endpoint's method: what it needs and what serves it.
type operation struct {
	endpoint Endpoint
	scope    client.Scope
	handle   func(w http.ResponseWriter, r *http.Request, c *call)
}

const apiPrefix = "/api/v2"

func (e *Emulator) routes() *http.ServeMux {
	incident := apiPrefix + "/workspaces/{workspaceId}/incidents/{source}/{incidentId}"
	read, write := client.ScopeIncidentsRead, client.ScopeIncidentsWrite
	mux := http.NewServeMux()
	// Patterns carry no method: the operation tables below answer a wrong
	// method with a 405 problem (the mux's own 405 is plain text).
	mux.Handle(apiPrefix+"/incidents/across-workspaces", e.route(map[string]operation{
		http.MethodPost: {EndpointListIncidents, read, e.handleList}}))
	mux.Handle(incident, e.route(map[string]operation{
		http.MethodGet: {EndpointGetIncident, read, e.handleGetIncident}}))
	mux.Handle(incident+"/comments", e.route(map[string]operation{
		http.MethodGet:  {EndpointListComments, read, e.handleListComments},
		http.MethodPost: {EndpointAddComment, client.ScopeIncidentsComments, e.handleAddComment}}))
	mux.Handle(incident+"/status", e.route(map[string]operation{
		http.MethodPut: {EndpointUpdateStatus, write, e.handleUpdateStatus}}))
	mux.Handle(incident+"/assignee", e.route(map[string]operation{
		http.MethodPut: {EndpointAssign, write, e.handleAssign}}))
	mux.Handle(incident+"/evidence", e.route(map[string]operation{
		http.MethodGet: {EndpointEvidence, read, e.handleEvidence}}))
	mux.Handle(apiPrefix+"/users", e.route(map[string]operation{
		http.MethodGet: {EndpointUsers, read, e.handleUsers}}))
	mux.Handle(apiPrefix+"/users/profile", e.route(map[string]operation{
		http.MethodGet: {EndpointProfile, read, e.handleProfile}}))
	mux.Handle(apiPrefix+"/users/{userId}", e.route(map[string]operation{
		http.MethodGet: {EndpointUser, read, e.handleUser}}))
	mux.Handle(apiPrefix+"/users/workspace/users", e.route(map[string]operation{
		http.MethodPost: {EndpointWorkspaceUsers, read, e.handleWorkspaceUsers}}))
	mux.Handle(apiPrefix+"/incidents/across-workspaces/bulk-update", e.route(map[string]operation{
		http.MethodPost: {EndpointBulkUpdate, write, e.handleBulkUpdate}}))
	agent := apiPrefix + "/workspaces/{workspaceId}/agent/tools/incidents/{source}/{incidentId}"
	mux.Handle(agent+"/related-by-entity", e.route(map[string]operation{
		http.MethodGet: {EndpointRelated, read, e.handleRelated}}))
	mux.Handle(agent+"/gamebooks", e.route(map[string]operation{
		http.MethodPost: {EndpointSubmitGamebook, client.ScopeGamebooksRun, e.handleSubmitGamebook}}))
	gamebooks := apiPrefix + "/workspaces/{workspaceId}/gamebooks"
	mux.Handle(gamebooks+"/by-incident/{incidentId}", e.route(map[string]operation{
		http.MethodGet: {EndpointIncidentGamebooks, client.ScopeGamebooksRead, e.handleIncidentGamebooks}}))
	mux.Handle(gamebooks+"/history", e.route(map[string]operation{
		http.MethodGet: {EndpointGamebookHistory, client.ScopeGamebooksRead, e.handleGamebookHistory}}))
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		e.writeProblem(w, callOf(r), problem{status: http.StatusNotFound, code: client.CodeNotFound, blank: true,
			detail: fmt.Sprintf("No API endpoint matches %s %s; endpoints live under %s.", r.Method, r.URL.EscapedPath(), apiPrefix)})
	})
	return mux
}

// route dispatches on the method, then runs faults, authentication and the
// scope check before the operation's handler.
func (e *Emulator) route(ops map[string]operation) http.Handler {
	allow := strings.Join(slices.Sorted(maps.Keys(ops)), ", ")
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c := callOf(r)
		op, ok := ops[r.Method]
		if !ok {
			w.Header().Set("Allow", allow)
			e.writeProblem(w, c, problem{status: http.StatusMethodNotAllowed, code: codeMethodNotAllowed, blank: true,
				detail: fmt.Sprintf("%s is not allowed on this path; allowed: %s.", r.Method, allow)})
			return
		}
		c.endpoint = op.endpoint
		e.serveWithFaults(w, r, c, func(w http.ResponseWriter) {
			if !e.authorize(w, r, c, op.scope) {
				return
			}
			op.handle(w, r, c)
		})
	})
}

// codeMethodNotAllowed is the code of a 405: the framework's, not one of the
// API's documented codes.
const codeMethodNotAllowed = "METHOD_NOT_ALLOWED"

// Workspaces lists the organisation's workspaces in a stable order.
func (e *Emulator) Workspaces() []Workspace { return slices.Clone(e.workspaces) }

// Refs lists every incident of every workspace in a stable order (by
// workspace, then incident number).
func (e *Emulator) Refs() []client.IncidentRef {
	e.mu.RLock()
	defer e.mu.RUnlock()
	out := make([]client.IncidentRef, len(e.order))
	for i, rec := range e.order {
		out[i] = rec.ref
	}
	return out
}

// Incident returns an incident's current state (test inspection).
func (e *Emulator) Incident(ref client.IncidentRef) (IncidentState, bool) {
	e.mu.RLock()
	defer e.mu.RUnlock()
	rec, ok := e.incidents[ref]
	if !ok {
		return IncidentState{}, false
	}
	return rec.state(), true
}

// CommentExtensionID returns the extensionId that the request creating a
// comment carried ("" for none), and whether the comment was created
// through the API (test inspection).
func (e *Emulator) CommentExtensionID(ref client.IncidentRef, commentID string) (string, bool) {
	e.mu.RLock()
	defer e.mu.RUnlock()
	rec, ok := e.incidents[ref]
	if !ok {
		return "", false
	}
	ext, ok := rec.commentExt[commentID]
	return ext, ok
}

// Comments returns an incident's current comments, oldest first (test inspection).
func (e *Emulator) Comments(ref client.IncidentRef) []client.Comment {
	e.mu.RLock()
	defer e.mu.RUnlock()
	rec, ok := e.incidents[ref]
	if !ok {
		return nil
	}
	return slices.Clone(rec.comments)
}

// Users returns the organisation's users (humans and service accounts) with
// all their role assignments.
func (e *Emulator) Users() []client.User {
	e.mu.RLock()
	defer e.mu.RUnlock()
	out := make([]client.User, len(e.users))
	for i, u := range e.users {
		u.RoleAssignments = slices.Clone(u.RoleAssignments)
		out[i] = u
	}
	return out
}
