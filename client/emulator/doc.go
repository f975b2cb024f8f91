// Package emulator is an in-memory ContraForce v2 API: an http.Handler that
// serves every endpoint under /api/v2 the way the vendor's current reference
// (https://docs.contraforce.com/api-reference) documents it, over a
// deterministic seeded dataset, with fault injection. Where the pages are
// silent it makes one choice, written below.
// The client's tests, the MCP server's tests, the demo and the benchmarks
// run against it; cmd/contraforce-emulator serves it over HTTP.
//
// Its JSON is package client's wire types (client.IncidentSummary,
// client.Comment, …), which encode every member the pages show (null when
// empty); the contract tests check its answers against the pages' examples.
//
// # Endpoints
//
//	POST /api/v2/incidents/across-workspaces                        200 {data: ListIncidentsData}
//	GET  /api/v2/workspaces/{ws}/incidents/{source}/{id}[?withDetails=true]  200 {data: IncidentDetail}
//	GET  …/comments   200 {data: [Comment]}      POST …/comments  201 {data: Comment}
//	PUT  …/status     204                        PUT  …/assignee  204
//	GET  …/evidence   200 {data: Evidence}       GET  /api/v2/users  200 {data: [User]}
//	GET  /api/v2/users/profile  200 {data: Profile}      GET /api/v2/users/{userId}  200 {data: User}
//	POST /api/v2/users/workspace/users                   200 {data: [WorkspaceUser]}
//	GET  /api/v2/workspaces/{ws}/agent/tools/incidents/{source}/{id}/related-by-entity  200 {data: {incidents}}
//	POST /api/v2/workspaces/{ws}/agent/tools/incidents/{source}/{id}/gamebooks        200 {data: SubmitGamebookResult}
//	GET  /api/v2/workspaces/{ws}/gamebooks/by-incident/{id}  200 {data: [Gamebook]}
//	GET  /api/v2/workspaces/{ws}/gamebooks/history[?pageToken=]  200 {data: GamebookHistory}
//	POST /api/v2/incidents/across-workspaces/bulk-update  200 {data: BulkUpdateResult}
//
// Success bodies are {"data", "meta": {"requestId", "timestamp"}}; every
// answer (204 and errors included) carries X-Request-Id equal to the
// request id. meta.timestamp uses the vendor's .NET layout
// (2026-04-15T20:00:00.0000000+00:00); incident times are RFC 3339 UTC at
// whole seconds.
//
// # Errors
//
// RFC 7807 problem details, Content-Type application/problem+json, with
// type, title, status, detail, instance (the escaped request path), code
// (client.Code*), requestId, timestamp, target (when one field or parameter
// is at fault) and errors (JSON path -> messages; "" for the whole object).
// type is https://docs.contraforce.com/api-reference/errors (the errors
// page) for the API's errors and "about:blank" for the framework's: an
// unknown path (404 NOT_FOUND) and a wrong method (405 METHOD_NOT_ALLOWED, a
// code the API documents nowhere, with an Allow header). Titles of the two
// codes the errors page shows are its own ("Validation failed", "Resource
// not found"). A request with header
// X-Emulator-Legacy-Errors: 1 gets the older envelope
// {"error": {"code", "message", "target", "details": ["field: message"]}, "meta"}.
//
// Checks run in this order, each answering on failure: route (404/405),
// faults, authentication (401 UNAUTHORIZED with WWW-Authenticate: Basic
// realm="ContraForce"), scope (403 INSUFFICIENT_SCOPE naming the scope),
// workspace id (not a GUID: 404, as a route constraint would), workspace
// role (403 INSUFFICIENT_WORKSPACE_ROLE), source path segment (400
// VALIDATION_ERROR keyed "source"), body (400), incident lookup (404
// NOT_FOUND, also for an existing id under another source), then the
// checks that need the state (the assignee).
//
// # Decisions where the reference is silent
//
// Authentication and roles:
//   - HTTP Basic only; the secret is compared in constant time over SHA-256
//     digests. A Bearer header is a 401 that says Basic is expected.
//   - Scopes: list, get, comments (read), evidence and users need
//     incidents:read; status and assignee need incidents:write; posting a
//     comment needs incidents:comments.
//   - A workspace the credential has no role on, and a GUID that names no
//     workspace, both answer 403 INSUFFICIENT_WORKSPACE_ROLE (no enumeration).
//     Workspace GUIDs are compared case-insensitively.
//   - WorkspaceReader cannot write: status, assignee and posting a comment
//     answer 403 INSUFFICIENT_WORKSPACE_ROLE, the detail saying the role is
//     read-only.
//   - GET /users lists every user of the (single) organisation — people and
//     service accounts, active or not — with the get-user page's members
//     (profilePictureUrl and workspaceRole null, groups empty) plus the older
//     page's isActive, and roleAssignments limited to the workspaces the
//     caller has a role on.
//
// Users, related incidents, gamebooks and bulk updates:
//   - Scopes: the users endpoints and related-by-entity need incidents:read,
//     bulk-update incidents:write; gamebooks/by-incident and history need
//     gamebooks:read, a submission gamebooks:run (the scope names are this
//     project's: no page names them). The demo credential holds all five;
//     "reader" and "responder-nocomment" hold no gamebook scope.
//   - GET /users/profile is the calling service account: its name, its
//     user's e-mail (also the upn), organisation "Contoso Group". GET
//     /users/{userId} is any user of the organisation (404 otherwise), roles
//     limited as in GET /users. POST /users/workspace/users reads accountId
//     as the workspace id (a GUID, 400 otherwise; 403 without a role on it),
//     lists the active users with a role there (one row per role, id a hash
//     of user and workspace, userId the user), query a case-insensitive
//     substring of the name or e-mail, role one of the five roles.
//   - related-by-entity searches the path's workspace only (never another
//     customer's), every source, the incident itself excluded, newest first,
//     at most 100 rows. EntityKind is matched case-insensitively, with
//     aliases (Account, User and Mailbox are accounts; Host and Device hosts;
//     File and FileHash files; Ip, Url, Process); an unknown kind is 400.
//     EntityFilter equals an entity's main identifier, case-insensitively:
//     an account's upn, a host's hostName, an IP's address, a file's sha256,
//     a URL, a process's imageFile. Without them, every entity of the
//     incident is compared. TimeFilteringType defaults to TwentyFourHours
//     (relative to Now); Custom needs StartDate (EndDate defaults to Now);
//     StartDate with a named window, or after EndDate, is 400.
//   - Gamebooks: every workspace has the same catalog of nine actions by
//     entity type (revoke sessions, disable account, reset password; isolate
//     device, antivirus scan; quarantine file, block file hash; block IP;
//     block URL), each with a per-workspace referenceId; disabling an
//     account, resetting a password and isolating a device are high-impact
//     (isAdminRequired). Up to three gamebooks are proposed for each incident
//     (identity, device, network), each action bound to every entity of the
//     incident it applies to (blocking an IP: external addresses only),
//     status Pending; recommended unless high-impact, or high-impact on a
//     High incident. They derive from the incident's entities, so they are
//     the same on every read. The history is seeded: the recommended actions
//     of the first proposal ran (Success, 15 minutes before closing) for
//     every incident closed as TruePositive and for about three in eight
//     closed incidents of the sources without a verdict (chosen by a hash of
//     the id), when the incident has a proposal and its first one holds a
//     recommended action (none when no action applies to its entities).
//   - by-incident lists an incident's submitted gamebooks, newest first,
//     then its proposals; the path has no source, so the id is looked up in
//     the workspace (404 when none has it). history lists the workspace's
//     submitted gamebooks, newest first, 20 a page; pageToken is "gh-<offset>"
//     (anything else is 400).
//   - A submission needs a role that may run gamebooks (Owner, ContentAdmin,
//     IncidentResponder: "Incident Responder role or higher"), else 403
//     INSUFFICIENT_WORKSPACE_ROLE. trigger_type is required: OnQueue is
//     refused (400) for Informational and Low incidents (their severities'
//     Gamebooks capability is off), ManualInvestigateOnly always (an
//     investigate-only run responds to nothing). incident_number, when sent,
//     must be the incident's; playbooks must not be empty; each playbook_id
//     must be a catalog action of the workspace that acts on the entity_id
//     (an entity of the incident), affected_entity its name
//     (case-insensitive), sequences positive and distinct; errors are 400
//     keyed "playbooks[i].…" and nothing is recorded. A valid submission runs
//     at once: status Success, unless it holds a high-impact action and the
//     caller is not the workspace's Owner: PendingApproval (the approval
//     gates). It is answered 200 {success, summary, gamebook_id, status}.
//   - bulk-update validates the whole body first (400, nothing applied):
//     1 to 50 items; each with id, workspace (a GUID), incidentSource; the
//     status rules of PUT …/status per item (keys "items[i].…"); user
//     (resolved by id, else e-mail, active) or removeAssignee, not both; at
//     least one change. Then, under one lock, each item is authorized:
//     forbidden, with the reason, when the caller has no role on its
//     workspace, a read-only one, or no such incident exists; the others are
//     applied as the status and assignee writes are (a comment without a
//     status change is a plain agent comment). Answer 200 {accepted: [id],
//     forbidden: [{incidentId, workspaceId, reason}]}.
//
// Requests:
//   - Unknown JSON members are ignored (System.Text.Json's default).
//     Malformed JSON, a non-object body, an empty body or one over 1 MiB is 400
//     BAD_REQUEST; a member of the wrong JSON type is 400 VALIDATION_ERROR
//     keyed by its path.
//   - Enumerations are case-sensitive, in the path and in bodies, although
//     ASP.NET would probably accept "sentinel": a stricter double proves the
//     client sends the canonical spelling. Unknown values are 400
//     VALIDATION_ERROR keyed by JSON path ("severities[1]",
//     "timeFilterSelection.type", "classification", …).
//   - withDetails accepts true/false in any case; anything else is 400.
//   - A body "source" (the older pages' member) is refused on every write
//     (400, key "source"), even when it names the path's source: no current
//     body has one. The real API would most likely ignore it; refusing it
//     proves that clients do not send it.
//
// Status changes (PUT …/status):
//   - status is required. Closing a Sentinel incident without classification
//     or classificationReason is 400 with one error per missing field.
//     updateTicket without a non-blank ticketId is 400 (key "ticketId").
//     Comments (here and POST …/comments) are limited to 30,000 characters,
//     counted as .NET does (UTF-16 code units).
//   - Any valid classification is accepted for any source (no per-source
//     combination rules: the lists are one union, and the pages say nothing
//     per source). Only Sentinel and DefenderXDR record a verdict
//     (client.Source.RecordsClassification, a decision kept from the first
//     emulator): when closing, they record the classification and reason
//     sent (for DefenderXDR both are optional), and the closing comment as
//     classificationComment; QRadar, Splunk, CrowdStrike and SentinelOne
//     ignore them. Any status other than Closed clears the verdict.
//   - The change sets updatedAt/lastModificationTime and lastActivityTime to
//     Now; alerts become "Resolved" on closing and "New" on reopening.
//   - A non-blank comment is recorded as the caller's comment, with
//     isClosingComment true when closing, false otherwise; with
//     updateTicket, ticketId is recorded on the incident and the comment. A
//     blank comment is ignored. No activity comments are generated by writes
//     (the seeded ones stand for the portal's history).
//
// Assignment (PUT …/assignee):
//   - userId or email (case-insensitive) is required (400, key ""); both may
//     be sent (the older page's example does), and then they must name the
//     same user, else 400 keyed "email" and nothing changes. The user must
//     exist in the organisation and be active (400 VALIDATION_ERROR keyed
//     "userId" or "email"); a role on the workspace is not required, and
//     service accounts may be assigned. There is no un-assignment.
//
// Comments:
//   - Listed oldest first. A comment posted by a credential (every
//     credential is a service account) has isAgentComment true, agentName =
//     Credential.Name, and the author e-mail and name of the service
//     account's user. Ids are GUID-shaped and unique per emulator.
//   - The body is {content, extensionId}. Sentinel and DefenderXDR
//     incidents carry an extension (the page names them as the systems a
//     write is routed back to): its id is the incident's productId, one GUID
//     per workspace and source. QRadar, Splunk, CrowdStrike and SentinelOne
//     incidents carry none (extensionId null). An extensionId that is not
//     the incident's own is 400 keyed "extensionId" and nothing is stored;
//     without one (absent, null or blank) the comment is stored, not routed.
//     CommentExtensionID tells tests what each comment's request carried.
//
// # Incident shapes
//
// List rows carry every member of the list page's example (newer crawl), in
// its order, null where the emulator has nothing: name (Sentinel's resource
// name, the id; null for other sources), type (always null: no page says
// what it is), sourceDisplayName (the product's name), comment (always
// null), classificationComment (the closing note of a recorded verdict),
// ruleIds (Sentinel's detection rules, one GUID per alert rule; null for
// other sources), alertProductNames, productId; plus workspaceId and
// workspaceName, which the cut example does not show. Entities are flat
// {id, type, kind, displayName, …kind-specific members}; type is "User" for
// accounts (the page's first value) and, by choice, "Device", "Ip", "File",
// "Url" or "Process" for the other kinds.
//
// The detail (GET …/{source}/{incidentId}) has source, incident,
// investigationDetails, evidence and gamebookCatalog, the last three null
// unless withDetails=true. Its incident follows Options.Detail: by default
// (DetailWithRow) the seven documented members, the list row's members
// under the row's names (user/isAssigned, classification,
// classificationReason, classificationComment, number, description, …)
// and ticketId, extensionId, providerIncidentUrl and workspaceName, the
// state members always present (null for none); with DetailDocumented only
// id, title, severity, status, workspaceId, createdAt and updatedAt, so
// that tests prove clients cope with what the pages promise.
//
// # Listing and pagination
//
// Incidents of each (workspace, source) stream are ordered newest first by
// creation time. A page is the union of each stream's next PageSize matching
// incidents, sorted newest first; so a page holds at most PageSize ×
// streams rows. Only workspaces the credential has a role on are listed.
//
// Where the next-page position comes back follows Options.Paging. By
// default (PagingWorkspaceTokens, the likeliest reading) it is
// data.workspacePageTokens, one opaque token per (workspace, source)
// stream that has more matches, plus data.hasMore (always present;
// workspacePageTokens is [] on the last page). PagingContinuation puts one
// continuationToken (base64url of those tokens) in the envelope's
// pagination {continuationToken, hasMore}, with data {incidents};
// PagingContinuationArray does the same with data the bare array of rows
// (the data-models page's "Paginated response"); a continuationToken is sent
// back in the request's continuationToken. PagingIgnoresTokens issues
// workspace tokens but answers every request with the first page. A stream is continued only if
// a further match exists (look-ahead), so hasMore is exact when the answer
// is made. A token is base64url of a small JSON (workspace, source, offset,
// filter fingerprint) authenticated by an HMAC whose key derives from the
// seed (same seed, same tokens). Send them back in workspacePageTokens with
// isFirstCall false (or isFirstCall absent) and the same filter (list
// members may be reordered). A token that is altered, listed under another
// workspace or source, repeated, or issued for another filter, and
// isFirstCall false without tokens, answer 400 VALIDATION_ERROR keyed
// "workspacePageTokens". A continuationToken is refused (400) unless the
// variant issues them: ignoring it would loop the caller on page one.
// Streams of workspaces the credential lost its role on are dropped.
//
// Filters (all optional, combined with AND): severities, statuses, sources;
// timeFilterSelection on creation time (ThreeHours … FourtyEightHours
// measured from Now() at each request; SevenDays and ThirtyDays, only on
// the older page, are 400; Custom needs both RFC 3339 bounds, inclusive,
// start not after end); query, a case-insensitive substring of the title,
// description, id, number or an entity's displayName; assigneeIds,
// assigneeEmails (case-insensitive) and includeUnassigned form a union —
// the named assignees, plus the unassigned incidents when includeUnassigned
// is true — so includeUnassigned alone lists only unassigned incidents.
//
// # Dataset
//
// New(Options{Seed}) builds the same dataset, byte for byte, for the same
// seed and Now (one PCG stream drawn in a fixed order; productId, extension
// and rule ids are hashed from workspace, source and rule, not drawn). Workspaces, people
// and credentials are fixed and exported (WorkspaceOwnerID, UserJaneDoeID,
// DemoClientID, …): the demo credential is Owner of "Contoso Production",
// IncidentResponder of "Contoso EU", WorkspaceReader of "Fabrikam SOC" and
// has no role on "Northwind Traders". 334 incidents plus the tricky ones
// span the 30 days before Now over the six sources, with ids in each
// source's style (Sentinel GUID, DefenderXDR and QRadar numbers, Splunk
// "…@@notable@@…", CrowdStrike "inc:…:…", SentinelOne 19 digits), titles
// and evidence queries in each product's language (KQL, AQL, SPL, LogScale,
// S1QL), MITRE tactics, alerts, entities, verdicts and comments (analyst,
// activity, closing, and the soc-copilot agent's). TrickyIncidents lists the
// incidents with adversarial text (prompt injection, U+202E, a 20,000+
// character description, a path-unsafe id, ANSI escapes) present whatever the
// seed.
//
// # Faults
//
// InjectFault queues faults matched in FIFO order per endpoint; SetChaos
// draws random ones from a seeded PCG (the same seed and request order give
// the same faults). Latency waits before serving and gives up (applying
// nothing) when the request's context ends; the body is read first, since
// net/http only notices a client hanging up once the body is consumed.
// Drops hijack the HTTP/1.1 connection and close it (or panic with
// http.ErrAbortHandler where hijacking is impossible, such as HTTP/2 or a
// ResponseRecorder). Stats counts requests per endpoint, faults by kind and
// applied writes per endpoint.
//
// # Concurrency
//
// One sync.RWMutex guards the incidents and users; reads build their
// answer under the read lock and write it after releasing it. Values shared
// past the lock (entities, evidence, alerts, cached list rows) are never
// modified in place: writes replace them. Each incident caches its encoded
// list row, rebuilt on every write, so a list call concatenates bytes.
package emulator
