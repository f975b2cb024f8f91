package prompts

import (
	"bytes"
	"crypto/sha256"
	"embed"
	"encoding/hex"
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

// untrusted fences text from ContraForce for a prompt: between BEGIN and
// END markers tagged with a digest of the text, inside a code fence longer
// than any run of backticks in it. The text can quote a marker but not its
// tag (it would have to contain its own digest), nor close the fence; and
// resources.Investigation.Text, like the hand-off's rows, starts every line
// with its own label or an indent, so no line of it poses as the prompt's.
// Nothing is escaped: the text reads as it was written.
func untrusted(text string) string {
	sum := sha256.Sum256([]byte(text))
	tag := hex.EncodeToString(sum[:8])
	fence := strings.Repeat("`", max(3, longestRun(text, '`')+1))
	return fmt.Sprintf("<<<BEGIN UNTRUSTED INCIDENT DATA %s>>>\n%stext\n%s\n%s\n<<<END UNTRUSTED INCIDENT DATA %s>>>",
		tag, fence, text, fence, tag)
}

// longestRun is the length of the longest run of r in s.
func longestRun(s string, r rune) int {
	best, run := 0, 0
	for _, c := range s {
		if c == r {
			run++
			best = max(best, run)
		} else {
			run = 0
		}
	}
	return best
}
