package tools

import (
	"bytes"
	"encoding/json"
	"os"
	"testing"

	"github.com/go-json-experiment/json/jsontext"
)

// TestGeneratedSchemasAreFresh: schemas.json, which the server declares its
// tools with, is exactly what reflecting the tools' structs gives.
// Regenerate with: UPDATE_GOLDEN=1 go test ./tools -run TestGeneratedSchemasAreFresh
func TestGeneratedSchemasAreFresh(t *testing.T) {
	all := []Tool{ListIncidents(Deps{}), GetIncident(Deps{}), UpdateStatus(Deps{}), AddComment(Deps{}), Assign(Deps{}),
		Whoami(Deps{}), ListUsers(Deps{}), FindRelatedIncidents(Deps{}), BulkUpdate(Deps{}), ListGamebooks(Deps{}), RunGamebook(Deps{})}
	want := make(map[string]toolSchemas, len(all))
	for _, tool := range all {
		in, out, err := tool.Schemas()
		if err != nil {
			t.Fatal(err)
		}
		want[tool.Def.Name] = toolSchemas{Input: jsontext.Value(in.JSON()), Output: jsontext.Value(out.JSON())}
		if !bytes.Equal(tool.Def.RawInputSchema, in.JSON()) || !bytes.Equal(tool.Def.RawOutputSchema, out.JSON()) {
			t.Errorf("%s is declared with schemas that differ from its structs", tool.Def.Name)
		}
	}
	raw, err := json.MarshalIndent(want, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	raw = append(raw, '\n')
	if bytes.Equal(raw, schemasJSON) {
		return
	}
	if os.Getenv("UPDATE_GOLDEN") != "" {
		if err := os.WriteFile("schemas.json", raw, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	t.Error("tools/schemas.json is stale; run UPDATE_GOLDEN=1 go test ./tools twice (the second run snapshots the new schemas)")
}
