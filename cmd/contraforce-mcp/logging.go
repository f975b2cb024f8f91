package main

import (
	"io"
	"log"
	"log/slog"
	"os"
	"time"

	"github.com/lmittmann/tint"
	"golang.org/x/term"
)

// newLogger logs to w (stderr: over stdio, stdout is the protocol and
// nothing else may write there), in colour only when w is a terminal.
func newLogger(w io.Writer, level slog.Level) *slog.Logger {
	return slog.New(tint.NewHandler(w, &tint.Options{
		Level:      level,
		TimeFormat: time.TimeOnly,
		NoColor:    !isTerminal(w),
	}))
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
