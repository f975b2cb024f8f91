package main

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"math/big"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mark3labs/mcp-go/mcp"

	"github.com/contraforce/contraforce-mcp/client"
	"github.com/contraforce/contraforce-mcp/client/emulator"
	"github.com/contraforce/contraforce-mcp/cmd/contraforce-mcp/hosted"
)

// TestServeShutdownDrainsInFlightCall: on SIGTERM (ctx cancelled) a slow
// call already running finishes and its answer reaches the client, on
// every transport, and Serve returns nil.
func TestServeShutdownDrainsInFlightCall(t *testing.T) {
	for _, tr := range transports {
		t.Run(tr.name, func(t *testing.T) {
			h := startServe(t, func(sc *serveConfig) { sc.ShutdownTimeout = 15 * time.Second })
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			c := h.mustConnect(ctx, tr.kind, tokenA, tr.version)
			ref := h.refIn([]string{emulator.WorkspaceOwnerID}, 0)
			h.emu.InjectFault(emulator.Fault{Endpoint: emulator.EndpointUpdateStatus, Latency: 700 * time.Millisecond, Count: 1})

			type outcome struct {
				res *mcp.CallToolResult
				err error
			}
			got := make(chan outcome, 1)
			go func() {
				req := mcp.CallToolRequest{}
				req.Params.Name = "update_status"
				args := refArgs(ref)
				args["status"], args["comment"] = "Active", "investigating during a deploy"
				req.Params.Arguments = args
				res, err := c.CallTool(ctx, req)
				got <- outcome{res, err}
			}()
			eventually(t, 10*time.Second, "the slow status change to reach the API", func() bool {
				return h.emu.Stats().Requests[emulator.EndpointUpdateStatus] > 0
			})
			served := make(chan error, 1)
			go func() { served <- h.shutdown() }()

			select {
			case o := <-got:
				if o.err != nil || o.res.IsError {
					t.Fatalf("the in-flight call did not complete: %v %v", o.err, o.res)
				}
			case <-time.After(20 * time.Second):
				t.Fatal("no answer to the in-flight call")
			}
			if err := <-served; err != nil {
				t.Errorf("Serve after shutdown: %v", err)
			}
			if inc, _ := h.emu.Incident(ref); inc.Status != client.StatusActive {
				t.Errorf("status after the drained call = %s", inc.Status)
			}
			// The listener is closed: new connections are refused.
			if _, err := http.Get(h.url + "/healthz"); err == nil {
				t.Error("the server still accepts connections after shutdown")
			}
		})
	}
}

// TestServeManyConcurrentSessions: 50 sessions per transport at once, each
// initialize, tools/list and a tool call; once closed, sessions and
// goroutines return to their baseline.
func TestServeManyConcurrentSessions(t *testing.T) {
	h := startServe(t, nil)
	clientTransport := http.DefaultTransport.(*http.Transport).Clone()
	h.clientTransport = clientTransport
	settle := func() int {
		clientTransport.CloseIdleConnections()
		h.apiHTTP.CloseIdleConnections()
		http.DefaultClient.CloseIdleConnections()
		return runtime.NumGoroutine()
	}
	ctx, cancel := context.WithTimeout(context.Background(), 120*time.Second)
	defer cancel()
	// Warm up once: lazily started goroutines (mcp-go's, net/http's) count
	// in the baseline.
	for _, tr := range transports {
		c := h.mustConnect(ctx, tr.kind, tokenA, tr.version)
		call(ctx, t, c, "list_incidents", map[string]any{"limit": 1})
		_ = c.Close()
	}
	eventually(t, 10*time.Second, "warm-up sessions to close", func() bool { return h.sessions(t) == 0 })
	time.Sleep(100 * time.Millisecond)
	baseline := settle()

	const n = 50
	for _, tr := range transports {
		var wg sync.WaitGroup
		errs := make(chan error, n)
		for i := range n {
			token := tokenA
			if i%2 == 1 {
				token = tokenB
			}
			wg.Go(func() {
				c, err := h.connect(ctx, tr.kind, token, tr.version, nil)
				if err != nil {
					errs <- fmt.Errorf("connect: %w", err)
					return
				}
				defer c.Close()
				if _, err := c.ListTools(ctx, mcp.ListToolsRequest{}); err != nil {
					errs <- fmt.Errorf("tools/list: %w", err)
					return
				}
				req := mcp.CallToolRequest{}
				req.Params.Name, req.Params.Arguments = "list_incidents", map[string]any{"limit": 2}
				if res, err := c.CallTool(ctx, req); err != nil || res.IsError {
					errs <- fmt.Errorf("list_incidents: %v %v", err, res)
				}
			})
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Errorf("%s: %v", tr.name, err)
		}
	}
	eventually(t, 15*time.Second, "every session to end", func() bool { return h.sessions(t) == 0 })
	var now int
	deadline := time.Now().Add(15 * time.Second)
	for now = settle(); now > baseline+3 && time.Now().Before(deadline); now = settle() {
		time.Sleep(50 * time.Millisecond)
	}
	if now > baseline+3 {
		buf := make([]byte, 1<<20)
		t.Fatalf("goroutines: baseline %d, now %d:\n%s", baseline, now, buf[:runtime.Stack(buf, true)])
	}
	t.Logf("goroutines: baseline %d, after %d sessions %d", baseline, n*len(transports), now)
}

// sessions is the server's count of open sessions.
func (h *harness) sessions(t *testing.T) float64 {
	return h.metric(t, `contraforce_mcp_active_sessions{transport="sse"}`) +
		h.metric(t, `contraforce_mcp_active_sessions{transport="streamable_http"}`)
}

// TestServeReadiness: ready while the API answers (a 401 included), not
// when it cannot be reached; liveness does not depend on the API.
func TestServeReadiness(t *testing.T) {
	ready := func(h *harness) (int, map[string]any) {
		resp := h.do(t, http.MethodGet, "/readyz", "", "", nil)
		var body map[string]any
		_ = json.NewDecoder(resp.Body).Decode(&body)
		return resp.StatusCode, body
	}
	h := startServe(t, nil)
	if code, body := ready(h); code != http.StatusOK || body["status"] != "ready" {
		t.Errorf("/readyz: %d %v", code, body)
	}

	wrong := startServe(t, func(sc *serveConfig) {
		sc.TenantsJSON = `{"tenants": [{"name": "a", "tokenSha256": "` + hosted.HashToken(tokenA) + `", "clientId": "` + tenantAClientID + `", "clientSecretEnv": "SECRET_B"}]}`
	})
	if code, body := ready(wrong); code != http.StatusOK || body["apiStatus"] != float64(401) {
		t.Errorf("/readyz with a rejected credential: %d %v, want ready with apiStatus 401", code, body)
	}

	down := startServe(t, nil)
	down.api.Close()
	if code, body := ready(down); code != http.StatusServiceUnavailable || body["api"] != "unreachable" {
		t.Errorf("/readyz with the API down: %d %v", code, body)
	}
	if resp := down.do(t, http.MethodGet, "/healthz", "", "", nil); resp.StatusCode != http.StatusOK {
		t.Errorf("/healthz with the API down: %d", resp.StatusCode)
	}
}

// TestServeAudit: every write tool call leaves one audit record saying who
// changed what, why and how it went; reads leave none; no secret appears.
func TestServeAudit(t *testing.T) {
	h := startServe(t, nil)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	a := h.mustConnect(ctx, "http", tokenA, legacy)
	ref := h.refIn([]string{emulator.WorkspaceOwnerID}, 1)
	for skip := 2; ; skip++ { // an open incident: closing a Closed one is refused
		if inc, _ := h.emu.Incident(ref); inc.Status != client.StatusClosed {
			break
		}
		ref = h.refIn([]string{emulator.WorkspaceOwnerID}, skip)
	}
	refB := h.refIn(workspacesB, 0)

	call(ctx, t, a, "list_incidents", map[string]any{"limit": 1})
	call(ctx, t, a, "get_incident", refArgs(ref))
	closeArgs := refArgs(ref)
	closeArgs["status"], closeArgs["comment"] = "Closed", "Benign: the scanner is ours (change CHG-42)."
	closeArgs["classification"], closeArgs["classificationReason"] = "BenignPositive", "SuspiciousButExpected"
	dry := refArgs(ref)
	dry["status"], dry["dryRun"] = "Active", true
	comment := refArgs(ref)
	comment["content"] = "Handing over to the night shift."
	assign := refArgs(ref)
	assign["email"] = "nobody-such@example.com"
	foreign := refArgs(refB)
	foreign["content"] = "not mine"
	for _, c := range []struct {
		tool string
		args map[string]any
	}{{"update_status", dry}, {"update_status", closeArgs}, {"add_comment", comment}, {"assign", assign}, {"add_comment", foreign}} {
		call(ctx, t, a, c.tool, c.args)
	}
	h.emu.InjectFault(emulator.Fault{Endpoint: emulator.EndpointAddComment, DropAfterApply: true, Count: 1})
	call(ctx, t, a, "add_comment", comment)

	raw, all := h.auditRecords(t)
	var recs []hosted.AuditRecord // the finished calls; each has its started record first
	started := map[string]bool{}
	for _, r := range all {
		if r.Event == hosted.EventToolCallStarted {
			started[r.CallID] = true
		} else if started[r.CallID] {
			recs = append(recs, r)
		}
	}
	if len(recs) != 6 || len(all) != 12 {
		t.Fatalf("%d finished audit records of %d, want 6 of 12 (writes only, started and finished):\n%s", len(recs), len(all), raw)
	}
	for _, secret := range []string{tenantASecret, tenantBSecret, tokenA, tokenB, hosted.HashToken(tokenA)} {
		if strings.Contains(raw, secret) {
			t.Errorf("the audit log contains a secret (%.12s…)", secret)
		}
	}
	for _, r := range recs {
		if r.Tenant != "tenant-a" || r.SessionID == "" || r.Client == nil || r.Client.Name != "e2e-test" || r.Client.Version != "1.2.3" ||
			r.Incident == nil || r.Time == "" {
			t.Errorf("record lacks who or what: %+v", r)
		}
	}
	dryRec, closed, commented, assigned, refused, dropped := recs[0], recs[1], recs[2], recs[3], recs[4], recs[5]
	if !dryRec.DryRun || dryRec.Outcome != "dry_run" || dryRec.APIRequestID != "" {
		t.Errorf("dry run record: %+v", dryRec)
	}
	if closed.Tool != "update_status" || closed.Outcome != "ok" || closed.APIRequestID == "" || closed.APIStatus != http.StatusNoContent ||
		closed.Change == nil || closed.Change.Status != "Closed" || closed.Change.Classification != "BenignPositive" ||
		!strings.Contains(closed.Change.Comment, "CHG-42") || closed.Change.CommentSHA256 == "" ||
		closed.Incident.IncidentID != ref.IncidentID {
		t.Errorf("closing record: %+v %+v", closed, closed.Change)
	}
	if commented.Outcome != "ok" || commented.Change.CommentLength != len("Handing over to the night shift.") {
		t.Errorf("comment record: %+v", commented)
	}
	if assigned.Change == nil || assigned.Change.AssigneeEmail != "nobody-such@example.com" {
		t.Errorf("assign record: %+v", assigned)
	}
	if refused.Outcome != "error" || refused.ErrorCode != client.CodeInsufficientWorkspaceRole || refused.Error == "" {
		t.Errorf("refused write record: %+v", refused)
	}
	if dropped.Outcome != "unknown" {
		t.Errorf("write without an answer: outcome %q, want unknown: %+v", dropped.Outcome, dropped)
	}
}

// TestServeCommand runs `contraforce-mcp serve` as a user does.
func TestServeCommand(t *testing.T) {
	tests := []struct {
		name   string
		env    map[string]string
		args   []string
		stderr string
	}{
		{"no auth off loopback", nil, []string{"serve", "--insecure-no-auth", "--addr", "0.0.0.0:0", "--demo"}, "loopback"},
		{"no tokens", map[string]string{"CONTRAFORCE_CLIENT_ID": "x", "CONTRAFORCE_CLIENT_SECRET": "cf_sa_TOPSECRET"}, []string{"serve", "--addr", "127.0.0.1:0"}, "no bearer tokens"},
		{"empty tenants", map[string]string{"CONTRAFORCE_TENANTS": `{"tenants":[]}`}, []string{"serve"}, "no tenants"},
		{"tokens twice", map[string]string{"CONTRAFORCE_TENANTS": `{"tenants":[{"name":"a","tokenSha256":"` + strings.Repeat("b", 64) + `","clientId":"x","clientSecretEnv":"S"}]}`},
			[]string{"serve", "--token-sha256", strings.Repeat("a", 64)}, "with a tenants file"},
		{"bad token hash", map[string]string{"CONTRAFORCE_CLIENT_ID": "x", "CONTRAFORCE_CLIENT_SECRET": "cf_sa_TOPSECRET"}, []string{"serve", "--token-sha256", "abc"}, "not a hex SHA-256"},
		{"passthrough with a stored credential", map[string]string{"CONTRAFORCE_CLIENT_ID": "x"},
			[]string{"serve", "--credential-passthrough", "--token-sha256", strings.Repeat("a", 64)}, "stores no credential"},
		{"bad max body", nil, []string{"serve", "--max-body", "lots"}, "--max-body"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, stdout, stderr := runCmd(t, tt.env, tt.args...)
			if code != 2 || !strings.Contains(stderr, tt.stderr) {
				t.Errorf("exit %d, stderr %q; want 2 and %q", code, stderr, tt.stderr)
			}
			if strings.Contains(stdout+stderr, "cf_sa_TOPSECRET") {
				t.Error("output leaks the secret")
			}
		})
	}

	t.Run("token", func(t *testing.T) {
		code, stdout, _ := runCmd(t, nil, "serve", "token")
		m := regexp.MustCompile(`token:\s+(\S+)\nsha256: ([0-9a-f]{64})`).FindStringSubmatch(stdout)
		if code != 0 || m == nil || !strings.HasPrefix(m[1], hosted.TokenPrefix) || hosted.HashToken(m[1]) != m[2] {
			t.Errorf("serve token: %d %q", code, stdout)
		}
	})

	t.Run("demo prints a working configuration", func(t *testing.T) {
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		var stderr syncBuffer
		exit := make(chan int, 1)
		go func() {
			exit <- run(ctx, []string{"serve", "--demo", "--addr", "127.0.0.1:0", "--audit-log", "off"}, strings.NewReader(""), &syncBuffer{}, &stderr,
				func(string) string { return "" })
		}()
		add := regexp.MustCompile(`claude mcp add --transport http contraforce (http://127\.0\.0\.1:\d+)/mcp --header "Authorization: Bearer (cfmcp_\S+)"`)
		var m []string
		eventually(t, 20*time.Second, "the demo's connection hint", func() bool {
			m = add.FindStringSubmatch(stderr.String())
			return m != nil
		})
		if !strings.Contains(stderr.String(), `"type": "sse",  "url": "`+m[1]+`/sse"`) {
			t.Errorf("no SSE configuration in:\n%s", stderr.String())
		}
		h := &harness{t: t, url: m[1]}
		cctx, ccancel := context.WithTimeout(ctx, 20*time.Second)
		defer ccancel()
		for _, kind := range []string{"http", "sse"} {
			c := h.mustConnect(cctx, kind, m[2], legacy)
			if res := call(cctx, t, c, "list_incidents", map[string]any{"limit": 1}); res.IsError {
				t.Errorf("%s: list_incidents on the demo: %s", kind, text(res))
			}
			_ = c.Close()
		}
		cancel()
		select {
		case code := <-exit:
			if code != 0 {
				t.Errorf("serve exited %d after SIGTERM, want 0:\n%s", code, stderr.String())
			}
		case <-time.After(30 * time.Second):
			t.Fatal("serve did not exit after its context ended")
		}
	})
}

// TestServeTLS: with --tls-cert and --tls-key the listener speaks HTTPS.
func TestServeTLS(t *testing.T) {
	certFile, keyFile, pool := selfSignedCert(t)
	h := startServe(t, func(sc *serveConfig) { sc.TLSCert, sc.TLSKey = certFile, keyFile })
	h.clientTransport = &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	for _, kind := range []string{"http", "sse"} {
		c := h.mustConnect(ctx, kind, tokenA, legacy)
		if res := call(ctx, t, c, "list_incidents", map[string]any{"limit": 1}); res.IsError {
			t.Errorf("%s over TLS: %s", kind, text(res))
		}
	}
}

// selfSignedCert writes a certificate for 127.0.0.1 and its key.
func selfSignedCert(t *testing.T) (certFile, keyFile string, pool *x509.CertPool) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "127.0.0.1"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)}, KeyUsage: x509.KeyUsageDigitalSignature,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	keyDER, _ := x509.MarshalECPrivateKey(key)
	dir := t.TempDir()
	certFile, keyFile = filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	_ = os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600)
	_ = os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: keyDER}), 0o600)
	cert, _ := x509.ParseCertificate(der)
	pool = x509.NewCertPool()
	pool.AddCert(cert)
	return certFile, keyFile, pool
}
