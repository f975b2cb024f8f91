package tools

import (
	"strings"

	"github.com/contraforce/contraforce-mcp/resources"
)

// oneLine folds incident text onto one line of at most n runes, for the
// short text renderings.
func oneLine(s string, n int) string {
	return resources.Clean(strings.Join(strings.Fields(s), " "), n)
}
