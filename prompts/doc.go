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
//     hand-off of every open (New and Active) incident, however old, marked
//     when the shift created or changed it, and of the closed incidents the
//     shift changed;
//   - respond_to_incident (workspaceId, source, incidentId): choosing one of
//     the gamebooks ContraForce proposes and its actions, the dry run of
//     run_gamebook, the user's agreement, then the run (which the user
//     confirms again in the client); it fences the proposals as untrusted
//     text like the incident, and is offered only where run_gamebook is.
//
// The texts are Markdown files in texts/, embedded in the binary and
// rendered with text/template, so they can be reviewed as prose. The allowed
// values they list come from the client's enum types.
//
// Each prompt embeds live data read with the session's client (Deps.Client):
// the same credential and workspace allowlist as the tools. The incident
// prompts embed the incident once, as get_incident's text
// (resources.Investigation.Text); the hand-off embeds one line per incident.
// The data passes through schema.SafeText and sits between BEGIN and END
// markers tagged with a digest of it, inside a code fence longer than any
// run of backticks in it, introduced as untrusted: the data can quote a
// marker but not its tag, and every line of it starts with the renderer's
// own label or indent, so no text from an incident can end the block or
// pose as the prompt's own words. Nothing in it is escaped. Only argument
// values and enumeration values appear outside the block.
//
// Arguments are validated before any API call: a missing required argument
// is an error naming it, and source must be one of the sources (any case; the
// error lists them). shift_handoff's window is at most 720 hours (the API's
// longest named window is thirty days). The API filters on creation time
// only, so the hand-off lists the open incidents (statuses New and Active,
// no time filter) and then scans the closed ones, keeping those whose last
// modification or activity falls in the window; the API has no workspace
// filter, so workspaceId filters the rows here. Each listing reads at most
// 5 API pages; at most 100 open and 50 closed incidents are shown, sorted
// by workspace, severity and creation time. Where the open listing is cut,
// the prompt hands the agent a list_incidents cursor (Deps.ListCursor) that
// lists exactly the ones left out.
//
// A failed prompts/get is a JSON-RPC error whose message is the sentence an
// agent or operator acts on: -32602 (invalid params) when the arguments are
// at fault (missing, invalid, or naming no incident), else -32603.
//
// Prompt.Tools and Prompt.Writes let the registry hide a prompt from a
// session that cannot use its tools (close_incident from a read-only one,
// respond_to_incident wherever response actions are off).
package prompts
