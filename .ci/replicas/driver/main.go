// Command driver drives the replicas test of .ci/replicas/run.sh: agents
// (mcp-go clients) that write and subscribe through nginx to three serve
// replicas sharing a Redis, on one emulator. It is a test program, run with
// go run; see cmd/contraforce-mcp/deploy/DEPLOY.md ("A test of the layout").
//
//	driver setup -dir D        writes D/tenants.json and D/tokens.json
//	driver run -dir D …        steady traffic, the rate limit, cursors and confirmations
//	                           across replicas, a replica killed, recovery
//	driver degraded -dir D …   Redis stopped: every replica still serves, redis_up 0
//	driver restored -dir D …   Redis back: changes cross replicas again, redis_up 1
//
// Every wait is bounded; the process exits non-zero on the first failed check.
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/contraforce/contraforce-mcp/client"
	"github.com/contraforce/contraforce-mcp/client/emulator"
	"github.com/contraforce/contraforce-mcp/cmd/contraforce-mcp/hosted"
)

// Tenants of the test: two whose agents write and subscribe, and one whose
// agents only spend its rate limit. Each agent holds its own token, so that
// hashing on Authorization spreads the agents over the replicas.
var tenantNames = []string{"acme", "globex", "burst"}

const tokensPerTenant = 12

// config is the command line of run, degraded and restored.
type config struct {
	dir      string
	nginx    string            // http://127.0.0.1:PORT
	api      string            // the emulator's API root
	replicas map[string]int    // replica address → pid
	metrics  map[string]string // replica address → its metrics address
	rate     float64
	burst    int
}

func main() {
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: driver setup|run|degraded|restored -dir DIR [flags]")
		os.Exit(2)
	}
	cmd := os.Args[1]
	fs := flag.NewFlagSet(cmd, flag.ExitOnError)
	var c config
	fs.StringVar(&c.dir, "dir", "", "the test's directory (tenants.json, tokens.json)")
	fs.StringVar(&c.nginx, "nginx", "", "nginx's URL")
	fs.StringVar(&c.api, "api", "", "the emulator's API root")
	reps := fs.String("replicas", "", "addr=pid,… of the serve replicas")
	mets := fs.String("metrics", "", "addr=metrics-addr,… of the serve replicas")
	fs.Float64Var(&c.rate, "rate", 10, "the replicas' --tool-calls-per-second")
	fs.IntVar(&c.burst, "burst", 20, "the replicas' --tool-call-burst")
	_ = fs.Parse(os.Args[2:])
	c.replicas, c.metrics = map[string]int{}, map[string]string{}
	for _, kv := range splitList(*reps) {
		k, v, _ := strings.Cut(kv, "=")
		var pid int
		fmt.Sscan(v, &pid)
		c.replicas[k] = pid
	}
	for _, kv := range splitList(*mets) {
		k, v, _ := strings.Cut(kv, "=")
		c.metrics[k] = v
	}

	ctx, cancel := context.WithTimeout(context.Background(), 6*time.Minute)
	defer cancel()
	var err error
	switch cmd {
	case "setup":
		err = setup(c.dir)
	case "run":
		err = run(ctx, c)
	case "degraded":
		err = degraded(ctx, c)
	case "restored":
		err = restored(ctx, c)
	default:
		err = fmt.Errorf("unknown command %q", cmd)
	}
	if err != nil {
		fmt.Fprintf(os.Stderr, "replicas test FAILED (%s): %v\n", cmd, err)
		os.Exit(1)
	}
}

func splitList(s string) []string {
	var out []string
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

func logf(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "%s driver: %s\n", time.Now().Format("15:04:05.000"), fmt.Sprintf(format, args...))
}

// setup writes the tenants file (token hashes only, the demo credential's
// secret by environment variable) and the tokens, for the agents.
func setup(dir string) error {
	type tenant struct {
		Name            string   `json:"name"`
		TokenSHA256     []string `json:"tokenSha256"`
		ClientID        string   `json:"clientId"`
		ClientSecretEnv string   `json:"clientSecretEnv"`
	}
	var file struct {
		Tenants []tenant `json:"tenants"`
	}
	tokens := map[string][]string{}
	for _, name := range tenantNames {
		t := tenant{Name: name, ClientID: emulator.DemoClientID, ClientSecretEnv: "CF_DEMO_SECRET"}
		for range tokensPerTenant {
			tok, sum := hosted.NewToken()
			t.TokenSHA256 = append(t.TokenSHA256, sum)
			tokens[name] = append(tokens[name], tok)
		}
		file.Tenants = append(file.Tenants, t)
	}
	if err := writeJSON(filepath.Join(dir, "tenants.json"), file); err != nil {
		return err
	}
	return writeJSON(filepath.Join(dir, "tokens.json"), tokens)
}

func writeJSON(path string, v any) error {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(path, b, 0o600)
}

func readTokens(dir string) (map[string][]string, error) {
	b, err := os.ReadFile(filepath.Join(dir, "tokens.json"))
	if err != nil {
		return nil, err
	}
	var tokens map[string][]string
	return tokens, json.Unmarshal(b, &tokens)
}

// upstreamOf asks nginx which replica a token is hashed to (the test's
// nginx names it in X-Upstream).
func upstreamOf(ctx context.Context, base, token string) (string, error) {
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, base+"/healthz", nil)
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return "", err
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return "", fmt.Errorf("GET /healthz through nginx: %d", resp.StatusCode)
	}
	return lastUpstream(resp.Header.Get("X-Upstream")), nil
}

// lastUpstream is the replica that answered: nginx lists every one it tried.
func lastUpstream(h string) string {
	parts := strings.Split(h, ",")
	return strings.TrimSpace(parts[len(parts)-1])
}

// incidents returns n incidents of the demo's owner workspace, read from
// the emulator with the demo credential.
func incidents(ctx context.Context, api string, n int) ([]client.IncidentRef, error) {
	c, err := emulatorClient(api)
	if err != nil {
		return nil, err
	}
	page, err := c.ListIncidents(ctx, client.IncidentFilter{}, client.PageToken{})
	if err != nil {
		return nil, err
	}
	var refs []client.IncidentRef
	for _, row := range page.Incidents {
		if row.WorkspaceID == emulator.WorkspaceOwnerID && len(refs) < n {
			refs = append(refs, client.IncidentRef{WorkspaceID: row.WorkspaceID, Source: row.Source, IncidentID: row.ID})
		}
	}
	if len(refs) < n {
		return nil, fmt.Errorf("the emulator lists %d incidents of the owner workspace, need %d", len(refs), n)
	}
	return refs, nil
}

func emulatorClient(api string) (*client.Client, error) {
	return client.New(client.Config{BaseURL: api, ClientID: emulator.DemoClientID,
		ClientSecret: client.Secret(emulator.DemoClientSecret), Timeout: 10 * time.Second})
}

// metric reads one series from a replica's metrics listener (-1: absent
// or unreachable).
func metric(ctx context.Context, addr, series string) float64 {
	ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+addr+"/metrics", nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return -1
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	for _, line := range strings.Split(string(b), "\n") {
		if name, value, ok := strings.Cut(line, " "); ok && name == series {
			var v float64
			fmt.Sscan(value, &v)
			return v
		}
	}
	return -1
}

// waitFor polls cond every 100ms until it holds or d passes.
func waitFor(ctx context.Context, d time.Duration, what string, cond func() bool) error {
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) || ctx.Err() != nil {
			return fmt.Errorf("timed out after %s waiting for %s", d, what)
		}
		time.Sleep(100 * time.Millisecond)
	}
	return nil
}

// liveReplicas are the replicas whose metrics listener answers.
func liveReplicas(ctx context.Context, c config) []string {
	var live []string
	for addr, m := range c.metrics {
		if metric(ctx, m, "contraforce_mcp_redis_up") != -1 {
			live = append(live, addr)
		}
	}
	slices.Sort(live)
	return live
}
