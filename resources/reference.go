package resources

import (
	"context"
	"embed"
	"strings"
	"sync"
	"text/template"

	"github.com/mark3labs/mcp-go/mcp"
	"github.com/mark3labs/mcp-go/server"

	"github.com/contraforce/contraforce-mcp/client"
)

//go:embed texts/*.md
var texts embed.FS

// policyText renders the closure-policy resource once: it depends only on
// the client's enum types, whose values are listed there once.
var policyText = sync.OnceValues(func() (string, error) {
	t, err := template.New("closure-policy.md").
		Funcs(template.FuncMap{"join": func(vs []string) string { return "`" + strings.Join(vs, "`, `") + "`" }}).
		ParseFS(texts, "texts/closure-policy.md")
	if err != nil {
		return "", err
	}
	data := map[string]any{
		"Sentinel":        client.SourceSentinel,
		"New":             client.StatusNew,
		"Active":          client.StatusActive,
		"Closed":          client.StatusClosed,
		"Sources":         client.EnumStrings[client.Source](),
		"Statuses":        client.EnumStrings[client.Status](),
		"Severities":      client.EnumStrings[client.Severity](),
		"Classifications": client.EnumStrings[client.Classification](),
		"Reasons":         client.EnumStrings[client.ClassificationReason](),
		"RecordsVerdict":  client.Strings(client.SourcesWithClassification()),
		"NoVerdict":       client.Strings(client.SourcesWithoutClassification()),
	}
	var b strings.Builder
	if err := t.Execute(&b, data); err != nil {
		return "", err
	}
	return b.String(), nil
})

// JoinAnd joins words as "a, b and c".
func JoinAnd(ss []string) string {
	if len(ss) < 2 {
		return strings.Join(ss, "")
	}
	return strings.Join(ss[:len(ss)-1], ", ") + " and " + ss[len(ss)-1]
}

// ClosurePolicy returns the text of the closure-policy resource (Markdown).
func ClosurePolicy() (string, error) { return policyText() }

// Static returns the static resources: the closure-policy reference.
// Register them with server.MCPServer.AddResources.
func Static() []server.ServerResource {
	return []server.ServerResource{{
		Resource: mcp.Resource{
			URI:   ClosurePolicyURI,
			Name:  "closure-policy",
			Title: "Closure policy",
			Description: "The allowed sources, statuses, severities, classifications and classification reasons, " +
				"and the rules for closing an incident (a comment always; Sentinel needs a classification and a reason; " +
				JoinAnd(client.Strings(client.SourcesWithoutClassification())) + " do not record one).",
			MIMEType: "text/markdown",
		},
		Handler: func(ctx context.Context, req mcp.ReadResourceRequest) ([]mcp.ResourceContents, error) {
			text, err := policyText()
			if err != nil {
				return nil, err
			}
			return []mcp.ResourceContents{mcp.TextResourceContents{URI: ClosurePolicyURI, MIMEType: "text/markdown", Text: text}}, nil
		},
	}}
}
