// Command contraforce-mcp is an MCP server that lets AI agents work
// ContraForce security incidents: list, read, comment, assign and close
// them, as a scoped service account.
//
//	contraforce-mcp stdio [flags]   serve MCP on stdin/stdout (Claude Desktop, Claude Code, IDEs)
//	contraforce-mcp serve [flags]   serve MCP over HTTP: SSE and streamable HTTP (agent platforms)
//	contraforce-mcp version
//
// Run any command with --help for its flags and their environment variables.
package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/contraforce/contraforce-mcp/client"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr, os.Getenv)
	stop()
	os.Exit(code)
}

const mainUsage = `contraforce-mcp: an MCP server for ContraForce security incidents.

Usage:
  contraforce-mcp stdio [flags]   serve MCP on stdin/stdout (Claude Desktop, Claude Code, IDE agents)
  contraforce-mcp serve [flags]   serve MCP over HTTP, SSE and streamable HTTP (agent platforms)
  contraforce-mcp serve token     make a bearer token and its SHA-256 for a tenants file
  contraforce-mcp version         print the version

Try it without credentials against the embedded emulator:
  contraforce-mcp stdio --demo

Run "contraforce-mcp <command> --help" for a command's flags. Every flag has an
environment variable (CONTRAFORCE_...), so a client configuration can pass the
credential in its "env" block rather than on the command line.
`

// run is main without the process: it returns the exit code, and tests
// call it with their own streams and environment.
func run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer, getenv func(string) string) int {
	cmd := ""
	if len(args) > 0 {
		cmd = args[0]
	}
	switch cmd {
	case "stdio":
		return runStdio(ctx, args[1:], stdin, stdout, stderr, getenv)
	case "serve":
		return runServe(ctx, args[1:], stdout, stderr, getenv)
	case "version", "--version", "-version":
		fmt.Fprintf(stdout, "contraforce-mcp %s\n", client.Version)
		return 0
	case "", "help", "--help", "-help", "-h":
		fmt.Fprint(stderr, mainUsage)
		if cmd == "" {
			return 2
		}
		return 0
	}
	if strings.HasPrefix(cmd, "-") {
		fmt.Fprintf(stderr, "contraforce-mcp: put flags after the command, e.g. contraforce-mcp stdio %s\n\n%s", cmd, mainUsage)
		return 2
	}
	fmt.Fprintf(stderr, "contraforce-mcp: unknown command %q\n\n%s", cmd, mainUsage)
	return 2
}
