package hosted

import (
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/contraforce/contraforce-mcp/client"
)

var (
	hashA = HashToken("token-a")
	hashB = HashToken("token-b")
)

func TestParseTenants(t *testing.T) {
	tests := []struct {
		name, doc string
		tenants   int
		warn      string
		err       string
	}{
		{name: "one hash as a string", doc: `{"tenants":[{"name":"a","tokenSha256":"` + hashA + `","clientId":"id","clientSecretEnv":"S"}]}`, tenants: 1},
		{name: "hashes as a list", doc: `{"tenants":[{"name":"a","tokenSha256":["` + hashA + `","` + hashB + `"],"clientId":"id","clientSecretEnv":"S"}]}`, tenants: 1},
		{name: "inline secret warns", doc: `{"tenants":[{"name":"a","tokenSha256":"` + hashA + `","clientId":"id","clientSecret":"cf_sa_x"}]}`, tenants: 1, warn: "inline"},
		{name: "unknown field", doc: `{"tenants":[{"name":"a","read_only":true}]}`, err: "read_only"},
		{name: "no tenants", doc: `{"tenants":[]}`, err: "no tenants"},
		{name: "not JSON", doc: `tenants: []`, err: "expected"},
		{name: "trailing data", doc: `{"tenants":[{"name":"a"}]} {}`, err: "after the JSON"},
		{name: "hash of the wrong type", doc: `{"tenants":[{"name":"a","tokenSha256":42}]}`, err: "tokenSha256"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfgs, warns, err := ParseTenants([]byte(tt.doc), "tenants.json")
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) {
					t.Fatalf("err %v, want %q", err, tt.err)
				}
				return
			}
			if err != nil || len(cfgs) != tt.tenants {
				t.Fatalf("%d tenants, err %v", len(cfgs), err)
			}
			if tt.warn != "" && (len(warns) != 1 || !strings.Contains(warns[0], tt.warn)) {
				t.Errorf("warnings %q, want %q", warns, tt.warn)
			}
			if strings.Contains(strings.Join(warns, " "), "cf_sa_x") {
				t.Error("a warning shows the secret")
			}
		})
	}
}

func TestBuildTenants(t *testing.T) {
	dir := t.TempDir()
	secretFile := filepath.Join(dir, "secret")
	if err := os.WriteFile(secretFile, []byte("cf_sa_fromfile\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	api := APIConfig{BaseURL: "http://127.0.0.1:1/api/v2"}
	getenv := func(k string) string { return map[string]string{"SECRET_A": "cf_sa_fromenv"}[k] }
	good := TenantConfig{Name: "a", TokenSHA256: HashList{hashA}, ClientID: "id-a", ClientSecretEnv: "SECRET_A"}
	with := func(f func(*TenantConfig)) TenantConfig { c := good; f(&c); return c }
	tests := []struct {
		name        string
		cfgs        []TenantConfig
		passthrough bool
		err         string
	}{
		{name: "env secret", cfgs: []TenantConfig{good}},
		{name: "file secret", cfgs: []TenantConfig{with(func(c *TenantConfig) { c.ClientSecretEnv, c.ClientSecretFile = "", secretFile })}},
		{name: "two tenants", cfgs: []TenantConfig{good, with(func(c *TenantConfig) { c.Name, c.TokenSHA256 = "b", HashList{hashB} })}},
		{name: "bad name", cfgs: []TenantConfig{with(func(c *TenantConfig) { c.Name = "a b" })}, err: "name"},
		{name: "no token", cfgs: []TenantConfig{with(func(c *TenantConfig) { c.TokenSHA256 = nil })}, err: "tokenSha256 is missing"},
		{name: "bad hash", cfgs: []TenantConfig{with(func(c *TenantConfig) { c.TokenSHA256 = HashList{"xyz"} })}, err: "not a hex SHA-256"},
		{name: "no client id", cfgs: []TenantConfig{with(func(c *TenantConfig) { c.ClientID = "" })}, err: "clientId"},
		{name: "two secrets", cfgs: []TenantConfig{with(func(c *TenantConfig) { c.ClientSecret = "cf_sa_x" })}, err: "exactly once"},
		{name: "no secret", cfgs: []TenantConfig{with(func(c *TenantConfig) { c.ClientSecretEnv = "" })}, err: "exactly once"},
		{name: "empty env", cfgs: []TenantConfig{with(func(c *TenantConfig) { c.ClientSecretEnv = "UNSET" })}, err: "UNSET"},
		{name: "missing file", cfgs: []TenantConfig{with(func(c *TenantConfig) { c.ClientSecretEnv, c.ClientSecretFile = "", dir+"/none" })}, err: "clientSecretFile"},
		{name: "bad scope", cfgs: []TenantConfig{with(func(c *TenantConfig) { c.Scopes = []client.Scope{"incidents:delete"} })}, err: "unknown scope"},
		{name: "duplicate name", cfgs: []TenantConfig{good, with(func(c *TenantConfig) { c.TokenSHA256 = HashList{hashB} })}, err: "listed twice"},
		{name: "shared token", cfgs: []TenantConfig{good, with(func(c *TenantConfig) { c.Name = "b" })}, err: "share a token"},
		{name: "passthrough without credential", passthrough: true,
			cfgs: []TenantConfig{with(func(c *TenantConfig) { c.ClientID, c.ClientSecretEnv = "", "" })}},
		{name: "passthrough with a credential", passthrough: true, cfgs: []TenantConfig{good}, err: "must not have a stored credential"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ts, err := BuildTenants(tt.cfgs, BuildOptions{API: api, Passthrough: tt.passthrough, Getenv: getenv,
				DefaultScopes: []client.Scope{client.ScopeIncidentsRead}})
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) {
					t.Fatalf("err %v, want %q", err, tt.err)
				}
				if strings.Contains(err.Error(), "cf_sa_") {
					t.Errorf("error shows a secret: %v", err)
				}
				return
			}
			if err != nil || len(ts) != len(tt.cfgs) {
				t.Fatalf("%d tenants, err %v", len(ts), err)
			}
			if (ts[0].Session() == nil) != tt.passthrough {
				t.Errorf("session %v with passthrough %v", ts[0].Session(), tt.passthrough)
			}
			if s := ts[0].Session(); s != nil && (s.Tenant != ts[0].Name || len(s.Scopes) != 1) {
				t.Errorf("session %+v: want the tenant's name and the default scopes", s)
			}
		})
	}
}

// TestTenantSecretReachesTheAPIOnly: the resolved secret authenticates the
// tenant's API client and appears in nothing printable.
func TestTenantSecretReachesTheAPIOnly(t *testing.T) {
	var got string
	api := httptest.NewServer(httpHandlerFunc(func(user, pass string) { got = user + ":" + pass }))
	defer api.Close()
	ts, err := BuildTenants([]TenantConfig{{Name: "a", TokenSHA256: HashList{hashA}, ClientID: "id-a", ClientSecretEnv: "S"}},
		BuildOptions{API: APIConfig{BaseURL: api.URL}, Getenv: func(string) string { return "cf_sa_resolved" }})
	if err != nil {
		t.Fatal(err)
	}
	_, _ = ts[0].Session().Client.ListUsers(t.Context())
	if got != "id-a:cf_sa_resolved" {
		t.Errorf("the API saw credential %q", got)
	}
}
