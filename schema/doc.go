// Package schema turns the Go input and output structs of MCP tools into
// compact JSON Schemas and validates tool arguments against the same
// contract before any API call is made.
//
// # Declaring a tool's input
//
//	type UpdateStatusInput struct {
//		WorkspaceID string        `json:"workspaceId" jsonschema:"required" desc:"Workspace GUID."`
//		Status      client.Status `json:"status" jsonschema:"required" desc:"New status."`
//		Comment     string        `json:"comment,omitempty" desc:"Why; required when closing."`
//		Limit       int           `json:"limit,omitempty" jsonschema:"minimum=1,maximum=100" desc:"Page size."`
//	}
//
//	s, err := schema.For[UpdateStatusInput]()   // s.JSON() → mcp.Tool.RawInputSchema
//	in, err := schema.Decode[UpdateStatusInput](req.GetRawArguments())
//
// Tags, the whole contract:
//   - json: the property name; "-" hides a field.
//   - desc:"…": the property's description. Chosen over jsonschema_description
//     (long) and jsonschema:"description=…" (commas must be escaped there).
//     Every input property needs one: For fails, naming the Go field, when
//     one is missing. Output descriptions are optional but encouraged.
//   - jsonschema:"required": the argument must be given. Input schemas take
//     required from this tag only; output schemas have no required list.
//   - jsonschema:"minimum=…,maximum=…,minLength=…,maxLength=…,minItems=…,maxItems=…".
//     Any tag that produces another keyword (title, default, pattern,
//     examples, oneof_…, nullable…) makes For fail rather than emit a keyword
//     the validator would ignore: state defaults in desc.
//
// Types: string, bool, ints, floats, time.Time (string, format date-time),
// pointers, slices and arrays, nested structs (inlined, closed with
// additionalProperties: false), embedded structs (fields promoted), maps
// with string keys (additionalProperties: the value schema) and interface
// fields (any value). Recursive types, channels, funcs, complex numbers,
// []byte, net.IP and url.URL are rejected with an error.
//
// Enums: a field whose type, or slice element type, is a string type with a
// method Values() []T (every enum of package client) gets "enum" with those
// values in their documented order. The lists exist once, in client.
//
// # The emitted schema
//
// Inline and compact, for tools/list: no $ref, $defs, $schema, $id or
// titles, no empty keywords; "type":"object" and additionalProperties:false
// at every struct level; properties in struct field order; keys in a fixed
// order; byte-for-byte stable. The keywords are exactly: type, description,
// enum, const, format (date-time), minimum, maximum, minLength, maxLength,
// minItems, maxItems, items, properties, required, additionalProperties,
// allOf, if, then. The validator implements that set and no other.
//
// In output schemas a field encoding/json may write as null (a pointer,
// slice or map without omitempty) has "type":[T,"null"], and null joins its
// enum, so a client validating structuredContent accepts what Go writes.
//
// # Cross-field rules
//
// A struct (the input or any nested struct) declares what one property
// cannot say in a Rules method; each RequiredWhen becomes an
// allOf/if/then in the schema and a check in Decode, from the one
// declaration. Rules are checked when For runs: a When or Require naming no
// property, or a When value the property cannot hold, is an error. A rule
// no schema can state goes in a Check() error method, which Decode calls
// after the arguments passed the schema and were decoded.
//
// # Validation (Decode and Schema.Validate)
//
// Decode accepts nil (no arguments), json.RawMessage or []byte, or any
// value encoding/json can encode (mcp-go's map[string]any). Raw arguments
// are better: they keep large integers exact. Every problem is reported at
// once, up to 20, as ArgErrors: one *ArgError per problem, each one sentence
// naming the argument by JSON path ("severities[1]") and what is allowed.
// Decisions where JSON Schema leaves room:
//   - An empty string for a required argument counts as missing, and so
//     does null.
//   - null for an optional argument, and "" for an optional enum, mean "not
//     given": agents often fill unused parameters that way, and both decode
//     to the zero value the handler sees when the argument is absent.
//   - An integer must be written as one: 1.0 and 1e2 are refused because
//     encoding/json cannot decode them into a Go int.
//   - date-time is checked with time.Time's own RFC 3339 parser, so what
//     passes also decodes.
//   - Limits whatever the schema says: 1 MiB of argument JSON, 64 KiB per
//     string, 32 levels of nesting.
//   - An unknown argument gets the closest property name as a suggestion
//     when it is a likely typo, and a wrong-case enum value its right case.
//
// Schemas are compiled once per type and kept in a sync.Map keyed by
// reflect.Type (failures too), so Decode does not reflect on the hot path.
package schema
