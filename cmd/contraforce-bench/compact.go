package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
)

// resultSize adds up the sizes of tools/call results: the whole
// CallToolResult as the server wrote it, and within it the structured
// content and the text content.
type resultSize struct {
	total, structured, text int
}

// add adds one tools/call response line.
func (r *resultSize) add(line []byte) error {
	var msg struct {
		Result json.RawMessage `json:"result"`
	}
	if err := json.Unmarshal(line, &msg); err != nil {
		return fmt.Errorf("tools/call answer: %w", err)
	}
	var res struct {
		Content    json.RawMessage `json:"content"`
		Structured json.RawMessage `json:"structuredContent"`
	}
	if err := json.Unmarshal(msg.Result, &res); err != nil {
		return fmt.Errorf("tools/call result: %w", err)
	}
	r.total += len(msg.Result)
	r.structured += len(res.Structured)
	r.text += len(res.Content)
	return nil
}

// String is the table cell: the total and its two parts.
func (r resultSize) String() string {
	return fmt.Sprintf("%d B (structuredContent %d + content %d)", r.total, r.structured, r.text)
}

// firstRowsBytes is the size of the first n incident objects of a raw
// list answer, exactly as the API wrote them, with the commas of an array.
func firstRowsBytes(body []byte, n int) (rows, size int, err error) {
	var env struct {
		Data json.RawMessage `json:"data"`
	}
	if err := json.Unmarshal(body, &env); err != nil {
		return 0, 0, fmt.Errorf("list answer: %w", err)
	}
	var incidents []json.RawMessage
	if d := bytes.TrimSpace(env.Data); len(d) > 0 && d[0] == '[' {
		err = json.Unmarshal(d, &incidents) // the bare-array shape the client also accepts
	} else {
		var data struct {
			Incidents []json.RawMessage `json:"incidents"`
		}
		err = json.Unmarshal(d, &data)
		incidents = data.Incidents
	}
	if err != nil {
		return 0, 0, fmt.Errorf("list answer data: %w", err)
	}
	for i, raw := range incidents[:min(n, len(incidents))] {
		size += len(raw)
		if i > 0 {
			size++
		}
	}
	return min(n, len(incidents)), size + 2, nil
}

// compactness compares the bytes of get_incident's and list_incidents'
// results with the raw API JSON they were made from.
func (b *bench) compactness(ctx context.Context) error {
	cf, err := spawn(b.bins.server, b.serverArgs(), nil)
	if err != nil {
		return err
	}
	defer cf.close()
	if err := cf.initialize(); err != nil {
		return err
	}
	refs := b.api.refs(b.plan.compactRefs)
	var get, list resultSize
	var getRaw int
	for _, r := range refs {
		// The raw side repeats the requests this very call made.
		s0 := b.api.emu.Stats()
		line, err := cf.callTool("get_incident", args(r))
		if err != nil {
			return err
		}
		made, err := suffixes(b.api.requests(s0))
		if err != nil {
			return err
		}
		if err := get.add(line); err != nil {
			return err
		}
		for _, suffix := range made {
			body, err := b.api.rawGet(ctx, incidentPath(r)+suffix)
			if err != nil {
				return err
			}
			getRaw += len(body)
		}
	}

	line, err := cf.callTool("list_incidents", map[string]any{})
	if err != nil {
		return err
	}
	if err := list.add(line); err != nil {
		return err
	}
	page, err := b.api.rawListFirstPage(ctx)
	if err != nil {
		return err
	}
	rows, rowsRaw, err := firstRowsBytes(page, 25)
	if err != nil {
		return err
	}

	getPct, listPct := ratio(float64(get.total), float64(getRaw)), ratio(float64(list.total), float64(rowsRaw))
	note := b.rep.note("Result bytes are the whole CallToolResult (structuredContent and the text rendering) as sent over stdio. "+
		"Raw bytes are the API's JSON bodies fetched with net/http: for get_incident the answers of the very requests each call "+
		"made (counted by the emulator) over %d incidents; for list_incidents the %d incident objects it shows, cut from the API page it read "+
		"(the whole page, %d B, holds more rows than the tool shows: comparing with it would flatter the tool).", len(refs), rows, len(page))
	b.rep.add(
		row{area: "Compactness", measure: fmt.Sprintf("`get_incident` result bytes, %d incidents %s", len(refs), note),
			value: get.String(), ref: fmt.Sprintf("raw API JSON %d B", getRaw), ratio: percent(getPct),
			target: "≤ 60%", result: verdict(getPct <= 0.60), goal: "`get_incident` result bytes ÷ raw API JSON", rank: 6},
		row{area: "Compactness", measure: fmt.Sprintf("`list_incidents` result bytes, %d rows", rows),
			value: list.String(), ref: fmt.Sprintf("raw API JSON of those rows %d B", rowsRaw), ratio: percent(listPct),
			target: "≤ 40% (issue 6)", result: verdict(listPct <= 0.40)},
	)
	b.logf("compactness: get_incident %d/%d B (%s), list_incidents %d/%d B (%s)", get.total, getRaw, percent(getPct), list.total, rowsRaw, percent(listPct))
	return nil
}
