package prompts_test

import (
	"slices"
	"time"

	"github.com/contraforce/contraforce-mcp/client"
	"github.com/contraforce/contraforce-mcp/client/emulator"
)

// prefix returns the first n runes of s.
func prefix(s string, n int) string {
	r := []rune(s)
	return string(r[:min(n, len(r))])
}

// visibleWorkspaces are the workspaces the demo credential has a role on.
var visibleWorkspaces = []string{emulator.WorkspaceOwnerID, emulator.WorkspaceResponderID, emulator.WorkspaceReaderID}

// expected lists the emulator's incidents of the visible workspaces (or of
// ws) that pred accepts.
func expected(e *env, ws string, pred func(emulator.IncidentState) bool) []client.IncidentRef {
	var out []client.IncidentRef
	for _, ref := range e.emu.Refs() {
		if !slices.Contains(visibleWorkspaces, ref.WorkspaceID) || (ws != "" && ref.WorkspaceID != ws) {
			continue
		}
		if inc, _ := e.emu.Incident(ref); pred(inc) {
			out = append(out, ref)
		}
	}
	return out
}

// isOpen accepts the New and Active incidents, however old.
func isOpen(inc emulator.IncidentState) bool {
	return inc.Status == client.StatusNew || inc.Status == client.StatusActive
}

// closedIn accepts the Closed incidents updated or active in [start, end].
func closedIn(start, end time.Time) func(emulator.IncidentState) bool {
	in := func(s string) bool {
		t, err := time.Parse(time.RFC3339Nano, s)
		return err == nil && !t.Before(start) && !t.After(end)
	}
	return func(inc emulator.IncidentState) bool {
		return inc.Status == client.StatusClosed && (in(inc.UpdatedAt) || in(inc.LastActivityTime))
	}
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
