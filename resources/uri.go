package resources

import (
	"strconv"
	"strings"

	"github.com/mark3labs/mcp-go/mcp"
	"github.com/yosida95/uritemplate/v3"

	"github.com/contraforce/contraforce-mcp/client"
)

// The URI templates of the per-incident resources. Each variable is an RFC
// 6570 simple expansion, so an incident id with reserved characters
// (CrowdStrike's "inc:…") appears percent-encoded ("inc%3A…"): build URIs
// with IncidentURI, CommentsURI and EvidenceURI rather than by hand.
const (
	IncidentTemplate = "contraforce://workspaces/{workspaceId}/incidents/{source}/{incidentId}"
	EvidenceTemplate = IncidentTemplate + "/evidence"
	// CommentsTemplate pages with ?before=N: the comments older than
	// comment number N (numbered from 1, oldest first); without it, the
	// newest.
	CommentsTemplate = IncidentTemplate + "/comments{?before}"
)

// ClosurePolicyURI is the static reference resource listing the allowed
// values and the closure rules.
const ClosurePolicyURI = "contraforce://reference/closure-policy"

// Kind says which of an incident's resources a URI addresses.
type Kind int

// The per-incident resources.
const (
	KindIncident Kind = iota + 1
	KindComments
	KindEvidence
)

// String names the kind as in the resource names.
func (k Kind) String() string {
	switch k {
	case KindIncident:
		return "incident"
	case KindComments:
		return "comments"
	case KindEvidence:
		return "evidence"
	}
	return "unknown"
}

// parsedTemplates are compiled once; Template values are safe for
// concurrent use.
var parsedTemplates = map[Kind]*uritemplate.Template{
	KindIncident: uritemplate.MustNew(IncidentTemplate),
	KindComments: uritemplate.MustNew(CommentsTemplate),
	KindEvidence: uritemplate.MustNew(EvidenceTemplate),
}

// templateOf returns the mcp-go form of a kind's template.
func templateOf(k Kind) *mcp.URITemplate { return &mcp.URITemplate{Template: parsedTemplates[k]} }

// URI returns the URI of one of an incident's resources.
func URI(k Kind, ref client.IncidentRef) string {
	t, ok := parsedTemplates[k]
	if !ok {
		return ""
	}
	s, err := t.Expand(uritemplate.Values{
		"workspaceId": uritemplate.String(ref.WorkspaceID),
		"source":      uritemplate.String(string(ref.Source)),
		"incidentId":  uritemplate.String(ref.IncidentID),
	})
	if err != nil {
		// Expand fails only for a variable missing from Values, and all
		// three are always given.
		return ""
	}
	return s
}

// IncidentURI returns the URI of the incident resource.
func IncidentURI(ref client.IncidentRef) string { return URI(KindIncident, ref) }

// CommentsURI returns the URI of the incident's comments resource (its
// newest comments).
func CommentsURI(ref client.IncidentRef) string { return URI(KindComments, ref) }

// CommentsPageURI returns the URI of the page of the incident's comments
// older than comment number before.
func CommentsPageURI(ref client.IncidentRef, before int) string {
	return CommentsURI(ref) + "?before=" + strconv.Itoa(before)
}

// CommentsBefore returns the page a comments URI asks for: 0 for the
// newest comments, else the comment number the page ends before; ok is
// false for a before that is not a whole number from 1.
func CommentsBefore(uri string) (before int, ok bool) {
	vals := parsedTemplates[KindComments].Match(uri)
	if vals == nil {
		return 0, false
	}
	s := vals.Get("before").String()
	if s == "" {
		return 0, !strings.Contains(uri, "?")
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < 1 || strconv.Itoa(n) != s {
		return 0, false
	}
	return n, true
}

// EvidenceURI returns the URI of the incident's evidence resource.
func EvidenceURI(ref client.IncidentRef) string { return URI(KindEvidence, ref) }

// ParseURI returns the incident and the kind of resource a URI addresses.
// The source is matched case-insensitively and returned in its canonical
// spelling; ok is false for any other URI, an unknown source, or an empty
// variable.
func ParseURI(uri string) (ref client.IncidentRef, kind Kind, ok bool) {
	for _, k := range []Kind{KindComments, KindEvidence, KindIncident} {
		vals := parsedTemplates[k].Match(uri)
		if vals == nil {
			continue
		}
		src, valid := ParseSource(vals.Get("source").String())
		ref = client.IncidentRef{
			WorkspaceID: vals.Get("workspaceId").String(),
			Source:      src,
			IncidentID:  vals.Get("incidentId").String(),
		}
		if !valid || ref.WorkspaceID == "" || ref.IncidentID == "" {
			return client.IncidentRef{}, 0, false
		}
		return ref, k, true
	}
	return client.IncidentRef{}, 0, false
}

// ParseSource returns the Source spelled s, ignoring case.
func ParseSource(s string) (client.Source, bool) {
	for _, v := range client.Source("").Values() {
		if strings.EqualFold(string(v), s) {
			return v, true
		}
	}
	return "", false
}

// sameIncident reports whether a and b name the same incident. Workspace
// ids are GUIDs, which compare without case; incident ids are opaque.
func sameIncident(a, b client.IncidentRef) bool {
	return strings.EqualFold(a.WorkspaceID, b.WorkspaceID) && a.Source == b.Source && a.IncidentID == b.IncidentID
}
