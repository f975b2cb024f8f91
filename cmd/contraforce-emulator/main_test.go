package main

import (
	"bufio"
	"bytes"
	"context"
	"io"
	"net/http"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/contraforce/contraforce-mcp/client/emulator"
)

// syncBuffer is a bytes.Buffer safe for the server goroutine and the test.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

var listening = regexp.MustCompile(`listening on (http://127\.0\.0\.1:\d+/api/v2)`)

// start runs the command in-process and returns its base URL, its stderr,
// and a function that stops it and returns run's error.
func start(t *testing.T, args ...string) (string, *syncBuffer, func() error) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	var stderr syncBuffer
	done := make(chan error, 1)
	go func() { done <- run(ctx, append([]string{"--addr", "127.0.0.1:0"}, args...), &stderr) }()
	stop := func() error { cancel(); return <-done }
	for i := 0; ; i++ {
		if m := listening.FindStringSubmatch(stderr.String()); m != nil {
			return m[1], &stderr, stop
		}
		select {
		case err := <-done:
			cancel()
			t.Fatalf("run returned %v before listening; stderr: %s", err, stderr.String())
		default:
		}
		if i > 10000 {
			cancel()
			t.Fatalf("no listening line; stderr: %s", stderr.String())
		}
		time.Sleep(time.Millisecond)
	}
}

func get(t *testing.T, url, id, secret string) int {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, url, nil)
	req.SetBasicAuth(id, secret)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, resp.Body)
	return resp.StatusCode
}

func TestRunServesTheDemoCredential(t *testing.T) {
	base, stderr, stop := start(t, "--seed", "3", "--log-level", "debug")
	if got := get(t, base+"/users", emulator.DemoClientID, emulator.DemoClientSecret); got != http.StatusOK {
		t.Errorf("GET /users = %d", got)
	}
	if got := get(t, base+"/users", emulator.ReaderClientID, emulator.ReaderClientSecret); got != http.StatusOK {
		t.Errorf("reader credential: %d", got)
	}
	if err := stop(); err != nil {
		t.Fatalf("run: %v", err)
	}
	out := stderr.String()
	if !strings.Contains(out, "curl -s -u '"+emulator.DemoClientID+":"+emulator.DemoClientSecret+"'") ||
		!strings.Contains(out, "seed 3") || !strings.Contains(out, "path=/api/v2/users") || !strings.Contains(out, "shutting down") {
		t.Errorf("stderr:\n%s", out)
	}
	if strings.Contains(out, "\x1b[") {
		t.Error("colour codes written to a non-terminal")
	}
}

func TestRunCustomCredentialIsNeverPrinted(t *testing.T) {
	const id, secret = "0f0e0d0c-0b0a-4909-8807-060504030201", "cf_sa_custom_secret_value"
	base, stderr, stop := start(t, "--client-id", id, "--client-secret", secret)
	if got := get(t, base+"/users", id, secret); got != http.StatusOK {
		t.Errorf("custom credential: %d", got)
	}
	if got := get(t, base+"/users", emulator.DemoClientID, emulator.DemoClientSecret); got != http.StatusUnauthorized {
		t.Errorf("the replaced demo credential still works: %d", got)
	}
	if err := stop(); err != nil {
		t.Fatal(err)
	}
	if out := stderr.String(); strings.Contains(out, secret) || !strings.Contains(out, id+":***") {
		t.Errorf("stderr:\n%s", out)
	}
}

func TestRunRejectsBadArguments(t *testing.T) {
	cases := []struct {
		args []string
		want string
	}{
		{[]string{"--addr", "0.0.0.0:0"}, "--allow-remote"},
		{[]string{"--addr", ":8089"}, "--allow-remote"},
		{[]string{"--addr", "192.0.2.1:80"}, "--allow-remote"},
		{[]string{"--addr", "nonsense"}, "host:port"},
		{[]string{"--log-level", "loud"}, "--log-level"},
		{[]string{"--client-secret", ""}, "must not be empty"},
		{[]string{"--page-size", "0"}, "--page-size"},
		{[]string{"extra"}, "unexpected arguments"},
	}
	for _, tc := range cases {
		var stderr syncBuffer
		err := run(context.Background(), tc.args, &stderr)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%v: err = %v, want it to mention %q", tc.args, err, tc.want)
		}
	}
	if err := checkLoopback("[::1]:0", false); err != nil {
		t.Errorf("::1 refused: %v", err)
	}
	if err := checkLoopback("localhost:0", false); err != nil {
		t.Errorf("localhost refused: %v", err)
	}
	if err := checkLoopback("0.0.0.0:0", true); err != nil {
		t.Errorf("--allow-remote ignored: %v", err)
	}
}

// TestBinaryStopsOnSIGTERM builds the command and checks a real process
// prints its address, serves, and exits cleanly on SIGTERM.
func TestBinaryStopsOnSIGTERM(t *testing.T) {
	if testing.Short() {
		t.Skip("builds a binary")
	}
	bin := filepath.Join(t.TempDir(), "contraforce-emulator")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	cmd := exec.Command(bin, "--addr", "127.0.0.1:0")
	stderr, pw := io.Pipe()
	cmd.Stderr = pw // Wait returns once the process exited and its stderr was drained
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { _ = cmd.Process.Kill() }()
	sc := bufio.NewScanner(stderr)
	var base string
	for base == "" && sc.Scan() {
		if m := listening.FindStringSubmatch(sc.Text()); m != nil {
			base = m[1]
		}
	}
	if base == "" {
		t.Fatal("no listening line")
	}
	go func() { _, _ = io.Copy(io.Discard, stderr) }()
	if got := get(t, base+"/users", emulator.DemoClientID, emulator.DemoClientSecret); got != http.StatusOK {
		t.Errorf("GET /users = %d", got)
	}
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if err := cmd.Wait(); err != nil {
		t.Errorf("exit after SIGTERM: %v", err)
	}
	_ = pw.Close() // ends the drain goroutine
}

// TestSecretFromEnvironment: the custom secret can come from the
// environment (a flag shows in ps); the flag still wins.
func TestSecretFromEnvironment(t *testing.T) {
	t.Setenv("CONTRAFORCE_EMULATOR_CLIENT_SECRET", "cf_sa_from_env")
	c, err := parseFlags(nil, io.Discard)
	if err != nil || c.clientSecret != "cf_sa_from_env" {
		t.Fatalf("secret %q, err %v; want the environment's", c.clientSecret, err)
	}
	c, err = parseFlags([]string{"--client-secret", "cf_sa_flag"}, io.Discard)
	if err != nil || c.clientSecret != "cf_sa_flag" {
		t.Fatalf("secret %q, err %v; want the flag's", c.clientSecret, err)
	}
}
