package tools

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/contraforce/contraforce-mcp/client"
	"github.com/contraforce/contraforce-mcp/resources"
	"github.com/contraforce/contraforce-mcp/schema"
)

// EntityKind is a kind of entity find_related_incidents looks for.
type EntityKind string

// The entity kinds, as the related-incidents page names them.
const (
	KindAccount EntityKind = "Account"
	KindHost    EntityKind = "Host"
	KindIP      EntityKind = "Ip"
	KindFile    EntityKind = "File"
	KindURL     EntityKind = "Url"
)

// Values lists every EntityKind.
func (EntityKind) Values() []EntityKind {
	return []EntityKind{KindAccount, KindHost, KindIP, KindFile, KindURL}
}

// kindOf maps an entity's kind as an incident shows it to an EntityKind
// ("" for kinds not searched, such as processes).
func kindOf(k string) EntityKind {
	switch strings.ToLower(k) {
	case "account", "user", "mailbox":
		return KindAccount
	case "host", "device":
		return KindHost
	case "ip":
		return KindIP
	case "file", "filehash":
		return KindFile
	case "url":
		return KindURL
	}
	return ""
}

// FindRelatedInput names the incident and, optionally, the entity and window.
type FindRelatedInput struct {
	IncidentArgs
	EntityKind EntityKind            `json:"entityKind,omitempty" desc:"Only this kind (default: all)."`
	Entity     string                `json:"entity,omitempty" jsonschema:"maxLength=500" desc:"Its UPN, host name, IP, SHA-256 or URL."`
	Window     client.TimeFilterType `json:"window,omitempty" desc:"Default: since 30 days before the incident."`
	Since      *time.Time            `json:"since,omitempty" desc:"Start of a Custom window."`
}

// Check states what the schema cannot.
func (in FindRelatedInput) Check() error {
	switch {
	case in.Entity != "" && in.EntityKind == "":
		return &schema.ArgError{Field: "entityKind", Kind: schema.KindRule, Problem: "is required with entity"}
	case in.Window == client.TimeCustom && in.Since == nil:
		return &schema.ArgError{Field: "since", Kind: schema.KindRule, Problem: `is required with window "Custom"`}
	case in.Since != nil && in.Window != "" && in.Window != client.TimeCustom:
		return &schema.ArgError{Field: "since", Kind: schema.KindRule, Problem: `goes with window "Custom" only`}
	}
	return nil
}

// FindRelatedOutput is what the other incidents of the workspace share with this one.
type FindRelatedOutput struct {
	WorkspaceID string          `json:"workspaceId"`
	Window      string          `json:"window"`
	Entities    []RelatedEntity `json:"entities"`
	Incidents   []RelatedRow    `json:"incidents"`
	Notes       []string        `json:"notes,omitempty"`
}

// RelatedEntity is one entity looked for, and what its other incidents say.
type RelatedEntity struct {
	Kind     string `json:"kind"`
	Entity   string `json:"entity"`
	Matches  int    `json:"matches"`
	Verdicts string `json:"verdicts,omitempty" desc:"Past verdicts and open incidents."`
}

// RelatedRow is one related incident (of the same workspace).
type RelatedRow struct {
	IncidentID     string   `json:"incidentId"`
	Source         string   `json:"source"`
	Number         int      `json:"number"`
	Title          string   `json:"title"`
	Status         string   `json:"status"`
	Severity       string   `json:"severity"`
	Created        string   `json:"created"`
	Classification string   `json:"classification,omitempty"`
	Via            []string `json:"via" desc:"The shared entities."`
}

const (
	// maxRelatedEntities bounds the entities one call looks for.
	maxRelatedEntities = 8
	// maxRelatedRows bounds the incidents one answer lists.
	maxRelatedRows = 25
	// relatedLookback is the default window: this long before the incident.
	relatedLookback = 30 * 24 * time.Hour
)

// FindRelatedIncidents is the find_related_incidents tool.
func FindRelatedIncidents(d Deps) Tool {
	return newTool(spec[FindRelatedInput, FindRelatedOutput]{
		deps:  d,
		name:  "find_related_incidents",
		title: "Find related incidents",
		description: "Other incidents of the workspace sharing a user, host, IP, file or URL, with status and past " +
			"verdicts. Use it before recommending a verdict.",
		scope: client.ScopeIncidentsRead,
		hints: hints{readOnly: true, idempotent: true, openWorld: true},
		handle: func(ctx context.Context, in FindRelatedInput) (FindRelatedOutput, error) {
			return findRelated(ctx, d, in)
		},
		text: renderRelated,
	})
}

// lookup is one entity to look for.
type lookup struct {
	kind, key string // kind as the incident shows it; main identifier
	rows      []client.RelatedIncident
	err       error
}

func findRelated(ctx context.Context, d Deps, in FindRelatedInput) (FindRelatedOutput, error) {
	api, err := d.api(ctx)
	if err != nil {
		return FindRelatedOutput{}, err
	}
	ref := in.Ref()
	out := FindRelatedOutput{WorkspaceID: ref.WorkspaceID, Entities: []RelatedEntity{}, Incidents: []RelatedRow{}}
	q := client.RelatedQuery{Window: in.Window, Start: utc(in.Since)}
	var lookups []*lookup
	if in.Entity != "" {
		lookups = []*lookup{{kind: string(in.EntityKind), key: strings.TrimSpace(in.Entity)}}
	}
	if in.Entity == "" || in.Window == "" {
		// The entities need the details; the default window only the creation time.
		detail, err := api.GetIncident(ctx, ref, in.Entity == "")
		if err != nil {
			return out, fmt.Errorf("incident %s: %w", ref.IncidentID, err)
		}
		if in.Window == "" {
			q.Window = client.TimeCustom
			if created, err := time.Parse(time.RFC3339, detail.Incident.CreatedAt); err == nil {
				start := created.Add(-relatedLookback).UTC()
				q.Start = &start
			} else {
				q.Window = client.TimeFourtyEightHours
			}
		}
		if in.Entity == "" {
			lookups, out.Notes = entityLookups(detail, in.EntityKind)
		}
	}
	out.Window = string(q.Window)
	if q.Start != nil {
		out.Window += " since " + q.Start.Format(time.RFC3339)
	}
	if len(lookups) == 0 {
		out.Notes = append(out.Notes, "the incident has no account, host, IP, file or URL entity to look for")
		return out, nil
	}
	search(ctx, api, ref, q, lookups)
	return aggregate(out, ref, lookups)
}

// entityLookups picks the incident's entities to look for (of one kind, if
// given), each once, at most maxRelatedEntities.
func entityLookups(detail *client.IncidentDetail, only EntityKind) ([]*lookup, []string) {
	var ls []*lookup
	var notes []string
	if detail.InvestigationDetails == nil {
		return nil, []string{"ContraForce did not return the incident's entities"}
	}
	seen := map[string]bool{}
	for _, en := range detail.InvestigationDetails.Entities {
		k := kindOf(cmp.Or(en.Kind, en.Type))
		if k == "" || only != "" && k != only {
			continue
		}
		key := mainIdentifier(en)
		if key == "" || seen[string(k)+"\x00"+strings.ToLower(key)] {
			continue
		}
		seen[string(k)+"\x00"+strings.ToLower(key)] = true
		if len(ls) == maxRelatedEntities {
			notes = append(notes, fmt.Sprintf("only the first %d entities were looked for; name one with entityKind and entity", maxRelatedEntities))
			break
		}
		ls = append(ls, &lookup{kind: cmp.Or(en.Kind, string(k)), key: key})
	}
	return ls, notes
}

// mainIdentifier is what the related-incidents page matches an entity by:
// the UPN of an account, the host name, the address, a file's SHA-256, the
// URL; else the entity's name.
func mainIdentifier(en client.Entity) string {
	prop := func(keys ...string) string {
		for _, k := range keys {
			if s, ok := en.Properties[k].(string); ok && strings.TrimSpace(s) != "" {
				return strings.TrimSpace(s)
			}
		}
		return ""
	}
	var v string
	switch kindOf(cmp.Or(en.Kind, en.Type)) {
	case KindAccount:
		v = prop("upn", "userPrincipalName", "email")
	case KindHost:
		v = prop("hostName", "hostname", "deviceName")
	case KindIP:
		v = prop("address", "ipAddress")
	case KindFile:
		v = prop("sha256", "fileHash")
	case KindURL:
		v = prop("url")
	}
	return cmp.Or(v, strings.TrimSpace(en.Name()))
}

// search runs the lookups, four at a time.
func search(ctx context.Context, api *client.Client, ref client.IncidentRef, q client.RelatedQuery, ls []*lookup) {
	forEach(len(ls), 4, func(i int) {
		l, lq := ls[i], q
		lq.EntityKind, lq.EntityFilter = l.kind, l.key
		l.rows, l.err = api.RelatedIncidents(ctx, ref, lq)
	})
}

// aggregate turns the lookups' rows into the output: per entity its
// matches and past verdicts, and the related incidents, each once.
func aggregate(out FindRelatedOutput, ref client.IncidentRef, ls []*lookup) (FindRelatedOutput, error) {
	byID := map[string]*RelatedRow{}
	failed := 0
	var firstErr error
	for _, l := range ls {
		label := string(kindOf(l.kind)) + " " + oneLine(l.key, 200)
		if l.err != nil {
			failed++
			if firstErr == nil {
				firstErr = l.err
			}
			out.Notes = append(out.Notes, fmt.Sprintf("%s could not be looked for: %s", label, resources.ShortError(l.err)))
			continue
		}
		e := RelatedEntity{Kind: string(kindOf(l.kind)), Entity: oneLine(l.key, 200)}
		verdicts, open, closed := map[string]int{}, 0, 0
		for _, r := range l.rows {
			if r.ID == ref.IncidentID && r.Source == ref.Source {
				continue // the incident itself
			}
			e.Matches++
			if r.Status == client.StatusClosed {
				closed++
				v := "no verdict"
				if r.Classification != nil && *r.Classification != "" {
					v = string(*r.Classification)
				}
				verdicts[v]++
			} else {
				open++
			}
			key := string(r.Source) + "\x00" + r.ID
			row := byID[key]
			if row == nil {
				row = &RelatedRow{IncidentID: oneLine(r.ID, 200), Source: string(r.Source), Number: r.Number,
					Title: oneLine(r.Title, 200), Status: string(r.Status), Severity: string(r.Severity), Created: r.CreationTime}
				if r.Classification != nil {
					row.Classification = string(*r.Classification)
				}
				byID[key] = row
			}
			row.Via = append(row.Via, label)
		}
		e.Verdicts = verdictText(verdicts, closed, open)
		out.Entities = append(out.Entities, e)
	}
	if failed == len(ls) {
		return out, firstErr
	}
	for _, r := range byID {
		out.Incidents = append(out.Incidents, *r)
	}
	slices.SortFunc(out.Incidents, func(a, b RelatedRow) int {
		return cmp.Or(strings.Compare(b.Created, a.Created), strings.Compare(a.IncidentID, b.IncidentID))
	})
	if n := len(out.Incidents); n > maxRelatedRows {
		out.Incidents = out.Incidents[:maxRelatedRows]
		out.Notes = append(out.Notes, fmt.Sprintf("%d more related incidents not listed: narrow with entityKind and entity, or a shorter window", n-maxRelatedRows))
	}
	return out, nil
}

// verdictText words an entity's history: "closed 5 times (BenignPositive 4, TruePositive 1); 2 open".
func verdictText(verdicts map[string]int, closed, open int) string {
	var parts []string
	if closed > 0 {
		names := make([]string, 0, len(verdicts))
		for v := range verdicts {
			names = append(names, v)
		}
		slices.SortFunc(names, func(a, b string) int { return cmp.Or(verdicts[b]-verdicts[a], strings.Compare(a, b)) })
		var vs []string
		for _, v := range names {
			vs = append(vs, fmt.Sprintf("%s %d", v, verdicts[v]))
		}
		parts = append(parts, fmt.Sprintf("closed %d %s (%s)", closed, times(closed), strings.Join(vs, ", ")))
	}
	if open > 0 {
		parts = append(parts, fmt.Sprintf("%d open", open))
	}
	return strings.Join(parts, "; ")
}

func times(n int) string {
	if n == 1 {
		return "time"
	}
	return "times"
}

func renderRelated(o FindRelatedOutput) string {
	var b strings.Builder
	fmt.Fprintf(&b, "Related incidents in workspace %s (%s):", o.WorkspaceID, o.Window)
	for _, e := range o.Entities {
		fmt.Fprintf(&b, "\n- %s %s: %d other incidents", e.Kind, e.Entity, e.Matches)
		if e.Verdicts != "" {
			fmt.Fprintf(&b, "; %s", e.Verdicts)
		}
	}
	for _, r := range o.Incidents {
		fmt.Fprintf(&b, "\n  * [%s %s] %s #%d %s | incidentId=%s | created %s", r.Severity, r.Status, r.Source, r.Number, r.Title, r.IncidentID, r.Created)
		if r.Classification != "" {
			fmt.Fprintf(&b, ", classified %s", r.Classification)
		}
		fmt.Fprintf(&b, " | via %s", strings.Join(r.Via, ", "))
	}
	for _, n := range o.Notes {
		fmt.Fprintf(&b, "\nnote: %s", n)
	}
	return b.String()
}
