package main

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/contraforce/contraforce-mcp/client/emulator"
)

// addedLatency is added by the emulator to each of get_incident's three
// API calls, so that their concurrency shows above loopback noise.
const addedLatency = 20 * time.Millisecond

// concurrency compares get_incident's wall time with the slowest of the
// three API calls it makes, all three slowed by addedLatency.
func (b *bench) concurrency(ctx context.Context) error {
	cf, err := spawn(b.bins.server, b.serverArgs(), nil)
	if err != nil {
		return err
	}
	defer cf.close()
	if err := cf.initialize(); err != nil {
		return err
	}
	if err := b.learnWork(func(name string, a map[string]any) error { _, err := cf.callTool(name, a); return err }); err != nil {
		return err
	}
	var slowed []string
	for ep := range b.work.getReqs {
		b.api.emu.InjectFault(emulator.Fault{Endpoint: ep, Latency: addedLatency}) // Count 0: until cleared
		slowed = append(slowed, string(ep))
	}
	defer b.api.emu.ClearFaults()
	slices.Sort(slowed)

	refs := b.api.refs(24)
	var wall, slowest samples
	for i := range b.plan.concCalls + 3 {
		if err := ctx.Err(); err != nil {
			return err
		}
		r := refs[i%len(refs)]
		t := time.Now()
		if _, err := cf.callTool("get_incident", args(r)); err != nil {
			return err
		}
		d := time.Since(t)
		_, slow, err := b.api.getIncidentDirect(ctx, r, b.work.get)
		if err != nil {
			return err
		}
		if i >= 3 { // the first three warm the connections up
			wall, slowest = append(wall, d), append(slowest, slow)
		}
	}
	rt := ratio(float64(wall.median()), float64(slowest.median()))
	note := b.rep.note("The emulator adds %s to each of get_incident's %d API calls (%s) for this figure only (fault "+
		"injection); made one after another they would take at least %s. The reference is the slowest of the same calls made "+
		"concurrently by the Go client, each timed on its own; medians of %d calls, over stdio.",
		ms(addedLatency), len(b.work.get), strings.Join(slowed, ", "), ms(time.Duration(len(b.work.get))*addedLatency), len(wall))
	b.rep.add(row{area: "Concurrency", measure: fmt.Sprintf("`get_incident` wall time, %s added to each API call, median %s", ms(addedLatency), note),
		value: ms(wall.median()), ref: "slowest API call " + ms(slowest.median()), ratio: times(rt),
		target: "≤ 1.3× (issue 6)", result: verdict(rt <= 1.3)})
	b.logf("get_incident with %s per API call: %s; slowest call %s", ms(addedLatency), ms(wall.median()), ms(slowest.median()))
	return nil
}
