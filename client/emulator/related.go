package emulator

import (
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/contraforce/contraforce-mcp/client"
)

// maxRelated bounds the rows of one related-incidents answer.
const maxRelated = 100

// entityKindAliases maps the kinds the related-incidents page names
// (Account, Host, File, FileHash, Ip, Mailbox), lower-cased, to the
// dataset's entity kinds.
var entityKindAliases = map[string]string{
	"account": "account", "mailbox": "account", "user": "account",
	"host": "host", "device": "host",
	"ip": "ip", "file": "file", "filehash": "file", "url": "url", "process": "process",
}

// entityKey is an entity's main identifier as the related-incidents page
// defines it, lower-cased: the UPN of an account, the host name, the
// address, a file's SHA-256, a URL, a process's image.
func entityKey(en client.Entity) string {
	prop := func(k string) string { s, _ := en.Properties[k].(string); return s }
	var v string
	switch en.Kind {
	case "account":
		v = prop("upn")
	case "host":
		v = prop("hostName")
	case "ip":
		v = prop("address")
	case "file":
		v = prop("sha256")
	case "url":
		v = prop("url")
	case "process":
		v = prop("imageFile")
	}
	if v == "" {
		v = en.Name()
	}
	return strings.ToLower(strings.TrimSpace(v))
}

// handleRelated serves GET …/agent/tools/incidents/{source}/{incidentId}/related-by-entity:
// the other incidents of the same workspace, created in the window, that
// share an entity with this one. EntityKind narrows the entities compared
// (any case; aliases as above); EntityFilter narrows them to the one whose
// main identifier it equals (case-insensitive). Without either, every
// entity of the incident is compared.
func (e *Emulator) handleRelated(w http.ResponseWriter, r *http.Request, c *call) {
	ref, ok := e.incidentTarget(w, r, c, false)
	if !ok {
		return
	}
	q := r.URL.Query()
	errs := fieldErrors{}
	kind := ""
	if k := strings.TrimSpace(q.Get("EntityKind")); k != "" {
		if kind, ok = entityKindAliases[strings.ToLower(k)]; !ok {
			errs.add("EntityKind", "%q is not an entity kind; use the kind as it appears on the incident (Account, Host, Ip, File, FileHash, Url, Process, Mailbox).", k)
		}
	}
	filter := strings.ToLower(strings.TrimSpace(q.Get("EntityFilter")))
	now := e.now()
	from, to := e.relatedWindow(q.Get("TimeFilteringType"), q.Get("StartDate"), q.Get("EndDate"), now, errs)
	if len(errs) > 0 {
		e.writeProblem(w, c, validationProblem(errs))
		return
	}
	e.mu.RLock()
	rec, ok := e.lookup(w, c, ref)
	if !ok {
		e.mu.RUnlock()
		return
	}
	wanted := map[string]map[string]bool{} // kind -> identifiers
	for _, en := range rec.entities {
		key := entityKey(en)
		if kind != "" && en.Kind != kind || filter != "" && key != filter || key == "" {
			continue
		}
		if wanted[en.Kind] == nil {
			wanted[en.Kind] = map[string]bool{}
		}
		wanted[en.Kind][key] = true
	}
	out := []client.RelatedIncident{}
	for _, other := range e.order {
		if other == rec || other.ref.WorkspaceID != ref.WorkspaceID || other.created.Before(from) || other.created.After(to) {
			continue
		}
		if !slices.ContainsFunc(other.entities, func(en client.Entity) bool { return wanted[en.Kind][entityKey(en)] }) {
			continue
		}
		out = append(out, client.RelatedIncident{
			CreationTime: wireTime(other.created), Number: other.number, Title: other.title, Description: other.description,
			Severity: other.severity, Status: other.status, ID: other.ref.IncidentID, Source: other.ref.Source,
			WorkspaceID: other.ref.WorkspaceID, ClassificationComment: clonePtr(other.classificationComment),
			Classification: clonePtr(other.classification),
		})
	}
	e.mu.RUnlock()
	slices.SortStableFunc(out, func(a, b client.RelatedIncident) int { return strings.Compare(b.CreationTime, a.CreationTime) })
	if len(out) > maxRelated {
		out = out[:maxRelated]
	}
	e.writeData(w, c, http.StatusOK, map[string]any{"incidents": out})
}

// relatedWindow reads TimeFilteringType (default TwentyFourHours) and, for
// Custom, StartDate (required) and EndDate (default now).
func (e *Emulator) relatedWindow(typ, start, end string, now time.Time, errs fieldErrors) (from, to time.Time) {
	t := client.TimeFilterType(strings.TrimSpace(typ))
	if t == "" {
		t = client.TimeTwentyFourHours
	}
	if !t.Valid() {
		checkEnum(errs, "TimeFilteringType", "time window", t)
		return
	}
	if t != client.TimeCustom {
		if start != "" || end != "" {
			errs.add("StartDate", "StartDate and EndDate are only for TimeFilteringType Custom.")
		}
		return now.Add(-timeWindows[t]), now
	}
	parse := func(key, v string) time.Time {
		ts, err := time.Parse(time.RFC3339, v)
		if err != nil {
			errs.add(key, "%q is not an RFC 3339 date-time.", v)
		}
		return ts
	}
	if start == "" {
		errs.add("StartDate", "Required when TimeFilteringType is Custom.")
		return
	}
	from, to = parse("StartDate", start), now
	if end != "" {
		to = parse("EndDate", end)
	}
	if len(errs) == 0 && from.After(to) {
		errs.add("StartDate", "StartDate must not be after EndDate.")
	}
	return from, to
}
