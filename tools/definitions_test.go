package tools_test

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/mark3labs/mcp-go/mcp"
)

// TestToolDefinitionsGolden snapshots each tool's definition as tools/list
// sends it, so that any change to a name, title, description, annotation or
// schema shows in review. UPDATE_GOLDEN=1 rewrites the snapshots.
func TestToolDefinitionsGolden(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	c := connect(t, e.session(demoCred), "claude-ai")
	got := map[string][]byte{}
	for _, raw := range c.listToolsRaw() {
		var def struct {
			Name string `json:"name"`
		}
		if err := json.Unmarshal(raw, &def); err != nil {
			t.Fatalf("decode tool: %v", err)
		}
		var pretty bytes.Buffer
		if err := json.Indent(&pretty, raw, "", "  "); err != nil {
			t.Fatalf("indent %s: %v", def.Name, err)
		}
		pretty.WriteByte('\n')
		got[def.Name] = pretty.Bytes()
	}
	names := make([]string, 0, len(got))
	for n := range got {
		names = append(names, n)
	}
	sort.Strings(names)
	want := slices.Sorted(slices.Values(toolNames))
	if !slices.Equal(names, want) {
		t.Fatalf("tools/list names = %v, want %v", names, want)
	}

	update := os.Getenv("UPDATE_GOLDEN") != ""
	for _, name := range names {
		path := filepath.Join("testdata", name+".golden.json")
		if update {
			if err := os.MkdirAll("testdata", 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(path, got[name], 0o644); err != nil {
				t.Fatal(err)
			}
			continue
		}
		golden, err := os.ReadFile(path)
		if err != nil {
			t.Errorf("%s: %v; create it with: UPDATE_GOLDEN=1 go test ./tools/", name, err)
			continue
		}
		if !bytes.Equal(golden, got[name]) {
			t.Errorf("tool %s differs from %s (regenerate with UPDATE_GOLDEN=1 go test ./tools/ if the change is intended):\n%s",
				name, path, lineDiff(string(golden), string(got[name])))
		}
	}
}

// lineDiff shows the first lines where want and got differ.
func lineDiff(want, got string) string {
	w, g := strings.Split(want, "\n"), strings.Split(got, "\n")
	var b strings.Builder
	shown := 0
	for i := 0; i < max(len(w), len(g)) && shown < 10; i++ {
		var wl, gl string
		if i < len(w) {
			wl = w[i]
		}
		if i < len(g) {
			gl = g[i]
		}
		if wl != gl {
			b.WriteString("line " + strconv.Itoa(i+1) + ":\n  golden: " + wl + "\n  now:    " + gl + "\n")
			shown++
		}
	}
	return b.String()
}

// TestToolDefinitionsComplete fails on a tool that a directory or a client
// would reject or that an agent would misuse: every tool states all four
// annotation hints, a title and a description, and every input property,
// at every depth, has a description.
func TestToolDefinitionsComplete(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	c := connect(t, e.session(demoCred), "claude-ai")
	raws := c.listToolsRaw()
	if len(raws) != len(toolNames) {
		t.Fatalf("tools/list has %d tools, want %d", len(raws), len(toolNames))
	}
	for _, raw := range raws {
		var def struct {
			Name        string                     `json:"name"`
			Title       string                     `json:"title"`
			Description string                     `json:"description"`
			Annotations map[string]json.RawMessage `json:"annotations"`
			Input       map[string]any             `json:"inputSchema"`
			Output      map[string]any             `json:"outputSchema"`
		}
		if err := json.Unmarshal(raw, &def); err != nil {
			t.Fatalf("decode tool: %v", err)
		}
		t.Run(def.Name, func(t *testing.T) {
			if strings.TrimSpace(def.Title) == "" {
				t.Error("no title")
			}
			if strings.TrimSpace(def.Description) == "" {
				t.Error("no description")
			}
			for _, hint := range []string{"readOnlyHint", "destructiveHint", "idempotentHint", "openWorldHint"} {
				v, ok := def.Annotations[hint]
				if !ok || (string(v) != "true" && string(v) != "false") {
					t.Errorf("annotation %s = %s, want true or false", hint, v)
				}
			}
			if def.Input["type"] != "object" || def.Input["additionalProperties"] != false {
				t.Errorf("inputSchema must be a closed object: %v", def.Input)
			}
			if def.Output["type"] != "object" {
				t.Errorf("outputSchema must be an object schema: %v", def.Output)
			}
			for _, p := range undescribed(def.Input, "") {
				t.Errorf("input property %s has no description", p)
			}
		})
	}

	// The typed client sees the same tools, with their hints.
	res, err := c.c.ListTools(context.Background(), mcp.ListToolsRequest{})
	if err != nil {
		t.Fatalf("ListTools: %v", err)
	}
	for _, tool := range res.Tools {
		a := tool.Annotations
		if a.ReadOnlyHint == nil || a.DestructiveHint == nil || a.IdempotentHint == nil || a.OpenWorldHint == nil {
			t.Errorf("%s: typed client sees a missing hint: %+v", tool.Name, a)
		}
		if *a.ReadOnlyHint && *a.DestructiveHint {
			t.Errorf("%s: read-only and destructive at once", tool.Name)
		}
	}
}

// undescribed walks a schema and returns the paths of properties without a
// description, through nested objects and array items.
func undescribed(s map[string]any, path string) []string {
	var out []string
	props, _ := s["properties"].(map[string]any)
	for name, v := range props {
		p, _ := v.(map[string]any)
		at := strings.TrimPrefix(path+"."+name, ".")
		if d, _ := p["description"].(string); strings.TrimSpace(d) == "" {
			out = append(out, at)
		}
		out = append(out, undescribed(p, at)...)
		if items, ok := p["items"].(map[string]any); ok {
			out = append(out, undescribed(items, at+"[]")...)
		}
	}
	sort.Strings(out)
	return out
}

// TestUndescribedFindsGaps proves the walk above sees a missing
// description at any depth.
func TestUndescribedFindsGaps(t *testing.T) {
	t.Parallel()
	var s map[string]any
	if err := json.Unmarshal([]byte(`{"type":"object","properties":{
		"a":{"type":"string","description":"A."},
		"b":{"type":"object","description":"B.","properties":{"c":{"type":"string"}}},
		"d":{"type":"array","description":"D.","items":{"type":"object","properties":{"e":{"type":"string","description":" "}}}},
		"f":{"type":"integer"}}}`), &s); err != nil {
		t.Fatal(err)
	}
	if got, want := undescribed(s, ""), []string{"b.c", "d[].e", "f"}; !slices.Equal(got, want) {
		t.Errorf("undescribed = %v, want %v", got, want)
	}
}

// TestReadOnlyHintsMatchBehaviour pins each tool's hints: clients decide
// from them whether to ask the user before a call.
func TestReadOnlyHintsMatchBehaviour(t *testing.T) {
	t.Parallel()
	want := map[string][4]bool{ // readOnly, destructive, idempotent, openWorld
		"list_incidents": {true, false, true, true},
		"get_incident":   {true, false, true, true},
		"update_status":  {false, true, false, true},
		"add_comment":    {false, false, false, true},
		"assign":         {false, true, true, true},
	}
	srv := newServer(noDeps())
	for name, w := range want {
		st := srv.GetTool(name)
		if st == nil {
			t.Errorf("%s not registered", name)
			continue
		}
		a := st.Tool.Annotations
		got := [4]bool{*a.ReadOnlyHint, *a.DestructiveHint, *a.IdempotentHint, *a.OpenWorldHint}
		if got != w {
			t.Errorf("%s hints (readOnly, destructive, idempotent, openWorld) = %v, want %v", name, got, w)
		}
	}
}
