// Package client is a typed client of the ContraForce v2 REST API: list,
// read, comment on, change the status of and assign security incidents, one
// at a time or in bulk, read their evidence and related incidents, list
// users and the caller's own profile, and list and submit gamebooks
// (response actions). It knows nothing of MCP.
//
// Create one Client per credential with New and share it: it is safe for
// concurrent use, reuses connections, and every call takes a context.
//
//	c, err := client.New(client.Config{ClientID: id, ClientSecret: client.Secret(secret)})
//	page, err := c.ListIncidents(ctx, client.IncidentFilter{Statuses: []client.Status{client.StatusNew}}, client.PageToken{})
//
// # Authentication and transport
//
// Every request carries HTTP Basic authentication (client id : secret), the
// User-Agent "contraforce-mcp/<Version>", and Accept for JSON and problem
// details. There is no token exchange in v2. The secret is a Secret, which
// redacts itself in fmt, slog and JSON; it never appears in logs or errors,
// and text the server sends back in an error (a proxy page may echo request
// headers) is scrubbed of every form of the credential (see Errors).
//
// The default HTTP client (NewHTTPClient) keeps a pool of keep-alive
// connections (up to DefaultIdleConns idle) and does not follow redirects: a 3xx is returned as an
// *APIError that points at BaseURL, because following it would turn a POST
// into a GET or send the credential to a page nobody configured.
// Config.Timeout bounds each attempt, including reading the body. Bodies
// are read up to 32 MiB for a success and 64 KiB for an error.
//
// # Paths and the workspace allowlist
//
// Each path parameter (workspace id, source, incident id) is escaped with
// url.PathEscape as exactly one segment, so "/", "?", "#" and "%" in an id
// cannot change the path or add a query. An empty parameter, a dot segment
// ("." or ".."), one with control characters or longer than 512 bytes is
// refused before any request with an *APIError of Code CodeBadRequest and
// Status 0. Sources are not checked against the known list, so that a source
// the vendor adds later still works; the API rejects unknown ones.
// GetIncident always sends withDetails explicitly (true or false) rather
// than relying on the API's default.
//
// With Config.Workspaces set, a per-incident call naming another workspace
// fails with CodeWorkspaceNotAllowed (Status 0) without a request, and list
// results drop other workspaces' rows and next-page tokens (rows without a
// workspace id too). A next-page position that names only other workspaces
// ends the listing without a request.
//
// # Pagination
//
// The list page documents the request's workspacePageTokens
// [{workspaceId, sourceTokens: {source: token}}] but not where the answer
// puts the next position. The client accepts each plausible placement and
// sends back what it received:
//   - data.workspacePageTokens (one token per workspace and source), with an
//     optional data.hasMore; sent back as "workspacePageTokens" with
//     "isFirstCall": false. Tokens without data.hasMore mean there is more.
//   - the envelope's pagination.continuationToken and pagination.hasMore
//     (the "Paginated response" of
//     https://docs.contraforce.com/api-reference/models); sent back as
//     "continuationToken" with "isFirstCall": false. A bare array as "data"
//     is accepted as the rows.
//
// data.hasMore wins over pagination.hasMore. A page that claims more but
// carries no position reports HasMore false, so that a caller's loop cannot
// restart at the first page. A server that ignores the position it is sent
// would answer the first page again and a caller would loop: so the next
// position carries digests of the first and last four rows of the page that
// issued it (PageToken.Seen, never sent), and an answer that repeats one of
// them, or hands back the very position it was asked for, ends the listing
// with IncidentPage.Halted saying why (no rows, HasMore false).
//
// ListIncidentRange pages the same way but decodes only a range of the
// page's rows: an API page holds more rows than a tool shows. The page is
// read by its structure (where each row starts and ends), each row's id,
// workspace and source are read when the allowlist, the digests or the
// repeat guard need them, and the rows of the range are validated and
// decoded in full; an answer that structural reading cannot take as the
// decoder would (see scanList) is read by the decoder throughout. The page
// is read into a pooled buffer that goes back to the pool before the call
// returns: nothing returned refers to it.
//
// # Reading what the pages do not show
//
// The detail's "incident" is documented only as {id, title, severity,
// status, workspaceId, createdAt, updatedAt}; the list row documents the
// assignee (user, isAssigned) and the verdict (classification,
// classificationReason, classificationComment). GetIncidentState reads the
// detail and, when it leaves the assignee, the verdict or the extension id
// unknown, the incident's row (FindIncident: the list call with
// {"sources": [source], "query": incidentId}, at most three pages, matched
// on id, source and workspace). StateOf says where each part is read, in
// order; a part no answer holds is unknown (IncidentState …Known false),
// never "none", and a JSON null counts as an answer ("none"). An older
// crawl's row without source takes it from sourceDisplayName.
//
// The create-comment page says extensionId routes a comment back to the
// originating system but not where a client finds it. This project's
// decision: the detail's incident.extensionId, else the row's extensionId,
// else the row's productId (the one documented incident member that names
// the product instance an incident came from); AddCommentRequest carries
// what is found. A caller that gets a 400 naming extensionId may post again
// without it (nothing was stored); the add_comment tool does, and says so.
//
// No request body carries "source" (the path does). Assign sends userId,
// email, or both, as given; which wins when both are sent and name
// different users is not documented (the emulator refuses the pair, and the
// assign tool checks the pair against GET /users before sending it).
// Enumerations (enums.go) are the current pages' lists in their order;
// values only the older pages had (SevenDays, ThirtyDays,
// ConfirmedActivity) are not offered.
//
// # Users, related incidents, gamebooks, bulk updates
//
// Decisions where the pages are silent:
//   - POST /users/workspace/users names its workspace "accountId" (a uuid);
//     the client sends the workspace id there (the rows echo it back as
//     workspaceId), and the allowlist applies to it. A row's user id is its
//     userId, else its id.
//   - GetUser and ListUsers drop role assignments to workspaces outside the
//     allowlist (the users themselves are the organisation's).
//   - RelatedIncidents always sends TimeFilteringType (TwentyFourHours, the
//     page's default, when none is given); StartDate and EndDate are RFC
//     3339 UTC. A row without workspaceId is the path's workspace's.
//   - GamebookHistory sends the previous answer's pageToken back as the
//     query parameter pageToken. A submission names each playbook by its
//     referenceId (Playbook.CatalogID: the catalog playbook that the page
//     says a submission binds), else its id.
//   - BulkUpdate refuses an empty batch or one of more than MaxBulkItems
//     (50) before sending; every item's workspace must pass the allowlist.
//
// SubmitGamebook is a write that acts beyond ContraForce (it may isolate a
// host): it follows the comment's retry policy below, never sent twice.
// BulkUpdate follows it too when an item carries a comment. Like every
// write's, their 2xx answer that cannot be read matches ErrOutcomeUnknown:
// a proxy's 2xx would mean nothing reached the API, and the client cannot
// tell the two apart.
//
// # Errors
//
// Every API failure is one *APIError, decoded from RFC 7807 problem details
// or from the older {"error": {code, message, target, details}, "meta"}
// envelope (message becomes Title, string details join into Detail, detail
// objects with a target become field Errors). A body that is not JSON (a
// proxy's HTML page, an empty 502) still yields an *APIError with the status
// and a short sanitized snippet (an HTML page's title), never the raw body.
// The request id comes from the body, else the X-Request-Id header; writes
// answered 204 take their Meta.RequestID from that header.
//
// The credential never reaches an error: each answer's headers, and an
// error body before it is cut, are scrubbed of the secret, its base64, the
// Basic value (base64 of "id:secret"), and of these behind percent-encoding,
// JSON escapes and HTML character references (see scrubber); every error's
// text is scrubbed again as it leaves the client.
//
// When the body names no code, the code derives from the status. These
// mappings are this project's decision, not the vendor's: 400 and other 4xx
// BAD_REQUEST, 401 UNAUTHORIZED, 403 FORBIDDEN, 404 and 410 NOT_FOUND, 409
// and 412 CONFLICT, 429 RATE_LIMITED, 502 BAD_GATEWAY, 503
// SERVICE_UNAVAILABLE, 504 GATEWAY_TIMEOUT, other 5xx INTERNAL_ERROR, and an
// unexpected redirect BAD_REQUEST. Codes raised by the client itself:
// BAD_REQUEST (an unusable path parameter) and WORKSPACE_NOT_ALLOWED.
//
// # Retries
//
// A call makes at most Config.MaxAttempts attempts within
// Config.MaxRetryTime (waits included), waiting between attempts with
// exponential backoff and full jitter, or for the answer's Retry-After (delta
// seconds or an HTTP-date) on 429 and 503. A wait that would overrun the
// budget or the context's deadline is not started: the last error is returned
// (with RetryAfter set for a 429/503). Cancelling the context ends a call at
// once with an error wrapping ctx.Err(). Other 4xx and 500 are never retried,
// nor are TLS certificate failures.
//
//   - Reads (GET, and the list POST, which changes nothing) and the
//     idempotent PUTs (status, assignee) retry on 429, 503, 502, 504 and
//     connection failures, including a connection dropped mid-answer.
//   - A comment (POST …/comments), a status change or bulk update carrying
//     a comment, and a gamebook submission retry only on an answer that proves the request was not processed: a
//     429, or a 503 that is the API's own problem document
//     (application/problem+json whose "status" is 503 and that names a
//     "code"), or a failure before the request was written (dial error, no
//     connection obtained, headers not written; observed with
//     net/http/httptrace). A bare or HTML 503, a 502, a 504, another 5xx, a
//     2xx whose body is unreadable or not the API's JSON, or any failure
//     after the request was written (EOF, reset, timeout, the context
//     cancelled mid-flight) returns an error matching ErrOutcomeUnknown,
//     wrapping the cause, and the comment is not sent again.
//   - A write of any kind that fails after an attempt that may have been
//     applied (any of the above) ends with ErrOutcomeUnknown too, never a
//     plain error: classify outcomes with errors.Is, not the error's text.
//
// net/http's Transport itself replays a request on a reused keep-alive
// connection that the server closed only if nothing was written yet, or if
// the request is replayable: a body with GetBody and an idempotent method
// (GET, HEAD, OPTIONS, TRACE) or an Idempotency-Key header. The client never
// sends Idempotency-Key (the API does not document one), so a comment POST
// is replayed by the Transport only when none of it was written.
package client
