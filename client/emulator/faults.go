package emulator

import (
	"maps"
	"math/rand/v2"
	"strconv"
	"sync"
	"time"
)

// Endpoint names one operation of the API, for faults and statistics.
type Endpoint string

// The API's operations.
const (
	EndpointListIncidents Endpoint = "ListIncidents" // POST /incidents/across-workspaces
	EndpointGetIncident   Endpoint = "GetIncident"   // GET …/incidents/{source}/{incidentId}
	EndpointListComments  Endpoint = "ListComments"  // GET …/comments
	EndpointAddComment    Endpoint = "AddComment"    // POST …/comments
	EndpointUpdateStatus  Endpoint = "UpdateStatus"  // PUT …/status
	EndpointAssign        Endpoint = "Assign"        // PUT …/assignee
	EndpointEvidence      Endpoint = "Evidence"      // GET …/evidence
	EndpointUsers         Endpoint = "Users"         // GET /users
	EndpointProfile       Endpoint = "Profile"       // GET /users/profile
	EndpointUser          Endpoint = "User"          // GET /users/{userId}
	// EndpointWorkspaceUsers is POST /users/workspace/users.
	EndpointWorkspaceUsers Endpoint = "WorkspaceUsers"
	// EndpointRelated is GET …/agent/tools/incidents/{source}/{incidentId}/related-by-entity.
	EndpointRelated Endpoint = "RelatedIncidents"
	// EndpointIncidentGamebooks is GET /workspaces/{ws}/gamebooks/by-incident/{incidentId}.
	EndpointIncidentGamebooks Endpoint = "IncidentGamebooks"
	// EndpointGamebookHistory is GET /workspaces/{ws}/gamebooks/history.
	EndpointGamebookHistory Endpoint = "GamebookHistory"
	// EndpointSubmitGamebook is POST …/agent/tools/incidents/{source}/{incidentId}/gamebooks.
	EndpointSubmitGamebook Endpoint = "SubmitGamebook"
	// EndpointBulkUpdate is POST /incidents/across-workspaces/bulk-update.
	EndpointBulkUpdate Endpoint = "BulkUpdate"
)

// Fault is an injected misbehaviour. Faults are queued and matched in FIFO
// order: a request takes the first queued fault whose Endpoint matches. When
// several effects are set, Latency comes first, then Status (which wins
// over the drops), then DropBeforeApply, then DropAfterApply.
type Fault struct {
	// Endpoint selects the requests it affects; "" matches every endpoint.
	Endpoint Endpoint
	// Count is how many matching requests it affects; 0 means until ClearFaults.
	Count int
	// Latency is added before answering; a request cancelled meanwhile gets no answer and is not applied.
	Latency time.Duration
	// Status, if non-zero, is answered without applying the request (problem+json unless Body is set).
	Status int
	// RetryAfter is the Retry-After header sent with Status ("1", or an HTTP-date).
	RetryAfter string
	// Body, if set with Status, is the raw body instead of problem+json ("" = empty).
	Body *string
	// ContentType is the content type of Body.
	ContentType string
	// DropAfterApply applies the request (a write lands), then closes the
	// connection without answering.
	DropAfterApply bool
	// DropBeforeApply reads the request, then closes the connection without
	// answering or applying it.
	DropBeforeApply bool
}

// Chaos injects random faults, deterministic given Seed and the order of
// requests. Explicit faults (InjectFault) take precedence.
type Chaos struct {
	Seed int64
	// MaxLatency: each request gets a latency uniform in [0, MaxLatency].
	MaxLatency time.Duration
	// Per-request probabilities of each fault (their sum should be <= 1).
	P429, P503, P502, PDropAfterApply, PDropBeforeApply float64
	// RetryAfter is sent with 429 and 503; "" means "0".
	RetryAfter string
}

// Fault kinds, the keys of Stats.Faults. Status faults are counted as
// FaultKindStatus(code), e.g. "status-429".
const (
	FaultKindLatency         = "latency"
	FaultKindDropAfterApply  = "drop-after-apply"
	FaultKindDropBeforeApply = "drop-before-apply"
)

// FaultKindStatus is the Stats.Faults key of a status fault.
func FaultKindStatus(code int) string { return "status-" + strconv.Itoa(code) }

// Stats counts what the emulator did since New.
type Stats struct {
	// Requests counts requests per endpoint (faulted ones included; requests
	// to unknown paths or with a wrong method are not counted).
	Requests map[Endpoint]int
	// Faults counts injected faults by kind (FaultKind*).
	Faults map[string]int
	// Applied counts writes that changed state, per endpoint (including
	// those whose answer was then dropped).
	Applied map[Endpoint]int
}

// faultState holds the fault queue, chaos and statistics.
type faultState struct {
	mu       sync.Mutex
	queue    []*queuedFault
	chaos    *Chaos
	chaosRNG *rand.Rand
	stats    Stats
}

type queuedFault struct {
	Fault
	remaining int
}

func (s *faultState) init() {
	s.stats = Stats{Requests: map[Endpoint]int{}, Faults: map[string]int{}, Applied: map[Endpoint]int{}}
}

// InjectFault queues a fault.
func (e *Emulator) InjectFault(f Fault) {
	e.faults.mu.Lock()
	defer e.faults.mu.Unlock()
	e.faults.queue = append(e.faults.queue, &queuedFault{Fault: f, remaining: f.Count})
}

// ClearFaults removes every queued fault (chaos stays as set by SetChaos).
func (e *Emulator) ClearFaults() {
	e.faults.mu.Lock()
	defer e.faults.mu.Unlock()
	e.faults.queue = nil
}

// SetChaos turns on random faults (nil turns them off). The random sequence
// restarts from c.Seed.
func (e *Emulator) SetChaos(c *Chaos) {
	e.faults.mu.Lock()
	defer e.faults.mu.Unlock()
	if c == nil {
		e.faults.chaos, e.faults.chaosRNG = nil, nil
		return
	}
	cc := *c
	if cc.RetryAfter == "" {
		cc.RetryAfter = "0"
	}
	e.faults.chaos = &cc
	e.faults.chaosRNG = rand.New(rand.NewPCG(uint64(cc.Seed), 0x6368616f73))
}

// Stats returns a copy of the statistics.
func (e *Emulator) Stats() Stats {
	e.faults.mu.Lock()
	defer e.faults.mu.Unlock()
	return Stats{Requests: maps.Clone(e.faults.stats.Requests), Faults: maps.Clone(e.faults.stats.Faults),
		Applied: maps.Clone(e.faults.stats.Applied)}
}

func (s *faultState) applied(ep Endpoint) {
	s.mu.Lock()
	s.stats.Applied[ep]++
	s.mu.Unlock()
}

// next counts a request and decides its faults.
func (s *faultState) next(ep Endpoint) Fault {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.stats.Requests[ep]++
	var f Fault
	matched := false
	for i, q := range s.queue {
		if q.Endpoint != "" && q.Endpoint != ep {
			continue
		}
		f, matched = q.Fault, true
		if q.Count > 0 {
			if q.remaining--; q.remaining <= 0 {
				s.queue = append(s.queue[:i:i], s.queue[i+1:]...)
			}
		}
		break
	}
	if !matched && s.chaos != nil {
		f = s.chaosFault()
	}
	if f.Latency > 0 {
		s.stats.Faults[FaultKindLatency]++
	}
	switch {
	case f.Status != 0:
		s.stats.Faults[FaultKindStatus(f.Status)]++
	case f.DropBeforeApply:
		s.stats.Faults[FaultKindDropBeforeApply]++
	case f.DropAfterApply:
		s.stats.Faults[FaultKindDropAfterApply]++
	}
	return f
}

// chaosFault draws one request's random faults: always the same number of
// draws per request, so that the sequence depends only on the request order.
func (s *faultState) chaosFault() Fault {
	c := s.chaos
	var f Fault
	if c.MaxLatency > 0 {
		f.Latency = time.Duration(s.chaosRNG.Int64N(int64(c.MaxLatency) + 1))
	}
	u := s.chaosRNG.Float64()
	for _, p := range []struct {
		p     float64
		apply func()
	}{
		{c.P429, func() { f.Status, f.RetryAfter = 429, c.RetryAfter }},
		{c.P503, func() { f.Status, f.RetryAfter = 503, c.RetryAfter }},
		{c.P502, func() { f.Status = 502 }},
		{c.PDropAfterApply, func() { f.DropAfterApply = true }},
		{c.PDropBeforeApply, func() { f.DropBeforeApply = true }},
	} {
		if u < p.p {
			p.apply()
			break
		}
		u -= p.p
	}
	return f
}
