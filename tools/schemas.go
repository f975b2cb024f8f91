package tools

import (
	_ "embed"
	"encoding/json"
	"sync"

	jsonv2 "github.com/go-json-experiment/json"
	"github.com/go-json-experiment/json/jsontext"
)

// schemasJSON holds every tool's input and output schema as reflected from
// its structs; schemas_test.go regenerates it (UPDATE_GOLDEN=1) and fails
// when it is stale.
//
//go:embed schemas.json
var schemasJSON []byte

// toolSchemas are the two schemas of one tool.
type toolSchemas struct {
	Input  jsontext.Value `json:"input"`
	Output jsontext.Value `json:"output"`
}

// loadSchemas decodes schemas.json once, compacting each schema as the
// reflection writes it. It runs at every start (every tool is defined
// then), so it reads with encoding/json/v2's module, which does it in a
// fifth of encoding/json's time.
var loadSchemas = sync.OnceValue(func() map[string]toolSchemas {
	var m map[string]toolSchemas
	if err := jsonv2.Unmarshal(schemasJSON, &m); err != nil {
		return nil // a broken file: every tool is reflected instead, and the test fails
	}
	for name, s := range m {
		if s.Input.Compact() != nil || s.Output.Compact() != nil {
			s = toolSchemas{}
		}
		m[name] = s
	}
	return m
})

// generatedSchemas returns the tool's generated schemas, if it has them.
func generatedSchemas(name string) (in, out json.RawMessage, ok bool) {
	s, ok := loadSchemas()[name]
	if !ok || len(s.Input) == 0 || len(s.Output) == 0 {
		return nil, nil, false
	}
	return json.RawMessage(s.Input), json.RawMessage(s.Output), true
}
