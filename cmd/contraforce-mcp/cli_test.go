package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// runBinary runs the real binary with args, stdin from stdin (nil: empty),
// and an environment without any CONTRAFORCE_ variable of the machine.
func runBinary(t *testing.T, stdin io.Reader, args ...string) (code int, stderr string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, buildBinary(t), args...)
	cmd.Env = cleanEnv()
	cmd.Stdin = stdin
	var errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = io.Discard, &errb
	err := cmd.Run()
	if ctx.Err() != nil {
		t.Fatalf("%v did not finish; stderr:\n%s", args, errb.String())
	}
	if ee, ok := err.(*exec.ExitError); ok {
		return ee.ExitCode(), errb.String()
	} else if err != nil {
		t.Fatal(err)
	}
	return 0, errb.String()
}

func cleanEnv() []string {
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, envPrefix) {
			env = append(env, kv)
		}
	}
	return env
}

// TestHelpAndFlagErrors: --help prints the help once; a wrong flag or a
// stray word is refused with the error on the first line and a pointer to
// --help, not the whole flag list; a stray word never lets the command go
// on without the flags that follow it.
func TestHelpAndFlagErrors(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary")
	}
	for _, cmd := range []string{"stdio", "serve"} {
		t.Run(cmd+" --help", func(t *testing.T) {
			code, stderr := runBinary(t, nil, cmd, "--help")
			if code != 0 {
				t.Errorf("exit %d", code)
			}
			for _, once := range []string{"Usage: contraforce-mcp " + cmd + " [flags]", "-agent-name string", "(env CONTRAFORCE_LOG_LEVEL)"} {
				if n := strings.Count(stderr, once); n != 1 {
					t.Errorf("%q appears %d times in the help, want once:\n%s", once, n, stderr)
				}
			}
		})
		refusals := []struct {
			name, firstLine string
			args            []string
		}{
			{"unknown flag", `contraforce-mcp ` + cmd + `: flag provided but not defined: -no-such-flag`, []string{"--no-such-flag", "--demo"}},
			{"missing value", `contraforce-mcp ` + cmd + `: flag needs an argument: -timeout`, []string{"--demo", "--timeout"}},
			{"stray word before a flag", `contraforce-mcp ` + cmd + `: unexpected argument "extra-word"`, []string{"extra-word", "--demo"}},
			{"stray word after a flag", `contraforce-mcp ` + cmd + `: unexpected argument "extra-word"`, []string{"--demo", "extra-word"}},
		}
		for _, tt := range refusals {
			t.Run(cmd+" "+tt.name, func(t *testing.T) {
				code, stderr := runBinary(t, nil, append([]string{cmd}, tt.args...)...)
				if code != 2 {
					t.Errorf("exit %d, want 2", code)
				}
				lines := strings.Split(strings.TrimSpace(stderr), "\n")
				if !strings.HasPrefix(lines[0], tt.firstLine) {
					t.Errorf("first line %q, want it to start with %q", lines[0], tt.firstLine)
				}
				if !strings.Contains(stderr, `"contraforce-mcp `+cmd+` --help"`) {
					t.Errorf("no pointer to --help:\n%s", stderr)
				}
				if len(lines) > 3 || strings.Contains(stderr, "-client-secret-file") {
					t.Errorf("the error is buried in %d lines (or the flag list is printed):\n%s", len(lines), stderr)
				}
				if strings.Contains(stderr, "credential") || strings.Contains(stderr, "serving MCP") {
					t.Errorf("the command went on past the refusal:\n%s", stderr)
				}
			})
		}
	}
}

// TestConnectHintOnlyInATerminal: the hint for a person at a terminal is
// printed when stdin is a terminal and not when it is /dev/null; it names
// an installed binary by its path, and a go run binary (a temporary build
// or one kept in a custom GOCACHE) by the command to install it.
func TestConnectHintOnlyInATerminal(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary")
	}
	const hint = "This is an MCP server"
	t.Run("/dev/null", func(t *testing.T) {
		null, err := os.Open(os.DevNull)
		if err != nil {
			t.Fatal(err)
		}
		defer null.Close()
		code, stderr := runBinary(t, null, "stdio", "--demo")
		if code != 0 {
			t.Errorf("exit %d:\n%s", code, stderr)
		}
		if strings.Contains(stderr, hint) {
			t.Errorf("/dev/null is not a terminal, yet the hint was printed:\n%s", stderr)
		}
	})
	if runtime.GOOS != "linux" {
		t.Skip("the pseudo-terminal part needs Linux")
	}
	dir := t.TempDir()
	installed := filepath.Join(dir, "bin", "contraforce-mcp")
	cached := filepath.Join(dir, "custom-gocache", "3f", strings.Repeat("3f", 32)+"-d", "contraforce-mcp")
	temporary := filepath.Join(dir, "gotmp", "go-build1234", "b001", "exe", "contraforce-mcp")
	for _, p := range []string{installed, cached, temporary} {
		copyFile(t, buildBinary(t), p)
	}
	tests := []struct {
		name, exe, want, notWant string
	}{
		{"installed", installed, `"command": "` + installed + `"`, "go install"},
		{"go run from a custom GOCACHE", cached, "go install ./cmd/contraforce-mcp", "custom-gocache"},
		{"go run from a temporary build", temporary, "go install ./cmd/contraforce-mcp", "go-build1234"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			stderr := hintInTerminal(t, tt.exe)
			if !strings.Contains(stderr, hint) || !strings.Contains(stderr, tt.want) || strings.Contains(stderr, tt.notWant) {
				t.Errorf("want the hint with %q and without %q:\n%s", tt.want, tt.notWant, stderr)
			}
			if !strings.Contains(stderr, `"args": ["stdio", "--demo"]`) {
				t.Errorf("the hint does not keep --demo:\n%s", stderr)
			}
		})
	}
}

// hintInTerminal starts exe stdio --demo with a pseudo-terminal on stdin
// and returns its stderr once the hint is complete (or after 20 s).
func hintInTerminal(t *testing.T, exe string) string {
	t.Helper()
	master, slave := openPTY(t)
	defer master.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, exe, "stdio", "--demo")
	cmd.Env = cleanEnv()
	cmd.Stdin, cmd.Stdout = slave, io.Discard
	var stderr lockedBuffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	slave.Close()
	defer func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
	}()
	for ctx.Err() == nil && !strings.Contains(stderr.String(), "See README.md") {
		time.Sleep(20 * time.Millisecond)
	}
	return stderr.String()
}

// openPTY opens a pseudo-terminal pair, or skips the test where there is none.
func openPTY(t *testing.T) (master, slave *os.File) {
	t.Helper()
	m, err := os.OpenFile("/dev/ptmx", os.O_RDWR|syscall.O_NOCTTY, 0)
	if err != nil {
		t.Skipf("no pseudo-terminal: %v", err)
	}
	var n int
	raw, err := m.SyscallConn()
	if err == nil {
		err = raw.Control(func(fd uintptr) {
			if err = unix.IoctlSetPointerInt(int(fd), unix.TIOCSPTLCK, 0); err == nil {
				n, err = unix.IoctlGetInt(int(fd), unix.TIOCGPTN)
			}
		})
	}
	if err != nil {
		m.Close()
		t.Skipf("no pseudo-terminal: %v", err)
	}
	s, err := os.OpenFile(fmt.Sprintf("/dev/pts/%d", n), os.O_RDWR|syscall.O_NOCTTY, 0)
	if err != nil {
		m.Close()
		t.Skipf("no pseudo-terminal: %v", err)
	}
	return m, s
}

func copyFile(t *testing.T, from, to string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(to), 0o755); err != nil {
		t.Fatal(err)
	}
	raw, err := os.ReadFile(from)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(to, raw, 0o755); err != nil {
		t.Fatal(err)
	}
}
