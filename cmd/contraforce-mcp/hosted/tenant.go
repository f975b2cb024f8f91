package hosted

import (
	"crypto/sha256"
	"fmt"
	"log/slog"
	"net/http"
	"slices"
	"time"

	"github.com/contraforce/contraforce-mcp/client"
	"github.com/contraforce/contraforce-mcp/tools"
)

// Tenant is a configured tenant, ready to serve: its token hashes, and the
// session (API client and policy) every MCP session it opens works under.
type Tenant struct {
	// Name identifies the tenant in logs, metrics and the audit log.
	Name string

	hashes [][sha256.Size]byte
	// session is shared by all the tenant's MCP sessions; nil in
	// pass-through mode, where each request brings its own credential.
	session *tools.Session
	// probe calls the API with the tenant's credential, without retries,
	// for the readiness check.
	probe *client.Client

	scopes     []client.Scope
	workspaces []string
	agentName  string
	readOnly   bool
	// responseActions: the tenant's sessions may run gamebooks.
	responseActions bool
	// oauth are the tenant's OAuth bindings (none: static tokens only).
	oauth []TenantOAuth
}

// APIConfig is how every tenant reaches ContraForce. It is server
// configuration only: nothing a caller sends can change it.
type APIConfig struct {
	// BaseURL is the API root.
	BaseURL string
	// HTTPClient carries every API request of every tenant (one pool, and
	// the metrics RoundTripper).
	HTTPClient *http.Client
	// Timeout bounds one API attempt.
	Timeout time.Duration
	// Logger receives the client's debug logs (never secrets).
	Logger *slog.Logger
}

// probeTimeout bounds the readiness probe's one attempt.
const probeTimeout = 3 * time.Second

// BuildOptions are what BuildTenants needs besides the configurations.
type BuildOptions struct {
	API APIConfig
	// Passthrough: tenants hold no credential; callers present theirs.
	Passthrough bool
	// DefaultScopes apply to a tenant that lists none.
	DefaultScopes []client.Scope
	// Getenv resolves clientSecretEnv (os.Getenv in production).
	Getenv func(string) string
}

// BuildTenants validates the configurations and builds each tenant's API
// client. Secrets are resolved here and live only inside the clients.
func BuildTenants(cfgs []TenantConfig, o BuildOptions) ([]*Tenant, error) {
	if err := checkTenants(cfgs, o.Passthrough); err != nil {
		return nil, err
	}
	out := make([]*Tenant, 0, len(cfgs))
	for _, c := range cfgs {
		t := &Tenant{
			Name:            c.Name,
			scopes:          slices.Clone(c.Scopes),
			workspaces:      slices.Clone(c.Workspaces),
			agentName:       c.AgentName,
			readOnly:        c.ReadOnly,
			responseActions: c.ResponseActions,
			oauth:           slices.Clone(c.OAuth),
		}
		if len(t.scopes) == 0 {
			t.scopes = slices.Clone(o.DefaultScopes)
		}
		for _, h := range c.TokenSHA256 {
			sum, _ := parseHash(h) // checked by checkTenants
			t.hashes = append(t.hashes, sum)
		}
		if !o.Passthrough {
			secret, err := c.secret(o.Getenv)
			if err != nil {
				return nil, err
			}
			api, err := t.newClient(o.API, c.ClientID, secret, false)
			if err != nil {
				return nil, fmt.Errorf("tenant %q: %w", c.Name, err)
			}
			if t.probe, err = t.newClient(o.API, c.ClientID, secret, true); err != nil {
				return nil, fmt.Errorf("tenant %q: %w", c.Name, err)
			}
			t.session = t.sessionWith(api)
		}
		out = append(out, t)
	}
	return out, nil
}

// newClient builds an API client for the tenant with a credential; a probe
// client makes one short attempt.
func (t *Tenant) newClient(api APIConfig, id string, secret client.Secret, probe bool) (*client.Client, error) {
	cfg := client.Config{
		BaseURL: api.BaseURL, ClientID: id, ClientSecret: secret,
		Timeout: api.Timeout, Workspaces: t.workspaces, HTTPClient: api.HTTPClient, Logger: api.Logger,
	}
	if probe {
		cfg.Timeout, cfg.MaxAttempts, cfg.MaxRetryTime = probeTimeout, 1, probeTimeout
	}
	return client.New(cfg)
}

// sessionWith is the tenant's policy around an API client.
func (t *Tenant) sessionWith(api *client.Client) *tools.Session {
	return &tools.Session{
		Client: api, Scopes: slices.Clone(t.scopes), ReadOnly: t.readOnly, ResponseActions: t.responseActions,
		AgentName: t.agentName, Tenant: t.Name,
	}
}

// Session returns the session the tenant's MCP sessions share (nil in
// pass-through mode).
func (t *Tenant) Session() *tools.Session { return t.session }
