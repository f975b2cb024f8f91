package main

import (
	"fmt"
	"strings"

	"github.com/contraforce/contraforce-mcp/tools"
)

// README markers around the generated reference; reference_test.go fails
// when the README between them differs from reference(surface).
const (
	refBegin = "<!-- BEGIN GENERATED REFERENCE: go test ./cmd/contraforce-mcp with UPDATE_README=1 rewrites this section -->"
	refEnd   = "<!-- END GENERATED REFERENCE -->"
)

// reference renders the README's reference of every tool from the one list:
// what it does, its scope, its hints and its arguments.
func reference(s surface) string {
	var b strings.Builder
	for _, t := range s.Tools {
		writeToolReference(&b, t)
	}
	return b.String()
}

func writeToolReference(b *strings.Builder, t tools.Tool) {
	d := t.Def
	a := d.Annotations
	fmt.Fprintf(b, "### `%s` — %s\n\n%s\n\n", d.Name, d.Title, d.Description)
	fmt.Fprintf(b, "Scope `%s` · read-only %s · destructive %s · idempotent %s · open-world %s\n\n",
		t.Scope, yesNo(a.ReadOnlyHint), yesNo(a.DestructiveHint), yesNo(a.IdempotentHint), yesNo(a.OpenWorldHint))
	b.WriteString(t.Input.Describe())
	fmt.Fprintf(b, "\nResult fields: %s.\n\n", strings.Join(codeList(t.Output.Properties()), ", "))
}

func yesNo(p *bool) string {
	if p != nil && *p {
		return "yes"
	}
	return "no"
}

func codeList(names []string) []string {
	out := make([]string, len(names))
	for i, n := range names {
		out[i] = "`" + n + "`"
	}
	return out
}
