package prompts_test

import (
	"bytes"
	"encoding/json"
	"slices"
	"strings"
	"time"

	"github.com/contraforce/contraforce-mcp/client"
	"github.com/contraforce/contraforce-mcp/client/emulator"
)

// jsonText is s as the prompts' fenced JSON spells it inside a string.
func jsonText(s string) string {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(s)
	out := strings.TrimSuffix(strings.TrimSpace(b.String()), `"`)
	return strings.NewReplacer("<", `\u003c`, ">", `\u003e`).Replace(strings.TrimPrefix(out, `"`))
}

// prefix returns the first n runes of s.
func prefix(s string, n int) string {
	r := []rune(s)
	return string(r[:min(n, len(r))])
}

// openSince lists the emulator's New and Active incidents created in
// [start, end] in the workspaces the demo credential sees (or in ws).
func openSince(e *env, start, end time.Time, ws string) []client.IncidentRef {
	visible := []string{emulator.WorkspaceOwnerID, emulator.WorkspaceResponderID, emulator.WorkspaceReaderID}
	var out []client.IncidentRef
	for _, ref := range e.emu.Refs() {
		if !slices.Contains(visible, ref.WorkspaceID) || (ws != "" && ref.WorkspaceID != ws) {
			continue
		}
		inc, _ := e.emu.Incident(ref)
		created, err := time.Parse(time.RFC3339Nano, inc.CreatedAt)
		if err != nil || created.Before(start) || created.After(end) {
			continue
		}
		if inc.Status == client.StatusNew || inc.Status == client.StatusActive {
			out = append(out, ref)
		}
	}
	return out
}

// sameSet reports whether a and b hold the same incidents.
func sameSet(a, b []client.IncidentRef) bool {
	key := func(r client.IncidentRef) string { return r.WorkspaceID + "/" + string(r.Source) + "/" + r.IncidentID }
	ka, kb := make([]string, len(a)), make([]string, len(b))
	for i, r := range a {
		ka[i] = key(r)
	}
	for i, r := range b {
		kb[i] = key(r)
	}
	slices.Sort(ka)
	slices.Sort(kb)
	return slices.Equal(ka, kb)
}
