package tools

import (
	"context"
	"errors"
	"fmt"

	"github.com/mark3labs/mcp-go/mcp"
	"github.com/mark3labs/mcp-go/server"

	"github.com/contraforce/contraforce-mcp/client"
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
// adapter returns its input-required result as it is, and a client of
// protocol 2026-07-28 answers it by calling again with the answer.
type needInput struct{ result *mcp.CallToolResult }

func (needInput) Error() string { return "input required" }

// errDeclined says the human declined or cancelled the confirmation.
var errDeclined = errors.New("declined")

// question is a change to confirm: what the human reads, and how the
// change is named to a later call that carries the same answer again.
type question struct {
	text string
	// change names what a confirmed call sends ("gamebook gb-1 for
	// DefenderXDR incident 42"), and look what the agent calls to see it.
	change, look string
}

// consent is the confirmation a call redeemed (zero when it needed none).
type consent struct {
	store     *Confirmations
	id, owner string
	shared    bool // the ticket was in the store's share
}

// settle forgets the confirmation when the change it allowed certainly did
// not reach ContraForce (err set, and not client.ErrOutcomeUnknown): the
// same answer sent again then asks the human anew instead of claiming a
// submission that never happened.
func (c consent) settle(err error) {
	if c.store != nil && err != nil && !errors.Is(err, client.ErrOutcomeUnknown) {
		c.store.forget(c.id, c.owner, c.shared)
	}
}

// usedError is a call that carries a confirmation an earlier call already
// redeemed: nothing is sent again. It unwraps to its refusal.
type usedError struct{ *refusalError }

func (e *usedError) Unwrap() error { return e.refusalError }

// confirm asks the human to confirm the change q describes, under policy
// ("" means ConfirmAuto, so callers pass Deps.ConfirmClose as it is).
// It returns nil to go ahead (with the confirmation the call redeemed, if
// any), errDeclined when the human said no, a needInput to ask, a usedError
// when the call carries an answer already used, or a refusal (a tool
// result, never a protocol error) when the policy demands a confirmation
// that cannot be had.
//
// Under protocol 2026-07-28 the answer comes back in a call of its own, and
// counts only with the ticket the question was issued with (see
// Confirmations): once.
func confirm(ctx context.Context, d Deps, policy ConfirmPolicy, q question) (consent, error) {
	if policy == ConfirmNever {
		return consent{}, nil
	}
	req := callFrom(ctx)
	if req == nil {
		req = &mcp.CallToolRequest{}
	}
	again := "" // why an answer given was not taken
	if answer := server.ElicitationResponse(req.Params.InputResponses, confirmID); answer != nil {
		if err := verdict(answer); err != nil {
			return consent{}, err // a "no" needs no ticket
		}
		owner, err := d.ticketOwner(ctx)
		if err != nil {
			return consent{}, err
		}
		state, change, shared, err := d.Confirmations.redeem(req.Params.RequestState, owner, callDigest(req))
		switch {
		case err != nil:
			// Taking an answer that cannot be checked could send the change
			// twice: it is no consent.
			again = "(Your earlier answer could not be checked just now; nothing was sent. Please answer again.)\n"
		case state == TicketRedeemed:
			return consent{store: d.Confirmations, id: req.Params.RequestState, owner: owner, shared: shared}, nil
		case state == TicketUsed:
			return consent{}, &usedError{&refusalError{msg: fmt.Sprintf("Not sent again: already submitted: %s. This call carries "+
				"the user's confirmation again, and one confirmation sends a change once, so nothing was sent now. %s; "+
				"to make the change again, call %s again and the user is asked anew.", change, capitalize(q.look), req.Params.Name)}}
		default: // not an answer to a question this server holds: ask
			again = "(An earlier answer to this question has expired or was given to another server; please answer again.)\n"
		}
	}
	params := mcp.ElicitationParams{Mode: mcp.ElicitationModeForm, Message: q.text, RequestedSchema: confirmSchema}
	switch elicitWay(ctx) {
	case askInResult:
		owner, err := d.ticketOwner(ctx)
		if err != nil {
			return consent{}, err
		}
		params.Message = again + q.text
		id := d.Confirmations.issue(owner, callDigest(req), q.change)
		return consent{}, needInput{result: server.NewInputRequestBuilder(id).Elicit(confirmID, params).ToolResult()}
	case askNow:
		// Asked here rather than left to mcp-go's bridge of input-required
		// results, which turns a failed elicitation into a protocol error.
		answer, err := server.ServerFromContext(ctx).RequestElicitation(ctx,
			mcp.ElicitationRequest{Request: mcp.Request{Method: string(mcp.MethodElicitationCreate)}, Params: params})
		if err != nil {
			return consent{}, refuse("Not closed: the user could not be asked to confirm (%s), so the incident is unchanged. "+
				"Call update_status again to ask again, or ask the user to close it in the ContraForce portal.", askFailure(ctx, err))
		}
		return consent{}, verdict(answer)
	}
	if policy == ConfirmAlways {
		return consent{}, refuse("Not closed: this server requires a human to confirm every closure, and this MCP client cannot ask " +
			"(it does not support elicitation over this connection). Ask the user to close it in the ContraForce portal, or to use a client that supports elicitation.")
	}
	return consent{}, nil
}

// ticketOwner names the calling session for a confirmation ticket.
func (d Deps) ticketOwner(ctx context.Context) (string, error) {
	sess, err := d.Session(ctx)
	if err != nil {
		return "", err
	}
	return ticketOwner(sess), nil
}

// capitalize upper-cases a sentence's first letter (ASCII).
func capitalize(s string) string {
	if s != "" && s[0] >= 'a' && s[0] <= 'z' {
		return string(s[0]-'a'+'A') + s[1:]
	}
	return s
}

// verdict reads the human's answer: go ahead only on an accepted, ticked form.
func verdict(answer *mcp.ElicitationResult) error {
	if answer != nil && answer.Action == mcp.ElicitationResponseActionAccept && confirmed(answer.Content) {
		return nil
	}
	return errDeclined
}

// askFailure says why asking failed, in words the agent can pass on; the
// client's own error text is not repeated (it is the client's, unchecked).
func askFailure(ctx context.Context, err error) string {
	switch {
	case ctx.Err() != nil:
		return "the call was cancelled while waiting for the answer"
	case errors.Is(err, server.ErrElicitationNotSupported):
		return "this connection cannot carry the question"
	default:
		return "the client did not deliver the question or its answer"
	}
}

// How a confirmation can be asked of the calling client.
const (
	cannotAsk   = iota
	askInResult // protocol 2026-07-28: an input-required result
	askNow      // earlier protocols: an elicitation/create request, now
)

// elicitWay decides from what the session can actually do, not only from
// what the client declared: a client of protocol 2026-07-28 that declared
// elicitation answers an input-required result; an older one needs a
// session that can send it an elicitation/create request (mcp-go's SSE
// session cannot, whatever the client declared).
func elicitWay(ctx context.Context) int {
	if mcp.IsModernProtocol(server.RequestProtocolVersion(ctx)) {
		if info := server.RequestProtocolInfoFromContext(ctx); info != nil && info.ClientCapabilities != nil && info.ClientCapabilities.Elicitation != nil {
			return askInResult
		}
		return cannotAsk
	}
	sess := server.ClientSessionFromContext(ctx)
	if _, ok := sess.(server.SessionWithElicitation); !ok || server.ServerFromContext(ctx) == nil {
		return cannotAsk
	}
	if info, ok := sess.(server.SessionWithClientInfo); ok && info.GetClientCapabilities().Elicitation != nil {
		return askNow
	}
	return cannotAsk
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

// callKey carries the MCP request into a handler, for the confirmation's answers.
type callKey struct{}

func withCall(ctx context.Context, req *mcp.CallToolRequest) context.Context {
	return context.WithValue(ctx, callKey{}, req)
}

func callFrom(ctx context.Context) *mcp.CallToolRequest {
	req, _ := ctx.Value(callKey{}).(*mcp.CallToolRequest)
	return req
}
