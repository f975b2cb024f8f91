package client

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
)

// assertNoSecret fails if s contains the secret, in clear or in its Basic form.
func assertNoSecret(t *testing.T, what, s string) {
	t.Helper()
	basic := base64.StdEncoding.EncodeToString([]byte(testID + ":" + testSecret))
	for _, needle := range []string{testSecret, "TOPSECRET", basic} {
		if strings.Contains(s, needle) {
			t.Errorf("%s leaks the secret (%q): %s", what, needle, s)
		}
	}
}

func TestSecretRedactsInFmt(t *testing.T) {
	s := Secret(testSecret)
	cfg := Config{ClientID: testID, ClientSecret: s}
	for _, verb := range []string{"%v", "%s", "%+v", "%#v", "%q", "%x", "%X", "%d", "%10s", "%-30v", "%T %v"} {
		for name, v := range map[string]any{"secret": s, "pointer": &s, "config": cfg, "config pointer": &cfg} {
			got := fmt.Sprintf(verb, v)
			assertNoSecret(t, name+" "+verb, got)
		}
	}
	if got := fmt.Sprint(s); got != "[REDACTED]" {
		t.Errorf("fmt.Sprint(secret) = %q, want [REDACTED]", got)
	}
	if got := fmt.Sprintf("%q", s); got != `"[REDACTED]"` {
		t.Errorf("%%q = %s, want \"[REDACTED]\"", got)
	}
	if got := s.Reveal(); got != testSecret {
		t.Errorf("Reveal() = %q, want the value", got)
	}
	if got := fmt.Sprint(Secret("")); got != "" {
		t.Errorf("empty secret prints %q, want empty (a missing secret stays visible)", got)
	}
}

func TestSecretRedactsInSlogAndJSON(t *testing.T) {
	s := Secret(testSecret)
	cfg := Config{ClientID: testID, ClientSecret: s, BaseURL: "https://x.example/api/v2"}
	var buf bytes.Buffer
	for _, h := range []slog.Handler{slog.NewTextHandler(&buf, nil), slog.NewJSONHandler(&buf, nil)} {
		l := slog.New(h)
		l.Info("secret", "secret", s, "config", cfg, "ptr", &cfg)
		l.Info("group", slog.Group("g", slog.Any("s", s)))
		l.With("s", s).Info("with")
	}
	assertNoSecret(t, "slog output", buf.String())
	if !strings.Contains(buf.String(), "[REDACTED]") {
		t.Errorf("slog output does not show the redaction marker: %s", buf.String())
	}

	for name, v := range map[string]any{"secret": s, "config": cfg, "map": map[string]any{"s": s}} {
		b, err := json.Marshal(v)
		if err != nil {
			t.Fatalf("json.Marshal(%s): %v", name, err)
		}
		assertNoSecret(t, "json of "+name, string(b))
	}
	if b, _ := json.Marshal(s); string(b) != `"[REDACTED]"` {
		t.Errorf("json.Marshal(secret) = %s", b)
	}
	if b, _ := s.MarshalText(); string(b) != "[REDACTED]" {
		t.Errorf("MarshalText = %s", b)
	}
}

// A Client holds the credential; printing it in any way must not show it.
func TestClientDoesNotPrintSecret(t *testing.T) {
	c, err := New(Config{ClientID: testID, ClientSecret: testSecret})
	if err != nil {
		t.Fatal(err)
	}
	for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%x", "%d"} {
		assertNoSecret(t, "client "+verb, fmt.Sprintf(verb, c))
		assertNoSecret(t, "*client "+verb, fmt.Sprintf(verb, *c))
	}
	cfg := c.Config()
	assertNoSecret(t, "Config()", fmt.Sprintf("%+v %#v", cfg, cfg))
	if cfg.ClientSecret.Reveal() != testSecret {
		t.Error("Config().ClientSecret lost its value")
	}
}

// Debug logs of requests, successes and failures never carry the secret or
// the Authorization header.
func TestLogsNeverCarryCredentials(t *testing.T) {
	var buf bytes.Buffer
	logger := slog.New(slog.NewJSONHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug}))
	var n atomic.Int32
	c, _, _ := newTestClient(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("X-Request-Id", "rid-"+r.Header.Get("Authorization"))
		if n.Add(1)%2 == 1 {
			w.WriteHeader(http.StatusServiceUnavailable)
			fmt.Fprintf(w, "<html><title>down</title>auth was %s secret %s</html>", r.Header.Get("Authorization"), testSecret)
			return
		}
		writeJSON(w, 200, okEnvelope(`[]`))
	}), func(c *Config) { c.Logger = logger })
	if _, err := c.ListUsers(t.Context()); err != nil {
		t.Fatalf("ListUsers: %v", err)
	}
	_, err := c.ListComments(t.Context(), testRef)
	if err != nil {
		t.Fatalf("ListComments: %v", err)
	}
	if buf.Len() == 0 {
		t.Fatal("no debug logs written")
	}
	assertNoSecret(t, "logs", buf.String())
	if strings.Contains(buf.String(), "Authorization") {
		t.Errorf("logs mention the Authorization header: %s", buf.String())
	}
	for _, want := range []string{`"op":"list users"`, `"status":503`, `"attempt":2`, `"method":"GET"`} {
		if !strings.Contains(buf.String(), want) {
			t.Errorf("logs lack %s: %s", want, buf.String())
		}
	}
}
