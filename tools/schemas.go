package tools

import (
	"bytes"
	_ "embed"
	"encoding/json"
	"sync"
)

// schemasJSON holds every tool's input and output schema as reflected from
// its structs; schemas_test.go regenerates it (UPDATE_GOLDEN=1) and fails
// when it is stale.
//
//go:embed schemas.json
var schemasJSON []byte

// toolSchemas are the two schemas of one tool.
type toolSchemas struct {
	Input  json.RawMessage `json:"input"`
	Output json.RawMessage `json:"output"`
}

// loadSchemas decodes schemas.json once, compacting each schema as the
// reflection writes it.
var loadSchemas = sync.OnceValue(func() map[string]toolSchemas {
	var m map[string]toolSchemas
	if err := json.Unmarshal(schemasJSON, &m); err != nil {
		return nil // a broken file: every tool is reflected instead, and the test fails
	}
	for name, s := range m {
		m[name] = toolSchemas{Input: compact(s.Input), Output: compact(s.Output)}
	}
	return m
})

func compact(raw json.RawMessage) json.RawMessage {
	var b bytes.Buffer
	if json.Compact(&b, raw) != nil {
		return nil
	}
	return b.Bytes()
}

// generatedSchemas returns the tool's generated schemas, if it has them.
func generatedSchemas(name string) (in, out json.RawMessage, ok bool) {
	s, ok := loadSchemas()[name]
	if !ok || len(s.Input) == 0 || len(s.Output) == 0 {
		return nil, nil, false
	}
	return s.Input, s.Output, true
}
