package main

import (
	"os"
	"strings"
	"testing"
)

// TestReadmeReference fails when the README's generated reference is stale.
// Regenerate with: UPDATE_README=1 go test ./cmd/contraforce-mcp -run TestReadmeReference
func TestReadmeReference(t *testing.T) {
	const path = "../../README.md"
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	readme := string(raw)
	begin, end := strings.Index(readme, refBegin), strings.Index(readme, refEnd)
	if begin < 0 || end < begin {
		t.Fatalf("README.md lacks the markers %q … %q", refBegin, refEnd)
	}
	want := refBegin + "\n\n" + reference(newSurface(surfaceDeps{})) + refEnd
	got := readme[begin : end+len(refEnd)]
	if got == want {
		return
	}
	if os.Getenv("UPDATE_README") != "" {
		if err := os.WriteFile(path, []byte(readme[:begin]+want+readme[end+len(refEnd):]), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	t.Errorf("README.md's generated reference is stale; run: UPDATE_README=1 go test ./cmd/contraforce-mcp -run TestReadmeReference")
}
