package main

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"
	"github.com/mark3labs/mcp-go/mcp"
	"github.com/mark3labs/mcp-go/server"

	"github.com/contraforce/contraforce-mcp/client"
	"github.com/contraforce/contraforce-mcp/cmd/contraforce-mcp/hosted"
)

// oauthResource is the canonical URL the OAuth tests' server claims.
const oauthResource = "https://mcp.test.example"

// testIssuer is an authorization server on loopback: OpenID discovery and
// a JWKS, with keys it can rotate, and a switch that makes its JWKS hang.
type testIssuer struct {
	t   *testing.T
	url string

	mu        sync.Mutex
	signing   jose.JSONWebKey   // the private key tokens are signed with
	published []jose.JSONWebKey // the public keys of the JWKS

	hits     atomic.Int64 // every request
	jwksHits atomic.Int64
	hang     chan struct{} // non-nil: the JWKS answers only when it closes
}

func newTestIssuer(t *testing.T, hang bool) *testIssuer {
	t.Helper()
	ti := &testIssuer{t: t}
	if hang {
		ti.hang = make(chan struct{})
	}
	ti.signing = newSigningKey(t, "rsa")
	ti.published = []jose.JSONWebKey{ti.signing.Public()}
	mux := http.NewServeMux()
	mux.HandleFunc("/.well-known/openid-configuration", func(w http.ResponseWriter, r *http.Request) {
		ti.hits.Add(1)
		_ = json.NewEncoder(w).Encode(map[string]any{"issuer": ti.url, "jwks_uri": ti.url + "/jwks"})
	})
	mux.HandleFunc("/jwks", func(w http.ResponseWriter, r *http.Request) {
		ti.hits.Add(1)
		ti.jwksHits.Add(1)
		if ti.hang != nil {
			select {
			case <-ti.hang:
			case <-r.Context().Done():
			}
			return
		}
		ti.mu.Lock()
		defer ti.mu.Unlock()
		_ = json.NewEncoder(w).Encode(jose.JSONWebKeySet{Keys: ti.published})
	})
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		ti.hits.Add(1)
		http.NotFound(w, r)
	})
	srv := httptest.NewServer(mux)
	ti.url = srv.URL
	t.Cleanup(func() {
		if ti.hang != nil {
			close(ti.hang)
		}
		srv.Close()
	})
	return ti
}

// newSigningKey returns a private key with a random kid.
func newSigningKey(t *testing.T, kind string) jose.JSONWebKey {
	t.Helper()
	kid := rand.Text()[:12]
	if kind == "rsa" {
		k, err := rsa.GenerateKey(rand.Reader, 2048)
		if err != nil {
			t.Fatal(err)
		}
		return jose.JSONWebKey{Key: k, KeyID: kid, Algorithm: string(jose.RS256), Use: "sig"}
	}
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return jose.JSONWebKey{Key: k, KeyID: kid, Algorithm: string(jose.ES256), Use: "sig"}
}

// rotate signs with a new key from now on and publishes only it.
func (ti *testIssuer) rotate() jose.JSONWebKey {
	k := newSigningKey(ti.t, "ec")
	ti.mu.Lock()
	defer ti.mu.Unlock()
	ti.signing, ti.published = k, []jose.JSONWebKey{k.Public()}
	return k
}

// claims are a valid token's claims for jane of contoso; mutate adjusts.
func (ti *testIssuer) claims(mutate func(map[string]any)) map[string]any {
	now := time.Now().Unix()
	c := map[string]any{
		"iss": ti.url, "sub": "user-jane", "aud": oauthResource, "exp": now + 300, "iat": now, "nbf": now,
		"scope": "incidents:read incidents:write incidents:comments", "email": "jane@contoso.com", "tid": "contoso",
		"client_id": "agent-platform",
	}
	if mutate != nil {
		mutate(c)
	}
	return c
}

// token is a token of the issuer's current key.
func (ti *testIssuer) token(mutate func(map[string]any)) string {
	ti.mu.Lock()
	k := ti.signing
	ti.mu.Unlock()
	return signJWT(ti.t, k, ti.claims(mutate))
}

// signJWT signs claims with a key (its kid goes into the header).
func signJWT(t *testing.T, k jose.JSONWebKey, claims map[string]any) string {
	t.Helper()
	signer, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.SignatureAlgorithm(k.Algorithm), Key: k},
		(&jose.SignerOptions{}).WithType("at+jwt"))
	if err != nil {
		t.Fatal(err)
	}
	s, err := jwt.Signed(signer).Claims(claims).Serialize()
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// startOAuthServe serves tenant-a (static token, and OAuth by tid=contoso
// of good), tenant-b (OAuth of other, every token) and tenant-r (read-only,
// OAuth by tid=readonly of good).
func startOAuthServe(t *testing.T, good, other *testIssuer, tune func(*oauthConfig)) *harness {
	t.Helper()
	return startServe(t, func(sc *serveConfig) {
		sc.TenantsJSON = fmt.Sprintf(`{"tenants": [
			{"name": "tenant-a", "tokenSha256": %q, "clientId": %q, "clientSecretEnv": "SECRET_A",
			 "oauth": {"issuer": %q, "claim": "tid", "values": ["contoso"]}},
			{"name": "tenant-b", "clientId": %q, "clientSecretEnv": "SECRET_B", "oauth": {"issuer": %q}},
			{"name": "tenant-r", "clientId": %q, "clientSecretEnv": "SECRET_A", "readOnly": true,
			 "oauth": [{"issuer": %q, "claim": "tid", "values": ["readonly"]}]}]}`,
			hosted.HashToken(tokenA), tenantAClientID, good.url, tenantBClientID, other.url, tenantAClientID, good.url)
		sc.OAuth = oauthConfig{Resource: oauthResource, FetchTimeout: 3 * time.Second, KeyRefresh: time.Hour}
		if tune != nil {
			tune(&sc.OAuth)
		}
	})
}

// metadataChallenge starts every challenge of the OAuth tests' server.
const metadataChallenge = `Bearer realm="contraforce-mcp", resource_metadata="` + oauthResource + `/.well-known/oauth-protected-resource"`

// TestOAuthEdgeCases: each broken or hostile access token is refused with
// 401 invalid_token (or 403 when it is valid but nobody's), a challenge that
// names the protected resource metadata and says what was wrong; none makes
// the server fetch anything beyond the trusted issuer's one key set.
func TestOAuthEdgeCases(t *testing.T) {
	good, other, stranger := newTestIssuer(t, false), newTestIssuer(t, false), newTestIssuer(t, false)
	h := startOAuthServe(t, good, other, nil)
	now := time.Now().Unix()

	pub := good.signing.Public().Key.(*rsa.PublicKey)
	der, _ := x509.MarshalPKIXPublicKey(pub)
	pemKey := pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der})
	hs256 := signJWT(t, jose.JSONWebKey{Key: pemKey, KeyID: good.signing.KeyID, Algorithm: string(jose.HS256)}, good.claims(nil))
	b64 := func(v any) string { b, _ := json.Marshal(v); return base64.RawURLEncoding.EncodeToString(b) }
	algNone := b64(map[string]any{"alg": "none", "typ": "at+jwt", "kid": good.signing.KeyID}) + "." + b64(good.claims(nil)) + "."
	forgedKey := newSigningKey(t, "rsa")
	forgedKey.KeyID = good.signing.KeyID // the trusted key's kid, someone else's key
	unknownKey := newSigningKey(t, "ec")

	cases := []struct {
		name   string
		token  string
		status int
		want   string // in WWW-Authenticate
	}{
		{"valid", good.token(nil), http.StatusOK, ""},
		{"expired within the clock skew", good.token(func(c map[string]any) { c["exp"] = now - 30 }), http.StatusOK, ""},
		{"static token beside OAuth", tokenA, http.StatusOK, ""},
		{"no token", "", http.StatusUnauthorized, `scope="incidents:read incidents:write incidents:comments"`},
		{"expired", good.token(func(c map[string]any) { c["exp"] = now - 300 }), http.StatusUnauthorized, `error="invalid_token", error_description="the access token has expired"`},
		{"not yet valid", good.token(func(c map[string]any) { c["nbf"] = now + 600 }), http.StatusUnauthorized, `error_description="the access token is not valid yet"`},
		{"issued in the future", good.token(func(c map[string]any) { c["iat"] = now + 600 }), http.StatusUnauthorized, `error_description="the access token is not valid yet"`},
		{"wrong audience", good.token(func(c map[string]any) { c["aud"] = "https://other.example" }), http.StatusUnauthorized, `error_description="the access token is for another resource; request one with resource=` + oauthResource + `"`},
		{"no expiry", good.token(func(c map[string]any) { delete(c, "exp") }), http.StatusUnauthorized, `error_description="the access token has no expiry (exp)"`},
		{"wrong issuer", stranger.token(nil), http.StatusUnauthorized, `error_description="the access token's issuer is not trusted by this server"`},
		{"trusted iss, another's key", signJWT(t, forgedKey, good.claims(nil)), http.StatusUnauthorized, `error_description="the access token's signature does not verify with the issuer's keys"`},
		{"unknown key", signJWT(t, unknownKey, good.claims(nil)), http.StatusUnauthorized, `error_description="the token's signing key (kid) is not in the issuer's key set"`},
		{"alg none", algNone, http.StatusUnauthorized, `error_description="the access token is not a JWT signed with an accepted algorithm (RS*, PS*, ES*, EdDSA)"`},
		{"HS256 signed with the public key", hs256, http.StatusUnauthorized, `error_description="the access token is not a JWT signed with an accepted algorithm (RS*, PS*, ES*, EdDSA)"`},
		{"huge token", good.token(func(c map[string]any) { c["pad"] = strings.Repeat("x", 20<<10) }), http.StatusUnauthorized, `error_description="the access token is larger than this server accepts"`},
		{"garbage shaped like a JWT", "eyJhbGciOiJSUzI1NiJ9.eyJ.sig", http.StatusUnauthorized, `error="invalid_token"`},
		{"valid, no tenant's", good.token(func(c map[string]any) { c["tid"] = "fabrikam" }), http.StatusForbidden, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			resp := h.do(t, http.MethodPost, "/mcp", tc.token, initBody, nil)
			body, _ := io.ReadAll(resp.Body)
			if resp.StatusCode != tc.status {
				t.Fatalf("status %d, want %d: %s", resp.StatusCode, tc.status, body)
			}
			got := resp.Header.Get("WWW-Authenticate")
			if tc.status == http.StatusOK {
				if got != "" {
					t.Errorf("WWW-Authenticate on success: %q", got)
				}
				return
			}
			if !strings.HasPrefix(got, metadataChallenge) || !strings.Contains(got, tc.want) {
				t.Errorf("WWW-Authenticate %q\nwant prefix %q and %q", got, metadataChallenge, tc.want)
			}
			if tc.status == http.StatusForbidden && strings.Contains(got, "error=") {
				t.Errorf("a valid token of no tenant is not an RFC 6750 error: %q", got)
			}
			if strings.Contains(string(body), tc.token[min(len(tc.token), 20):]) && tc.token != "" {
				t.Errorf("the body echoes the token: %s", body)
			}
		})
	}
	// Nothing a token said made the server fetch: the stranger was never
	// asked, and the trusted issuer's keys were fetched once (at start;
	// the unknown kid found the refresh interval not yet passed).
	if n := stranger.hits.Load(); n != 0 {
		t.Errorf("the untrusted issuer got %d requests", n)
	}
	if n := good.jwksHits.Load(); n != 1 {
		t.Errorf("the trusted issuer's JWKS was fetched %d times, want 1", n)
	}
	if v := h.metric(t, `contraforce_mcp_rejected_requests_total{reason="no_tenant"}`); v != 1 {
		t.Errorf("no_tenant rejections = %v", v)
	}
}

// TestOAuthUnknownKidFloodIsBounded: a stream of tokens naming unknown keys
// costs the issuer at most one key fetch per refresh interval.
func TestOAuthUnknownKidFloodIsBounded(t *testing.T) {
	good, other := newTestIssuer(t, false), newTestIssuer(t, false)
	h := startOAuthServe(t, good, other, nil)
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			for range 5 {
				k := newSigningKey(t, "ec")
				resp := h.do(t, http.MethodPost, "/mcp", signJWT(t, k, good.claims(nil)), initBody, nil)
				if resp.StatusCode != http.StatusUnauthorized {
					t.Errorf("unknown kid: %d", resp.StatusCode)
				}
			}
		})
	}
	wg.Wait()
	if n := good.jwksHits.Load(); n != 1 {
		t.Errorf("40 unknown kids made %d JWKS fetches, want 1 (the first)", n)
	}
}

// TestOAuthKeyRotation: after the issuer rotates its keys, a token of the
// new key is accepted once the refresh interval allows a fetch, and a token
// of the withdrawn key is refused.
func TestOAuthKeyRotation(t *testing.T) {
	good, other := newTestIssuer(t, false), newTestIssuer(t, false)
	h := startOAuthServe(t, good, other, func(oc *oauthConfig) { oc.KeyRefresh = 200 * time.Millisecond })
	old := good.token(nil)
	if resp := h.do(t, http.MethodPost, "/mcp", old, initBody, nil); resp.StatusCode != http.StatusOK {
		t.Fatalf("before rotation: %d", resp.StatusCode)
	}
	good.rotate()
	fresh := good.token(nil)
	eventually(t, 5*time.Second, "a token of the rotated key is accepted", func() bool {
		resp := h.do(t, http.MethodPost, "/mcp", fresh, initBody, nil)
		if resp.StatusCode != http.StatusOK {
			time.Sleep(50 * time.Millisecond)
		}
		return resp.StatusCode == http.StatusOK
	})
	resp := h.do(t, http.MethodPost, "/mcp", old, initBody, nil)
	if resp.StatusCode != http.StatusUnauthorized || !strings.Contains(resp.Header.Get("WWW-Authenticate"), `error="invalid_token"`) {
		t.Errorf("a token of the withdrawn key: %d %q", resp.StatusCode, resp.Header.Get("WWW-Authenticate"))
	}
	if n := good.jwksHits.Load(); n > 6 {
		t.Errorf("rotation cost %d JWKS fetches", n)
	}
}

// TestOAuthHangingJWKSBlocksNoOtherTenant: while tenant B's issuer hangs on
// its key set, tenant A's users and static tokens are served; B's request
// is refused 401 when the fetch times out, and the next one at once.
func TestOAuthHangingJWKSBlocksNoOtherTenant(t *testing.T) {
	good, hanging := newTestIssuer(t, false), newTestIssuer(t, true)
	h := startOAuthServe(t, good, hanging, nil)
	eventually(t, 5*time.Second, "the hanging JWKS is asked", func() bool { return hanging.jwksHits.Load() > 0 })

	type result struct {
		status    int
		challenge string
	}
	bDone := make(chan result, 1)
	go func() {
		req, _ := http.NewRequest(http.MethodPost, h.url+"/mcp", strings.NewReader(initBody))
		req.Header.Set("Authorization", "Bearer "+hanging.token(nil))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Accept", "application/json, text/event-stream")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			bDone <- result{}
			return
		}
		resp.Body.Close()
		bDone <- result{resp.StatusCode, resp.Header.Get("WWW-Authenticate")}
	}()
	for _, tok := range []string{good.token(nil), tokenA} {
		if resp := h.do(t, http.MethodPost, "/mcp", tok, initBody, nil); resp.StatusCode != http.StatusOK {
			t.Errorf("tenant A while B's issuer hangs: %d", resp.StatusCode)
		}
	}
	select {
	case r := <-bDone:
		t.Errorf("B's request ended (%d) before A's were served: it did not wait on its fetch, or A waited on it", r.status)
	default:
	}
	var r result
	select {
	case r = <-bDone:
	case <-time.After(15 * time.Second):
		t.Fatal("B's request is still waiting: the key fetch is not bounded")
	}
	if r.status != http.StatusUnauthorized || !strings.Contains(r.challenge, `error_description="the issuer's signing keys could not be fetched"`) {
		t.Errorf("B while its JWKS hangs: %d %q", r.status, r.challenge)
	}
	// Within the refresh interval nothing is fetched again: refused at once.
	if resp := h.do(t, http.MethodPost, "/mcp", hanging.token(nil), initBody, nil); resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("B again: %d", resp.StatusCode)
	}
	if n := hanging.jwksHits.Load(); n != 1 {
		t.Errorf("the hanging JWKS was asked %d times, want 1", n)
	}
}

// TestOAuthScopesNarrowTheSession: a token's scopes narrow the tools offered
// (never beyond the tenant's), a call outside them is answered 403
// insufficient_scope naming the scope, and what the agent writes names the
// user it acts for, in the comment and the audit log.
func TestOAuthScopesNarrowTheSession(t *testing.T) {
	good, other := newTestIssuer(t, false), newTestIssuer(t, false)
	h := startOAuthServe(t, good, other, nil)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	ref := h.refIn(workspacesA, 0)

	toolNames := func(token string) []string {
		c := h.mustConnect(ctx, "http", token, legacy)
		res, err := c.ListTools(ctx, mcp.ListToolsRequest{})
		if err != nil {
			t.Fatal(err)
		}
		var names []string
		for _, tl := range res.Tools {
			names = append(names, tl.Name)
		}
		slices.Sort(names)
		return names
	}
	reads := []string{"find_related_incidents", "get_incident", "list_incidents", "list_users", "whoami"}
	readOnly := good.token(func(c map[string]any) { c["scope"] = "incidents:read" })
	if got := toolNames(readOnly); !slices.Equal(got, reads) {
		t.Errorf("tools for an incidents:read token: %v", got)
	}
	if got := toolNames(good.token(func(c map[string]any) { c["scope"] = "openid" })); len(got) != 0 {
		t.Errorf("tools for a token without our scopes: %v", got)
	}
	// Entra ID's form: scp, naming the scope without its URI.
	if got := toolNames(good.token(func(c map[string]any) { delete(c, "scope"); c["scp"] = "incidents:read incidents:comments" })); len(got) != len(reads)+1 {
		t.Errorf("tools for an scp token: %v", got)
	}
	// A read-only tenant's token with every scope still gets only reads.
	if got := toolNames(good.token(func(c map[string]any) { c["tid"] = "readonly" })); !slices.Equal(got, reads) {
		t.Errorf("tools for the read-only tenant: %v", got)
	}

	// A direct call outside the token's scopes: 403 and the scope to ask for.
	sid := h.openStreamable(t, readOnly)
	callBody := fmt.Sprintf(`{"jsonrpc":"2.0","id":7,"method":"tools/call","params":{"name":"add_comment","arguments":{"workspaceId":%q,"source":%q,"incidentId":%q,"content":"x"}}}`,
		ref.WorkspaceID, ref.Source, ref.IncidentID)
	resp := h.do(t, http.MethodPost, "/mcp", readOnly, callBody, map[string]string{server.HeaderKeySessionID: sid})
	body, _ := io.ReadAll(resp.Body)
	want := metadataChallenge + `, scope="incidents:read incidents:comments", error="insufficient_scope"`
	if resp.StatusCode != http.StatusForbidden || !strings.HasPrefix(resp.Header.Get("WWW-Authenticate"), want) {
		t.Errorf("add_comment with an incidents:read token: %d %q, want 403 %q", resp.StatusCode, resp.Header.Get("WWW-Authenticate"), want)
	}
	if !strings.Contains(string(body), `"id":7`) {
		t.Errorf("the 403 body is not a JSON-RPC error for the call: %s", body)
	}
	// Reading a resource needs incidents:read too.
	readRes := `{"jsonrpc":"2.0","id":8,"method":"resources/read","params":{"uri":"contraforce://reference/closure-policy"}}`
	sidNone := h.openStreamable(t, good.token(func(c map[string]any) { c["scope"] = "openid" }))
	resp = h.do(t, http.MethodPost, "/mcp", good.token(func(c map[string]any) { c["scope"] = "openid" }), readRes, map[string]string{server.HeaderKeySessionID: sidNone})
	if resp.StatusCode != http.StatusForbidden || !strings.Contains(resp.Header.Get("WWW-Authenticate"), `scope="incidents:read"`) {
		t.Errorf("resources/read without incidents:read: %d %q", resp.StatusCode, resp.Header.Get("WWW-Authenticate"))
	}
	// The session is jane's: bob of the same tenant cannot use it.
	bob := good.token(func(c map[string]any) { c["sub"], c["email"] = "user-bob", "bob@contoso.com" })
	if resp := h.do(t, http.MethodPost, "/mcp", bob, callBody, map[string]string{server.HeaderKeySessionID: sid}); resp.StatusCode != http.StatusNotFound {
		t.Errorf("bob on jane's session: %d, want 404", resp.StatusCode)
	}

	// With the scope, the comment is written on jane's behalf.
	c := h.mustConnect(ctx, "http", good.token(nil), legacy)
	res := call(ctx, t, c, "add_comment", map[string]any{"workspaceId": ref.WorkspaceID, "source": string(ref.Source), "incidentId": ref.IncidentID, "content": "Checked the sign-in logs."})
	if res.IsError {
		t.Fatalf("add_comment: %s", text(res))
	}
	if got := commentWith(h, ref, "Checked the sign-in logs."); got != "[AI agent: e2e-test via contraforce-mcp on behalf of jane@contoso.com] Checked the sign-in logs." {
		t.Errorf("comment %q", got)
	}
	_, recs := h.auditRecords(t)
	rec := recs[len(recs)-1]
	if rec.Tenant != "tenant-a" || rec.OnBehalfOf == nil || rec.OnBehalfOf.Name != "jane@contoso.com" ||
		rec.OnBehalfOf.Subject != "user-jane" || rec.OnBehalfOf.Issuer != good.url {
		t.Errorf("audit record %+v (user %+v)", rec, rec.OnBehalfOf)
	}
	// The static token of the same tenant writes as the agent alone.
	cs := h.mustConnect(ctx, "http", tokenA, legacy)
	res = call(ctx, t, cs, "add_comment", map[string]any{"workspaceId": ref.WorkspaceID, "source": string(ref.Source), "incidentId": ref.IncidentID, "content": "Static."})
	if res.IsError {
		t.Fatalf("add_comment with the static token: %s", text(res))
	}
	if got := commentWith(h, ref, "Static."); got == "" || strings.Contains(got, "on behalf of") {
		t.Errorf("static token comment %q", got)
	}
}

// commentWith returns the incident's comment ending with text.
func commentWith(h *harness, ref client.IncidentRef, text string) string {
	for _, c := range h.emu.Comments(ref) {
		if strings.HasSuffix(c.Message, text) {
			return c.Message
		}
	}
	return ""
}

// TestOAuthProtectedResourceMetadata: the RFC 9728 document names the
// resource, every tenant's issuer and the scopes, for any origin.
func TestOAuthProtectedResourceMetadata(t *testing.T) {
	good, other := newTestIssuer(t, false), newTestIssuer(t, false)
	h := startOAuthServe(t, good, other, nil)
	resp := h.do(t, http.MethodGet, "/.well-known/oauth-protected-resource", "", "", map[string]string{"Origin": "https://claude.ai"})
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("metadata: %d", resp.StatusCode)
	}
	var md server.ProtectedResourceMetadataConfig
	if err := json.NewDecoder(resp.Body).Decode(&md); err != nil {
		t.Fatal(err)
	}
	wantAS := []string{good.url, other.url}
	slices.Sort(wantAS)
	if md.Resource != oauthResource || !slices.Equal(md.AuthorizationServers, wantAS) ||
		!slices.Equal(md.ScopesSupported, []string{"incidents:read", "incidents:write", "incidents:comments", "gamebooks:read", "gamebooks:run"}) ||
		!slices.Equal(md.BearerMethodsSupported, []string{"header"}) {
		t.Errorf("metadata %+v", md)
	}
	if got := resp.Header.Get("Access-Control-Allow-Origin"); got != "*" {
		t.Errorf("metadata CORS %q", got)
	}
}

// TestOAuthConfigurationErrors: what cannot work is refused at start.
func TestOAuthConfigurationErrors(t *testing.T) {
	iss := "https://login.example.com/tenant/v2.0"
	cases := []struct {
		name    string
		tenants string
		oc      oauthConfig
		want    string
	}{
		{"oauth without resource", `{"tenants":[{"name":"a","clientId":"x","clientSecretEnv":"S","oauth":{"issuer":"` + iss + `"}}]}`,
			oauthConfig{}, "OAuth is off"},
		{"plain http issuer", `{"tenants":[{"name":"a","clientId":"x","clientSecretEnv":"S","oauth":{"issuer":"http://login.example.com"}}]}`,
			oauthConfig{Resource: oauthResource}, "use https"},
		{"two catch-alls", `{"tenants":[{"name":"a","clientId":"x","clientSecretEnv":"S","oauth":{"issuer":"` + iss + `"}},
			{"name":"b","clientId":"y","clientSecretEnv":"S","oauth":{"issuer":"` + iss + `","claim":"tid","values":["t"]}}]}`,
			oauthConfig{Resource: oauthResource}, "one has no claim"},
		{"unused issuer flag", `{"tenants":[{"name":"a","tokenSha256":"` + hosted.HashToken("t") + `","clientId":"x","clientSecretEnv":"S"}]}`,
			oauthConfig{Resource: oauthResource, Issuers: []string{iss}}, "serves no tenant"},
		{"claim without values", `{"tenants":[{"name":"a","clientId":"x","clientSecretEnv":"S","oauth":{"issuer":"` + iss + `","claim":"groups"}}]}`,
			oauthConfig{Resource: oauthResource}, "needs the values"},
		{"resource not a URL", `{"tenants":[{"name":"a","clientId":"x","clientSecretEnv":"S","oauth":{"issuer":"` + iss + `"}}]}`,
			oauthConfig{Resource: "mcp.example.com"}, "canonical URL"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			sc := serveConfig{config: config{Scopes: defaultScopes, Timeout: time.Second}, Addr: "127.0.0.1:0", TenantsJSON: tc.tenants, OAuth: tc.oc}
			inst, err := newServe(sc, discardLogger(), io.Discard, func(string) string { return "secret" })
			if err == nil {
				inst.cleanup()
				t.Fatal("started")
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %q, want %q", err, tc.want)
			}
		})
	}
}

// TestOAuthFlags: the OAuth flags and their environment variables.
func TestOAuthFlags(t *testing.T) {
	env := map[string]string{"CONTRAFORCE_OAUTH_ISSUER": "https://env.example", "CONTRAFORCE_OAUTH_RESOURCE": oauthResource}
	getenv := func(k string) string { return env[k] }
	sc, code := parseServeFlags([]string{"--oauth-issuer", "https://a.example", "--oauth-issuer", "https://b.example,https://c.example",
		"--oauth-scope-names", "incidents:read=api://cf/incidents.read", "--oauth-audience", "api://cf,1234"}, io.Discard, getenv)
	if code != -1 {
		t.Fatalf("exit %d", code)
	}
	if !slices.Equal(sc.OAuth.Issuers, []string{"https://a.example", "https://b.example", "https://c.example"}) ||
		sc.OAuth.Resource != oauthResource || sc.OAuth.ScopeNames["incidents:read"] != "api://cf/incidents.read" ||
		!slices.Equal(sc.OAuth.Audiences, []string{"api://cf", "1234"}) || sc.OAuth.KeyRefresh != hosted.DefaultOAuthKeyRefresh {
		t.Errorf("parsed %+v", sc.OAuth)
	}
	if sc, _ := parseServeFlags(nil, io.Discard, getenv); !slices.Equal(sc.OAuth.Issuers, []string{"https://env.example"}) {
		t.Errorf("issuers from the environment: %v", sc.OAuth.Issuers)
	}
	var stderr strings.Builder
	if _, code := parseServeFlags([]string{"--oauth-issuer", "https://a.example"}, &stderr, func(string) string { return "" }); code != 2 || !strings.Contains(stderr.String(), "--oauth-resource") {
		t.Errorf("--oauth-issuer without --oauth-resource: exit %d, %q", code, stderr.String())
	}
	if _, code := parseServeFlags([]string{"--oauth-scope-names", "incidents:read"}, io.Discard, getenv); code != 2 {
		t.Errorf("a scope name without '=': exit %d", code)
	}
}
