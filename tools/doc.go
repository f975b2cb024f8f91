// Package tools holds the MCP tools of contraforce-mcp, one file per tool:
// each file declares the tool's input and output structs, its description,
// its annotations, the scope it needs and its handler, a plain function of
// (ctx, Input) (Output, error) that can be tested without MCP.
//
// The generic adapter in tool.go turns such a handler into an MCP tool: the
// input and output structs are reflected into JSON Schemas by package schema
// (so every enum of the API reaches the schema from the client's enum types),
// arguments are validated before any API call, and every failure becomes a
// tool result with isError set and a sentence the agent can act on (errors.go).
// A Go error never escapes to mcp-go, which would turn it into a protocol error.
//
// Text that comes from incidents passes through schema.SafeText before it
// reaches the model: bidirectional and invisible control characters are made
// visible or removed.
package tools
