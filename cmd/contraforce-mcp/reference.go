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

// reference renders the README's reference from the one list: every tool
// (what it does, its scope, its hints and its arguments), resource and prompt.
func reference(s surface) string {
	var b strings.Builder
	b.WriteString("### Tools\n\n")
	for _, t := range s.Tools {
		writeToolReference(&b, t)
	}
	b.WriteString("### Resources\n\n| URI | Name | Type | What |\n|---|---|---|---|\n")
	for _, r := range s.Templates {
		fmt.Fprintf(&b, "| `%s` | %s | %s | %s |\n", r.Template.URITemplate.Raw(), r.Template.Name, r.Template.MIMEType, r.Template.Description)
	}
	for _, r := range s.Resources {
		fmt.Fprintf(&b, "| `%s` | %s | %s | %s |\n", r.Resource.URI, r.Resource.Name, r.Resource.MIMEType, r.Resource.Description)
	}
	b.WriteString("\n### Prompts\n\n| Prompt | Arguments | What |\n|---|---|---|\n")
	for _, p := range s.Prompts {
		var args []string
		for _, a := range p.Def.Arguments {
			arg := "`" + a.Name + "`"
			if a.Required {
				arg += " (required)"
			}
			args = append(args, arg)
		}
		fmt.Fprintf(&b, "| `%s` | %s | %s |\n", p.Def.Name, strings.Join(args, ", "), p.Def.Description)
	}
	return b.String()
}

func writeToolReference(b *strings.Builder, t tools.Tool) {
	d := t.Def
	a := d.Annotations
	fmt.Fprintf(b, "#### `%s` — %s\n\n%s\n\n", d.Name, d.Title, d.Description)
	fmt.Fprintf(b, "Scope `%s` · read-only %s · destructive %s · idempotent %s · open-world %s\n\n",
		t.Scope, yesNo(a.ReadOnlyHint), yesNo(a.DestructiveHint), yesNo(a.IdempotentHint), yesNo(a.OpenWorldHint))
	in, out, err := t.Schemas()
	if err != nil {
		panic(err) // the tools' tests refuse such a struct long before
	}
	b.WriteString(in.Describe())
	fmt.Fprintf(b, "\nResult fields: %s.\n\n", strings.Join(codeList(out.Properties()), ", "))
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
