package main

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/contraforce/contraforce-mcp/client"
	"github.com/contraforce/contraforce-mcp/client/emulator"
	"golang.org/x/sys/unix"
)

func TestPercentile(t *testing.T) {
	ten := samples{}
	for i := 10; i >= 1; i-- { // unsorted on purpose
		ten = append(ten, time.Duration(i)*time.Millisecond)
	}
	tests := []struct {
		name string
		s    samples
		p    float64
		want time.Duration
	}{
		{"none", nil, 50, 0},
		{"one", samples{7}, 99, 7},
		{"median of ten is the 5th", ten, 50, 5 * time.Millisecond},
		{"p90 of ten is the 9th", ten, 90, 9 * time.Millisecond},
		{"p99 of ten is the largest", ten, 99, 10 * time.Millisecond},
		{"p100 is the largest", ten, 100, 10 * time.Millisecond},
		{"a tiny p is the smallest", ten, 0.1, time.Millisecond},
		{"p91 rounds up to the 10th", ten, 91, 10 * time.Millisecond},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.s.percentile(tt.p); got != tt.want {
				t.Errorf("percentile(%v) = %v, want %v", tt.p, got, tt.want)
			}
		})
	}
	if ten[0] != 10*time.Millisecond {
		t.Error("percentile sorted the caller's samples in place")
	}
}

func TestMedianInt(t *testing.T) {
	for _, tt := range []struct {
		in   []int64
		want int64
	}{{nil, 0}, {[]int64{5}, 5}, {[]int64{9, 1, 5}, 5}, {[]int64{4, 1, 3, 2}, 2}} {
		if got := medianInt(tt.in); got != tt.want {
			t.Errorf("medianInt(%v) = %d, want %d", tt.in, got, tt.want)
		}
	}
}

func TestParseVmRSS(t *testing.T) {
	status := "Name:\tx\nVmPeak:\t  9000 kB\nVmRSS:\t   12345 kB\nThreads:\t5\n"
	if got, err := parseVmRSS(strings.NewReader(status)); err != nil || got != 12345 {
		t.Errorf("parseVmRSS = %d, %v; want 12345", got, err)
	}
	for _, bad := range []string{"Name:\tx\n", "VmRSS:\t12 MB\n", "VmRSS:\tlots kB\n"} {
		if _, err := parseVmRSS(strings.NewReader(bad)); err == nil {
			t.Errorf("parseVmRSS(%q) succeeded", bad)
		}
	}
}

func TestParseStatCPU(t *testing.T) {
	// utime 250 and stime 50 ticks; the command name holds a space and a parenthesis.
	stat := "4242 (my (odd) cmd) S 1 4242 4242 0 -1 4194560 100 0 0 0 250 50 0 0 20 0 3 0 1000 1000000 200"
	if got, err := parseStatCPU(stat); err != nil || got != 3*time.Second {
		t.Errorf("parseStatCPU = %v, %v; want 3s", got, err)
	}
	for _, bad := range []string{"", "4242 (x) S 1 2", "4242 (x) S 1 4242 4242 0 -1 0 0 0 0 0 lots 50 0"} {
		if _, err := parseStatCPU(bad); err == nil {
			t.Errorf("parseStatCPU(%q) succeeded", bad)
		}
	}
	// A test binary run alone may not have used one clock tick (10 ms) of
	// CPU yet: spend some, a bounded while, before reading its own.
	for end := time.Now().Add(5 * time.Second); procCPU(os.Getpid()) <= 0 && time.Now().Before(end); {
		for spin := time.Now().Add(20 * time.Millisecond); time.Now().Before(spin); {
		}
	}
	if procCPU(os.Getpid()) <= 0 {
		t.Error("procCPU of this process is not positive after 5 s of work")
	}
}

func TestListSizes(t *testing.T) {
	a := `{"name":"a","inputSchema":{"type":"object"},"outputSchema":{"type":"object"}}`
	b := `{"name":"bb","inputSchema":{"type":"object"}}`
	result := `{"tools":[` + a + `,` + b + `]}`
	line := []byte(`{"jsonrpc":"2.0","id":2,"result":` + result + `}`)
	total, tools, err := listSizes(line)
	if err != nil {
		t.Fatal(err)
	}
	if total != len(result) {
		t.Errorf("total = %d, want %d (the result member exactly)", total, len(result))
	}
	want := []toolSize{{"a", len(a), true}, {"bb", len(b), false}}
	if len(tools) != len(want) {
		t.Fatalf("tools = %+v, want %+v", tools, want)
	}
	for i := range want {
		if tools[i] != want[i] {
			t.Errorf("tool %d = %+v, want %+v", i, tools[i], want[i])
		}
	}
	if _, _, err := listSizes([]byte(`{"result":{"tools":"no"}}`)); err == nil {
		t.Error("a malformed tools/list was accepted")
	}
}

func TestFirstRowsBytes(t *testing.T) {
	r1, r2, r3 := `{"id":"1"}`, `{"id":"22"}`, `{"id":"333"}`
	rows := "[" + r1 + "," + r2 + "," + r3 + "]"
	for name, body := range map[string]string{
		"documented envelope": `{"data":{"incidents":` + rows + `,"hasMore":false},"meta":{}}`,
		"bare array":          `{"data":` + rows + `}`,
	} {
		t.Run(name, func(t *testing.T) {
			n, size, err := firstRowsBytes([]byte(body), 2)
			if want := len("[" + r1 + "," + r2 + "]"); err != nil || n != 2 || size != want {
				t.Errorf("firstRowsBytes = %d rows, %d B, %v; want 2 rows, %d B", n, size, err, want)
			}
			if n, _, _ := firstRowsBytes([]byte(body), 25); n != 3 {
				t.Errorf("asking for more rows than there are gave %d rows, want 3", n)
			}
		})
	}
}

func TestResultSize(t *testing.T) {
	content, structured := `[{"type":"text","text":"hi"}]`, `{"a":1}`
	res := `{"content":` + content + `,"structuredContent":` + structured + `}`
	var r resultSize
	for range 2 {
		if err := r.add([]byte(`{"jsonrpc":"2.0","id":3,"result":` + res + `}`)); err != nil {
			t.Fatal(err)
		}
	}
	want := resultSize{total: 2 * len(res), structured: 2 * len(structured), text: 2 * len(content)}
	if r != want {
		t.Errorf("resultSize = %+v, want %+v", r, want)
	}
	if err := r.add([]byte(`{"result":"not an object"}`)); err == nil {
		t.Error("a malformed result was accepted")
	}
}

func TestSuffixes(t *testing.T) {
	got, err := suffixes(map[emulator.Endpoint]int{emulator.EndpointEvidence: 1, emulator.EndpointGetIncident: 1, emulator.EndpointListComments: 2})
	want := []string{"?withDetails=true", "/comments", "/comments", "/evidence"}
	if err != nil || strings.Join(got, " ") != strings.Join(want, " ") {
		t.Errorf("suffixes = %q, %v; want %q", got, err, want)
	}
	for name, reqs := range map[string]map[emulator.Endpoint]int{
		"no request":               {},
		"a write it cannot replay": {emulator.EndpointGetIncident: 1, emulator.EndpointAddComment: 1},
	} {
		if _, err := suffixes(reqs); err == nil {
			t.Errorf("%s: suffixes succeeded", name)
		}
	}
}

func TestReportMarkdown(t *testing.T) {
	var r report
	r.header = []string{"when", "where"}
	n := r.note("a note with a | pipe")
	r.add(
		row{area: "A", measure: "m1 " + n, value: "1 | 2", ref: "floor 1", ratio: "1.00×", target: "≤ 1.5×", result: verdict(true),
			goal: "the list figure", rank: 1},
		row{area: "A", measure: "m2", value: "3", target: "≤ 1", result: verdict(false)},
		row{area: "B", measure: "m3", value: "x\ny"},
	)
	var out bytes.Buffer
	if err := r.markdown(&out); err != nil {
		t.Fatal(err)
	}
	got := out.String()
	for _, want := range []string{
		"when  \nwhere  \n\nTargets of issue 13",
		"| `list_incidents` on a 140-row API page ≤ 2.0× the floor's one-request call | the list figure | 1 \\| 2 | floor 1 | 1.00× | PASS |",
		"| `get_incident` ≤ 1.5× the floor's one-request call | not measured in this run |  |  |  | — |",
		" |\n\n| Area | Measure |",
		"| A | m1 [1] | 1 \\| 2 | floor 1 | 1.00× | ≤ 1.5× | PASS |",
		"| A | m2 | 3 |  |  | ≤ 1 | MISS |",
		"| B | m3 | x y |  |  |  |  |",
		"1. a note with a | pipe",
		"Targets met: 1 of 2.",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("the report lacks %q:\n%s", want, got)
		}
	}
}

func TestRefsSpreadOverSourcesAndReadable(t *testing.T) {
	a, err := startAPI()
	if err != nil {
		t.Fatal(err)
	}
	defer a.close()
	refs := a.refs(12)
	if len(refs) != 12 {
		t.Fatalf("refs(12) gave %d", len(refs))
	}
	sources := map[client.Source]bool{}
	for _, r := range refs {
		if r.WorkspaceID == emulator.WorkspaceNoRoleID || r.WorkspaceID == emulator.WorkspaceOwnerID {
			t.Errorf("ref in workspace %s, which the benchmark skips", r.WorkspaceID)
		}
		sources[r.Source] = true
	}
	if len(sources) < 3 {
		t.Errorf("refs cover %d sources, want them spread: %v", len(sources), sources)
	}
	// Every ref is readable with the demo credential, so no tool call fails.
	all := []string{"?withDetails=true", "/comments", "/evidence"}
	if _, _, err := a.getIncidentDirect(context.Background(), refs[0], all); err != nil {
		t.Errorf("get incident %v: %v", refs[0], err)
	}
	if err := a.getIncidentRaw(context.Background(), refs[1], all); err != nil {
		t.Errorf("raw get incident %v: %v", refs[1], err)
	}
}

// TestListPageIsTheTargetsPage checks that the emulator serves the page
// issue 13's list_incidents target is stated for: 140 rows for the demo
// credential's first page.
func TestListPageIsTheTargetsPage(t *testing.T) {
	a, err := startAPI()
	if err != nil {
		t.Fatal(err)
	}
	defer a.close()
	page, err := a.rawListFirstPage(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if rows, _, err := firstRowsBytes(page, 1<<20); err != nil || rows != listPageRows {
		t.Errorf("the first page holds %d rows (%v), want %d", rows, err, listPageRows)
	}
}

func TestPinningSaysWhatItDid(t *testing.T) {
	p := newPinning()
	if _, err := exec.LookPath("taskset"); err != nil || runtime.NumCPU() < 2 {
		if p.ok || !strings.HasPrefix(p.describe(), "not pinned") {
			t.Errorf("without taskset or a second core, pinning = %+v", p)
		}
		return
	}
	if !p.ok || !strings.Contains(p.describe(), "taskset") {
		t.Fatalf("pinning = %+v, %q", p, p.describe())
	}
	cmd := p.command("/bin/true", "x")
	if want := []string{p.taskset, "-c", "0", "/bin/true", "x"}; strings.Join(cmd.Args, " ") != strings.Join(want, " ") {
		t.Errorf("command = %q, want %q", cmd.Args, want)
	}
	restore, err := p.pinSelf()
	if err != nil {
		t.Fatal(err)
	}
	defer restore()
	var set unix.CPUSet
	if err := unix.SchedGetaffinity(0, &set); err != nil {
		t.Fatal(err)
	}
	if set.Count() != 1 || !set.IsSet(p.load) {
		t.Errorf("after pinSelf this thread may run on %d cores, want only core %d", set.Count(), p.load)
	}
	restore()
	if err := unix.SchedGetaffinity(0, &set); err != nil || set.Count() != runtime.NumCPU() {
		t.Errorf("after restore this thread may run on %d cores (%v), want all %d", set.Count(), err, runtime.NumCPU())
	}
}

// TestRunSmoke runs the whole command with a tiny plan: it builds both
// servers, measures every figure once or twice, and prints the table. It
// checks the table is complete, never the figures (no timed assertions).
func TestRunSmoke(t *testing.T) {
	if testing.Short() {
		t.Skip("builds two binaries and starts servers")
	}
	if _, err := exec.LookPath("go"); err != nil {
		t.Skip("needs the go command")
	}
	if _, err := os.Stat("/proc/self/status"); err != nil {
		t.Skip("needs Linux /proc for RSS")
	}
	tiny := plan{coldRuns: 2, calls: 5, concCalls: 2, rssCalls: 20, compactRefs: 2,
		duration: 100 * time.Millisecond, sessions: []int{1, 3}, idle: 3, settle: 10 * time.Millisecond}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	var out, progress bytes.Buffer
	file := t.TempDir() + "/bench.md"
	if err := run(ctx, options{plan: tiny, quick: true, out: file}, &out, &progress); err != nil {
		t.Fatalf("run: %v\nprogress:\n%s", err, progress.String())
	}
	table := out.String()
	for _, want := range []string{
		"QUICK run", "mcp-go v1.2.1",
		"Targets of issue 13, measured in this run",
		"| `list_incidents` on a 140-row API page ≤ 2.0× the floor's one-request call | `list_incidents`, 140-row API page, p50 over stdio |",
		"| `get_incident` ≤ 1.5× the floor's one-request call | `get_incident` (2 API requests",
		"| cold start to `tools/list` ≤ 1.3× floor (release builds) | spawn → `tools/list` answered, median |",
		"| RSS after `tools/list` ≤ 1.4× floor (release builds) | RSS after `initialize` + `tools/list`, median |",
		"| `tools/list` ≤ 1,500 B per tool on average, with output schemas | bytes per tool, average of ",
		"| `get_incident` result ≤ 60% of the raw API JSON it came from | `get_incident` result bytes ÷ raw API JSON |",
		// The tiny plan stops at 3 sessions: the hosted target (100) is
		// not measured, and the summary says so rather than pass it.
		"calls/s ≥ 50% of the emulator alone, p99 ≤ 10× p50 (`list_incidents`, `get_incident`) | not measured in this run |",
		"| JSON | decoding the list page, per page",
		"| Cold start (stdio) | spawn → `tools/list` answered",
		"| Memory | RSS after `initialize` + `tools/list`",
		"| tools/list | bytes per tool, average",
		"| Latency (stdio) | `get_incident` against the floor's one-request call",
		"| Latency (stdio) | `list_incidents` on a 140-row API page against the floor's one-request call",
		"| Concurrency | `get_incident` wall time",
		"| Compactness | `get_incident` result bytes",
		"| Compactness | `list_incidents` result bytes",
		"| Latency (SSE) | `list_incidents`",
		"| Latency (streamable HTTP) | `get_incident`",
		"| Throughput (SSE) | `get_incident` calls/s, 3 sessions",
		"| Throughput (streamable HTTP) | `get_incident` calls/s, 1 session",
		"| Throughput (SSE) | `list_incidents` calls/s, 3 sessions",
		"| Throughput (streamable HTTP) | `list_incidents` p99 ÷ p50 latency, 3 sessions",
		"| Memory (SSE) | RSS per idle session, 3 sessions",
		"| Memory (streamable HTTP) | RSS per idle session",
		"get_incident makes 2 API requests (GetIncident 1, ListComments 1)",
		"list_incidents makes 1 API request (ListIncidents 1)",
		"Targets met:",
	} {
		if !strings.Contains(table, want) {
			t.Errorf("the table lacks %q:\n%s", want, table)
		}
	}
	written, err := os.ReadFile(file)
	if err != nil || string(written) != table {
		t.Errorf("--out wrote %d bytes (%v), want the table printed", len(written), err)
	}
}
