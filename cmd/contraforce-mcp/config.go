package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/contraforce/contraforce-mcp/client"
	"github.com/contraforce/contraforce-mcp/tools"
)

// config is the server's configuration: flags, each with an environment
// fallback, so the same binary configures from a Claude Desktop "env" block,
// a container's environment or a command line.
type config struct {
	BaseURL          string
	ClientID         string
	ClientSecret     client.Secret
	ClientSecretFile string
	Scopes           []client.Scope
	ReadOnly         bool
	Workspaces       []string
	AgentName        string
	Timeout          time.Duration
	LogLevel         slog.Level
	Demo             bool
	ConfirmClose     tools.ConfirmPolicy
	ResponseActions  bool
}

// defaultScopes are the incident scopes a triage agent's credential holds.
var defaultScopes = []client.Scope{client.ScopeIncidentsRead, client.ScopeIncidentsWrite, client.ScopeIncidentsComments}

// envPrefix prefixes every environment variable.
const envPrefix = "CONTRAFORCE_"

// flagSpec is one configuration flag and its environment variable.
type flagSpec struct {
	name, env, usage string
}

// commonFlags registers the flags of every command on fs. Each flag's
// default is its environment variable when set; getenv stands in for
// os.Getenv in tests.
func commonFlags(fs *flag.FlagSet, c *config, getenv func(string) string) func() error {
	var secret, scopes, workspaces, level, confirm string
	str := func(p *string, f flagSpec, def string) {
		if v := getenv(f.env); v != "" {
			def = v
		}
		fs.StringVar(p, f.name, def, f.usage+" (env "+f.env+")")
	}
	boolean := func(p *bool, f flagSpec) {
		v, _ := strconv.ParseBool(getenv(f.env))
		fs.BoolVar(p, f.name, v, f.usage+" (env "+f.env+")")
	}
	str(&c.BaseURL, flagSpec{"base-url", envPrefix + "BASE_URL", "ContraForce API base URL"}, client.DefaultBaseURL)
	str(&c.ClientID, flagSpec{"client-id", envPrefix + "CLIENT_ID", "service-account client id"}, "")
	str(&secret, flagSpec{"client-secret", envPrefix + "CLIENT_SECRET", "service-account client secret (prefer the env variable or --client-secret-file: flags show in ps)"}, "")
	str(&c.ClientSecretFile, flagSpec{"client-secret-file", envPrefix + "CLIENT_SECRET_FILE", "file holding the client secret"}, "")
	str(&scopes, flagSpec{"scopes", envPrefix + "SCOPES", "comma-separated scopes the credential holds; tools needing others are not offered"}, joinScopes(defaultScopes))
	boolean(&c.ReadOnly, flagSpec{"read-only", envPrefix + "READ_ONLY", "offer only the read tools"})
	str(&workspaces, flagSpec{"workspaces", envPrefix + "WORKSPACES", "comma-separated workspace ids this server may touch (default: all the credential sees)"}, "")
	str(&c.AgentName, flagSpec{"agent-name", envPrefix + "AGENT_NAME", `name attributing the agent's comments (default: "<MCP client> via contraforce-mcp")`}, "")
	str(&level, flagSpec{"log-level", envPrefix + "LOG_LEVEL", "log level on stderr: debug, info, warn, error"}, "info")
	timeout := "30s"
	str(&timeout, flagSpec{"timeout", envPrefix + "TIMEOUT", "timeout of one API request"}, timeout)
	str(&confirm, flagSpec{"confirm-close", envPrefix + "CONFIRM_CLOSE", "when closing asks the human first: auto (when the client supports elicitation), always (refuse when it cannot), never"}, string(tools.ConfirmAuto))
	boolean(&c.Demo, flagSpec{"demo", envPrefix + "DEMO", "run against the embedded ContraForce emulator on loopback, with its demo data and credential"})
	boolean(&c.ResponseActions, flagSpec{"response-actions", envPrefix + "RESPONSE_ACTIONS", "offer run_gamebook (response actions such as isolating a host, each confirmed by the user); needs the scope gamebooks:run too"})

	// finish runs after fs.Parse: it converts and checks the strings.
	return func() error {
		var errs []error
		c.ClientSecret = client.Secret(secret)
		var err error
		if c.Scopes, err = parseScopes(scopes); err != nil {
			errs = append(errs, err)
		}
		c.Workspaces = splitList(workspaces)
		c.ConfirmClose = tools.ConfirmPolicy(confirm)
		if !slices.Contains(c.ConfirmClose.Values(), c.ConfirmClose) {
			errs = append(errs, fmt.Errorf("--confirm-close %q: use auto, always or never", confirm))
		}
		if err := c.LogLevel.UnmarshalText([]byte(level)); err != nil {
			errs = append(errs, fmt.Errorf("--log-level %q: use debug, info, warn or error", level))
		}
		if c.Timeout, err = time.ParseDuration(timeout); err != nil || c.Timeout <= 0 {
			errs = append(errs, fmt.Errorf("--timeout %q: use a positive duration such as 30s", timeout))
		}
		return errors.Join(errs...)
	}
}

// credentials resolves the secret file and checks that a credential is
// configured (unless in demo mode, which brings its own).
func (c *config) credentials() error {
	if c.ClientSecretFile != "" {
		if c.ClientSecret != "" {
			return errors.New("give the client secret once: --client-secret or --client-secret-file, not both")
		}
		raw, err := os.ReadFile(c.ClientSecretFile)
		if err != nil {
			return fmt.Errorf("read --client-secret-file: %w", err)
		}
		c.ClientSecret = client.Secret(strings.TrimSpace(string(raw)))
	}
	if c.Demo {
		return nil
	}
	var missing []string
	if c.ClientID == "" {
		missing = append(missing, envPrefix+"CLIENT_ID (--client-id)")
	}
	if c.ClientSecret == "" {
		missing = append(missing, envPrefix+"CLIENT_SECRET (--client-secret-file)")
	}
	if len(missing) > 0 {
		return fmt.Errorf("no ContraForce credential: set %s, or run with --demo to try the server against its embedded emulator", strings.Join(missing, " and "))
	}
	return nil
}

func parseScopes(s string) ([]client.Scope, error) {
	var out []client.Scope
	for _, v := range splitList(s) {
		sc := client.Scope(v)
		if !sc.Valid() {
			return nil, fmt.Errorf("--scopes: unknown scope %q; known: %s", v, strings.Join(client.EnumStrings[client.Scope](), ", "))
		}
		out = append(out, sc)
	}
	return out, nil
}

func joinScopes(ss []client.Scope) string {
	parts := make([]string, len(ss))
	for i, s := range ss {
		parts[i] = string(s)
	}
	return strings.Join(parts, ",")
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

// parseFlags parses a command's arguments into fs. --help prints the
// command's help once (the flag package would print it too: fs.Usage is
// silenced); a wrong flag prints the error first and a pointer to --help
// rather than the whole list; a word that is not a flag is refused, since
// the flag package stops at it and would silently ignore every flag after
// it. ok is false when the command must exit with code.
func parseFlags(fs *flag.FlagSet, args []string, stderr io.Writer, cmd, help string) (code int, ok bool) {
	fs.SetOutput(io.Discard)
	fs.Usage = func() {}
	err := fs.Parse(args)
	switch {
	case errors.Is(err, flag.ErrHelp):
		fmt.Fprint(stderr, help)
		fs.SetOutput(stderr)
		fs.PrintDefaults()
		return 0, false
	case err != nil:
		fmt.Fprintf(stderr, "contraforce-mcp %s: %v\nRun \"contraforce-mcp %s --help\" for the flags.\n", cmd, err, cmd)
		return 2, false
	case fs.NArg() > 0:
		fmt.Fprintf(stderr, "contraforce-mcp %s: unexpected argument %q: %s takes only flags, and reads none after a word.\n"+
			"Run \"contraforce-mcp %s --help\" for the flags.\n", cmd, fs.Arg(0), cmd, cmd)
		return 2, false
	}
	return 0, true
}
