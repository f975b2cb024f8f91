// Package prompts holds the MCP prompts of contraforce-mcp:
//
//   - close_incident (workspaceId, source, incidentId): guided closure, from
//     reviewing the incident's alerts, entities, evidence and comments to a
//     verdict, a closing comment that cites the evidence, the human's
//     confirmation and the update_status call with its exact arguments;
//   - triage_incident (workspaceId, source, incidentId): assessment,
//     priority and next steps, read-only (it allows get_incident, and
//     find_related_incidents, which it calls before recommending a verdict);
//   - shift_handoff (optional workspaceId, optional hours, default 12): a
//     hand-off of the New and Active incidents created during the shift.
//   - respond_to_incident (workspaceId, source, incidentId): choosing one of
//     the gamebooks ContraForce proposes and its actions, the dry run of
//     run_gamebook, the user's agreement, then the run (which the user
//     confirms again in the client); it embeds the proposals, fenced as
//     untrusted like the incident, and is offered only where run_gamebook is.
//
// The texts are Markdown files in texts/, embedded in the binary and
// rendered with text/template, so they can be reviewed as prose. The allowed
// values they list come from the client's enum types.
//
// Each prompt embeds live data read with the session's client (Deps.Client):
// the same credential and workspace allowlist as the tools. The data is the
// resources package's compact views, passed through schema.SafeText, rendered
// as indented JSON between BEGIN/END UNTRUSTED INCIDENT DATA markers and a
// code fence, and introduced as untrusted: JSON cannot carry a raw newline
// inside a string, so no text from an incident can close the fence or pose as
// the prompt's own words. Only argument values and enumeration values appear
// outside the fence. The per-incident prompts also embed the incident
// resource (an EmbeddedResource with the incident's resource URI), so a
// client can show it or subscribe to it.
//
// Arguments are validated before any API call: a missing required argument
// is an error naming it, and source must be one of the sources (any case; the
// error lists them). shift_handoff's window is a Custom time filter on
// creation time of at most 720 hours (the API's longest named window is
// thirty days); the API has no workspace filter, so workspaceId filters the
// rows here. The list is newest first and capped at 50 rows and 5 API pages,
// with "more" set when anything was left out.
//
// mcp-go sends a prompt handler's error as a JSON-RPC error (code -32603);
// its message is the sentence an agent or operator acts on.
//
// Prompt.Tools and Prompt.Writes let the registry hide a prompt from a
// session that cannot use its tools (close_incident from a read-only one,
// respond_to_incident wherever response actions are off).
package prompts
