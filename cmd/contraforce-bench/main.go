// Command contraforce-bench measures contraforce-mcp against a floor (a
// minimal one-tool mcp-go server it builds) and against the ContraForce API
// called directly, all on loopback against the emulator, and prints one
// Markdown table: each figure, its reference measured in the same run, the
// ratio, and its target with PASS or MISS. A summary at the top repeats the
// targets of issue 13 ("fast where the agent waits") in the order.
//
//	go run ./cmd/contraforce-bench            # the full run (about 4 minutes on 2 cores)
//	go run ./cmd/contraforce-bench --quick    # a smoke run: fewer iterations, under a minute
//	go run ./cmd/contraforce-bench --out bench.md
//	go run ./cmd/contraforce-bench --only http --server ./contraforce-mcp.prof   # one phase, a given build
//
// Progress goes to stderr, the table to stdout (and to --out). It needs
// Linux (RSS comes from /proc) and the Go toolchain (it builds both servers).
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"time"

	"github.com/contraforce/contraforce-mcp/client/emulator"
)

// plan is how much a run measures.
type plan struct {
	coldRuns    int           // cold starts per server
	calls       int           // samples per latency figure
	concCalls   int           // samples of get_incident under added latency
	rssCalls    int           // tool calls before the second RSS reading
	compactRefs int           // incidents in the compactness figures
	duration    time.Duration // per throughput point
	sessions    []int         // concurrent sessions of the throughput points
	idle        int           // idle sessions opened for the memory figure
	settle      time.Duration // pause before reading RSS around the idle sessions
}

var (
	fullPlan = plan{coldRuns: 40, calls: 1000, concCalls: 100, rssCalls: 1000, compactRefs: 24,
		duration: 8 * time.Second, sessions: []int{1, 10, 100}, idle: 200, settle: time.Second}
	quickPlan = plan{coldRuns: 3, calls: 30, concCalls: 10, rssCalls: 100, compactRefs: 6,
		duration: 500 * time.Millisecond, sessions: []int{1, 10, 100}, idle: 20, settle: time.Second}
)

// options are the command line's choices.
type options struct {
	plan  plan
	quick bool
	out   string
	// server, when set, is a contraforce-mcp binary to measure instead of
	// building one (a profiling build, a release).
	server string
	// only, when set, runs just these phases (by key).
	only map[string]bool
}

func main() {
	quick := flag.Bool("quick", false, "a smoke run with few iterations (under a minute); its figures are rough")
	out := flag.String("out", "", "also write the table to this file")
	server := flag.String("server", "", "measure this contraforce-mcp binary instead of building one from the module")
	only := flag.String("only", "", "run only these phases, comma-separated: "+strings.Join(phaseKeys(), ", "))
	flag.Usage = func() {
		fmt.Fprint(os.Stderr, "Usage: go run ./cmd/contraforce-bench [--quick] [--out FILE] [--server BIN] [--only PHASES]\n\n"+
			"Builds contraforce-mcp and a minimal mcp-go server (the floor), runs both against the\n"+
			"ContraForce emulator on loopback, and prints one Markdown table of measured figures,\n"+
			"references, ratios and targets. Progress goes to stderr. GOGC, GOMEMLIMIT, GODEBUG and\n"+
			"GOMAXPROCS are passed to both servers alike.\n\nFlags:\n")
		flag.PrintDefaults()
	}
	flag.Parse()
	o := options{plan: fullPlan, quick: *quick, out: *out, server: *server}
	if *quick {
		o.plan = quickPlan
	}
	if *only != "" {
		o.only = map[string]bool{}
		for _, k := range strings.Split(*only, ",") {
			k = strings.TrimSpace(k)
			if !slices.Contains(phaseKeys(), k) {
				fmt.Fprintf(os.Stderr, "contraforce-bench: --only: unknown phase %q; phases: %s\n", k, strings.Join(phaseKeys(), ", "))
				os.Exit(2)
			}
			o.only[k] = true
		}
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, o, os.Stdout, os.Stderr); err != nil {
		fmt.Fprintf(os.Stderr, "contraforce-bench: %v\n", err)
		os.Exit(1)
	}
}

// bench is one run: the plan, what it measures against, and the report.
type bench struct {
	plan       plan
	api        *api
	bins       binaries
	secretFile string
	progress   io.Writer
	started    time.Time
	rep        report
	// Figures shared between phases.
	work                  work
	directGet, directList samples
	throughputNoted       bool // the throughput note was written
}

// logf prints a progress line with the run's elapsed time.
func (b *bench) logf(format string, args ...any) {
	fmt.Fprintf(b.progress, "[%5.1fs] %s\n", time.Since(b.started).Seconds(), fmt.Sprintf(format, args...))
}

// phase is one group of measurements.
type phase struct {
	key, name string
	run       func(*bench, context.Context) error
}

// phases run in this order; later ones reuse figures of earlier ones when
// present (the Go client's latency) and measure them otherwise.
var phases = []phase{
	{"cold", "cold start, memory and tools/list over stdio", (*bench).coldStart},
	{"stdio", "tool-call latency over stdio", (*bench).stdioLatency},
	{"concurrency", "get_incident against its slowest API call", (*bench).concurrency},
	{"compact", "output compactness", (*bench).compactness},
	{"json", "the JSON decoder against encoding/json", (*bench).jsonLibrary},
	{"http", "latency and throughput over HTTP", (*bench).hostedLatencyAndThroughput},
	{"idle", "memory per idle session", (*bench).idleSessions},
}

func phaseKeys() []string {
	keys := make([]string, len(phases))
	for i, p := range phases {
		keys[i] = p.key
	}
	return keys
}

// run builds, measures and prints the report.
func run(ctx context.Context, o options, stdout, stderr io.Writer) error {
	b := &bench{plan: o.plan, progress: stderr, started: time.Now()}
	root, err := moduleRoot()
	if err != nil {
		return err
	}
	dir, err := os.MkdirTemp("", "contraforce-bench-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)

	b.logf("building the servers in %s", dir)
	if b.bins, err = buildBinaries(ctx, root, dir, o.server); err != nil {
		return err
	}
	b.secretFile = filepath.Join(dir, "client-secret")
	if err := os.WriteFile(b.secretFile, []byte(emulator.DemoClientSecret+"\n"), 0o600); err != nil {
		return err
	}
	if b.api, err = startAPI(); err != nil {
		return err
	}
	defer b.api.close()
	b.rep.header = headerLines(root, o.quick, o.server)
	load0 := loadAverage()

	for _, p := range phases {
		if o.only != nil && !o.only[p.key] {
			continue
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		b.logf("%s…", p.name)
		if err := p.run(b, ctx); err != nil {
			return fmt.Errorf("%s: %w", p.name, err)
		}
	}
	b.rep.header = append(b.rep.header, fmt.Sprintf("Load average (1 min) %s at the start, %s at the end; the run took %s",
		load0, loadAverage(), time.Since(b.started).Round(time.Second)))
	b.logf("done: %d of %d targets met", b.rep.targets()-b.rep.misses(), b.rep.targets())

	if err := b.rep.markdown(stdout); err != nil {
		return err
	}
	if o.out != "" {
		f, err := os.Create(o.out)
		if err != nil {
			return err
		}
		if err := b.rep.markdown(f); err != nil {
			f.Close()
			return err
		}
		return f.Close()
	}
	return nil
}

// serverArgs point contraforce-mcp at the benchmark's emulator, as an
// operator points it at a tenant (not --demo: both servers then use the
// same external API).
func (b *bench) serverArgs() []string {
	return []string{"stdio", "--base-url", b.api.baseURL, "--client-id", emulator.DemoClientID, "--client-secret-file", b.secretFile}
}

// floorEnv configures the floor for the same API and credential.
func (b *bench) floorEnv() []string {
	return []string{"FLOOR_BASE_URL=" + b.api.baseURL, "FLOOR_CLIENT_ID=" + emulator.DemoClientID,
		"FLOOR_CLIENT_SECRET=" + emulator.DemoClientSecret}
}
