package main

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"math"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/mark3labs/mcp-go/mcp"

	"github.com/contraforce/contraforce-mcp/client"
	"github.com/contraforce/contraforce-mcp/resources"
)

// The agents of each writing tenant: writers of one incident each, and
// subscribers to every writer's incident (both tenants'), on every
// transport.
var (
	writerKinds     = []string{kindSSE, kindHTTP, kindModern, kindSSE}
	subscriberKinds = []string{kindSSE, kindHTTP, kindModern, kindHTTP}
)

// Writes per writer in each phase.
const (
	steadyWrites = 6
	killWrites   = 9
)

// world is the agents of a run and what they did.
type world struct {
	c           config
	writers     []*agent
	subscribers []*agent
	// ids are the writes done (acknowledged or confirmed), by incident.
	mu  sync.Mutex
	ids map[client.IncidentRef][]string
	run string // this run's nonce, in every write id
}

// run drives the three phases and the rate limit check, then checks the
// emulator's state and prints the counts.
func run(ctx context.Context, c config) error {
	tokens, err := readTokens(c.dir)
	if err != nil {
		return err
	}
	upstream := map[string]string{}
	perReplica := map[string]int{}
	for _, name := range tenantNames {
		for _, tok := range tokens[name] {
			u, err := upstreamOf(ctx, c.nginx, tok)
			if err != nil {
				return err
			}
			upstream[tok] = u
			perReplica[u]++
		}
	}
	logf("nginx hashes the %d tokens over the replicas: %v", len(upstream), perReplica)
	if len(perReplica) != len(c.replicas) {
		return fmt.Errorf("nginx sent the tokens to %d replicas, want all %d: %v", len(perReplica), len(c.replicas), perReplica)
	}

	refs, err := incidents(ctx, c.api, 2*len(writerKinds))
	if err != nil {
		return err
	}
	var uris []string
	for _, r := range refs {
		uris = append(uris, resources.IncidentURI(r))
	}
	w := &world{c: c, ids: map[client.IncidentRef][]string{}, run: fmt.Sprintf("%x", time.Now().UnixNano()&0xffffff)}
	for ti, tenant := range tenantNames[:2] {
		for i, kind := range writerKinds {
			tok := tokens[tenant][i]
			w.writers = append(w.writers, &agent{name: fmt.Sprintf("%s-writer-%d-%s", tenant, i, kind), tenant: tenant, token: tok,
				kind: kind, base: c.nginx, replica: upstream[tok], ref: refs[ti*len(writerKinds)+i], heard: map[string]int{}})
		}
		for i, kind := range subscriberKinds {
			tok := tokens[tenant][len(writerKinds)+i]
			w.subscribers = append(w.subscribers, &agent{name: fmt.Sprintf("%s-subscriber-%d-%s", tenant, i, kind), tenant: tenant,
				token: tok, kind: kind, base: c.nginx, replica: upstream[tok], uris: uris, heard: map[string]int{}})
		}
	}
	subCtx, stopSubs := context.WithCancel(ctx)
	var subsDone sync.WaitGroup
	defer func() { stopSubs(); subsDone.Wait() }()
	for _, s := range w.subscribers {
		subsDone.Go(func() { s.subscribe(subCtx) })
	}
	if err := waitFor(ctx, 30*time.Second, "every subscriber to subscribe", w.allReady); err != nil {
		return err
	}
	logf("%d subscribers subscribed to %d incidents each; %d writers", len(w.subscribers), len(uris), len(w.writers))

	// 1. Steady: every subscriber hears every write of its tenant, exactly once.
	steady, err := w.phase(ctx, "steady", steadyWrites, nil)
	if err != nil {
		return err
	}
	if err := w.checkHeard(ctx, "steady", steady); err != nil {
		return err
	}

	// 2. The rate limit of one tenant, across the replicas together.
	rate, err := rateCheck(ctx, c, tokens["burst"], upstream, refs[0])
	if err != nil {
		return err
	}

	// 2b. A cursor and a confirmation issued by one replica, used on another.
	stores, err := storesCheck(ctx, c, tokens["acme"], upstream, refs)
	if err != nil {
		return err
	}

	// 3. A replica dies (SIGKILL) while the writers write.
	victim := w.busiestReplica()
	var killed atomic.Bool
	killAt := len(w.writers) * killWrites / 3
	during, err := w.phase(ctx, "kill", killWrites, func(done int) {
		if done >= killAt && killed.CompareAndSwap(false, true) {
			logf("killing replica %s (pid %d) after %d writes of the phase", victim, c.replicas[victim], done)
			if err := syscall.Kill(c.replicas[victim], syscall.SIGKILL); err != nil {
				logf("kill: %v", err)
			}
		}
	})
	if err != nil {
		return err
	}
	if !killed.Load() {
		return errors.New("the replica was not killed during the phase")
	}
	heardDuring := w.heardAll()
	if err := waitFor(ctx, 45*time.Second, "the killed replica's subscribers to reconnect", func() bool {
		for _, s := range w.subscribers {
			if s.replica == victim && (s.reconnects.Load() == 0 || !s.isReady()) || !s.isReady() {
				return false
			}
		}
		return true
	}); err != nil {
		return err
	}
	// Let the GET streams of the reconnected sessions open.
	time.Sleep(time.Second)

	// 4. Recovered: two replicas, every subscriber hears every write again.
	recovered, err := w.phase(ctx, "recovered", steadyWrites, nil)
	if err != nil {
		return err
	}
	if err := w.checkHeard(ctx, "recovered", recovered); err != nil {
		return err
	}

	// 5. The emulator's state: every write done is there exactly once.
	lost, dup, total, err := w.checkStored(ctx)
	if err != nil {
		return err
	}

	var sessions, reconnects, acked, confirmed, limited int64
	moved := map[string]int64{}
	for _, a := range append(slices.Clone(w.writers), w.subscribers...) {
		sessions += a.connects.Load()
		reconnects += a.reconnects.Load()
		acked += a.acked.Load()
		confirmed += a.confirmed.Load()
		limited += a.rateLimited.Load()
		if a.replica == victim {
			moved[a.kind] += a.reconnects.Load()
		}
	}
	sessions += rate.sessions
	fmt.Printf("replicas test: %d serve replicas behind nginx (hash on Authorization), sharing redis-server, on one emulator\n", len(c.replicas))
	fmt.Printf("  agents: %d writers, %d subscribers (sse, streamable HTTP 2025-11-25, 2026-07-28 listen), tenants %s\n",
		len(w.writers), len(w.subscribers), strings.Join(tenantNames[:2], ", "))
	fmt.Printf("  sessions opened: %d (%d of them reconnections)\n", sessions, reconnects)
	fmt.Printf("  writes acknowledged: %d (+%d unanswered then found stored; %d refused by the rate limit and sent again)\n", acked, confirmed, limited)
	fmt.Printf("  writes stored: %d; writes lost: %d; writes duplicated: %d\n", total, lost, dup)
	fmt.Printf("  notifications expected/received: steady %d/%d, after the kill %d/%d (during the kill %d of %d, not checked)\n",
		steady.expected, steady.received, recovered.expected, recovered.received, heardDuring, during.expected)
	fmt.Printf("  cross-replica deliveries (writer and subscriber on different replicas) in the steady phase: %d\n", steady.cross)
	fmt.Printf("  killed %s: its agents reconnected (by transport) %v\n", victim, moved)
	fmt.Printf("  rate limit of tenant burst (%g/s, burst %d) across %d replicas: %d of %d calls allowed in %s (at most %d may be), refused on %d replicas\n",
		c.rate, c.burst, rate.replicas, rate.allowed, rate.calls, rate.elapsed.Round(time.Millisecond), rate.bound, rate.refusedOn)
	fmt.Printf("  a list_incidents cursor paged across replicas (%s); a closure asked on %s, answered on %s: sent once, the answer sent again sent nothing\n",
		stores.pagedOn, stores.askedOn, stores.answeredOn)
	if lost != 0 || dup != 0 {
		return fmt.Errorf("%d writes lost, %d duplicated", lost, dup)
	}
	return nil
}

func (w *world) allReady() bool {
	for _, s := range w.subscribers {
		if !s.isReady() {
			return false
		}
	}
	return true
}

func (w *world) heardAll() int {
	n := 0
	for _, s := range w.subscribers {
		n += s.heardTotal()
	}
	return n
}

// busiestReplica is the replica holding the most agents.
func (w *world) busiestReplica() string {
	count := map[string]int{}
	for _, a := range append(slices.Clone(w.writers), w.subscribers...) {
		count[a.replica]++
	}
	best := ""
	for _, r := range slices.Sorted(maps.Keys(count)) {
		if best == "" || count[r] > count[best] {
			best = r
		}
	}
	return best
}

// phaseResult is what a phase did and what its subscribers should hear.
type phaseResult struct {
	writes   map[string]int // done, by tenant
	byURI    map[string]int // done, by the written incident's URI
	expected int
	received int
	cross    int
}

// phase has every writer write n comments on its incident, concurrently;
// during is told the running count of writes done.
func (w *world) phase(ctx context.Context, name string, n int, during func(done int)) (*phaseResult, error) {
	for _, s := range w.subscribers {
		s.resetHeard()
	}
	res := &phaseResult{writes: map[string]int{}, byURI: map[string]int{}}
	var done atomic.Int64
	var mu sync.Mutex
	var errs []error
	var wg sync.WaitGroup
	start := time.Now()
	for _, a := range w.writers {
		wg.Go(func() {
			for i := range n {
				id := fmt.Sprintf("cfw-%s-%s-%s-%03d", w.run, name, a.name, i)
				if err := a.write(ctx, id); err != nil {
					mu.Lock()
					errs = append(errs, err)
					mu.Unlock()
					return
				}
				w.mu.Lock()
				w.ids[a.ref] = append(w.ids[a.ref], id)
				w.mu.Unlock()
				mu.Lock()
				res.writes[a.tenant]++
				res.byURI[resources.IncidentURI(a.ref)]++
				mu.Unlock()
				if during != nil {
					during(int(done.Add(1)))
				}
				sleep(ctx, 60*time.Millisecond)
			}
		})
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return nil, fmt.Errorf("phase %s: %w", name, err)
	}
	for _, s := range w.subscribers {
		res.expected += res.writes[s.tenant]
		for _, wr := range w.writers {
			if wr.tenant == s.tenant && wr.replica != s.replica {
				res.cross += n
			}
		}
	}
	logf("phase %s: %v writes in %s", name, res.writes, time.Since(start).Round(time.Millisecond))
	return res, nil
}

// checkHeard waits until every subscriber heard every write of its tenant
// in the phase, then checks, incident by incident, that each heard every
// write to its tenant's incidents once and nothing of the other tenant's
// (so that a lost notification and a repeated one cannot cancel out).
func (w *world) checkHeard(ctx context.Context, name string, res *phaseResult) error {
	tenantOf := map[string]string{} // incident URI → its writer's tenant
	for _, wr := range w.writers {
		tenantOf[resources.IncidentURI(wr.ref)] = wr.tenant
	}
	want := func(s *agent, uri string) int {
		if tenantOf[uri] != s.tenant {
			return 0
		}
		return res.byURI[uri]
	}
	_ = waitFor(ctx, 20*time.Second, "every notification of phase "+name, func() bool {
		for _, s := range w.subscribers {
			if s.heardTotal() < res.writes[s.tenant] {
				return false
			}
		}
		return true
	})
	time.Sleep(time.Second) // anything extra arrives now
	var bad []string
	res.received = 0
	for _, s := range w.subscribers {
		heard := s.heardByURI()
		for _, uri := range s.uris {
			got := heard[uri]
			res.received += got
			if got != want(s, uri) {
				bad = append(bad, fmt.Sprintf("%s (on %s) heard %d of %s, want %d", s.name, s.replica, got, uri, want(s, uri)))
			}
		}
	}
	if len(bad) > 0 {
		return fmt.Errorf("phase %s: %s", name, strings.Join(bad, "; "))
	}
	logf("phase %s: every subscriber heard every write of its tenant (%d notifications)", name, res.received)
	return nil
}

// checkStored reads every written incident's comments from the emulator
// and counts each write id: 0 is a lost write, more than 1 a duplicate.
func (w *world) checkStored(ctx context.Context) (lost, dup, total int, err error) {
	api, err := emulatorClient(w.c.api)
	if err != nil {
		return 0, 0, 0, err
	}
	for ref, ids := range w.ids {
		comments, err := api.ListComments(ctx, ref)
		if err != nil {
			return 0, 0, 0, fmt.Errorf("list comments of %s: %w", ref.IncidentID, err)
		}
		for _, id := range ids {
			n := 0
			for _, c := range comments {
				if strings.HasSuffix(strings.TrimSpace(c.Message), id) {
					n++
				}
			}
			switch {
			case n == 0:
				lost++
				logf("write %s is not in incident %s", id, ref.IncidentID)
			case n > 1:
				dup++
				logf("write %s is in incident %s %d times", id, ref.IncidentID, n)
			}
			total += n
		}
	}
	return lost, dup, total, nil
}

// rateResult is the rate limit check's counts.
type rateResult struct {
	calls, allowed, bound, replicas, refusedOn int
	elapsed                                    time.Duration
	sessions                                   int64
}

// rateCheck spends tenant burst's tool calls as fast as it can from agents
// hashed to different replicas: together they get no more than the
// tenant's burst plus its rate over the time taken.
func rateCheck(ctx context.Context, c config, tokens []string, upstream map[string]string, ref client.IncidentRef) (*rateResult, error) {
	byReplica := map[string][]string{}
	for _, t := range tokens {
		byReplica[upstream[t]] = append(byReplica[upstream[t]], t)
	}
	var agents []*agent
	for _, r := range slices.Sorted(maps.Keys(byReplica)) {
		for _, t := range byReplica[r][:min(2, len(byReplica[r]))] {
			a := &agent{name: "burst-" + r, tenant: "burst", token: t, kind: kindModern, base: c.nginx, replica: r, heard: map[string]int{}}
			if err := a.connect(ctx, false); err != nil {
				return nil, fmt.Errorf("rate check: %w", err)
			}
			defer a.close()
			agents = append(agents, a)
		}
	}
	res := &rateResult{replicas: len(byReplica)}
	if res.replicas < 2 {
		return nil, fmt.Errorf("tenant burst's tokens all hash to one replica: the check would prove nothing")
	}
	const perAgent = 25
	var mu sync.Mutex
	allowedOn, refusedOn := map[string]int{}, map[string]int{}
	var errs []error
	var wg sync.WaitGroup
	start := time.Now()
	for _, a := range agents {
		res.sessions += a.connects.Load()
		wg.Go(func() {
			for range perAgent {
				req := mcp.CallToolRequest{}
				req.Params.Name = "get_incident"
				req.Params.Arguments = map[string]any{"workspaceId": ref.WorkspaceID, "source": string(ref.Source), "incidentId": ref.IncidentID}
				cctx, cancel := context.WithTimeout(ctx, 10*time.Second)
				_, err := a.client().CallTool(cctx, req)
				cancel()
				up, _ := a.lastUpstream.Load().(string)
				mu.Lock()
				switch {
				case err == nil:
					allowedOn[up]++
				case strings.Contains(err.Error(), "too many tool calls"):
					refusedOn[up]++
				default:
					errs = append(errs, err)
				}
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	res.elapsed = time.Since(start)
	if err := errors.Join(errs...); err != nil {
		return nil, fmt.Errorf("rate check: %w", err)
	}
	res.calls = perAgent * len(agents)
	for _, n := range allowedOn {
		res.allowed += n
	}
	res.refusedOn = len(refusedOn)
	// GCRA lets a call through at each emission interval after the burst.
	res.bound = c.burst + int(math.Ceil(c.rate*res.elapsed.Seconds())) + 1
	logf("rate check: allowed by replica %v, refused by replica %v, in %s", allowedOn, refusedOn, res.elapsed.Round(time.Millisecond))
	if res.allowed > res.bound {
		return nil, fmt.Errorf("rate check: the replicas together allowed %d tool calls of tenant burst in %s; its limit allows at most %d",
			res.allowed, res.elapsed, res.bound)
	}
	if res.allowed < c.burst {
		return nil, fmt.Errorf("rate check: only %d calls allowed, less than the burst %d", res.allowed, c.burst)
	}
	if len(allowedOn) < 2 || res.refusedOn < 2 {
		return nil, fmt.Errorf("rate check: calls allowed on %d and refused on %d replicas; want both on at least 2", len(allowedOn), res.refusedOn)
	}
	return res, nil
}
