package prompts

import (
	"bytes"
	"embed"
	"encoding/json"
	"fmt"
	"strings"
	"sync"
	"text/template"

	"github.com/contraforce/contraforce-mcp/schema"
)

// The prompt texts are Markdown files embedded in the binary, rendered
// with text/template: a text can be reviewed and edited as prose.
//
//go:embed texts/*.md
var texts embed.FS

// funcs are the helpers the texts use.
var funcs = template.FuncMap{
	// quote renders a string as a JSON string literal (for example calls).
	"quote": func(s string) string {
		b, err := json.Marshal(s)
		if err != nil {
			return `""`
		}
		return string(b)
	},
	// code joins values as inline code: `a`, `b`, `c`.
	"code": func(vs []string) string { return "`" + strings.Join(vs, "`, `") + "`" },
}

var parsed = sync.OnceValues(func() (*template.Template, error) {
	return template.New("prompts").Funcs(funcs).Option("missingkey=error").ParseFS(texts, "texts/*.md")
})

// render executes one embedded text, by file name. The result passes
// through schema.SafeText: the data in it is already clean, and this keeps
// it so whatever a text adds.
func render(name string, data any) (string, error) {
	t, err := parsed()
	if err != nil {
		return "", fmt.Errorf("internal error: the prompt texts could not be parsed: %w", err)
	}
	var b bytes.Buffer
	if err := t.ExecuteTemplate(&b, name, data); err != nil {
		return "", fmt.Errorf("internal error: prompt text %s: %w", name, err)
	}
	return schema.SafeText(b.String()), nil
}

// untrusted renders data from ContraForce as indented JSON, for a fenced
// block in a prompt. JSON keeps the fence intact whatever the data says: a
// string cannot hold a raw newline, so no line of the block can close the
// fence or pose as the prompt's own text. "<" and ">" are escaped as well
// (they occur only inside JSON strings), so the data cannot even quote the
// prompt's <<<END …>>> marker.
func untrusted(v any) (string, error) {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", " ")
	if err := enc.Encode(v); err != nil {
		return "", fmt.Errorf("internal error: the incident data could not be encoded: %w", err)
	}
	out := string(schema.SafeJSON(bytes.TrimRight(b.Bytes(), "\n")))
	return angleEscaper.Replace(out), nil
}

var angleEscaper = strings.NewReplacer("<", `\u003c`, ">", `\u003e`)
