package client_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/contraforce/contraforce-mcp/client"
	"github.com/contraforce/contraforce-mcp/client/emulator"
)

// StateOf prefers the detail's members, falls back on the row's, and
// reports what neither shows as unknown.
func TestStateOfReadsWhereTheVendorPutsIt(t *testing.T) {
	detail := func(incident string) *client.IncidentDetail {
		var d client.IncidentDetail
		if err := json.Unmarshal([]byte(`{"source":"Sentinel","incident":`+incident+`}`), &d); err != nil {
			t.Fatal(err)
		}
		return &d
	}
	row := func(js string) *client.IncidentSummary {
		var r client.IncidentSummary
		if err := json.Unmarshal([]byte(js), &r); err != nil {
			t.Fatal(err)
		}
		return &r
	}
	documented := `{"id":"i","title":"t","severity":"High","status":"Active","workspaceId":"w","createdAt":"c","updatedAt":"u"}`

	st := client.StateOf(detail(documented), nil)
	if st.Status != client.StatusActive || st.AssigneeKnown || st.ClassificationKnown || st.TicketKnown || st.ExtensionKnown {
		t.Errorf("documented detail alone: %+v; want everything but the status unknown", st)
	}

	r := row(`{"id":"i","user":{"id":"u1","email":"a@x"},"isAssigned":true,"classification":null,"classificationReason":null,
		"productId":"prod-9"}`)
	st = client.StateOf(detail(documented), r)
	if !st.AssigneeKnown || st.Assignee == nil || st.Assignee.Email != "a@x" || !st.ClassificationKnown ||
		st.Classification != nil || st.ExtensionID != "prod-9" || st.ExtensionFrom != "row.productId" || st.TicketKnown {
		t.Errorf("completed from the row: %+v", st)
	}

	// The detail wins where it speaks, a null included; the older "assignee" is read too.
	st = client.StateOf(detail(`{"id":"i","status":"Closed","assignee":null,"classification":"TruePositive",
		"classificationReason":"Malware","ticketId":"T-1","extensionId":null}`), r)
	if !st.AssigneeKnown || st.Assignee != nil || st.Classification == nil || *st.Classification != client.ClassificationTruePositive ||
		!st.TicketKnown || *st.TicketID != "T-1" || !st.ExtensionKnown || st.ExtensionID != "" {
		t.Errorf("detail's own members: %+v", st)
	}
	st = client.StateOf(detail(`{"id":"i","isAssigned":true,"extensionId":"ext-1"}`),
		row(`{"id":"i","extensionId":"ext-row","productId":"prod"}`))
	if !st.AssigneeKnown || st.Assignee == nil || st.Assignee.ID != "" || st.ExtensionID != "ext-1" || st.ExtensionFrom != "incident.extensionId" {
		t.Errorf("assigned to someone unnamed, extension from the detail: %+v", st)
	}
	st = client.StateOf(detail(documented), row(`{"id":"i","extensionId":"ext-row","productId":"prod"}`))
	if st.ExtensionID != "ext-row" || st.ExtensionFrom != "row.extensionId" || st.AssigneeKnown {
		t.Errorf("row extensionId before productId: %+v", st)
	}
}

// Against an emulator whose detail shows only the documented members, the
// state comes from the incident's list row; against the default emulator
// the detail suffices and no list call is made.
func TestGetIncidentStateAgainstTheEmulator(t *testing.T) {
	ctx := context.Background()
	for _, shape := range []emulator.DetailShape{emulator.DetailWithRow, emulator.DetailDocumented} {
		e := emulator.New(emulator.Options{Detail: shape})
		srv := httptest.NewServer(e)
		t.Cleanup(srv.Close)
		c := demoClient(t, srv)
		for _, src := range client.Source("").Values() {
			ref := refIn(t, e, emulator.WorkspaceOwnerID, src)
			want, _ := e.Incident(ref)
			lists := e.Stats().Requests[emulator.EndpointListIncidents]
			_, st, err := c.GetIncidentState(ctx, ref, false)
			if err != nil {
				t.Fatalf("%v %s: %v", shape, src, err)
			}
			listed := e.Stats().Requests[emulator.EndpointListIncidents] - lists
			if (shape == emulator.DetailDocumented) != (listed == 1) || st.RowLookup != nil {
				t.Errorf("%v %s: %d list calls, lookup error %v", shape, src, listed, st.RowLookup)
			}
			if !st.AssigneeKnown || (st.Assignee == nil) != (want.Assignee == nil) ||
				(want.Assignee != nil && st.Assignee.ID != want.Assignee.ID) {
				t.Errorf("%v %s: assignee %+v (known %v), emulator %+v", shape, src, st.Assignee, st.AssigneeKnown, want.Assignee)
			}
			if !st.ClassificationKnown || (st.Classification == nil) != (want.Classification == nil) {
				t.Errorf("%v %s: classification %v (known %v), emulator %v", shape, src, st.Classification, st.ClassificationKnown, want.Classification)
			}
			// The ticket is on the detail only; the extension on the detail,
			// else (documented detail) the row's productId.
			if st.TicketKnown != (shape == emulator.DetailWithRow) {
				t.Errorf("%v %s: ticket known = %v", shape, src, st.TicketKnown)
			}
			wantExt := want.ExtensionID
			if shape == emulator.DetailDocumented {
				wantExt = want.ProductID
			}
			if st.ExtensionID != wantExt {
				t.Errorf("%v %s: extension %q from %s, want %q", shape, src, st.ExtensionID, st.ExtensionFrom, wantExt)
			}
		}
	}
}

// FindIncident matches on id, source and workspace; a row without a
// workspace id matches only when it is the one row with that id; a failed
// lookup is an error of FindIncident but only unknown state for
// GetIncidentState.
func TestFindIncident(t *testing.T) {
	ctx := context.Background()
	rows := `{"data":{"incidents":[
		{"id":"inc-1","source":"Sentinel","workspaceId":"other-ws"},
		{"id":"inc-1","source":"QRadar","workspaceId":"` + testWorkspace + `"},
		{"id":"inc-1","source":"Sentinel","workspaceId":"` + testWorkspace + `","isAssigned":false,"user":null}]},
		"meta":{"requestId":"r","timestamp":"t"}}`
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(rows))
	}))
	t.Cleanup(srv.Close)
	c := newClient(t, srv, emulator.DemoClientID, emulator.DemoClientSecret)
	ref := client.IncidentRef{WorkspaceID: testWorkspace, Source: client.SourceSentinel, IncidentID: "inc-1"}
	row, err := c.FindIncident(ctx, ref)
	if err != nil || row == nil || row.WorkspaceID != testWorkspace || row.Source != client.SourceSentinel {
		t.Fatalf("FindIncident = %+v, %v", row, err)
	}
	rows = `{"data":{"incidents":[{"id":"inc-1","source":"Sentinel"},{"id":"inc-1","source":"Sentinel"}]},"meta":{}}`
	if row, err := c.FindIncident(ctx, ref); err != nil || row != nil {
		t.Errorf("two rows without a workspace: %+v, %v; want no match", row, err)
	}
	rows = `{"data":{"incidents":[{"id":"inc-1","source":"Sentinel"}]},"meta":{}}`
	if row, err := c.FindIncident(ctx, ref); err != nil || row == nil {
		t.Errorf("one row without a workspace: %+v, %v; want it", row, err)
	}

	// The detail answers, the list fails: the state is unknown, not an error.
	srv2 := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		if r.Method == http.MethodPost {
			w.WriteHeader(http.StatusBadRequest)
			_, _ = w.Write([]byte(`{"status":400,"code":"VALIDATION_ERROR","title":"Validation failed"}`))
			return
		}
		_, _ = w.Write([]byte(`{"data":{"source":"Sentinel","incident":{"id":"inc-1","status":"New"}},"meta":{}}`))
	}))
	t.Cleanup(srv2.Close)
	c2 := newClient(t, srv2, emulator.DemoClientID, emulator.DemoClientSecret)
	d, st, err := c2.GetIncidentState(ctx, ref, false)
	if err != nil || d.Incident.Status != client.StatusNew || st.RowLookup == nil || st.AssigneeKnown || st.ClassificationKnown {
		t.Errorf("GetIncidentState = %+v, %+v, %v; want the detail with an unknown state and the lookup's error", d, st, err)
	}
}

const testWorkspace = "3f2b8c1e-7a4d-4e6b-9c2f-1a0b3c4d5e6f"
