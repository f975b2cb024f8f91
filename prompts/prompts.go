package prompts

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/mark3labs/mcp-go/mcp"
	"github.com/mark3labs/mcp-go/server"

	"github.com/contraforce/contraforce-mcp/client"
	"github.com/contraforce/contraforce-mcp/resources"
)

// Deps are what the prompt handlers need, passed explicitly so that the
// hosted server can give every session its own credential.
type Deps struct {
	// Client returns the calling session's API client: the same client,
	// credential and workspace allowlist as the session's tools.
	Client func(ctx context.Context) (*client.Client, error)
	// Now is the clock of shift_handoff's window; nil means time.Now.
	Now func() time.Time
	// ListCursor issues a list_incidents cursor (tools.Cursors.ListCursor)
	// so that shift_handoff can say how to continue a listing it cut; nil:
	// it says to list again.
	ListCursor func(api *client.Client, f client.IncidentFilter, page client.PageToken, skip int) (string, error)
}

// listCursor is a cursor continuing the listing at (page, skip), or "".
func (d Deps) listCursor(api *client.Client, f client.IncidentFilter, page client.PageToken, skip int) string {
	if d.ListCursor == nil {
		return ""
	}
	c, err := d.ListCursor(api, f, page, skip)
	if err != nil {
		return ""
	}
	return c
}

func (d Deps) now() time.Time {
	if d.Now != nil {
		return d.Now()
	}
	return time.Now()
}

// Prompt is one MCP prompt of this server with what the registry needs to
// decide whether to offer it.
type Prompt struct {
	// Def is the MCP definition: name, title, description and arguments.
	Def mcp.Prompt
	// Handler is the MCP handler.
	Handler server.PromptHandlerFunc
	// Tools names the tools the prompt directs the agent to call; a session
	// that cannot use one of them should not be offered the prompt.
	Tools []string
	// Writes says the prompt leads to a change (a read-only session should
	// not be offered it).
	Writes bool
}

// argSpec declares one prompt argument; the same list makes the MCP
// definition and validates the arguments of prompts/get.
type argSpec struct {
	name, title, description string
	required                 bool
	// check validates and normalises a given value.
	check func(string) (string, error)
}

// incidentArgs are the three arguments that identify an incident, named
// as in the tools and the resource URIs.
var incidentArgs = []argSpec{
	{name: "workspaceId", title: "Workspace", description: "Workspace GUID (list_incidents shows it).", required: true},
	{name: "source", title: "Source", required: true, check: checkSource,
		description: "The incident's source product: one of " + strings.Join(client.EnumStrings[client.Source](), ", ") + "."},
	{name: "incidentId", title: "Incident", description: "Incident id within its source (list_incidents shows it).", required: true},
}

// newPrompt builds the MCP definition from the argument specs.
func newPrompt(name, title, description string, specs []argSpec) mcp.Prompt {
	opts := []mcp.PromptOption{mcp.WithPromptTitle(title), mcp.WithPromptDescription(description)}
	for _, a := range specs {
		aopts := []mcp.ArgumentOption{mcp.ArgumentTitle(a.title), mcp.ArgumentDescription(a.description)}
		if a.required {
			aopts = append(aopts, mcp.RequiredArgument())
		}
		opts = append(opts, mcp.WithArgument(a.name, aopts...))
	}
	return mcp.NewPrompt(name, opts...)
}

// parseArgs validates prompts/get arguments against the specs: a missing
// required argument or an invalid value is an error that names it and, for
// an enumeration, lists the allowed values. Values are trimmed; unknown
// arguments are ignored.
func parseArgs(prompt string, specs []argSpec, given map[string]string) (map[string]string, error) {
	out := make(map[string]string, len(specs))
	for _, a := range specs {
		v := strings.TrimSpace(given[a.name])
		if v == "" {
			if a.required {
				return nil, argErrorf("prompt %s: missing required argument %q: %s", prompt, a.name, a.description)
			}
			continue
		}
		if a.check != nil {
			checked, err := a.check(v)
			if err != nil {
				return nil, argErrorf("prompt %s: invalid argument %q: %v", prompt, a.name, err)
			}
			v = checked
		}
		out[a.name] = v
	}
	return out, nil
}

// argError is a prompts/get failure caused by its arguments: a missing or
// invalid one, or one naming no incident. It matches mcp.ErrInvalidParams,
// so the server answers it with -32602 (invalid params) rather than the
// -32603 (internal error) mcp-go gives any other handler error; its message
// is the sentence to act on.
type argError struct{ msg string }

func argErrorf(format string, a ...any) error { return &argError{fmt.Sprintf(format, a...)} }

func (e *argError) Error() string { return e.msg }

// Is makes errors.Is(err, mcp.ErrInvalidParams) hold.
func (e *argError) Is(target error) bool { return target == mcp.ErrInvalidParams }

// checkSource accepts a source in any case and returns its canonical spelling.
func checkSource(v string) (string, error) {
	if src, ok := resources.ParseSource(v); ok {
		return string(src), nil
	}
	return "", fmt.Errorf("%q is not a source; use one of %s", resources.Clean(v, 60),
		strings.Join(client.EnumStrings[client.Source](), ", "))
}

// refOf returns the incident the validated arguments name.
func refOf(args map[string]string) client.IncidentRef {
	return client.IncidentRef{WorkspaceID: args["workspaceId"], Source: client.Source(args["source"]), IncidentID: args["incidentId"]}
}

// apiClient returns the session's client, or an error saying why there is none.
func (d Deps) apiClient(ctx context.Context) (*client.Client, error) {
	if d.Client == nil {
		return nil, fmt.Errorf("prompts that read ContraForce are not configured on this server")
	}
	return d.Client(ctx)
}
