package emulator

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/contraforce/contraforce-mcp/client"
)

// victims are the people of the incidents (Microsoft's demo-tenant names).
var victims = []string{
	"Adele Vance", "Alex Wilber", "Diego Siciliani", "Grady Archie", "Henrietta Mueller", "Isaiah Langer",
	"Johanna Lorenz", "Joni Sherman", "Lee Gu", "Lidia Holloway", "Lynne Robbins", "Megan Bowen",
	"Miriam Graham", "Nestor Wilke", "Patti Fernandez", "Pradeep Gupta",
}

// External addresses come from the documentation ranges (RFC 5737).
var (
	externalNets = []string{"203.0.113.", "198.51.100.", "192.0.2."}
	countries    = []string{"Netherlands", "Romania", "Nigeria", "Brazil", "Vietnam", "Russia", "United States", "Germany"}
	hostKinds    = []string{"WS", "LT", "SRV", "SQL", "DC", "WEB"}
	files        = []string{"update.exe", "svchost32.exe", "invoice.pdf.exe", "winlogin.exe", "tmp4a1f.dll"}
	urls         = []string{"https://login-microsoftonline.account-verify.example/owa/", "https://dropbox-share.file-view.example/s/9x2k"}
	senders      = []string{"billing@contoso-invoices.example", "no-reply@docusign-secure.example", "hr-updates@payroll-portal.example"}
	subjects     = []string{"Action required: review the Q3 bonus letter", "Invoice 4471 overdue", "Your mailbox is almost full", "Shared document: Salary adjustments 2026"}
	osVersions   = []string{"Windows 10 22H2", "Windows 11 23H2", "Windows Server 2019", "Windows Server 2022"}
)

// values are the placeholder values of one incident.
type values map[string]string

func (v values) replacer() *strings.Replacer {
	// A fixed key order keeps the replacer (and so the output) deterministic.
	keys := []string{"user", "name", "host", "ip", "ip2", "country", "file", "filepath", "sha256", "url", "cmd", "domain", "count", "offense", "site"}
	args := make([]string, 0, 2*len(keys))
	for _, k := range keys {
		args = append(args, "{"+k+"}", v[k])
	}
	return strings.NewReplacer(args...)
}

func (g *gen) upn(name, domain string) string {
	return strings.ToLower(strings.ReplaceAll(name, " ", ".")) + "@" + domain
}

func (g *gen) externalIP() string { return pick(g, externalNets) + strconv.Itoa(1+g.rng.IntN(254)) }

func (g *gen) values(ws workspaceSpec, tpl template) values {
	name := pick(g, victims)
	v := values{
		"name": name, "user": g.upn(name, ws.domain), "domain": ws.domain,
		"host":    fmt.Sprintf("%s-%s-%03d", ws.hostStem, pick(g, hostKinds), 1+g.rng.IntN(400)),
		"ip":      g.externalIP(),
		"ip2":     fmt.Sprintf("10.%d.%d.%d", g.rng.IntN(32), g.rng.IntN(256), 1+g.rng.IntN(254)),
		"country": pick(g, countries),
		"file":    tpl.file,
		"sha256":  g.hex(64),
		"url":     tpl.url,
		"count":   strconv.Itoa(12 + g.rng.IntN(470)),
		"site":    "https://" + strings.Split(ws.domain, ".")[0] + ".sharepoint.com/sites/Finance-Confidential",
	}
	if v["file"] == "" {
		v["file"] = pick(g, files)
	}
	if v["url"] == "" {
		v["url"] = pick(g, urls)
	}
	v["filepath"] = `C:\Users\` + strings.Split(v["user"], "@")[0] + `\Downloads\` + v["file"]
	v["cmd"] = v.replacer().Replace(tpl.cmd)
	return v
}

// entityTypes gives each entity kind its "type" (the list page shows "User"
// as the first value of that enum; the rest of the enum is cut, so the other
// names are the emulator's choice).
var entityTypes = map[string]string{"account": "User", "host": "Device", "ip": "Ip", "file": "File", "url": "Url", "process": "Process"}

// entities builds the template's entities from the placeholder values.
func (g *gen) entities(tpl template, v values) []client.Entity {
	var out []client.Entity
	add := func(kind, name string, props map[string]any) {
		out = append(out, client.Entity{ID: g.guid(), Type: entityTypes[kind], Kind: kind, DisplayName: name, Properties: props})
	}
	for _, kind := range strings.Fields(tpl.entities) {
		switch kind {
		case "account":
			add(kind, v["user"], map[string]any{"upn": v["user"], "fullName": v["name"],
				"accountName": strings.Split(v["user"], "@")[0], "upnSuffix": v["domain"]})
		case "host":
			add(kind, v["host"], map[string]any{"hostName": v["host"], "dnsDomain": "corp." + v["domain"],
				"osFamily": "Windows", "osVersion": pick(g, osVersions)})
		case "ip":
			add(kind, v["ip"], map[string]any{"address": v["ip"], "countryName": v["country"]})
			if strings.Contains(tpl.description+tpl.query+tpl.cmd, "{ip2}") {
				add(kind, v["ip2"], map[string]any{"address": v["ip2"], "isPrivate": true})
			}
		case "file":
			add(kind, v["file"], map[string]any{"fileName": v["file"],
				"directory": strings.TrimSuffix(v["filepath"], `\`+v["file"]), "sha256": v["sha256"]})
		case "url":
			add(kind, v["url"], map[string]any{"url": v["url"]})
		case "process":
			image := strings.Fields(v["cmd"] + " unknown.exe")[0]
			add(kind, image, map[string]any{"commandLine": v["cmd"], "imageFile": image, "processId": 1000 + g.rng.IntN(9000)})
		}
	}
	return out
}

var productNames = map[client.Source]string{
	client.SourceSentinel: "Microsoft Sentinel", client.SourceDefenderXDR: "Microsoft Defender XDR",
	client.SourceQRadar: "IBM QRadar", client.SourceSplunk: "Splunk Enterprise Security",
	client.SourceCrowdStrike: "CrowdStrike Falcon", client.SourceSentinelOne: "SentinelOne Singularity",
}

func (g *gen) alertID(src client.Source, cid string) string {
	switch src {
	case client.SourceDefenderXDR:
		return "da" + g.digits(18) + "_" + g.digits(9)
	case client.SourceQRadar:
		return g.digits(7)
	case client.SourceSplunk:
		return g.hex(32)
	case client.SourceCrowdStrike:
		return "ldt:" + cid + ":" + g.digits(11)
	case client.SourceSentinelOne:
		return g.digits(19)
	default:
		return g.guid()
	}
}

func (g *gen) alerts(tpl template, rec *record, rep *strings.Replacer, cid string) []client.Alert {
	n := 1 + g.rng.IntN(len(tpl.alerts))
	ids := make([]string, len(rec.entities))
	for i, en := range rec.entities {
		ids[i] = en.ID
	}
	out := make([]client.Alert, 0, n)
	for i := range n {
		sev := rec.severity
		if i > 0 && g.rng.IntN(2) == 0 {
			sev = g.jitterSeverity(sev)
		}
		out = append(out, client.Alert{
			ID: g.alertID(rec.ref.Source, cid), Title: rep.Replace(tpl.alerts[i]), Description: rec.description,
			Severity: sev, Status: "New", ProductName: productNames[rec.ref.Source],
			CreatedAt: wireTime(rec.created.Add(-time.Duration(1+g.rng.IntN(20)) * time.Minute)),
			Tactics:   tpl.tactics, EntityIDs: ids,
		})
	}
	return out
}

// evidenceColumn is a parsed "Name:role:type" column of a template.
type evidenceColumn struct{ name, role, typ string }

func parseColumns(spec string) []evidenceColumn {
	var out []evidenceColumn
	for _, c := range strings.Split(spec, ";") {
		first, last := strings.Index(c, ":"), strings.LastIndex(c, ":")
		out = append(out, evidenceColumn{name: c[:first], role: c[first+1 : last], typ: c[last+1:]})
	}
	return out
}

func (g *gen) evidence(tpl template, v values, rec *record) client.Evidence {
	rep := v.replacer()
	ev := client.Evidence{Title: rep.Replace(tpl.evTitle), Query: rep.Replace(tpl.query)}
	cols := parseColumns(tpl.columns)
	for _, c := range cols {
		ev.Columns = append(ev.Columns, client.EvidenceColumn{Name: c.name, Type: c.typ})
	}
	rows := 3 + g.rng.IntN(6)
	t := rec.created.Add(-time.Duration(rows*(2+g.rng.IntN(8))) * time.Minute)
	for range rows {
		t = t.Add(time.Duration(30+g.rng.IntN(400)) * time.Second)
		row := make([]any, len(cols))
		for i, c := range cols {
			row[i] = g.cell(c, v, t)
		}
		ev.Rows = append(ev.Rows, row)
	}
	return ev
}

// cell is one evidence value, typed as its column says.
func (g *gen) cell(c evidenceColumn, v values, t time.Time) any {
	var s string
	switch c.role {
	case "time":
		return wireTime(t)
	case "count":
		return 6 + g.rng.IntN(250)
	case "small":
		return g.rng.IntN(3)
	case "bytes":
		return 1_000_000 + g.rng.Int64N(5_000_000_000)
	case "port":
		return pick(g, []int{22, 445, 3389, 443, 8080, 4444})
	case "user":
		s = v["user"]
		if g.rng.IntN(5) == 0 {
			s = g.upn(pick(g, victims), v["domain"])
		}
	case "ip":
		s = v["ip"]
		if g.rng.IntN(4) == 0 {
			s = g.externalIP()
		}
	case "sender":
		s = pick(g, senders)
	case "subject":
		s = pick(g, subjects)
	default:
		if val, ok := v[c.role]; ok {
			s = val
		} else if strings.Contains(c.role, "|") {
			s = pick(g, strings.Split(c.role, "|"))
		} else {
			s = c.role
		}
	}
	if c.typ == "int" || c.typ == "long" {
		if n, err := strconv.ParseInt(s, 10, 64); err == nil {
			return n
		}
	}
	return s
}
