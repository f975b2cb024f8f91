// Package resources holds the MCP resources of contraforce-mcp, the
// argument completion shared with the prompts, and the notifications sent to
// sessions subscribed to an incident.
//
// # Resources
//
// Three resource templates address an incident by (workspaceId, source,
// incidentId), as the API and the tools do:
//
//	contraforce://workspaces/{workspaceId}/incidents/{source}/{incidentId}                    the incident, alerts, entities
//	contraforce://workspaces/{workspaceId}/incidents/{source}/{incidentId}/comments{?before}  a page of its comments
//	contraforce://workspaces/{workspaceId}/incidents/{source}/{incidentId}/evidence           the head of its evidence table
//
// The API lists an incident's comments all at once and only appends to
// them, so comments are numbered from 1, oldest first, and a page is the
// 20 newest before comment number "before" (without it, the newest of
// all); each page names its first comment's number and, when there are
// older ones, their page's URI ("older"). get_incident's text names that
// URI when it shows only the newest.
//
// Their variables are RFC 6570 simple expansions: an id with a reserved
// character is percent-encoded (CrowdStrike's "inc:1" is "inc%3A1"), and a
// URI that is not encoded so matches no template. Every document carries its
// own "uri", and the incident's carries its comments and evidence URIs, so an
// agent need not build them. The source segment is matched ignoring case.
//
// A read calls the API with the session's client (Deps.Client): the same
// credential, scopes and workspace allowlist as the session's tools. The
// contents are compact JSON (application/json): the views in views.go, with
// long texts and tables cut and the cut named in "notes". Every string taken
// from an incident passes through schema.SafeText, and the encoded JSON
// through schema.SafeJSON.
//
// A failed read is a JSON-RPC error whose message names the API code and
// request id and says what to do. A URI that names no incident (not an
// incident URI, or one the API answers NOT_FOUND or VALIDATION) wraps
// server.ErrResourceNotFound, mcp-go's resource-not-found error, and the
// server answers it with -32002 (resource not found; -32602 from protocol
// 2026-07-28); any other failure is -32603 (internal error).
//
// The static resource contraforce://reference/closure-policy (text/markdown,
// rendered from texts/closure-policy.md) lists the allowed sources, statuses,
// severities, classifications and classification reasons, taken from the
// client's enum types, and the closure rules.
//
// # Completion
//
// Completer completes the templates' and the prompts' arguments: source and
// the other enumerations from the enum types; workspaceId and incidentId
// from the first page of list-across-workspaces, cached 30 s per API client
// (and source), at most 128 entries. The workspaces come from that list and
// not from GET /users: the users' role assignments describe users, and
// nothing there says which of them is the calling credential; since the API
// pages per workspace and source, the first page names every workspace that
// has an incident. incidentId is narrowed by the workspaceId and source
// already chosen, newest first. A failed API call is returned as an error
// naming the API code (a completion UI shows it or ignores it).
//
// # Subscriptions
//
// Notifier records subscriptions through server hooks, because none of
// mcp-go's transports implements server.SessionWithResourceSubscriptions:
// resources/subscribe and resources/unsubscribe for protocol versions up to
// 2025-11-25, and the resourceSubscriptions of subscriptions/listen for
// 2026-07-28 (held while the listen stream is open). Notifier.Changed, which
// the tools call after every write, sends notifications/resources/updated
// for the incident's resource and its comments resource (a write may add a
// comment); the evidence never changes through this server. In a multi-tenant
// server NotifierOptions.Tenant keeps each tenant's incident activity from
// the others' sessions, even those that subscribed to a guessed URI.
// Delivery never blocks a tool: a session whose notification queue is full
// misses the notification. At most 1000 URIs are tracked per session or
// listen stream (mcp-go has already acknowledged a subscription when the
// hooks run, so one over the bound is acknowledged but never notified).
package resources
