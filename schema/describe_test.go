package schema

import (
	"testing"

	"github.com/contraforce/contraforce-mcp/client"
)

type describeInput struct {
	Status client.Status `json:"status" jsonschema:"required" desc:"New status."`
	Note   string        `json:"note,omitempty" jsonschema:"maxLength=10" desc:"A | piped\nnote."`
	Items  []Item        `json:"items,omitempty" jsonschema:"maxItems=3" desc:"Items."`
	Limit  int           `json:"limit,omitempty" jsonschema:"minimum=1,maximum=100" desc:"Page size."`
}

func (describeInput) Rules() []Rule {
	return []Rule{RequiredWhen{When: map[string]any{"status": client.StatusClosed}, Require: []string{"note"}, Why: "closing needs a note"}}
}

func TestDescribe(t *testing.T) {
	s, err := For[describeInput]()
	if err != nil {
		t.Fatal(err)
	}
	want := "| Name | Type | Required | Allowed values | Description |\n" +
		"|---|---|---|---|---|\n" +
		"| `status` | string | yes | `Active`, `New`, `Closed` | New status. |\n" +
		"| `note` | string | no | at most 10 characters | A \\| piped note. |\n" +
		"| `items` | array of object | no | at most 3 items | Items. |\n" +
		"| `items[].id` | string | yes |  | Item id. |\n" +
		"| `limit` | integer | no | 1 to 100 | Page size. |\n" +
		"\n" +
		"- `note` required when status is \"Closed\": closing needs a note.\n"
	if got := s.Describe(); got != want {
		t.Errorf("got:\n%s\nwant:\n%s", got, want)
	}
	o, err := ForOutput[Out]()
	if err != nil {
		t.Fatal(err)
	}
	const row = "| `tags` | array of string or null | no |  |  |\n"
	if got := o.Describe(); !contains(got, row) {
		t.Errorf("output table lacks %q:\n%s", row, got)
	}
}

func contains(s, sub string) bool {
	for i := 0; i+len(sub) <= len(s); i++ {
		if s[i:i+len(sub)] == sub {
			return true
		}
	}
	return false
}
