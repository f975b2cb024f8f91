package hosted

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"regexp"
	"slices"
	"strings"
	"sync"

	"github.com/contraforce/contraforce-mcp/client"
)

// TenantConfig is one tenant of the tenants file: who may connect (the
// SHA-256 of their bearer tokens), which ContraForce credential their
// sessions use, and the policy those sessions work under.
//
//	{"tenants": [{
//	  "name": "acme",
//	  "tokenSha256": ["<64 hex>", "<64 hex>"],
//	  "clientId": "…", "clientSecretEnv": "ACME_CF_SECRET",
//	  "scopes": ["incidents:read", "incidents:write"],
//	  "workspaces": ["…"], "agentName": "Acme triage bot", "readOnly": false,
//	  "responseActions": false
//	}]}
type TenantConfig struct {
	// Name identifies the tenant in logs, metrics and the audit log.
	Name string `json:"name"`
	// TokenSHA256 holds the hex SHA-256 of each bearer token the tenant may
	// present (several during a rotation): a string or a list of strings.
	TokenSHA256 HashList `json:"tokenSha256"`
	// ClientID is the tenant's service-account client id.
	ClientID string `json:"clientId,omitempty"`
	// ClientSecret is the secret inline; allowed, but clientSecretEnv or
	// clientSecretFile keep it out of the file (a warning says so).
	ClientSecret client.Secret `json:"clientSecret,omitempty"`
	// ClientSecretEnv names the environment variable holding the secret.
	ClientSecretEnv string `json:"clientSecretEnv,omitempty"`
	// ClientSecretFile names a file holding the secret.
	ClientSecretFile string `json:"clientSecretFile,omitempty"`
	// Scopes are the credential's scopes; tools needing others are not offered.
	Scopes []client.Scope `json:"scopes,omitempty"`
	// Workspaces, when set, is the allowlist of workspace ids the tenant may touch.
	Workspaces []string `json:"workspaces,omitempty"`
	// AgentName attributes the tenant's comments ("" derives it from the MCP client).
	AgentName string `json:"agentName,omitempty"`
	// ReadOnly offers only the read tools.
	ReadOnly bool `json:"readOnly,omitempty"`
	// ResponseActions offers run_gamebook (with the scope gamebooks:run).
	ResponseActions bool `json:"responseActions,omitempty"`
	// OAuth lets the tenant's users in with OAuth access tokens: an object
	// or a list of them. A tenant may have OAuth, static tokens, or both.
	OAuth OAuthBindings `json:"oauth,omitempty"`
}

// TenantOAuth admits a tenant's users by OAuth: access tokens of the issuer
// whose claim holds one of the values (a tenant id "tid", a group in
// "groups", an authorized party "azp"). Without a claim, every token of the
// issuer is the tenant's; no other tenant may then use that issuer.
//
//	"oauth": {"issuer": "https://login.microsoftonline.com/<tid>/v2.0", "claim": "tid", "values": ["<tid>"]}
type TenantOAuth struct {
	// Issuer is the authorization server's issuer identifier, exactly as
	// its tokens' iss reads ("" takes the one --oauth-issuer).
	Issuer string `json:"issuer,omitempty"`
	// Claim names the claim that maps a token to the tenant; a dotted path
	// reads a nested one ("realm_access.roles").
	Claim string `json:"claim,omitempty"`
	// Values are the claim values of the tenant (any one matches).
	Values []string `json:"values,omitempty"`
}

// OAuthBindings are a tenant's OAuth bindings; in JSON an object or a list.
type OAuthBindings []TenantOAuth

// UnmarshalJSON accepts {…} or [{…}, …], refusing unknown fields.
func (b *OAuthBindings) UnmarshalJSON(data []byte) error {
	strict := func(v any) error {
		dec := json.NewDecoder(bytes.NewReader(data))
		dec.DisallowUnknownFields()
		return dec.Decode(v)
	}
	var one TenantOAuth
	if bytes.HasPrefix(bytes.TrimSpace(data), []byte("{")) {
		if err := strict(&one); err != nil {
			return fmt.Errorf("oauth: %w", err)
		}
		*b = OAuthBindings{one}
		return nil
	}
	var many []TenantOAuth
	if err := strict(&many); err != nil {
		return fmt.Errorf(`oauth must be {"issuer", "claim", "values"} or a list of them: %w`, err)
	}
	*b = many
	return nil
}

// HashList is a list of hex SHA-256 digests; in JSON it may also be a single
// string.
type HashList []string

// UnmarshalJSON accepts "hex" or ["hex", …].
func (h *HashList) UnmarshalJSON(b []byte) error {
	var one string
	if err := json.Unmarshal(b, &one); err == nil {
		*h = HashList{one}
		return nil
	}
	var many []string
	if err := json.Unmarshal(b, &many); err != nil {
		return errors.New(`tokenSha256 must be a hex string or a list of hex strings`)
	}
	*h = many
	return nil
}

// tenantsFile is the tenants file's top level.
type tenantsFile struct {
	Tenants []TenantConfig `json:"tenants"`
}

// ParseTenants decodes a tenants document (the file's content, or the
// CONTRAFORCE_TENANTS variable). Unknown fields are errors, so that a typo
// ("readonly") cannot silently widen a tenant's rights. source names the
// document in messages. Warnings (an inline secret) are returned for the
// operator's log.
func ParseTenants(data []byte, source string) ([]TenantConfig, []string, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	var f tenantsFile
	if err := dec.Decode(&f); err != nil {
		return nil, nil, fmt.Errorf("%s: %w (expected {\"tenants\": [{\"name\", \"tokenSha256\", \"clientId\", \"clientSecretEnv\", …}]})", source, err)
	}
	if dec.More() {
		return nil, nil, fmt.Errorf("%s: unexpected data after the JSON object", source)
	}
	if len(f.Tenants) == 0 {
		return nil, nil, fmt.Errorf("%s: no tenants", source)
	}
	var warnings []string
	for _, t := range f.Tenants {
		if t.ClientSecret != "" {
			warnings = append(warnings, fmt.Sprintf("%s: tenant %q has its clientSecret inline; prefer clientSecretEnv or clientSecretFile (and keep the file readable by this server only)", source, t.Name))
		}
	}
	return f.Tenants, warnings, nil
}

// LoadTenantsFile reads and parses a tenants file.
func LoadTenantsFile(path string) ([]TenantConfig, []string, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, nil, fmt.Errorf("read tenants file: %w", err)
	}
	return ParseTenants(data, path)
}

// tenantName is compiled when a tenants file is read, not at every start:
// its bounded repetition compiles to a program of sixty-odd steps, a fifth
// of a millisecond that a stdio server would pay for nothing.
var tenantName = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$`) })

// validate checks one tenant on its own; passthrough forbids stored
// credentials, and otherwise a credential is required.
func (c TenantConfig) validate(passthrough bool) error {
	var errs []error
	if !tenantName().MatchString(c.Name) {
		errs = append(errs, fmt.Errorf("name %q: use 1-63 letters, digits, '.', '_' or '-'", c.Name))
	}
	if len(c.TokenSHA256) == 0 && len(c.OAuth) == 0 {
		errs = append(errs, errors.New(`tokenSha256 is missing; generate a token with "contraforce-mcp serve token" (or let the tenant in by OAuth: "oauth")`))
	}
	for _, b := range c.OAuth {
		if err := b.validate(); err != nil {
			errs = append(errs, err)
		}
	}
	for _, h := range c.TokenSHA256 {
		if _, err := parseHash(h); err != nil {
			errs = append(errs, err)
		}
	}
	secrets := 0
	for _, s := range []string{string(c.ClientSecret), c.ClientSecretEnv, c.ClientSecretFile} {
		if s != "" {
			secrets++
		}
	}
	switch {
	case passthrough && (c.ClientID != "" || secrets > 0):
		errs = append(errs, errors.New("--credential-passthrough is set, so the tenant must not have a stored credential (clientId, clientSecret*): callers present their own"))
	case !passthrough && c.ClientID == "":
		errs = append(errs, errors.New("clientId is missing"))
	case !passthrough && secrets != 1:
		errs = append(errs, errors.New("give the client secret exactly once: clientSecretEnv, clientSecretFile or (discouraged) clientSecret"))
	}
	for _, s := range c.Scopes {
		if !s.Valid() {
			errs = append(errs, fmt.Errorf("unknown scope %q; known: %s", s, strings.Join(client.EnumStrings[client.Scope](), ", ")))
		}
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("tenant %q: %w", c.Name, err)
	}
	return nil
}

// validate checks one OAuth binding.
func (b TenantOAuth) validate() error {
	var errs []error
	if b.Issuer == "" {
		errs = append(errs, errors.New("oauth: issuer is missing (or give exactly one --oauth-issuer)"))
	} else if err := checkFetchURL(b.Issuer); err != nil {
		errs = append(errs, fmt.Errorf("oauth: issuer %w", err))
	}
	switch {
	case b.Claim == "" && len(b.Values) > 0:
		errs = append(errs, errors.New("oauth: values need a claim to be read from"))
	case b.Claim != "" && len(b.Values) == 0:
		errs = append(errs, fmt.Errorf("oauth: claim %q needs the values that map to this tenant", b.Claim))
	}
	for _, v := range b.Values {
		if v == "" {
			errs = append(errs, errors.New("oauth: a value is empty"))
		}
	}
	return errors.Join(errs...)
}

// checkBindings refuses OAuth bindings of two tenants that one token could
// match alike: a catch-all binding beside any other of its issuer, or one
// claim value given to two tenants. (A user in groups of two tenants is
// refused when they sign in: only the claims show that.)
func checkBindings(cfgs []TenantConfig) error {
	var errs []error
	type owner struct{ tenant, claim string }
	byIssuer := map[string][]owner{}
	values := map[[3]string]string{}
	for _, c := range cfgs {
		for _, b := range c.OAuth {
			for _, o := range byIssuer[b.Issuer] {
				if o.tenant != c.Name && (o.claim == "" || b.Claim == "") {
					errs = append(errs, fmt.Errorf("tenants %q and %q both take tokens of %s and one has no claim: give each a claim and values", o.tenant, c.Name, b.Issuer))
				}
			}
			byIssuer[b.Issuer] = append(byIssuer[b.Issuer], owner{c.Name, b.Claim})
			for _, v := range b.Values {
				k := [3]string{b.Issuer, b.Claim, v}
				if prev, ok := values[k]; ok && prev != c.Name {
					errs = append(errs, fmt.Errorf("tenants %q and %q both claim %s=%q of %s", prev, c.Name, b.Claim, v, b.Issuer))
				}
				values[k] = c.Name
			}
		}
	}
	return errors.Join(errs...)
}

// secret resolves the tenant's client secret from wherever it is kept.
func (c TenantConfig) secret(getenv func(string) string) (client.Secret, error) {
	switch {
	case c.ClientSecretEnv != "":
		v := strings.TrimSpace(getenv(c.ClientSecretEnv))
		if v == "" {
			return "", fmt.Errorf("tenant %q: environment variable %s (clientSecretEnv) is empty or unset", c.Name, c.ClientSecretEnv)
		}
		return client.Secret(v), nil
	case c.ClientSecretFile != "":
		raw, err := os.ReadFile(c.ClientSecretFile)
		if err != nil {
			return "", fmt.Errorf("tenant %q: read clientSecretFile: %w", c.Name, err)
		}
		v := strings.TrimSpace(string(raw))
		if v == "" {
			return "", fmt.Errorf("tenant %q: clientSecretFile %s is empty", c.Name, c.ClientSecretFile)
		}
		return client.Secret(v), nil
	}
	return c.ClientSecret, nil
}

// parseHash decodes a hex SHA-256 digest.
func parseHash(h string) ([sha256.Size]byte, error) {
	var out [sha256.Size]byte
	b, err := hex.DecodeString(strings.TrimSpace(h))
	if err != nil || len(b) != sha256.Size {
		return out, fmt.Errorf("tokenSha256 %q is not a hex SHA-256 digest (64 hex digits)", clip(h, 80))
	}
	copy(out[:], b)
	return out, nil
}

// checkTenants validates every tenant and what must hold across them:
// unique names, and no token hash shared by two tenants (a token would then
// pick one of them by accident).
func checkTenants(cfgs []TenantConfig, passthrough bool) error {
	var errs []error
	names := map[string]bool{}
	owner := map[[sha256.Size]byte]string{}
	for _, c := range cfgs {
		if err := c.validate(passthrough); err != nil {
			errs = append(errs, err)
			continue
		}
		if names[c.Name] {
			errs = append(errs, fmt.Errorf("tenant %q is listed twice", c.Name))
		}
		names[c.Name] = true
		for _, h := range c.TokenSHA256 {
			sum, _ := parseHash(h)
			if prev, ok := owner[sum]; ok && prev != c.Name {
				errs = append(errs, fmt.Errorf("tenants %q and %q share a token hash; give each its own token", prev, c.Name))
			}
			owner[sum] = c.Name
		}
	}
	errs = append(errs, checkBindings(cfgs))
	return errors.Join(errs...)
}

// clip shortens s for a message, on a rune boundary (a rune cut in two
// would reach the reader as U+FFFD).
func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return truncateUTF8(s, n) + "…"
}

// sortedTenants returns the tenants ordered by name.
func sortedTenants(ts []*Tenant) []*Tenant {
	out := slices.Clone(ts)
	slices.SortFunc(out, func(a, b *Tenant) int { return strings.Compare(a.Name, b.Name) })
	return out
}
