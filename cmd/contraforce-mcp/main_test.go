package main

import (
	"bytes"
	"context"
	"flag"
	"io"
	"strings"
	"testing"

	"github.com/contraforce/contraforce-mcp/client"
)

// runCmd runs the command line with the given environment.
func runCmd(t *testing.T, env map[string]string, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errb bytes.Buffer
	code = run(context.Background(), args, strings.NewReader(""), &out, &errb, func(k string) string { return env[k] })
	return code, out.String(), errb.String()
}

func TestCommandLine(t *testing.T) {
	tests := []struct {
		name     string
		env      map[string]string
		args     []string
		code     int
		stdout   string // substring expected on stdout
		stderr   string // substring expected on stderr
		notInOut string // must appear in neither stream
	}{
		{name: "version", args: []string{"--version"}, code: 0, stdout: "contraforce-mcp " + client.Version},
		{name: "version command", args: []string{"version"}, code: 0, stdout: client.Version},
		{name: "no command", args: nil, code: 2, stderr: "contraforce-mcp stdio --demo"},
		{name: "help", args: []string{"--help"}, code: 0, stderr: "Usage:"},
		{name: "unknown command", args: []string{"frobnicate"}, code: 2, stderr: `unknown command "frobnicate"`},
		{name: "flag before command", args: []string{"--demo"}, code: 2, stderr: "put flags after the command"},
		{name: "stdio help lists env", args: []string{"stdio", "--help"}, code: 0, stderr: "CONTRAFORCE_CLIENT_SECRET"},
		{name: "no credential", args: []string{"stdio"}, code: 2, stderr: "CONTRAFORCE_CLIENT_ID"},
		{name: "no credential suggests demo", args: []string{"stdio"}, code: 2, stderr: "--demo"},
		{name: "bad scope", env: map[string]string{"CONTRAFORCE_SCOPES": "incidents:read,incidents:delete"}, args: []string{"stdio", "--demo"},
			code: 2, stderr: `unknown scope "incidents:delete"`},
		{name: "bad log level", args: []string{"stdio", "--demo", "--log-level", "loud"}, code: 2, stderr: "--log-level"},
		{name: "secret without id is refused without echoing it",
			env: map[string]string{"CONTRAFORCE_CLIENT_SECRET": "cf_sa_TOPSECRET"}, args: []string{"stdio"},
			code: 2, stderr: "CONTRAFORCE_CLIENT_ID", notInOut: "cf_sa_TOPSECRET"},
		{name: "secret twice", env: map[string]string{"CONTRAFORCE_CLIENT_ID": "x", "CONTRAFORCE_CLIENT_SECRET": "cf_sa_TOPSECRET"},
			args: []string{"stdio", "--client-secret-file", "/nonexistent"}, code: 2, stderr: "not both", notInOut: "cf_sa_TOPSECRET"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, stdout, stderr := runCmd(t, tt.env, tt.args...)
			if code != tt.code {
				t.Errorf("exit code %d, want %d; stderr:\n%s", code, tt.code, stderr)
			}
			if !strings.Contains(stdout, tt.stdout) {
				t.Errorf("stdout %q lacks %q", stdout, tt.stdout)
			}
			if !strings.Contains(stderr, tt.stderr) {
				t.Errorf("stderr %q lacks %q", stderr, tt.stderr)
			}
			if tt.notInOut != "" && strings.Contains(stdout+stderr, tt.notInOut) {
				t.Errorf("output leaks %q", tt.notInOut)
			}
		})
	}
}

// TestFlagsAndEnvironment: every setting comes from its flag, else its
// environment variable, else the default.
func TestFlagsAndEnvironment(t *testing.T) {
	parse := func(env map[string]string, args ...string) config {
		t.Helper()
		var c config
		fs := flag.NewFlagSet("t", flag.ContinueOnError)
		fs.SetOutput(io.Discard)
		finish := commonFlags(fs, &c, func(k string) string { return env[k] })
		if err := fs.Parse(args); err != nil {
			t.Fatal(err)
		}
		if err := finish(); err != nil {
			t.Fatal(err)
		}
		return c
	}
	def := parse(nil)
	if def.BaseURL != client.DefaultBaseURL || len(def.Scopes) != 3 || def.ReadOnly || def.Workspaces != nil {
		t.Errorf("defaults: %+v", def)
	}
	env := map[string]string{
		"CONTRAFORCE_BASE_URL": "https://acme.platform.contraforce.com/api/v2", "CONTRAFORCE_CLIENT_ID": "id-env",
		"CONTRAFORCE_SCOPES": "incidents:read", "CONTRAFORCE_READ_ONLY": "true", "CONTRAFORCE_WORKSPACES": "a, b",
		"CONTRAFORCE_AGENT_NAME": "Triage bot", "CONTRAFORCE_TIMEOUT": "5s",
	}
	c := parse(env)
	if c.BaseURL != env["CONTRAFORCE_BASE_URL"] || c.ClientID != "id-env" || !c.ReadOnly ||
		strings.Join(c.Workspaces, "|") != "a|b" || c.AgentName != "Triage bot" || c.Timeout.String() != "5s" ||
		len(c.Scopes) != 1 || c.Scopes[0] != client.ScopeIncidentsRead {
		t.Errorf("from environment: %+v", c)
	}
	c = parse(env, "--client-id", "id-flag", "--read-only=false")
	if c.ClientID != "id-flag" || c.ReadOnly {
		t.Errorf("flags must win over the environment: %+v", c)
	}
}

// TestConnectHint: a person who starts the server in a terminal is told how
// to connect a client, with the demo flag when the demo runs.
func TestConnectHint(t *testing.T) {
	demo, real := connectHint(true), connectHint(false)
	for _, want := range []string{"claude mcp add contraforce", `"args": ["stdio", "--demo"]`, "npx @modelcontextprotocol/inspector", "README.md"} {
		if !strings.Contains(demo, want) {
			t.Errorf("the demo hint lacks %q:\n%s", want, demo)
		}
	}
	if strings.Contains(real, "--demo") || !strings.Contains(real, `"args": ["stdio"]`) {
		t.Errorf("the hint without --demo:\n%s", real)
	}
	// Under go test (as under go run) the binary is a temporary file.
	if !strings.Contains(demo, "go install ./cmd/contraforce-mcp") {
		t.Errorf("the hint of a go-run binary does not say how to install it:\n%s", demo)
	}
}
