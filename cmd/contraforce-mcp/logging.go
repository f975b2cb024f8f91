package main

import (
	"context"
	"fmt"
	"io"
	"log"
	"log/slog"
	"os"
	"time"

	"github.com/lmittmann/tint"
	"github.com/mark3labs/mcp-go/mcp"
	"github.com/mark3labs/mcp-go/server"
	"golang.org/x/term"

	"github.com/contraforce/contraforce-mcp/resources"
)

// newLogger logs to w (stderr: over stdio, stdout is the protocol and
// nothing else may write there), in colour only when w is a terminal. It
// also sends each record logged with an MCP request's context to that
// request's client (see clientLogHandler).
func newLogger(w io.Writer, level slog.Level) *slog.Logger {
	return slog.New(&clientLogHandler{next: tint.NewHandler(w, &tint.Options{
		Level:      level,
		TimeFormat: time.TimeOnly,
		NoColor:    !isTerminal(w),
	})})
}

// clientLogHandler passes every record to next (the operator's log) and
// sends the records logged with an MCP request's context to the client of
// that request, as notifications/message, when they are at or above the
// level the client set with logging/setLevel (mcp-go keeps it per session;
// from protocol 2026-07-28 a request carries its own).
//
// What an agent sees is therefore what the server does on its behalf: the
// API requests made for its calls (debug: operation, path, status,
// duration, request id), their retries and rate-limit waits (notice), and
// any warning logged while serving its request. Records logged without a
// request's context (start-up, shutdown, other sessions, the hosted
// server's gate) never reach a client, nor does mcp-go's log of each
// request (operatorOnly); a record reaches only the session whose request
// it was logged for: one tenant never sees another's. The API client scrubs its credential from what it
// logs; here secrets resolve through their LogValue ([REDACTED]), values
// that are neither scalars, errors nor Stringers are left out, and text is
// cleaned of control characters and bounded.
type clientLogHandler struct {
	next   slog.Handler
	attrs  []slog.Attr // from WithAttrs, already qualified by their groups
	prefix string      // the groups opened by WithGroup, as "a.b."
}

// clientLevels raises, for the agent, records the API client logs at debug
// for the operator: a retry or a rate-limit wait explains a slow answer.
var clientLevels = map[string]mcp.LoggingLevel{
	"contraforce api retry": mcp.LoggingLevelNotice,
}

// maxLogText bounds each string an agent is sent in a log message.
const maxLogText = 500

func (h *clientLogHandler) Enabled(ctx context.Context, l slog.Level) bool {
	if h.next.Enabled(ctx, l) {
		return true
	}
	// The record's message, which may raise its level, is not known yet.
	return clientWants(ctx, mcpLevel(l)) || l < slog.LevelInfo && clientWants(ctx, mcp.LoggingLevelNotice)
}

func (h *clientLogHandler) Handle(ctx context.Context, r slog.Record) error {
	var err error
	if h.next.Enabled(ctx, r.Level) {
		err = h.next.Handle(ctx, r)
	}
	level, ok := clientLevels[r.Message]
	if !ok {
		level = mcpLevel(r.Level)
	}
	if !clientWants(ctx, level) {
		return err
	}
	data := map[string]any{"message": resources.Clean(r.Message, maxLogText)}
	for _, a := range h.attrs {
		addLogAttr(data, "", a)
	}
	r.Attrs(func(a slog.Attr) bool {
		addLogAttr(data, h.prefix, a)
		return true
	})
	// Best effort: a client that is gone or not reading misses the message.
	_ = server.ServerFromContext(ctx).SendLogMessageToClient(ctx, mcp.NewLoggingMessageNotification(level, serverName, data))
	return err
}

func (h *clientLogHandler) WithAttrs(attrs []slog.Attr) slog.Handler {
	c := *h
	c.next = h.next.WithAttrs(attrs)
	c.attrs = append([]slog.Attr(nil), h.attrs...)
	for _, a := range attrs {
		c.attrs = append(c.attrs, slog.Attr{Key: h.prefix + a.Key, Value: a.Value})
	}
	return &c
}

func (h *clientLogHandler) WithGroup(name string) slog.Handler {
	if name == "" {
		return h
	}
	c := *h
	c.next = h.next.WithGroup(name)
	c.prefix = h.prefix + name + "."
	return &c
}

// clientWants reports whether the client of the request in ctx asked for
// log messages at level: false outside an MCP request.
func clientWants(ctx context.Context, level mcp.LoggingLevel) bool {
	if server.ServerFromContext(ctx) == nil {
		return false
	}
	session := server.ClientSessionFromContext(ctx)
	if session == nil || !session.Initialized() {
		return false
	}
	if info := server.RequestProtocolInfoFromContext(ctx); info != nil && info.Modern {
		return info.LogLevel != "" && level.ShouldSendTo(info.LogLevel)
	}
	s, ok := session.(server.SessionWithLogging)
	return ok && level.ShouldSendTo(s.GetLogLevel())
}

// mcpLevel maps a slog level to the nearest MCP (syslog) level.
func mcpLevel(l slog.Level) mcp.LoggingLevel {
	switch {
	case l < slog.LevelInfo:
		return mcp.LoggingLevelDebug
	case l < slog.LevelInfo+2:
		return mcp.LoggingLevelInfo
	case l < slog.LevelWarn:
		return mcp.LoggingLevelNotice
	case l < slog.LevelError:
		return mcp.LoggingLevelWarning
	}
	return mcp.LoggingLevelError
}

// addLogAttr adds a's value to data under prefix+key, groups flattened.
func addLogAttr(data map[string]any, prefix string, a slog.Attr) {
	v := a.Value.Resolve() // a client.Secret resolves to [REDACTED]
	if v.Kind() == slog.KindGroup {
		p := prefix
		if a.Key != "" {
			p += a.Key + "."
		}
		for _, g := range v.Group() {
			addLogAttr(data, p, g)
		}
		return
	}
	if a.Key == "" {
		return
	}
	var out any
	switch v.Kind() {
	case slog.KindString:
		out = resources.Clean(v.String(), maxLogText)
	case slog.KindInt64:
		out = v.Int64()
	case slog.KindUint64:
		out = v.Uint64()
	case slog.KindFloat64:
		out = v.Float64()
	case slog.KindBool:
		out = v.Bool()
	case slog.KindDuration:
		out = v.Duration().String()
	case slog.KindTime:
		out = v.Time().UTC().Format(time.RFC3339Nano)
	default:
		switch x := v.Any().(type) {
		case error:
			out = resources.Clean(x.Error(), maxLogText)
		case fmt.Stringer:
			out = resources.Clean(x.String(), maxLogText)
		default:
			return // an arbitrary value may hold anything: not sent
		}
	}
	data[prefix+a.Key] = out
}

// operatorOnly returns l without its clients' copy: for mcp-go's own log
// of every request and tool call, which would only echo to a client what
// it asked for.
func operatorOnly(l *slog.Logger) *slog.Logger {
	if h, ok := l.Handler().(*clientLogHandler); ok {
		return slog.New(h.next)
	}
	return l
}

// stdLogger adapts a slog.Logger for libraries that want a *log.Logger.
func stdLogger(l *slog.Logger, level slog.Level) *log.Logger {
	return slog.NewLogLogger(l.Handler(), level)
}

// isTerminal reports whether w (a stream) is a terminal. A character
// device is not enough: /dev/null is one too, and a server started with
// </dev/null must not greet a person who is not there.
func isTerminal(w any) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	raw, err := f.SyscallConn() // not f.Fd(), which would make f blocking
	if err != nil {
		return false
	}
	tty := false
	if err := raw.Control(func(fd uintptr) { tty = term.IsTerminal(int(fd)) }); err != nil {
		return false
	}
	return tty
}
