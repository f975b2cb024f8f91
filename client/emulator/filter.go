package emulator

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/contraforce/contraforce-mcp/client"
)

// listRequest is the body of POST /incidents/across-workspaces as the
// emulator reads it: client.ListIncidentsRequest's JSON members, with the
// custom time bounds kept as strings (so that a bad date is a field error)
// and isFirstCall nullable (so that an absent member can be told from false).
type listRequest struct {
	Severities          []client.Severity           `json:"severities"`
	Statuses            []client.Status             `json:"statuses"`
	Sources             []client.Source             `json:"sources"`
	TimeFilterSelection *timeFilterRequest          `json:"timeFilterSelection"`
	Query               string                      `json:"query"`
	AssigneeIDs         []string                    `json:"assigneeIds"`
	AssigneeEmails      []string                    `json:"assigneeEmails"`
	IncludeUnassigned   bool                        `json:"includeUnassigned"`
	IsFirstCall         *bool                       `json:"isFirstCall"`
	WorkspacePageTokens []client.WorkspacePageToken `json:"workspacePageTokens"`
	ContinuationToken   string                      `json:"continuationToken"`
}

type timeFilterRequest struct {
	Type           client.TimeFilterType `json:"type"`
	CustomStartUTC *string               `json:"customStartUtc"`
	CustomEndUTC   *string               `json:"customEndUtc"`
}

// timeWindows are the relative windows of the time filter.
var timeWindows = map[client.TimeFilterType]time.Duration{
	client.TimeThreeHours: 3 * time.Hour, client.TimeSixHours: 6 * time.Hour,
	client.TimeTwelveHours: 12 * time.Hour, client.TimeTwentyFourHours: 24 * time.Hour,
	client.TimeFourtyEightHours: 48 * time.Hour,
}

// listFilter is a validated filter of the list call.
type listFilter struct {
	severities        []client.Severity
	statuses          []client.Status
	sources           []client.Source
	from, to          time.Time // creation-time bounds; zero = unbounded
	query             string    // lower-cased
	ids               map[string]bool
	emails            map[string]bool // lower-cased
	byAssignee        bool            // assigneeIds, assigneeEmails or includeUnassigned given
	includeUnassigned bool
	// fingerprint identifies the filter as sent (not the evaluated time
	// window) so that page tokens can be bound to it.
	fingerprint string
}

// parseFilter validates the filter members of a list request.
func parseFilter(req *listRequest, now time.Time) (*listFilter, fieldErrors) {
	errs := fieldErrors{}
	checkEnums(errs, "severities", "severity", req.Severities)
	checkEnums(errs, "statuses", "status", req.Statuses)
	checkEnums(errs, "sources", "source", req.Sources)
	f := &listFilter{
		severities: sortedSet(req.Severities), statuses: sortedSet(req.Statuses), sources: sortedSet(req.Sources),
		query:             strings.ToLower(strings.TrimSpace(req.Query)),
		ids:               map[string]bool{},
		emails:            map[string]bool{},
		includeUnassigned: req.IncludeUnassigned,
	}
	var canon strings.Builder
	fmt.Fprintf(&canon, "sev=%v\x00st=%v\x00src=%v\x00q=%s\x00", f.severities, f.statuses, f.sources, f.query)
	if tf := req.TimeFilterSelection; tf != nil {
		switch d, ok := timeWindows[tf.Type]; {
		case ok:
			f.from = now.Add(-d)
			fmt.Fprintf(&canon, "t=%s\x00", tf.Type)
		case tf.Type == client.TimeCustom:
			f.from = parseBound(errs, "timeFilterSelection.customStartUtc", tf.CustomStartUTC)
			f.to = parseBound(errs, "timeFilterSelection.customEndUtc", tf.CustomEndUTC)
			if !f.from.IsZero() && !f.to.IsZero() && f.from.After(f.to) {
				errs.add("timeFilterSelection", "customStartUtc (%s) is after customEndUtc (%s).", wireTime(f.from), wireTime(f.to))
			}
			fmt.Fprintf(&canon, "t=Custom %s %s\x00", f.from.Format(time.RFC3339Nano), f.to.Format(time.RFC3339Nano))
		case tf.Type == "":
			errs.add("timeFilterSelection.type", "The time filter type is required; allowed: %s.", allowed[client.TimeFilterType]())
		default:
			checkEnum(errs, "timeFilterSelection.type", "time filter type", tf.Type)
		}
	}
	for _, id := range req.AssigneeIDs {
		f.ids[strings.TrimSpace(id)] = true
	}
	for _, em := range req.AssigneeEmails {
		f.emails[strings.ToLower(strings.TrimSpace(em))] = true
	}
	f.byAssignee = len(f.ids) > 0 || len(f.emails) > 0 || f.includeUnassigned
	fmt.Fprintf(&canon, "ids=%v\x00emails=%v\x00unassigned=%t", sortedKeys(f.ids), sortedKeys(f.emails), f.includeUnassigned)
	sum := sha256.Sum256([]byte(canon.String()))
	f.fingerprint = hex.EncodeToString(sum[:8])
	return f, errs
}

// parseBound parses a required custom bound (RFC 3339).
func parseBound(errs fieldErrors, key string, v *string) time.Time {
	if v == nil || strings.TrimSpace(*v) == "" {
		errs.add(key, "Required when the time filter type is Custom (RFC 3339, e.g. 2026-04-01T00:00:00Z).")
		return time.Time{}
	}
	t, err := time.Parse(time.RFC3339, strings.TrimSpace(*v))
	if err != nil {
		errs.add(key, "%q is not an RFC 3339 date-time (e.g. 2026-04-01T00:00:00Z).", *v)
		return time.Time{}
	}
	return t.UTC()
}

func sortedSet[T ~string](xs []T) []T {
	out := slices.Clone(xs)
	slices.Sort(out)
	return slices.Compact(out)
}

func sortedKeys(m map[string]bool) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

// match reports whether an incident passes the filter (the source is decided
// by the choice of streams).
func (f *listFilter) match(rec *record) bool {
	if len(f.severities) > 0 && !slices.Contains(f.severities, rec.severity) ||
		len(f.statuses) > 0 && !slices.Contains(f.statuses, rec.status) ||
		!f.from.IsZero() && rec.created.Before(f.from) ||
		!f.to.IsZero() && rec.created.After(f.to) ||
		f.query != "" && !strings.Contains(rec.search, f.query) {
		return false
	}
	if !f.byAssignee {
		return true
	}
	// The assignee filters form a union: the named assignees, plus the
	// unassigned incidents when includeUnassigned is set. includeUnassigned
	// alone therefore means "only unassigned incidents".
	if rec.assignee == nil {
		return f.includeUnassigned
	}
	return f.ids[rec.assignee.ID] || f.emails[strings.ToLower(rec.assignee.Email)]
}

// wantsSource reports whether the filter lists a source (or lists none).
func (f *listFilter) wantsSource(s client.Source) bool {
	return len(f.sources) == 0 || slices.Contains(f.sources, s)
}
