package tools

import (
	"fmt"
	"strings"

	"github.com/contraforce/contraforce-mcp/resources"
)

// oneLine folds incident text onto one line of at most n runes, for the
// short text renderings.
func oneLine(s string, n int) string {
	return resources.Clean(strings.Join(strings.Fields(s), " "), n)
}

// writeTail ends the rendering of a change (update_status, bulk_update):
// the comment posted, folded onto one line, the notes, the request id.
func writeTail(b *strings.Builder, comment string, notes []string, requestID string) {
	if comment != "" {
		fmt.Fprintf(b, "\ncomment: %s", oneLine(comment, 300))
	}
	for _, n := range notes {
		fmt.Fprintf(b, "\nnote: %s", n)
	}
	if requestID != "" {
		fmt.Fprintf(b, "\nrequest id: %s", requestID)
	}
}
