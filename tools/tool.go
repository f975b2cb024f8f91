package tools

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"

	"github.com/mark3labs/mcp-go/mcp"
	"github.com/mark3labs/mcp-go/server"

	"github.com/contraforce/contraforce-mcp/client"
	"github.com/contraforce/contraforce-mcp/schema"
)

// Session is the identity and policy one MCP session works under: in stdio
// mode there is one; the hosted server makes one per tenant or caller.
type Session struct {
	// Client calls ContraForce with the session's service-account credential
	// (it also enforces the workspace allowlist).
	Client *client.Client
	// Scopes are the credential's scopes as the operator declared them; a
	// tool whose scope is missing is not offered.
	Scopes []client.Scope
	// ReadOnly offers only the read tools.
	ReadOnly bool
	// AgentName attributes the session's comments; "" derives it from the
	// MCP client's name (see AgentName).
	AgentName string
	// Tenant names the hosted tenant ("" over stdio), for logs and audit.
	Tenant string
	// OnBehalfOf is the user an OAuth access token named (nil otherwise):
	// comments name them beside the agent, and the audit log records them.
	OnBehalfOf *User
	// ResponseActions is the operator's switch for response actions
	// (run_gamebook): off unless enabled, whatever the scopes.
	ResponseActions bool
	// CallerCredential: the caller presented Client's credential (hosted
	// pass-through), so a rejected credential is the caller's to fix, not
	// the operator's.
	CallerCredential bool
}

// Deps are what the handlers need, passed explicitly so that the hosted
// server can give every session its own credential.
type Deps struct {
	// Session returns the calling session's identity and policy.
	Session func(ctx context.Context) (*Session, error)
	// Changed, when set, is told about every incident a write changed (the
	// resources package notifies subscribers from it).
	Changed func(ctx context.Context, ref client.IncidentRef)
	// ConfirmClose decides when closing an incident asks the human first
	// ("" means ConfirmAuto).
	ConfirmClose ConfirmPolicy
	// Cursors keeps list_incidents' positions; nil gives the tool a store
	// of its own (share one to let the shift hand-off issue cursors).
	Cursors *Cursors
	// Confirmations keeps the tickets that make a confirmation answered in
	// a later call (protocol 2026-07-28) send its change once; nil gives
	// each tool that asks a store of its own.
	Confirmations *Confirmations
}

// api returns the session's API client.
func (d Deps) api(ctx context.Context) (*client.Client, error) {
	s, err := d.Session(ctx)
	if err != nil {
		return nil, err
	}
	return s.Client, nil
}

// callerCredential reports whether the calling session's credential is the
// caller's own (see Session.CallerCredential).
func (d Deps) callerCredential(ctx context.Context) bool {
	if d.Session == nil {
		return false
	}
	s, err := d.Session(ctx)
	return err == nil && s.CallerCredential
}

// changed reports a write to the Changed hook, if any.
func (d Deps) changed(ctx context.Context, ref client.IncidentRef) {
	if d.Changed != nil {
		d.Changed(ctx, ref)
	}
}

// Tool is one MCP tool of this server with what the registry needs to decide
// whether to offer it.
type Tool struct {
	// Def is the MCP definition: name, title, description, annotations and
	// the reflected input and output schemas.
	Def mcp.Tool
	// Scope is the credential scope the tool's API calls need.
	Scope client.Scope
	// Handler is the MCP handler; it never returns a Go error for a failed call.
	Handler server.ToolHandlerFunc
	// Schemas reflects the input and output structs (the validator's view
	// of them, and the README reference's).
	Schemas func() (in, out *schema.Schema, err error)
	// ResponseAction marks a tool that acts on the world beyond ContraForce
	// (isolating a host, disabling an account): offered only to a session
	// whose operator enabled response actions.
	ResponseAction bool
}

// Offered reports whether the session may use the tool: its scope is one
// of the session's, a write needs a session that is not read-only, and a
// response action one whose operator enabled them.
func (t Tool) Offered(sess *Session) bool {
	return slices.Contains(sess.Scopes, t.Scope) && (t.ReadOnly() || !sess.ReadOnly) &&
		(!t.ResponseAction || sess.ResponseActions)
}

// ReadOnly reports whether the tool only reads.
func (t Tool) ReadOnly() bool {
	return t.Def.Annotations.ReadOnlyHint != nil && *t.Def.Annotations.ReadOnlyHint
}

// hints are a tool's behaviour hints; every tool states all four.
type hints struct {
	readOnly, destructive, idempotent, openWorld bool
}

// spec declares a tool; newTool turns it into a Tool.
type spec[In, Out any] struct {
	name, title, description string
	scope                    client.Scope
	hints                    hints
	// handle does the work: a plain function, testable without MCP.
	handle func(ctx context.Context, in In) (Out, error)
	// text renders the result for clients that read only text content.
	text func(Out) string
	// responseAction: see Tool.ResponseAction.
	responseAction bool
	// deps are the tool's dependencies; the adapter asks them whose
	// credential a failure concerns.
	deps Deps
}

// newTool declares the tool with its input and output schemas, and wraps
// handle so that arguments are validated before any API call, failures
// become tool results an agent can act on, and the typed outcome reaches
// the call's CallReport (the audit's source of truth).
//
// The schemas come from schemas.json, generated from the structs by
// reflection (UPDATE_GOLDEN=1 go test ./tools): reflecting every struct at
// start-up would cost a stdio server a third of its cold start. A test fails
// when schemas.json differs from the reflection, and the validator reflects
// its struct on first use. A tool missing from schemas.json is reflected
// here; a struct the schema package refuses (a missing description, say)
// panics: a programming error the tests catch, never a runtime condition.
func newTool[In, Out any](s spec[In, Out]) Tool {
	reflected := func() (in, out *schema.Schema, err error) {
		if in, err = schema.For[In](); err != nil {
			return nil, nil, fmt.Errorf("tool %s: input schema: %w", s.name, err)
		}
		if out, err = schema.ForOutput[Out](); err != nil {
			return nil, nil, fmt.Errorf("tool %s: output schema: %w", s.name, err)
		}
		return in, out, nil
	}
	inJSON, outJSON, ok := generatedSchemas(s.name)
	if !ok {
		in, out, err := reflected()
		if err != nil {
			panic(err.Error())
		}
		inJSON, outJSON = in.JSON(), out.JSON()
	}
	def := mcp.Tool{
		Name:            s.name,
		Title:           s.title,
		Description:     s.description,
		RawInputSchema:  inJSON,
		RawOutputSchema: outJSON,
		// The title is stated once, at the top level (the current spec's place).
		Annotations: mcp.ToolAnnotation{
			ReadOnlyHint:    mcp.ToBoolPtr(s.hints.readOnly),
			DestructiveHint: mcp.ToBoolPtr(s.hints.destructive),
			IdempotentHint:  mcp.ToBoolPtr(s.hints.idempotent),
			OpenWorldHint:   mcp.ToBoolPtr(s.hints.openWorld),
		},
	}
	handler := func(ctx context.Context, req mcp.CallToolRequest) (*mcp.CallToolResult, error) {
		args, err := schema.Decode[In](req.GetRawArguments())
		if err != nil {
			report(ctx, OutcomeError, err)
			return errorResult(s.name, err), nil
		}
		res, err := s.handle(withCall(ctx, &req), args)
		report(ctx, outcomeOf(args, err), err)
		var ask needInput
		switch {
		case errors.As(err, &ask):
			return ask.result, nil
		case err != nil:
			return errorResultFor(s.name, err, s.deps.callerCredential(ctx)), nil
		}
		return render(res, s.text)
	}
	return Tool{Def: def, Scope: s.scope, Handler: handler, Schemas: reflected, ResponseAction: s.responseAction}
}

// render returns the structured result and its short text rendering, both
// passed through schema.SafeText so no invisible or bidirectional control
// character from an incident reaches the model.
func render[Out any](res Out, text func(Out) string) (*mcp.CallToolResult, error) {
	// Not HTML-escaped: the reader is a model, not a browser, and "\u003c"
	// for every "<" costs bytes and readability.
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(res); err != nil {
		return mcp.NewToolResultError("internal error: the result could not be encoded: " + err.Error()), nil
	}
	raw := schema.SafeJSON(bytes.TrimRight(buf.Bytes(), "\n"))
	var rendered string
	if text != nil {
		rendered = schema.SafeText(text(res))
	} else {
		rendered = string(raw)
	}
	return &mcp.CallToolResult{
		Content:           []mcp.Content{mcp.NewTextContent(rendered)},
		StructuredContent: json.RawMessage(raw),
	}, nil
}
