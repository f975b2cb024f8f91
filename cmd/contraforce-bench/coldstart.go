package main

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"
)

// coldRun is one cold start: spawn → initialize answered → tools/list answered.
type coldRun struct {
	init, list time.Duration
	rss        int64  // KiB, right after tools/list
	listLine   []byte // the tools/list response
}

// coldStart spawns each server once per run, alternating which goes first,
// and times the handshake and tools/list.
func coldStart(bin string, args, env []string) (coldRun, error) {
	s, err := spawn(bin, args, env)
	if err != nil {
		return coldRun{}, err
	}
	defer s.close()
	var r coldRun
	if err := s.initialize(); err != nil {
		return r, err
	}
	r.init = time.Since(s.Started)
	if r.listLine, err = s.request("tools/list", map[string]any{}); err != nil {
		return r, err
	}
	r.list = time.Since(s.Started)
	r.rss, err = rssKiB(s.Pid())
	return r, err
}

// coldStart measures cold starts, memory after tools/list, and the
// tools/list payload.
func (b *bench) coldStart(ctx context.Context) error {
	type server struct {
		bin  string
		args []string
		env  []string
		runs []coldRun
	}
	cf := &server{bin: b.bins.server, args: b.serverArgs()}
	fl := &server{bin: b.bins.floor, env: b.floorEnv()}
	// One unmeasured start each, so both binaries are in the page cache.
	for _, s := range []*server{cf, fl} {
		if _, err := coldStart(s.bin, s.args, s.env); err != nil {
			return err
		}
	}
	for i := range b.plan.coldRuns {
		if err := ctx.Err(); err != nil {
			return err
		}
		order := []*server{cf, fl}
		if i%2 == 1 {
			order = []*server{fl, cf}
		}
		for _, s := range order {
			r, err := coldStart(s.bin, s.args, s.env)
			if err != nil {
				return err
			}
			s.runs = append(s.runs, r)
		}
	}
	stats := func(s *server) (init, list samples, rss []int64) {
		for _, r := range s.runs {
			init, list, rss = append(init, r.init), append(list, r.list), append(rss, r.rss)
		}
		return
	}
	cfInit, cfList, cfRSS := stats(cf)
	flInit, flList, flRSS := stats(fl)
	n := b.plan.coldRuns
	listRatio := ratio(float64(cfList.median()), float64(flList.median()))
	rssRatio := ratio(float64(medianInt(cfRSS)), float64(medianInt(flRSS)))
	coldNote := b.rep.note("Cold start: the time from spawning the process to the answer of `initialize` (protocol 2025-11-25, "+
		"written by hand on the pipes, so no client library is timed), then of `tools/list`; median of %d starts each, "+
		"contraforce-mcp and the floor alternating. The floor is a minimal mcp-go v1.2.1 server with one tool, built by the "+
		"command; both are release builds (CGO_ENABLED=0 -trimpath -ldflags \"-s -w\"; a binary given with --server is "+
		"measured as it was built). contraforce-mcp runs with --base-url/--client-id/--client-secret-file against the same emulator, not --demo.", n)
	b.rep.add(
		row{area: "Cold start (stdio)", measure: fmt.Sprintf("spawn → `initialize` answered, median of %d %s", n, coldNote),
			value: ms(cfInit.median()), ref: "floor " + ms(flInit.median()), ratio: times(ratio(float64(cfInit.median()), float64(flInit.median())))},
		row{area: "Cold start (stdio)", measure: fmt.Sprintf("spawn → `tools/list` answered, median of %d", n),
			value: ms(cfList.median()), ref: "floor " + ms(flList.median()), ratio: times(listRatio),
			target: "≤ 1.3× floor", result: verdict(listRatio <= 1.3), goal: "spawn → `tools/list` answered, median", rank: 3},
		row{area: "Memory", measure: fmt.Sprintf("RSS after `initialize` + `tools/list`, median of %d", n),
			value: kib(medianInt(cfRSS)), ref: "floor " + kib(medianInt(flRSS)), ratio: times(rssRatio),
			target: "≤ 1.4× floor", result: verdict(rssRatio <= 1.4), goal: "RSS after `initialize` + `tools/list`, median", rank: 4},
	)
	b.logf("cold start to tools/list: %s vs floor %s; RSS %s vs %s", ms(cfList.median()), ms(flList.median()),
		kib(medianInt(cfRSS)), kib(medianInt(flRSS)))
	return b.toolsListRows(cf.runs[0].listLine, fl.runs[0].listLine)
}

// toolSize is one tool's share of tools/list.
type toolSize struct {
	name   string
	bytes  int
	output bool // has an outputSchema
}

// listSizes splits a tools/list response into the result's size and each
// tool's (the tool object's JSON exactly as the server wrote it).
func listSizes(line []byte) (result int, tools []toolSize, err error) {
	var msg struct {
		Result json.RawMessage `json:"result"`
	}
	if err := json.Unmarshal(line, &msg); err != nil {
		return 0, nil, fmt.Errorf("tools/list: %w", err)
	}
	var res struct {
		Tools []json.RawMessage `json:"tools"`
	}
	if err := json.Unmarshal(msg.Result, &res); err != nil {
		return 0, nil, fmt.Errorf("tools/list result: %w", err)
	}
	for _, raw := range res.Tools {
		var t struct {
			Name         string          `json:"name"`
			OutputSchema json.RawMessage `json:"outputSchema"`
		}
		if err := json.Unmarshal(raw, &t); err != nil {
			return 0, nil, fmt.Errorf("tools/list tool: %w", err)
		}
		tools = append(tools, toolSize{name: t.Name, bytes: len(raw), output: len(t.OutputSchema) > 0})
	}
	return len(msg.Result), tools, nil
}

// toolsListRows reports the size of tools/list.
func (b *bench) toolsListRows(cfLine, flLine []byte) error {
	total, tools, err := listSizes(cfLine)
	if err != nil {
		return err
	}
	flTotal, flTools, err := listSizes(flLine)
	if err != nil {
		return err
	}
	if len(tools) == 0 || len(flTools) == 0 {
		return fmt.Errorf("tools/list listed no tools")
	}
	per := total / len(tools)
	var over []string
	withOutput := 0
	for _, t := range tools {
		if t.bytes > 1500 {
			over = append(over, fmt.Sprintf("%s %d B", t.name, t.bytes))
		}
		if t.output {
			withOutput++
		}
	}
	sizes := make([]string, len(tools))
	for i, t := range tools {
		sizes[i] = fmt.Sprintf("%s %d", t.name, t.bytes)
	}
	overCell := "none"
	if len(over) > 0 {
		overCell = strings.Join(over, ", ")
	}
	tokNote := b.rep.note("Tokens are estimated as bytes ÷ 4 (no tokenizer is run); sizes are of the JSON-RPC `result` as the server "+
		"wrote it. Per tool, in bytes: %s. The best-known Go MCP servers spend 1,281–2,723 bytes per tool (issue 13's survey).", strings.Join(sizes, ", "))
	b.rep.add(
		row{area: "tools/list", measure: fmt.Sprintf("bytes in total, %d tools %s", len(tools), tokNote),
			value: fmt.Sprintf("%d B ≈ %d tokens", total, total/4), ref: fmt.Sprintf("floor %d B, %d tool", flTotal, len(flTools))},
		row{area: "tools/list", measure: fmt.Sprintf("bytes per tool, average of %d", len(tools)),
			value: fmt.Sprintf("%d B ≈ %d tokens", per, per/4), target: "≤ 1,500 B", result: verdict(per <= 1500),
			goal: fmt.Sprintf("bytes per tool, average of %d tools", len(tools)), rank: 5},
		row{area: "tools/list", measure: "tools over 1,500 B", value: overCell},
		row{area: "tools/list", measure: "tools with an outputSchema",
			value: fmt.Sprintf("%d of %d", withOutput, len(tools)), target: "all", result: verdict(withOutput == len(tools)),
			goal: "tools with an outputSchema", rank: 5},
	)
	slices.SortFunc(tools, func(a, b toolSize) int { return b.bytes - a.bytes })
	b.logf("tools/list: %d B for %d tools (%d B/tool; largest %s %d B)", total, len(tools), per, tools[0].name, tools[0].bytes)
	return nil
}
