package hosted

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"
)

func TestDiscoveryURLs(t *testing.T) {
	tests := map[string][]string{
		"https://idp.example.com": {
			"https://idp.example.com/.well-known/oauth-authorization-server",
			"https://idp.example.com/.well-known/openid-configuration"},
		"https://sso.example.com/realms/mssp": {
			"https://sso.example.com/.well-known/oauth-authorization-server/realms/mssp",
			"https://sso.example.com/.well-known/openid-configuration/realms/mssp",
			"https://sso.example.com/realms/mssp/.well-known/openid-configuration"},
		"https://login.microsoftonline.com/tid/v2.0/": {
			"https://login.microsoftonline.com/.well-known/oauth-authorization-server/tid/v2.0",
			"https://login.microsoftonline.com/.well-known/openid-configuration/tid/v2.0",
			"https://login.microsoftonline.com/tid/v2.0/.well-known/openid-configuration"},
	}
	for id, want := range tests {
		if got := discoveryURLs(id); !slices.Equal(got, want) {
			t.Errorf("%s:\n got %v\nwant %v", id, got, want)
		}
	}
}

// TestIssuerDiscoveryWithPath: an issuer with a path (Keycloak's realms)
// whose metadata is only at the appended OpenID location is found; a
// metadata document naming another issuer is refused; symmetric and
// encryption keys of a JWKS are never used.
func TestIssuerDiscoveryWithPath(t *testing.T) {
	ec, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	sig := jose.JSONWebKey{Key: &ec.PublicKey, KeyID: "sig", Use: "sig", Algorithm: "ES256"}
	enc := jose.JSONWebKey{Key: &ec.PublicKey, KeyID: "enc", Use: "enc"}
	oct := jose.JSONWebKey{Key: []byte("0123456789abcdef0123456789abcdef"), KeyID: "oct", Algorithm: "HS256"}
	var base string
	lie := false
	mux := http.NewServeMux()
	mux.HandleFunc("/realms/soc/.well-known/openid-configuration", func(w http.ResponseWriter, r *http.Request) {
		iss := base + "/realms/soc"
		if lie {
			iss = "https://evil.example"
		}
		_ = json.NewEncoder(w).Encode(map[string]string{"issuer": iss, "jwks_uri": base + "/realms/soc/certs"})
	})
	mux.HandleFunc("/realms/soc/certs", func(w http.ResponseWriter, r *http.Request) {
		_ = json.NewEncoder(w).Encode(jose.JSONWebKeySet{Keys: []jose.JSONWebKey{oct, enc, sig}})
	})
	srv := httptest.NewServer(mux)
	defer srv.Close()
	base = srv.URL
	newIssuer := func() *issuer {
		return &issuer{id: base + "/realms/soc", client: oauthHTTPClient(time.Second), timeout: time.Second,
			minRefresh: time.Hour, maxAge: time.Hour, now: time.Now, log: slog.New(slog.DiscardHandler)}
	}
	ctx := context.Background()
	keys, err := newIssuer().keysFor(ctx, "sig")
	if err != nil || len(keys) != 1 || keys[0].KeyID != "sig" {
		t.Fatalf("keys %v, %v", keys, err)
	}
	for _, kid := range []string{"oct", "enc"} {
		if _, err := newIssuer().keysFor(ctx, kid); err == nil {
			t.Errorf("the %s key was offered for verification", kid)
		}
	}
	lie = true
	is := newIssuer()
	if _, err := is.keysFor(ctx, "sig"); err != errKeysUnavailable || !strings.Contains(is.lastErr.Error(), "names the issuer") {
		t.Errorf("metadata naming another issuer: %v / %v", err, is.lastErr)
	}
}

func TestCheckFetchURL(t *testing.T) {
	for u, ok := range map[string]bool{
		"https://idp.example.com/x": true, "http://127.0.0.1:8080": true, "http://[::1]:1": true, "http://localhost:9": true,
		"http://idp.example.com": false, "ftp://idp.example.com": false, "https://user:pw@idp.example.com": false, "/relative": false,
	} {
		if err := checkFetchURL(u); (err == nil) != ok {
			t.Errorf("%s: %v", u, err)
		}
	}
}

func TestParseTenantsOAuth(t *testing.T) {
	doc := `{"tenants":[
		{"name":"a","clientId":"x","clientSecretEnv":"S","oauth":{"issuer":"https://i.example","claim":"tid","values":["t1"]}},
		{"name":"b","clientId":"y","clientSecretEnv":"S","oauth":[{"issuer":"https://j.example"},{"issuer":"https://i.example","claim":"tid","values":["t2"]}]}]}`
	cfgs, _, err := ParseTenants([]byte(doc), "test")
	if err != nil {
		t.Fatal(err)
	}
	if len(cfgs[0].OAuth) != 1 || len(cfgs[1].OAuth) != 2 || cfgs[1].OAuth[1].Values[0] != "t2" {
		t.Errorf("parsed %+v", cfgs)
	}
	if err := checkTenants(cfgs, false); err != nil {
		t.Errorf("valid bindings refused: %v", err)
	}
	if _, _, err := ParseTenants([]byte(`{"tenants":[{"name":"a","oauth":{"issuer":"https://i.example","clam":"tid"}}]}`), "test"); err == nil {
		t.Error("a typo in oauth was accepted")
	}
	shared := `{"tenants":[
		{"name":"a","clientId":"x","clientSecretEnv":"S","oauth":{"issuer":"https://i.example","claim":"tid","values":["t1"]}},
		{"name":"b","clientId":"y","clientSecretEnv":"S","oauth":{"issuer":"https://i.example","claim":"tid","values":["t1"]}}]}`
	cfgs, _, _ = ParseTenants([]byte(shared), "test")
	if err := checkTenants(cfgs, false); err == nil || !strings.Contains(err.Error(), "both claim") {
		t.Errorf("a claim value shared by two tenants: %v", err)
	}
}
