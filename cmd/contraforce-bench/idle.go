package main

import (
	"context"
	"fmt"
	"time"

	"github.com/contraforce/contraforce-mcp/client"
)

// idleSessions opens many idle sessions on a fresh server per transport
// and reports the growth of its RSS per session.
func (b *bench) idleSessions(ctx context.Context) error {
	refs := b.api.refs(1)
	for i, kind := range hostedTransports {
		if err := ctx.Err(); err != nil {
			return err
		}
		perSession, err := b.idleOnce(ctx, kind, refs)
		if err != nil {
			return err
		}
		r := row{area: "Memory (" + kind + ")", measure: fmt.Sprintf("RSS per idle session, %d sessions", b.plan.idle),
			value: fmt.Sprintf("%.1f KiB", perSession), target: "≤ 64 KiB (issue 6)", result: verdict(perSession <= 64)}
		if i == 0 {
			r.measure += " " + b.rep.note("Idle sessions: a fresh `contraforce-mcp serve` serves one session and one get_incident "+
				"(so that lazy initialisation is done), then %d more sessions are opened (initialize and notifications/initialized; "+
				"an SSE session keeps its event stream open) and left idle; the figure is the growth of the server's RSS divided "+
				"by %d, read after a pause of %s. RSS grows in the Go heap's steps, so this is an upper bound, not an exact size.",
				b.plan.idle, b.plan.idle, b.plan.settle)
		}
		b.rep.add(r)
		b.logf("%s: %.1f KiB of RSS per idle session", kind, perSession)
	}
	return nil
}

// idleOnce measures RSS growth per idle session over one transport.
func (b *bench) idleOnce(ctx context.Context, kind string, refs []client.IncidentRef) (float64, error) {
	s, err := startServe(ctx, b.bins.server, b.api, b.secretFile, pinning{})
	if err != nil {
		return 0, err
	}
	defer s.stop()
	first, err := s.connect(ctx, kind)
	if err != nil {
		return 0, err
	}
	defer first.Close()
	if err := callTool(ctx, first, "get_incident", args(refs[0])); err != nil {
		return 0, err
	}
	time.Sleep(b.plan.settle)
	before, err := rssKiB(s.cmd.Process.Pid)
	if err != nil {
		return 0, err
	}
	cs, err := s.sessions(ctx, kind, b.plan.idle)
	if err != nil {
		return 0, err
	}
	defer closeAll(cs)
	time.Sleep(b.plan.settle)
	after, err := rssKiB(s.cmd.Process.Pid)
	if err != nil {
		return 0, err
	}
	return float64(after-before) / float64(b.plan.idle), nil
}
