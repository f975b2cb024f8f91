package client

import (
	"fmt"
	"net/url"
	"strings"
	"unicode"
)

// maxPathParamLen bounds one path parameter. Real ids are GUIDs, numbers or
// short prefixed strings; anything this long is a mistake or an attack.
const maxPathParamLen = 512

// pathParam is one path segment: a literal of this package (name "") or a
// caller-supplied value and what it names (for the error message).
type pathParam struct {
	name  string // "workspaceId", "source", "incidentId"; "" for a literal
	value string
}

// lit is a literal path segment written by the client itself.
func lit(s string) pathParam { return pathParam{value: s} }

// checkPathParam refuses a path parameter that could not name one segment
// safely. url.PathEscape already turns '/', '?', '#', '%' and every
// non-ASCII or control byte into %XX, so only the dot segments survive
// escaping with a meaning of their own; they, the empty string and control
// characters (never part of a real id) are refused before any request.
func checkPathParam(op string, p pathParam) error {
	why := ""
	switch {
	case p.value == "":
		why = "is empty"
	case p.value == "." || p.value == "..":
		why = "is a dot segment, which would change the request path"
	case len(p.value) > maxPathParamLen:
		why = fmt.Sprintf("is longer than %d bytes", maxPathParamLen)
	case strings.IndexFunc(p.value, unicode.IsControl) >= 0:
		why = "contains control characters"
	}
	if why == "" {
		return nil
	}
	return &APIError{
		Op:     op,
		Code:   CodeBadRequest,
		Title:  "invalid " + p.name,
		Detail: fmt.Sprintf("%s %s; pass the value exactly as the API returned it", p.name, why),
		Target: p.name,
	}
}

// buildURL returns base + "/" + the escaped segments, with the given query.
// Fixed segments ("workspaces", "incidents", …) are written by the client;
// params are checked and escaped one segment each, so that no value can add
// a segment, a query or a fragment.
func (c *Client) buildURL(op string, query url.Values, segs ...pathParam) (*url.URL, error) {
	var raw strings.Builder
	raw.WriteString(c.base.EscapedPath())
	for _, s := range segs {
		if s.name != "" {
			if err := checkPathParam(op, s); err != nil {
				return nil, err
			}
		}
		raw.WriteByte('/')
		raw.WriteString(url.PathEscape(s.value))
	}
	u := *c.base
	u.RawPath = raw.String()
	p, err := url.PathUnescape(u.RawPath)
	if err != nil {
		// Unreachable: every segment was escaped by url.PathEscape.
		return nil, fmt.Errorf("%s: build request path: %w", op, err)
	}
	u.Path = p
	u.RawQuery = query.Encode() // "" for a nil query
	return &u, nil
}

// incidentURL builds …/workspaces/{workspaceId}/incidents/{source}/{incidentId}[/tail].
func (c *Client) incidentURL(op string, ref IncidentRef, query url.Values, tail ...string) (*url.URL, error) {
	if err := c.checkWorkspace(op, ref.WorkspaceID); err != nil {
		return nil, err
	}
	segs := []pathParam{
		lit("workspaces"), {"workspaceId", ref.WorkspaceID},
		lit("incidents"), {"source", string(ref.Source)},
		{"incidentId", ref.IncidentID},
	}
	for _, t := range tail {
		segs = append(segs, lit(t))
	}
	return c.buildURL(op, query, segs...)
}

// agentIncidentURL builds
// …/workspaces/{workspaceId}/agent/tools/incidents/{source}/{incidentId}/{tail},
// the path of the agent tools' endpoints on one incident.
func (c *Client) agentIncidentURL(op string, ref IncidentRef, query url.Values, tail string) (*url.URL, error) {
	if err := c.checkWorkspace(op, ref.WorkspaceID); err != nil {
		return nil, err
	}
	return c.buildURL(op, query,
		lit("workspaces"), pathParam{"workspaceId", ref.WorkspaceID}, lit("agent"), lit("tools"), lit("incidents"),
		pathParam{"source", string(ref.Source)}, pathParam{"incidentId", ref.IncidentID}, lit(tail))
}

// checkWorkspace enforces Config.Workspaces before any request is sent.
func (c *Client) checkWorkspace(op, workspaceID string) error {
	if c.workspaceAllowed(workspaceID) {
		return nil
	}
	return &APIError{
		Op:     op,
		Code:   CodeWorkspaceNotAllowed,
		Title:  "workspace not allowed",
		Detail: fmt.Sprintf("workspace %q is not in this server's workspace allowlist; allowed: %s", workspaceID, strings.Join(c.cfg.Workspaces, ", ")),
		Target: "workspaceId",
	}
}

// workspaceAllowed reports whether id passes the allowlist (always, without one).
func (c *Client) workspaceAllowed(id string) bool {
	if len(c.allow) == 0 {
		return true
	}
	_, ok := c.allow[strings.ToLower(strings.TrimSpace(id))]
	return ok
}
