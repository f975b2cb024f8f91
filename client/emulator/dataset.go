package emulator

import (
	"cmp"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"math/rand/v2"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/contraforce/contraforce-mcp/client"
)

// gen generates the seeded dataset. Everything it produces depends only on
// the seed and the reference time: it draws from one PCG stream in a fixed
// order and never ranges over a map.
type gen struct {
	rng      *rand.Rand
	now      time.Time
	counters map[client.Source]int64 // numeric ids of DefenderXDR, QRadar, SentinelOne
}

// datasetDays is how far back the dataset's incidents go.
const datasetDays = 30

func generate(seed int64, now time.Time) []*record {
	g := &gen{
		rng: rand.New(rand.NewPCG(uint64(seed), 0x636f6e747261666f)),
		now: now.UTC().Truncate(time.Second),
		counters: map[client.Source]int64{
			client.SourceDefenderXDR: 48000, client.SourceQRadar: 3100, client.SourceSentinelOne: 1_900_000_000_000_000_000,
		},
	}
	var out []*record
	for _, ws := range workspaceSpecs {
		out = append(out, g.workspace(ws)...)
	}
	return out
}

// slot is one incident to generate: when, from which source, and whether it
// is one of the fixed tricky incidents.
type slot struct {
	created time.Time
	source  client.Source
	tricky  *trickySpec
}

func (g *gen) workspace(ws workspaceSpec) []*record {
	slots := make([]slot, 0, ws.incidents+len(trickySpecs))
	window := int64(datasetDays*24*time.Hour - 20*time.Minute)
	for range ws.incidents {
		// Skewed towards recent incidents, as a live queue is.
		u := g.rng.Float64()
		age := 20*time.Minute + time.Duration(float64(window)*u*u)
		slots = append(slots, slot{created: g.now.Add(-age).Truncate(time.Second), source: g.pickSource(ws.sources)})
	}
	if ws.ID == WorkspaceOwnerID {
		for i := range trickySpecs {
			t := &trickySpecs[i]
			slots = append(slots, slot{created: g.now.Add(-t.age), source: t.Ref.Source, tricky: t})
		}
	}
	slices.SortStableFunc(slots, func(a, b slot) int { return a.created.Compare(b.created) })
	cid := g.hex(32) // the CrowdStrike customer id of this workspace
	base := 1000 + g.rng.IntN(4000)
	recs := make([]*record, 0, len(slots))
	for i, s := range slots {
		recs = append(recs, g.incident(ws, s, base+i, cid))
	}
	return recs
}

// pickSource favours the Microsoft sources, the usual bulk of a SOC's queue.
func (g *gen) pickSource(sources []client.Source) client.Source {
	total := 0
	weight := func(s client.Source) int {
		if s == client.SourceSentinel || s == client.SourceDefenderXDR {
			return 3
		}
		return 2
	}
	for _, s := range sources {
		total += weight(s)
	}
	n := g.rng.IntN(total)
	for _, s := range sources {
		if n -= weight(s); n < 0 {
			return s
		}
	}
	return sources[len(sources)-1]
}

func (g *gen) incident(ws workspaceSpec, s slot, number int, cid string) *record {
	var tpl template
	var id string
	if s.tricky != nil {
		tpl, id = s.tricky.tpl, s.tricky.Ref.IncidentID
	} else {
		tpls := catalog[s.source]
		tpl = tpls[g.rng.IntN(len(tpls))]
		id = g.incidentID(s.source, cid)
	}
	v := g.values(ws, tpl)
	v["offense"] = id
	rep := v.replacer()
	rec := &record{
		ref:         client.IncidentRef{WorkspaceID: ws.ID, Source: s.source, IncidentID: id},
		number:      number,
		title:       rep.Replace(tpl.title),
		description: rep.Replace(tpl.description),
		severity:    tpl.severity,
		created:     s.created,
		tactics:     slices.Clone(tpl.tactics),
		providerURL: providerURL(s.source, id),
	}
	if s.tricky == nil {
		rec.severity = g.jitterSeverity(tpl.severity)
	}
	rec.entities = g.entities(tpl, v)
	rec.alerts = g.alerts(tpl, rec, rep, cid)
	rec.evidence = g.evidence(tpl, v, rec)
	// Derived by hashing, not drawn: the PCG stream (and so the rest of the
	// dataset) stays as it was before these members existed.
	rec.productID = hashGUID("product", ws.ID, string(s.source))
	if s.source.RecordsClassification() { // the write-back extensions: Sentinel, Defender XDR
		ext := rec.productID
		rec.extensionID = &ext
	}
	if s.source == client.SourceSentinel {
		for _, a := range tpl.alerts[:len(rec.alerts)] {
			rec.ruleIDs = append(rec.ruleIDs, hashGUID("rule", ws.ID, a))
		}
	}
	if s.tricky != nil {
		g.fresh(rec)
		if s.tricky.patch != nil {
			s.tricky.patch(g, rec)
		}
	} else {
		g.lifecycle(ws, rec, v)
	}
	return rec
}

// jitterSeverity moves a template's severity one step a quarter of the time.
func (g *gen) jitterSeverity(s client.Severity) client.Severity {
	all := s.Values()
	i := slices.Index(all, s)
	switch r := g.rng.IntN(8); {
	case r == 0 && i > 0:
		i--
	case r == 1 && i < len(all)-1:
		i++
	}
	return all[i]
}

// incidentID makes an id in the style of the source.
func (g *gen) incidentID(src client.Source, cid string) string {
	switch src {
	case client.SourceDefenderXDR:
		g.counters[src] += 1 + g.rng.Int64N(40)
	case client.SourceQRadar:
		g.counters[src] += 1 + g.rng.Int64N(5)
	case client.SourceSentinelOne:
		g.counters[src] += 1_000_000 + g.rng.Int64N(900_000_000_000)
	case client.SourceSplunk:
		return strings.ToUpper(g.guid()) + "@@notable@@" + g.hex(32)
	case client.SourceCrowdStrike:
		return "inc:" + cid + ":" + g.hex(32)
	default: // Sentinel: the incident's ARM name is a GUID
		return g.guid()
	}
	return strconv.FormatInt(g.counters[src], 10)
}

// providerURL links an incident in its product's console.
func providerURL(src client.Source, id string) string {
	esc := url.PathEscape(id)
	switch src {
	case client.SourceSentinel:
		return "https://portal.azure.com/#asset/Microsoft_Azure_Security_Insights/Incident/incidents/" + esc
	case client.SourceDefenderXDR:
		return "https://security.microsoft.com/incidents/" + esc
	case client.SourceQRadar:
		return "https://qradar.example.com/console/qradar/jsp/QRadar.jsp?appName=Sem&pageId=OffenseSummary&summaryId=" + url.QueryEscape(id)
	case client.SourceSplunk:
		return "https://es.example.splunkcloud.com/en-US/app/SplunkEnterpriseSecuritySuite/incident_review?search=event_id%3D" + url.QueryEscape(id)
	case client.SourceCrowdStrike:
		return "https://falcon.crowdstrike.com/crowdscore/incidents/details/" + esc
	default:
		return "https://example.sentinelone.net/incidents/threats/" + esc + "/overview"
	}
}

func (g *gen) hex(n int) string {
	const digits = "0123456789abcdef"
	b := make([]byte, n)
	for i := range b {
		b[i] = digits[g.rng.IntN(16)]
	}
	return string(b)
}

// hashGUID makes a GUID-shaped id from the SHA-256 of parts: the same parts
// give the same id, whatever the seed.
func hashGUID(parts ...string) string {
	h := sha256.Sum256([]byte(strings.Join(parts, "\x00")))
	x := hex.EncodeToString(h[:16])
	return x[:8] + "-" + x[8:12] + "-5" + x[13:16] + "-a" + x[17:20] + "-" + x[20:32]
}

// guid makes a random (version 4) GUID.
func (g *gen) guid() string {
	h := g.hex(32)
	variant := "89ab"[g.rng.IntN(4)]
	return fmt.Sprintf("%s-%s-4%s-%c%s-%s", h[:8], h[8:12], h[13:16], variant, h[17:20], h[20:32])
}

func (g *gen) digits(n int) string {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte('0' + g.rng.IntN(10))
	}
	if b[0] == '0' {
		b[0] = '1'
	}
	return string(b)
}

func pick[T any](g *gen, xs []T) T { return xs[g.rng.IntN(len(xs))] }

// between returns a time in [from, to], at whole seconds; to if to <= from.
func (g *gen) between(from, to time.Time) time.Time {
	if !to.After(from) {
		return to
	}
	return from.Add(time.Duration(g.rng.Int64N(int64(to.Sub(from)) + 1))).Truncate(time.Second)
}

func latest(ts ...time.Time) time.Time {
	return slices.MaxFunc(ts, func(a, b time.Time) int { return cmp.Compare(a.UnixNano(), b.UnixNano()) })
}
