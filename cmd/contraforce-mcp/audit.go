package main

import (
	"flag"
	"fmt"
	"io"
	"log/slog"

	"github.com/mark3labs/mcp-go/server"

	"github.com/contraforce/contraforce-mcp/cmd/contraforce-mcp/hosted"
)

// auditFlag registers --audit-log (env CONTRAFORCE_AUDIT_LOG) with a
// command's default: "stderr" for serve, "off" for stdio.
func auditFlag(fs *flag.FlagSet, getenv func(string) string, def string) *string {
	v := def
	if e := getenv(envPrefix + "AUDIT_LOG"); e != "" {
		v = e
	}
	return fs.String("audit-log", v, `where to write the audit log of write tool calls (JSON lines): "stderr", a file path (appended), or "off" (env `+envPrefix+`AUDIT_LOG)`)
}

// openAudit returns the audit middleware for --audit-log's value (none for
// "off") and a function that closes the destination.
func openAudit(dest string, stderr io.Writer, log *slog.Logger) ([]server.ToolHandlerMiddleware, func(), error) {
	if dest == "off" {
		return nil, func() {}, nil
	}
	w, closeFn, err := hosted.OpenAuditLog(dest, stderr)
	if err != nil {
		return nil, nil, fmt.Errorf("--audit-log: %w", err)
	}
	return []server.ToolHandlerMiddleware{hosted.NewAuditor(w, log).Middleware()}, func() { _ = closeFn() }, nil
}
