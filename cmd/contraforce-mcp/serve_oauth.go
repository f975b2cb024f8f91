package main

import (
	"errors"
	"flag"
	"fmt"
	"strings"
	"time"

	"github.com/contraforce/contraforce-mcp/client"
	"github.com/contraforce/contraforce-mcp/cmd/contraforce-mcp/hosted"
)

// oauthConfig is the OAuth part of the serve command's configuration.
type oauthConfig struct {
	Issuers    []string
	Resource   string
	Audiences  []string
	ScopeNames map[client.Scope]string
	UserClaims []string
	// FetchTimeout and KeyRefresh bound the fetches of an issuer's metadata
	// and keys (hosted.OAuthOptions).
	FetchTimeout, KeyRefresh time.Duration
}

// listFlag is a repeatable flag; each use may also hold a comma-separated
// list. The first use replaces the environment's default.
type listFlag struct {
	v   *[]string
	set *bool
}

func (l listFlag) String() string {
	if l.v == nil {
		return ""
	}
	return strings.Join(*l.v, ",")
}

func (l listFlag) Set(s string) error {
	if !*l.set {
		*l.v, *l.set = nil, true
	}
	*l.v = append(*l.v, splitList(s)...)
	return nil
}

// oauthFlags registers the OAuth flags; the returned func converts what
// needs converting after parsing.
func oauthFlags(fs *flag.FlagSet, fe *flagEnv, oc *oauthConfig) func() error {
	oc.Issuers = splitList(fe.getenv(envPrefix + "OAUTH_ISSUER"))
	fs.Var(listFlag{v: &oc.Issuers, set: new(bool)}, "oauth-issuer", "trust OAuth access tokens of this authorization server (issuer URL; repeatable): the single tenant's users sign in with it, or tenants of the tenants file without an issuer of their own (env "+envPrefix+"OAUTH_ISSUER)")
	fe.str(&oc.Resource, "oauth-resource", "OAUTH_RESOURCE", "", "this server's canonical URL as clients reach it (https://mcp.example.com): the audience OAuth tokens must carry, and the resource of /.well-known/oauth-protected-resource")
	aud := fe.str(nil, "oauth-audience", "OAUTH_AUDIENCE", "", "comma-separated further accepted token audiences (Entra ID: the Application ID URI)")
	names := fe.str(nil, "oauth-scope-names", "OAUTH_SCOPE_NAMES", "", "comma-separated scope=name pairs: the OAuth scope a client requests for each ContraForce scope (default the same name; Entra ID: incidents:read=api://contraforce-mcp/incidents.read,…)")
	claims := fe.str(nil, "oauth-user-claims", "OAUTH_USER_CLAIMS", "email,preferred_username,upn,sub", "comma-separated token claims naming the user in comments and the audit log, first present wins")
	fe.duration(&oc.FetchTimeout, "oauth-fetch-timeout", "OAUTH_FETCH_TIMEOUT", hosted.DefaultOAuthFetchTimeout, "time to fetch an issuer's metadata and signing keys")
	fe.duration(&oc.KeyRefresh, "oauth-key-refresh", "OAUTH_KEY_REFRESH", hosted.DefaultOAuthKeyRefresh, "least time between two fetches of an issuer's keys (a token with an unknown key id triggers one)")
	return func() error {
		oc.Audiences, oc.UserClaims = splitList(*aud), splitList(*claims)
		var errs []error
		for _, pair := range splitList(*names) {
			k, v, ok := strings.Cut(pair, "=")
			if !ok || strings.TrimSpace(v) == "" {
				errs = append(errs, fmt.Errorf("--oauth-scope-names %q: use scope=name, such as incidents:read=api://contraforce-mcp/incidents.read", pair))
				continue
			}
			if oc.ScopeNames == nil {
				oc.ScopeNames = map[client.Scope]string{}
			}
			oc.ScopeNames[client.Scope(strings.TrimSpace(k))] = strings.TrimSpace(v)
		}
		if len(oc.Issuers) > 0 && oc.Resource == "" {
			errs = append(errs, errors.New("--oauth-issuer needs --oauth-resource: this server's canonical URL, the audience its tokens must carry"))
		}
		return errors.Join(errs...)
	}
}

// options are the hosted server's OAuth options; nil when OAuth is off.
func (oc oauthConfig) options() *hosted.OAuthOptions {
	if oc.Resource == "" {
		return nil
	}
	return &hosted.OAuthOptions{
		Resource: oc.Resource, Audiences: oc.Audiences, ScopeNames: oc.ScopeNames, UserClaims: oc.UserClaims,
		FetchTimeout: oc.FetchTimeout, KeyRefresh: oc.KeyRefresh,
	}
}

// bindings are the single tenant's OAuth bindings: every --oauth-issuer
// takes all its tokens.
func (oc oauthConfig) bindings() hosted.OAuthBindings {
	var out hosted.OAuthBindings
	for _, is := range oc.Issuers {
		out = append(out, hosted.TenantOAuth{Issuer: is})
	}
	return out
}

// bindIssuers applies --oauth-issuer to a tenants file: a tenant's binding
// without an issuer takes the one --oauth-issuer, and every --oauth-issuer
// must serve some tenant (an issuer nobody uses is a typo).
func (oc oauthConfig) bindIssuers(cfgs []hosted.TenantConfig) error {
	used := map[string]bool{}
	for i := range cfgs {
		for j := range cfgs[i].OAuth {
			b := &cfgs[i].OAuth[j]
			if b.Issuer == "" {
				if len(oc.Issuers) != 1 {
					return fmt.Errorf("tenant %q: its oauth names no issuer; give it one, or exactly one --oauth-issuer", cfgs[i].Name)
				}
				b.Issuer = oc.Issuers[0]
			}
			used[b.Issuer] = true
		}
	}
	for _, is := range oc.Issuers {
		if !used[is] {
			return fmt.Errorf("--oauth-issuer %s serves no tenant: add \"oauth\": {\"issuer\": …, \"claim\": …, \"values\": […]} to the tenants that sign in with it", is)
		}
	}
	return nil
}

// toolAccess is what each tool of the surface needs, for the gate's 403s.
func toolAccess(s surface) map[string]hosted.ToolAccess {
	m := make(map[string]hosted.ToolAccess, len(s.Tools))
	for _, t := range s.Tools {
		m[t.Def.Name] = hosted.ToolAccess{Scope: t.Scope, Write: !t.ReadOnly(), ResponseAction: t.ResponseAction}
	}
	return m
}
