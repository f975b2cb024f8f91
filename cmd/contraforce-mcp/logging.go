package main

import (
	"io"
	"log"
	"log/slog"
	"os"
	"time"

	"github.com/lmittmann/tint"
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

// isTerminal reports whether w (a stream) is a character device: a terminal.
func isTerminal(w any) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}
