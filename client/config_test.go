package client

import (
	"net/http"
	"strings"
	"testing"
	"time"
)

func TestNewValidatesConfig(t *testing.T) {
	ok := Config{ClientID: testID, ClientSecret: testSecret}
	tests := []struct {
		name    string
		mutate  func(*Config)
		wantErr string // "" = valid
	}{
		{"defaults", func(*Config) {}, ""},
		{"custom env URL", func(c *Config) { c.BaseURL = "https://acme.platform.contraforce.com/api/v2/" }, ""},
		{"loopback http", func(c *Config) { c.BaseURL = "http://127.0.0.1:8080/api/v2" }, ""},
		{"no client id", func(c *Config) { c.ClientID = " " }, "ClientID is required"},
		{"colon in client id", func(c *Config) { c.ClientID = "a:b" }, "must not contain ':'"},
		{"no secret", func(c *Config) { c.ClientSecret = "" }, "ClientSecret is required"},
		{"relative URL", func(c *Config) { c.BaseURL = "/api/v2" }, "absolute http(s) URL"},
		{"ftp URL", func(c *Config) { c.BaseURL = "ftp://x.example/api/v2" }, "absolute http(s) URL"},
		{"not a URL", func(c *Config) { c.BaseURL = "http://[::1" }, "not a URL"},
		{"credentials in URL", func(c *Config) { c.BaseURL = "https://u:p@x.example/api/v2" }, "must not contain credentials"},
		{"query in URL", func(c *Config) { c.BaseURL = "https://x.example/api/v2?x=1" }, "query or fragment"},
		{"negative timeout", func(c *Config) { c.Timeout = -time.Second }, "must not be negative"},
		{"negative attempts", func(c *Config) { c.MaxAttempts = -1 }, "must not be negative"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := ok
			tt.mutate(&cfg)
			c, err := New(cfg)
			if tt.wantErr == "" {
				if err != nil {
					t.Fatalf("New: %v", err)
				}
				if strings.HasSuffix(c.Config().BaseURL, "/") {
					t.Errorf("BaseURL keeps its trailing slash: %q", c.Config().BaseURL)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("New error = %v, want it to contain %q", err, tt.wantErr)
			}
			assertNoSecret(t, "config error", err.Error())
		})
	}
}

func TestConfigDefaults(t *testing.T) {
	c, err := New(Config{ClientID: testID, ClientSecret: testSecret, Workspaces: []string{" A ", ""}})
	if err != nil {
		t.Fatal(err)
	}
	got := c.Config()
	if got.BaseURL != DefaultBaseURL || got.UserAgent != "contraforce-mcp/"+Version ||
		got.Timeout != 30*time.Second || got.MaxAttempts != 4 || got.MaxRetryTime != 60*time.Second {
		t.Errorf("defaults not applied: %+v", got)
	}
	if len(got.Workspaces) != 1 || got.Workspaces[0] != "A" {
		t.Errorf("Workspaces = %q, want [A]", got.Workspaces)
	}
	got.Workspaces[0] = "changed"
	if c.Config().Workspaces[0] != "A" {
		t.Error("Config() shares its Workspaces slice with the client")
	}
	// The default HTTP client reuses connections and does not follow redirects.
	tr, ok := c.http.Transport.(*http.Transport)
	if !ok || tr.MaxIdleConnsPerHost < 8 || c.http.CheckRedirect == nil {
		t.Errorf("default HTTP client not tuned: %+v", c.http)
	}
}
