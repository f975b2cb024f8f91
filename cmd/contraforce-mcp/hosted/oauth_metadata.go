package hosted

import (
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/mark3labs/mcp-go/server"
)

// setupOAuth builds the access token verifier when OAuth is on, and checks
// that no tenant names an issuer while it is off.
func (s *Server) setupOAuth() error {
	if s.o.OAuth == nil {
		for _, t := range s.o.Tenants {
			if len(t.oauth) > 0 {
				return fmt.Errorf("tenant %q signs in with OAuth, but OAuth is off: give this server's canonical URL with --oauth-resource", t.Name)
			}
		}
		return nil
	}
	if s.o.InsecureNoAuth {
		return errors.New("--insecure-no-auth admits every request; it cannot be combined with OAuth")
	}
	v, err := newOAuthVerifier(*s.o.OAuth, s.o.Tenants, s.log)
	if err != nil {
		return err
	}
	s.auth.oauth = v
	v.start()
	return nil
}

// metadataPath is where the protected resource metadata of a resource
// lives (RFC 9728 §3.1: the resource's path follows the well-known prefix).
func metadataPath(resource string) string {
	return server.ProtectedResourceMetadataPath(resource)
}

// mountMetadata serves the OAuth 2.0 Protected Resource Metadata (RFC 9728)
// with mcp-go's handler: at the resource's own well-known path and, when the
// resource has a path, at the bare one too (the MCP specification has
// clients try both). It names the issuers of every tenant and the scopes
// the tools need. Without OAuth these paths are 404s like any other.
func (s *Server) mountMetadata(mux *http.ServeMux) {
	v := s.auth.oauth
	if v == nil {
		return
	}
	h := server.NewProtectedResourceMetadataHandler(server.ProtectedResourceMetadataConfig{
		Resource:               v.o.Resource,
		AuthorizationServers:   v.issuerIDs(),
		ScopesSupported:        v.scopesSupported(),
		BearerMethodsSupported: []string{"header"},
		ResourceName:           "ContraForce incidents (contraforce-mcp)",
	})
	paths := []string{server.WellKnownProtectedResourcePath}
	if p := metadataPath(v.o.Resource); p != server.WellKnownProtectedResourcePath {
		paths = append(paths, p)
	}
	for _, p := range paths {
		mux.Handle(p, s.public("/.well-known", h))
	}
}

// public wraps a route anyone may read from anywhere (public metadata): the
// Host check and the request metric of outer, but any Origin, and the
// handler's own CORS headers (a browser-based client discovers the
// authorization server cross-origin).
func (s *Server) public(route string, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		sw := &statusWriter{ResponseWriter: w}
		defer func() { s.metrics.httpRequests.add(1, route, strconv.Itoa(sw.code())) }()
		if !s.origins.hostAllowed(r.Host) {
			s.reject(sw, envelope{}, http.StatusMisdirectedRequest, reasonMisdirectedHost,
				"this server does not answer for the host "+strconv.Quote(clip(r.Host, 100))+"; the operator can allow it with --allowed-hosts", 0)
			return
		}
		_ = http.NewResponseController(sw).SetWriteDeadline(time.Now().Add(s.o.WriteTimeout))
		next.ServeHTTP(sw, r)
	})
}
