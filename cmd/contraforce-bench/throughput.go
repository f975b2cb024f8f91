package main

import (
	"context"
	"fmt"
	"os"
	"sync"
	"time"

	mcpclient "github.com/mark3labs/mcp-go/client"

	"github.com/contraforce/contraforce-mcp/client"
)

// sessions opens n initialized sessions over one transport.
func (s *servedProc) sessions(ctx context.Context, kind string, n int) ([]*mcpclient.Client, error) {
	var out []*mcpclient.Client
	for range n {
		c, err := s.connect(ctx, kind)
		if err != nil {
			closeAll(out)
			return nil, err
		}
		out = append(out, c)
	}
	return out, nil
}

// closeAll closes sessions concurrently.
func closeAll(cs []*mcpclient.Client) {
	var wg sync.WaitGroup
	for _, c := range cs {
		wg.Add(1)
		go func() { defer wg.Done(); _ = c.Close() }()
	}
	wg.Wait()
}

// loadTool is a tool the throughput figures call, and the API requests the
// emulator serves alone for the same work.
type loadTool struct {
	name  string
	args  func(w, i int) map[string]any
	alone func(ctx context.Context, w, i int) error
}

// loadTools are the read tools an agent waits on most.
func (b *bench) loadTools(refs []client.IncidentRef) []loadTool {
	return []loadTool{
		{name: "list_incidents", args: func(int, int) map[string]any { return map[string]any{} },
			alone: func(ctx context.Context, _, _ int) error { _, err := b.api.rawListFirstPage(ctx); return err }},
		{name: "get_incident", args: func(w, i int) map[string]any { return args(refs[(w+i)%len(refs)]) },
			alone: func(ctx context.Context, w, i int) error {
				return b.api.getIncidentRaw(ctx, refs[(w+i)%len(refs)], b.work.get)
			}},
	}
}

// usage is what the server and the benchmark have spent so far.
type usage struct {
	serverCPU, benchCPU time.Duration
	apiConns            int64 // connections the emulator accepted
}

func (b *bench) usage(s *servedProc) usage {
	return usage{serverCPU: procCPU(s.cmd.Process.Pid), benchCPU: procCPU(os.Getpid()), apiConns: b.api.conns.Load()}
}

// hostedThroughput runs n lean sessions (see leanSession) calling tool in
// a loop for d, and returns what the run alone spent: sessions are opened
// and warmed (every session's pools filled) before it.
func (b *bench) hostedThroughput(ctx context.Context, s *servedProc, kind string, n int, d time.Duration, tool loadTool) (load, usage, error) {
	cs, err := s.leanSessions(ctx, kind, n)
	if err != nil {
		return load{}, usage{}, err
	}
	defer closeLean(cs)
	call := func(ctx context.Context, w, i int) error {
		return cs[w].callTool(ctx, tool.name, tool.args(w, i))
	}
	if err := warm(ctx, n, call); err != nil {
		return load{}, usage{}, fmt.Errorf("%s warm-up: %w", kind, err)
	}
	before := b.usage(s)
	l := runLoad(ctx, n, d, call)
	after := b.usage(s)
	return l, usage{serverCPU: after.serverCPU - before.serverCPU, benchCPU: after.benchCPU - before.benchCPU,
		apiConns: after.apiConns - before.apiConns}, nil
}

// hostedLatencyAndThroughput measures tool calls over SSE and streamable
// HTTP: latency on one session, then throughput with 1, 10 and 100
// sessions against the emulator serving the same API requests alone. The
// server runs on one core and the benchmark on the other (see pinning).
func (b *bench) hostedLatencyAndThroughput(ctx context.Context) error {
	pin := newPinning()
	s, err := startServe(ctx, b.bins.server, b.api, b.secretFile, pin)
	if err != nil {
		return err
	}
	defer s.stop()
	refs := b.api.refs(24)
	c, err := s.connect(ctx, transportHTTP)
	if err != nil {
		return err
	}
	err = b.learnWork(func(name string, a map[string]any) error { return callTool(ctx, c, name, a) })
	_ = c.Close()
	if err != nil {
		return err
	}
	if err := b.ensureDirect(ctx, refs); err != nil {
		return err
	}
	for _, kind := range hostedTransports {
		if err := b.hostedLatency(ctx, s, kind, refs); err != nil {
			return err
		}
	}
	restore, err := pin.pinSelf()
	if err != nil {
		return err
	}
	defer restore()
	for _, tool := range b.loadTools(refs) {
		if err := b.throughput(ctx, s, tool, pin); err != nil {
			return err
		}
	}
	return nil
}

// hostedLatency measures get_incident and list_incidents on one session.
func (b *bench) hostedLatency(ctx context.Context, s *servedProc, kind string, refs []client.IncidentRef) error {
	c, err := s.connect(ctx, kind)
	if err != nil {
		return err
	}
	defer c.Close()
	var get, list samples
	for i := range b.plan.calls + 20 {
		if err := ctx.Err(); err != nil {
			return err
		}
		t := time.Now()
		if err := callTool(ctx, c, "get_incident", args(refs[i%len(refs)])); err != nil {
			return fmt.Errorf("%s: %w", kind, err)
		}
		dg := time.Since(t)
		t = time.Now()
		if err := callTool(ctx, c, "list_incidents", map[string]any{}); err != nil {
			return fmt.Errorf("%s: %w", kind, err)
		}
		if i >= 20 { // 20 warm-up rounds
			get, list = append(get, dg), append(list, time.Since(t))
		}
	}
	area := "Latency (" + kind + ")"
	b.rep.add(
		row{area: area, measure: "`get_incident`, p50 / p90 / p99", value: get.summary(),
			ref: "Go client " + b.directGet.summary(), ratio: times(ratio(float64(get.median()), float64(b.directGet.median()))) + " (p50)"},
		row{area: area, measure: "`list_incidents`, p50 / p90 / p99", value: list.summary(),
			ref: "Go client " + b.directList.summary(), ratio: times(ratio(float64(list.median()), float64(b.directList.median()))) + " (p50)"},
	)
	b.logf("%s: get_incident p50 %s, list_incidents p50 %s", kind, ms(get.median()), ms(list.median()))
	return nil
}

// point is one throughput measurement and the CPU it cost.
type point struct {
	load
	serverCPU, benchCPU time.Duration // per call
	apiConns            int64         // API connections opened during it
}

// throughput measures one tool: for each number of sessions, the emulator
// alone and then each transport, one right after the other so that a change
// in the machine's load affects the reference and the figure alike.
func (b *bench) throughput(ctx context.Context, s *servedProc, tool loadTool, pin pinning) error {
	alone := map[int]point{}
	over := map[string]map[int]point{}
	for _, n := range b.plan.sessions {
		if err := ctx.Err(); err != nil {
			return err
		}
		if err := warm(ctx, n, tool.alone); err != nil {
			return fmt.Errorf("emulator alone, warm-up: %w", err)
		}
		self0 := procCPU(os.Getpid())
		l := runLoad(ctx, n, b.plan.duration, tool.alone)
		if l.errors > 0 {
			return fmt.Errorf("emulator alone, %d workers: %d errors", n, l.errors)
		}
		alone[n] = point{load: l, benchCPU: perCall(procCPU(os.Getpid())-self0, l.calls)}
		b.logf("%s, emulator alone, %d worker%s: %.0f calls/s, %s CPU per call", tool.name, n, plural(n), l.perSecond(), ms(alone[n].benchCPU))
		for _, kind := range hostedTransports {
			if err := ctx.Err(); err != nil {
				return err
			}
			l, u, err := b.hostedThroughput(ctx, s, kind, n, b.plan.duration, tool)
			if err != nil {
				return err
			}
			if l.errors > 0 {
				return fmt.Errorf("%s %s, %d sessions: %d of %d calls failed", tool.name, kind, n, l.errors, l.errors+l.calls)
			}
			p := point{load: l, serverCPU: perCall(u.serverCPU, l.calls), benchCPU: perCall(u.benchCPU, l.calls), apiConns: u.apiConns}
			if over[kind] == nil {
				over[kind] = map[int]point{}
			}
			over[kind][n] = p
			b.logf("%s %s, %d session%s: %.0f calls/s (%s of the emulator alone), p50 %s, p99 %s; CPU per call: server %s, benchmark %s; "+
				"%d API connections opened", tool.name, kind, n, plural(n), l.perSecond(), percent(ratio(l.perSecond(), alone[n].perSecond())),
				ms(l.lat.median()), ms(l.lat.percentile(99)), ms(p.serverCPU), ms(p.benchCPU), p.apiConns)
		}
	}

	var note string
	if !b.throughputNoted {
		b.throughputNoted = true
		note = " " + b.rep.note("Throughput: each session is its own MCP session (protocol 2025-11-25, one shared keep-alive pool) "+
			"calling the tool in a loop for %s, spoken with plain HTTP by the benchmark's own lean client (requests written by hand, "+
			"answers read for their id and errors only, as the stdio figures' client does), so that the load core spends on each "+
			"call little more than the emulator does; sessions are opened and warmed first, and CPU and connections are counted "+
			"over the timed run only. The server is "+
			"`contraforce-mcp serve` with a bearer token and its tool-call rate limit and session caps lifted (policy, not capacity). "+
			"Pinning: %s. The reference is the emulator alone serving the same API requests per call (list_incidents: the first "+
			"page; get_incident: its requests, concurrently), made with plain net/http (bodies read, not decoded) by as many workers "+
			"from the load core, measured right before. CPU per call is read from /proc (user + system): \"server\" is the "+
			"contraforce-mcp process, \"bench\" the benchmark's process (the emulator and the clients). API connections opened are "+
			"the TCP connections the emulator accepted during the timed run: more than a few means the server's pool of API connections "+
			"is smaller than its concurrency, and every call past it pays a new connection (a TLS handshake, against the real API).",
			b.plan.duration, pin.describe())
	}
	top := b.plan.sessions[len(b.plan.sessions)-1]
	for ti, kind := range hostedTransports {
		for i, n := range b.plan.sessions {
			p, a := over[kind][n], alone[n]
			share := ratio(p.perSecond(), a.perSecond())
			r := row{area: "Throughput (" + kind + ")",
				measure: fmt.Sprintf("`%s` calls/s, %d session%s (p50, p99; CPU per call; API connections opened)", tool.name, n, plural(n)),
				value: fmt.Sprintf("%.0f/s (%s, %s; server %s, bench %s; %d)", p.perSecond(), ms(p.lat.median()), ms(p.lat.percentile(99)),
					ms(p.serverCPU), ms(p.benchCPU), p.apiConns),
				ref:   fmt.Sprintf("emulator alone %.0f/s (bench %s)", a.perSecond(), ms(a.benchCPU)),
				ratio: percent(share)}
			if ti == 0 && i == 0 {
				r.measure += note
			}
			if n == top && n >= 100 {
				r.target, r.result = "≥ 50% of emulator", verdict(share >= 0.5)
				r.goal, r.rank = fmt.Sprintf("hosted `%s` at %d sessions, %s: calls/s vs the emulator alone (%s)", tool.name, n, kind, pinShort(pin)), 7
			}
			b.rep.add(r)
			if n == top {
				spread := ratio(float64(p.lat.percentile(99)), float64(p.lat.median()))
				r := row{area: "Throughput (" + kind + ")", measure: fmt.Sprintf("`%s` p99 ÷ p50 latency, %d sessions", tool.name, n),
					value: times(spread)}
				if n >= 100 {
					r.target, r.result = "≤ 10×", verdict(spread <= 10)
					r.goal, r.rank = fmt.Sprintf("hosted `%s` at %d sessions, %s: p99 ÷ p50", tool.name, n, kind), 7
				}
				b.rep.add(r)
			}
		}
	}
	return nil
}

// pinShort is pinning in a few words, for the summary.
func pinShort(p pinning) string {
	if !p.ok {
		return "NOT pinned"
	}
	return "pinned, one core each"
}

func plural(n int) string {
	if n == 1 {
		return ""
	}
	return "s"
}

// ensureDirect measures the Go client's latencies unless the stdio phase did.
func (b *bench) ensureDirect(ctx context.Context, refs []client.IncidentRef) error {
	if len(b.directGet) > 0 {
		return nil
	}
	for i := range b.plan.calls + 20 {
		d, _, err := b.api.getIncidentDirect(ctx, refs[i%len(refs)], b.work.get)
		if err != nil {
			return err
		}
		t := time.Now()
		if err := b.api.listIncidentsDirect(ctx); err != nil {
			return err
		}
		if i >= 20 {
			b.directGet, b.directList = append(b.directGet, d), append(b.directList, time.Since(t))
		}
	}
	return nil
}
