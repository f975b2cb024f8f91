package tools_test

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/contraforce/contraforce-mcp/client"
	"github.com/contraforce/contraforce-mcp/client/emulator"
	"github.com/contraforce/contraforce-mcp/schema"
	"github.com/contraforce/contraforce-mcp/tools"
)

// keysOf lists an incident's entities as "kind identifier", read through
// the API the way any client reads them.
func keysOf(t *testing.T, api *client.Client, ref client.IncidentRef) []string {
	t.Helper()
	d, err := api.GetIncident(context.Background(), ref, true)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, en := range d.InvestigationDetails.Entities {
		prop := map[string]string{"account": "upn", "host": "hostName", "ip": "address", "file": "sha256", "url": "url"}[en.Kind]
		if v, _ := en.Properties[prop].(string); v != "" {
			out = append(out, en.Kind+" "+strings.ToLower(v))
		}
	}
	return out
}

// TestFindRelatedIncidents: the other incidents of the workspace that share
// an entity with the incident, each once, with what they share, and per
// entity its past verdicts, all as the emulator holds them.
func TestFindRelatedIncidents(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	sess := e.session(demoCred)
	c := connect(t, sess, "claude-ai")
	keys := map[client.IncidentRef][]string{}
	var refs []client.IncidentRef
	for _, ref := range e.emu.Refs() {
		if ref.WorkspaceID == emulator.WorkspaceOwnerID {
			refs = append(refs, ref)
			keys[ref] = keysOf(t, sess.Client, ref)
		}
	}
	related := func(ref client.IncidentRef) []client.IncidentRef {
		var out []client.IncidentRef
		for _, other := range refs {
			if other != ref && slices.ContainsFunc(keys[ref], func(k string) bool { return slices.Contains(keys[other], k) }) {
				out = append(out, other)
			}
		}
		return out
	}
	// An incident with several related ones, some closed: the dataset's
	// accounts recur (16 people per workspace).
	var target client.IncidentRef
	var want []client.IncidentRef
	for _, ref := range refs {
		r := related(ref)
		closed := slices.ContainsFunc(r, func(o client.IncidentRef) bool { st, _ := e.emu.Incident(o); return st.Classification != nil })
		if len(r) >= 3 && len(r) <= 25 && closed {
			target, want = ref, r
			break
		}
	}
	if target.IncidentID == "" {
		t.Fatal("no incident with 3 to 25 related ones, one of them closed with a verdict")
	}

	var out tools.FindRelatedOutput
	text := c.ok("find_related_incidents", refArgs(target, nil), &out)
	var got, wantIDs []string
	for _, r := range out.Incidents {
		got = append(got, r.IncidentID)
		st, _ := e.emu.Incident(client.IncidentRef{WorkspaceID: target.WorkspaceID, Source: client.Source(r.Source), IncidentID: r.IncidentID})
		if string(st.Status) != r.Status || schema.SafeText(st.Title) != r.Title || len(r.Via) == 0 {
			t.Errorf("row %+v does not match the emulator's %s %s", r, st.Status, st.Title)
		}
	}
	for _, r := range want {
		wantIDs = append(wantIDs, r.IncidentID)
	}
	slices.Sort(got)
	slices.Sort(wantIDs)
	if !slices.Equal(got, wantIDs) {
		t.Errorf("related = %v, want %v", got, wantIDs)
	}
	// Per entity: the matches and the past verdicts, counted from the emulator.
	for _, ent := range out.Entities {
		key := strings.ToLower(map[string]string{"Account": "account", "Host": "host", "Ip": "ip", "File": "file", "Url": "url"}[ent.Kind] + " " + ent.Entity)
		verdicts, matches := map[string]int{}, 0
		for _, o := range refs {
			if o == target || !slices.Contains(keys[o], key) {
				continue
			}
			matches++
			if st, _ := e.emu.Incident(o); st.Status == client.StatusClosed {
				v := "no verdict"
				if st.Classification != nil {
					v = string(*st.Classification)
				}
				verdicts[v]++
			}
		}
		if ent.Matches != matches {
			t.Errorf("%s: %d matches, want %d", key, ent.Matches, matches)
		}
		for v, n := range verdicts {
			wantAll(t, ent.Verdicts, fmt.Sprintf("%s %d", v, n))
		}
	}
	wantAll(t, text, "Related incidents", target.WorkspaceID)

	// One entity, in a window that ends before every incident: none.
	var none tools.FindRelatedOutput
	acct := strings.TrimPrefix(keys[target][0], strings.SplitN(keys[target][0], " ", 2)[0]+" ")
	kind := map[string]string{"account": "Account", "host": "Host", "ip": "Ip", "file": "File", "url": "Url"}[strings.SplitN(keys[target][0], " ", 2)[0]]
	c.ok("find_related_incidents", refArgs(target, map[string]any{"entityKind": kind, "entity": acct, "window": "ThreeHours"}), &none)
	if len(none.Entities) != 1 || none.Entities[0].Entity != acct {
		t.Errorf("one entity asked, got %+v", none.Entities)
	}

	wantAll(t, c.fail("find_related_incidents", refArgs(target, map[string]any{"entity": "x"})), "entityKind")
	wantAll(t, c.fail("find_related_incidents", refArgs(target, map[string]any{"window": "Custom"})), "since")
	other := e.findRef(func(r client.IncidentRef, _ emulator.IncidentState) bool {
		return r.WorkspaceID == emulator.WorkspaceNoRoleID
	})
	wantAll(t, c.fail("find_related_incidents", refArgs(other, nil)), "INSUFFICIENT_WORKSPACE_ROLE")
}
