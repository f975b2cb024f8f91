package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"testing"
	"time"

	jsonv2 "github.com/go-json-experiment/json"
	"github.com/go-json-experiment/json/jsontext"

	"github.com/contraforce/contraforce-mcp/client"
)

// clientDecodeOptions are the options the client decodes answers with
// (client/decode.go): encoding/json's leniency.
var clientDecodeOptions = jsonv2.JoinOptions(
	jsonv2.MatchCaseInsensitiveNames(true),
	jsontext.AllowDuplicateNames(true),
	jsontext.AllowInvalidUTF8(true),
)

// v1Row is client.IncidentSummary for encoding/json: the same members, the
// entities kept raw as the client keeps them, so that both decoders do the
// same work.
type v1Row struct {
	ID                    string                                   `json:"id"`
	Name                  *string                                  `json:"name"`
	DisplayID             string                                   `json:"displayId,omitempty"`
	Title                 string                                   `json:"title"`
	Description           string                                   `json:"description"`
	Number                int                                      `json:"number"`
	Type                  *string                                  `json:"type"`
	Source                client.Source                            `json:"source"`
	SourceDisplayName     *string                                  `json:"sourceDisplayName"`
	LastModificationTime  string                                   `json:"lastModificationTime"`
	CreationTime          string                                   `json:"creationTime"`
	LastActivityTime      string                                   `json:"lastActivityTime"`
	Severity              client.Severity                          `json:"severity"`
	Classification        client.Opt[*client.Classification]       `json:"classification"`
	Comment               *string                                  `json:"comment"`
	ClassificationReason  client.Opt[*client.ClassificationReason] `json:"classificationReason"`
	ClassificationComment *string                                  `json:"classificationComment"`
	Tactics               []string                                 `json:"tactics"`
	RuleIDs               []string                                 `json:"ruleIds"`
	AlertProductNames     []string                                 `json:"alertProductNames"`
	User                  client.Opt[*client.UserRef]              `json:"user"`
	IsAssigned            *bool                                    `json:"isAssigned"`
	ProductID             *string                                  `json:"productId"`
	Status                client.Status                            `json:"status"`
	AlertsCount           int                                      `json:"alertsCount"`
	Entities              json.RawMessage                          `json:"entities"`
	WorkspaceID           string                                   `json:"workspaceId"`
	WorkspaceName         string                                   `json:"workspaceName,omitempty"`
	ExtensionID           client.Opt[*string]                      `json:"extensionId,omitzero"`
}

// v1Page is the list answer for encoding/json.
type v1Page struct {
	Data struct {
		Incidents           []v1Row                     `json:"incidents"`
		WorkspacePageTokens []client.WorkspacePageToken `json:"workspacePageTokens"`
		HasMore             *bool                       `json:"hasMore"`
	} `json:"data"`
	Pagination *client.Pagination `json:"pagination"`
	Meta       client.Meta        `json:"meta"`
}

// decodeCost is one decoder's cost per page.
type decodeCost struct {
	wall, cpu time.Duration
	allocs    int64
	bytes     int64
}

func (c decodeCost) String() string {
	return fmt.Sprintf("%s CPU (%s wall), %d allocs, %d KiB", ms(c.cpu), ms(c.wall), c.allocs, c.bytes>>10)
}

// measureDecode runs decode as a Go benchmark in this process and reads
// its CPU time (user + system, GC included) from /proc.
func measureDecode(decode func() error) (decodeCost, error) {
	var failed error
	cpu0 := procCPU(os.Getpid())
	r := testing.Benchmark(func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if err := decode(); err != nil {
				failed = err
				b.FailNow()
			}
		}
	})
	cpu := procCPU(os.Getpid()) - cpu0
	if failed != nil || r.N == 0 {
		return decodeCost{}, fmt.Errorf("decoding failed: %v", failed)
	}
	return decodeCost{wall: time.Duration(r.NsPerOp()), cpu: cpu / time.Duration(r.N), allocs: r.AllocsPerOp(), bytes: r.AllocedBytesPerOp()}, nil
}

// jsonLibrary compares the client's JSON decoder with encoding/json on
// list_incidents' API page, decoded into the same rows.
func (b *bench) jsonLibrary(ctx context.Context) error {
	page, err := b.api.rawListFirstPage(ctx)
	if err != nil {
		return err
	}
	rows := 0
	v2, err := measureDecode(func() error {
		var env client.Envelope[client.ListIncidentsData]
		err := jsonv2.Unmarshal(page, &env, clientDecodeOptions)
		rows = len(env.Data.Incidents)
		return err
	})
	if err != nil {
		return fmt.Errorf("go-json-experiment: %w", err)
	}
	v1, err := measureDecode(func() error {
		var env v1Page
		return json.Unmarshal(page, &env)
	})
	if err != nil {
		return fmt.Errorf("encoding/json: %w", err)
	}
	note := b.rep.note("Decoding list_incidents' API page (%d rows, %d KiB, as the emulator sends it) into the client's rows, in "+
		"the benchmark's process (testing.Benchmark; CPU time from /proc, GC included): github.com/go-json-experiment/json (the "+
		"module of encoding/json/v2), which the client uses, with the client's options, against encoding/json decoding the same "+
		"members into the same Go types. Both keep a row's entities raw, as the client does.", rows, len(page)>>10)
	b.rep.add(row{area: "JSON", measure: "decoding the list page, per page " + note, value: "go-json-experiment " + v2.String(),
		ref: "encoding/json " + v1.String(), ratio: times(ratio(float64(v2.cpu), float64(v1.cpu))) + " CPU"})
	b.logf("decoding the list page: go-json-experiment %s; encoding/json %s", v2, v1)

	// What list_incidents does with the page: the client's structural
	// reading and the 25 rows it shows decoded, through the client's own
	// request path (an in-memory answer instead of the network).
	api, err := client.New(client.Config{BaseURL: "http://api.invalid/api/v2", ClientID: "bench", ClientSecret: "cf_sa_bench",
		HTTPClient: &http.Client{Transport: pageAnswer(page)}})
	if err != nil {
		return err
	}
	shown := 0
	lazy, err := measureDecode(func() error {
		p, err := api.ListIncidentRange(ctx, client.IncidentFilter{}, client.PageToken{}, 0, 25)
		if err == nil {
			shown = len(p.Incidents)
		}
		return err
	})
	if err != nil {
		return fmt.Errorf("ListIncidentRange: %w", err)
	}
	note = b.rep.note("Reading the same page as list_incidents does: the client's ListIncidentRange (the page's rows found by their "+
		"structure, %d of them decoded) through its request path, the answer served from memory; against encoding/json "+
		"decoding every row as above.", shown)
	b.rep.add(row{area: "JSON", measure: "reading the list page as `list_incidents` does, per page " + note,
		value: "client " + lazy.String(), ref: "encoding/json " + v1.String(), ratio: times(ratio(float64(lazy.cpu), float64(v1.cpu))) + " CPU"})
	b.logf("reading the list page as list_incidents does: %s", lazy)
	return nil
}

// pageAnswer answers every request with one recorded list page, sent
// without a Content-Length as the emulator sends it.
type pageAnswer []byte

func (p pageAnswer) RoundTrip(req *http.Request) (*http.Response, error) {
	if req.Body != nil {
		_, _ = io.Copy(io.Discard, req.Body)
		_ = req.Body.Close()
	}
	return &http.Response{StatusCode: http.StatusOK, Header: http.Header{"Content-Type": {"application/json"}},
		Body: io.NopCloser(bytes.NewReader(p)), ContentLength: -1, Request: req}, nil
}
