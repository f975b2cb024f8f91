package tools

import (
	"context"
	"errors"

	"github.com/mark3labs/mcp-go/mcp"
	"github.com/mark3labs/mcp-go/server"
)

// ConfirmPolicy decides when closing an incident first asks the human, by
// MCP elicitation, to confirm.
type ConfirmPolicy string

// The confirmation policies.
const (
	// ConfirmAuto asks whenever the client supports elicitation (the default).
	ConfirmAuto ConfirmPolicy = "auto"
	// ConfirmAlways asks every time, and refuses to close when the client
	// cannot ask.
	ConfirmAlways ConfirmPolicy = "always"
	// ConfirmNever closes without asking.
	ConfirmNever ConfirmPolicy = "never"
)

// Values lists every ConfirmPolicy.
func (ConfirmPolicy) Values() []ConfirmPolicy {
	return []ConfirmPolicy{ConfirmAuto, ConfirmAlways, ConfirmNever}
}

// confirmID keys the confirmation among a call's input requests.
const confirmID = "confirm_close"

// confirmSchema is the form the human answers: one checkbox, worded for
// any change (closures, batches, response actions).
var confirmSchema = map[string]any{
	"type": "object",
	"properties": map[string]any{
		"confirm": map[string]any{"type": "boolean", "title": "Confirm", "description": "Tick to make the change described above."},
	},
	"required": []string{"confirm"},
}

// needInput is returned by a handler that must ask the human first; the
// adapter returns its input-required result as it is. mcp-go delivers it to
// clients of protocol 2026-07-28 as is, and to older clients as an
// elicitation/create request, calling the handler again with the answer.
type needInput struct{ result *mcp.CallToolResult }

func (needInput) Error() string { return "input required" }

// errDeclined says the human declined or cancelled the confirmation.
var errDeclined = errors.New("declined")

// confirm asks the human to confirm a change described by message, under
// policy. It returns nil to go ahead, errDeclined when the human said no,
// a needInput to ask, or a refusal when the policy demands a confirmation
// the client cannot give.
func confirm(ctx context.Context, policy ConfirmPolicy, message string) error {
	if policy == ConfirmNever {
		return nil
	}
	if req := callFrom(ctx); req != nil {
		if answer := server.ElicitationResponse(req.Params.InputResponses, confirmID); answer != nil {
			if answer.Action == mcp.ElicitationResponseActionAccept && confirmed(answer.Content) {
				return nil
			}
			return errDeclined
		}
	}
	if !canElicit(ctx) {
		if policy == ConfirmAlways {
			return refuse("Not closed: this server requires a human to confirm every closure, and this MCP client cannot ask " +
				"(it does not support elicitation). Ask the user to close it in the ContraForce portal, or to use a client that supports elicitation.")
		}
		return nil
	}
	b := server.NewInputRequestBuilder("").Elicit(confirmID, mcp.ElicitationParams{
		Mode: mcp.ElicitationModeForm, Message: message, RequestedSchema: confirmSchema,
	})
	return needInput{result: b.ToolResult()}
}

// confirmed reads the form's checkbox.
func confirmed(content any) bool {
	m, ok := content.(map[string]any)
	if !ok {
		return false
	}
	v, _ := m["confirm"].(bool)
	return v
}

// canElicit reports whether the calling client declared elicitation.
func canElicit(ctx context.Context) bool {
	s, ok := server.ClientSessionFromContext(ctx).(server.SessionWithClientInfo)
	return ok && s.GetClientCapabilities().Elicitation != nil
}

// callKey carries the MCP request into a handler, for the confirmation's answers.
type callKey struct{}

func withCall(ctx context.Context, req *mcp.CallToolRequest) context.Context {
	return context.WithValue(ctx, callKey{}, req)
}

func callFrom(ctx context.Context) *mcp.CallToolRequest {
	req, _ := ctx.Value(callKey{}).(*mcp.CallToolRequest)
	return req
}
