package hosted

import (
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"strings"
)

// originPolicy guards against DNS rebinding and cross-site requests: the
// Host header must name this server, and a browser's Origin must be one the
// operator allowed. CORS headers are only sent for --cors-origins.
type originPolicy struct {
	anyHost bool
	hosts   map[string]bool // lower-case host names, without port
	// origins are exact allowed origins ("https://app.example.com");
	// originHosts allow any http(s) origin on these host names (the default).
	origins     map[string]bool
	originHosts map[string]bool
	cors        map[string]bool
}

// loopbackNames are allowed by default: a local client names the server so.
var loopbackNames = []string{"localhost", "127.0.0.1", "::1"}

// newOriginPolicy builds the policy. listenHost is --addr's host; hosts,
// origins and cors are the operator's lists ("*" in hosts turns the Host
// check off, for a proxy that checks Host itself).
func newOriginPolicy(listenHost string, hosts, origins, cors []string) (*originPolicy, error) {
	p := &originPolicy{hosts: map[string]bool{}, origins: map[string]bool{}, originHosts: map[string]bool{}, cors: map[string]bool{}}
	defaults := append([]string{}, loopbackNames...)
	if h := strings.Trim(strings.ToLower(listenHost), "[]"); h != "" && !unspecified(h) {
		defaults = append(defaults, h)
	}
	for _, h := range defaults {
		p.hosts[h] = true
	}
	for _, h := range hosts {
		if h == "*" {
			p.anyHost = true
			continue
		}
		p.hosts[hostname(h)] = true
	}
	if len(origins) == 0 {
		for h := range p.hosts {
			p.originHosts[h] = true
		}
	}
	for _, o := range append(origins, cors...) {
		n, err := normalizeOrigin(o)
		if err != nil {
			return nil, err
		}
		p.origins[n] = true
	}
	for _, o := range cors {
		n, _ := normalizeOrigin(o)
		p.cors[n] = true
	}
	return p, nil
}

// hostAllowed checks a Host header. An IP literal is always accepted: DNS
// rebinding needs a name the attacker controls, and a kubelet probe or a
// client connecting by address sends an IP.
func (p *originPolicy) hostAllowed(host string) bool {
	if p.anyHost {
		return true
	}
	h := hostname(host)
	if _, err := netip.ParseAddr(h); err == nil {
		return true
	}
	return p.hosts[h]
}

// originAllowed checks an Origin header; requests without one (non-browser
// clients) are allowed by the caller.
func (p *originPolicy) originAllowed(origin string) bool {
	n, err := normalizeOrigin(origin)
	if err != nil {
		return false // "null", garbage
	}
	if p.origins[n] {
		return true
	}
	u, _ := url.Parse(n)
	return p.originHosts[strings.Trim(u.Hostname(), "[]")]
}

// corsAllowed reports whether CORS headers may be sent for the origin.
func (p *originPolicy) corsAllowed(origin string) bool {
	n, err := normalizeOrigin(origin)
	return err == nil && p.cors[n]
}

// CORS details: what a browser client may send and read.
const (
	corsAllowMethods  = "GET, POST, DELETE, OPTIONS"
	corsAllowHeaders  = "Authorization, Content-Type, Accept, Mcp-Session-Id, Mcp-Protocol-Version, Mcp-Method, Mcp-Name, Last-Event-ID, " + HeaderClientID + ", " + HeaderClientSecret
	corsExposeHeaders = "Mcp-Session-Id, WWW-Authenticate, Retry-After"
)

// applyCORS sets the CORS headers for an allowed origin and answers a
// preflight; it reports whether it did.
func applyCORS(w http.ResponseWriter, r *http.Request, origin string) (preflight bool) {
	h := w.Header()
	h.Set("Access-Control-Allow-Origin", origin)
	h.Add("Vary", "Origin")
	h.Set("Access-Control-Expose-Headers", corsExposeHeaders)
	if r.Method == http.MethodOptions && r.Header.Get("Access-Control-Request-Method") != "" {
		h.Set("Access-Control-Allow-Methods", corsAllowMethods)
		h.Set("Access-Control-Allow-Headers", corsAllowHeaders)
		h.Set("Access-Control-Max-Age", "600")
		w.WriteHeader(http.StatusNoContent)
		return true
	}
	return false
}

// normalizeOrigin returns scheme://host[:port] in lower case, without a
// default port.
func normalizeOrigin(o string) (string, error) {
	u, err := url.Parse(strings.TrimSpace(o))
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || (u.Path != "" && u.Path != "/") {
		return "", fmt.Errorf("origin %q: use scheme://host[:port], e.g. https://app.example.com", o)
	}
	host := strings.ToLower(u.Hostname())
	port := u.Port()
	if (u.Scheme == "http" && port == "80") || (u.Scheme == "https" && port == "443") {
		port = ""
	}
	if strings.Contains(host, ":") {
		host = "[" + host + "]"
	}
	if port != "" {
		host += ":" + port
	}
	return u.Scheme + "://" + host, nil
}

// hostname strips the port and brackets of a Host value, in lower case.
func hostname(hostport string) string {
	h := strings.ToLower(strings.TrimSpace(hostport))
	if host, _, err := net.SplitHostPort(h); err == nil {
		h = host
	}
	return strings.TrimSuffix(strings.Trim(h, "[]"), ".")
}

// unspecified reports whether h is an all-interfaces address.
func unspecified(h string) bool {
	a, err := netip.ParseAddr(h)
	return err == nil && a.IsUnspecified()
}

// IsLoopbackAddr reports whether a listen address (host:port) binds only a
// loopback interface: "localhost", 127.0.0.0/8 or ::1. ":8080" and
// "0.0.0.0:8080" bind every interface.
func IsLoopbackAddr(addr string) bool {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return false
	}
	if strings.EqualFold(host, "localhost") {
		return true
	}
	a, err := netip.ParseAddr(host)
	return err == nil && a.IsLoopback()
}
