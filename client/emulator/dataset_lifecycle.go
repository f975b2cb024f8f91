package emulator

import (
	"slices"
	"strings"
	"time"

	"github.com/contraforce/contraforce-mcp/client"
)

var analystNotes = []string{
	"Contacted {name}: they confirm the activity and were travelling this week.",
	"Isolated {host} from the network pending forensic review.",
	"Blocked {ip} on the perimeter firewall and added it to the deny list.",
	"Reset the password of {user} and revoked all refresh tokens.",
	"Collected a memory image of {host}; uploaded to the case share.",
	"No further activity from {ip} in the last 24 hours.",
	"Escalating to Tier 2 — lateral movement indicators confirmed.",
	"Checked with the change board: no approved change explains this activity.",
}

var agentTriage = []string{
	"Triage summary (automated): the alerts on {host} / {user} match the detection logic; no sign of lateral movement yet. Suggested next step: isolate the device and reset the account's credentials.",
	"Triage summary (automated): {ip} appears on 3 threat-intelligence feeds. Recommend blocking it and reviewing other sign-ins from it.",
	"Triage summary (automated): similar activity for {user} was closed as benign 4 times in the last 30 days. Recommend confirming with the user before escalating.",
	"Triage summary (automated): evidence is inconclusive; {count} related events found. Requesting an analyst review.",
}

// verdict is a classification with its reason and a closing note.
type verdict struct {
	c    client.Classification
	r    client.ClassificationReason
	note string
}

var sentinelVerdicts = []verdict{
	{client.ClassificationTruePositive, client.ReasonSuspiciousActivity, "Confirmed malicious. Credentials rotated, IOCs added to the block lists."},
	{client.ClassificationTruePositive, client.ReasonSuspiciousActivity, "Confirmed compromise of {user}; sessions revoked and MFA re-registered."},
	{client.ClassificationBenignPositive, client.ReasonSuspiciousButExpected, "Activity by the red team during the scheduled penetration test."},
	{client.ClassificationFalsePositive, client.ReasonIncorrectAlertLogic, "The rule misfired on a scheduled backup job; tuning request raised."},
	{client.ClassificationFalsePositive, client.ReasonInaccurateData, "Geo-location data of {ip} was wrong; the sign-in came from the corporate VPN."},
	{client.ClassificationUndetermined, client.ReasonOther, "Not enough telemetry left to decide; monitoring {host} for a week."},
}

var defenderVerdicts = []verdict{
	{client.ClassificationTruePositive, client.ReasonMalware, "Malware confirmed and removed; {host} reimaged."},
	{client.ClassificationTruePositive, client.ReasonPhishing, "Phishing campaign confirmed; messages purged from all mailboxes."},
	{client.ClassificationTruePositive, client.ReasonCompromisedUser, "Account {user} was compromised; password reset and sessions revoked."},
	{client.ClassificationTruePositive, client.ReasonMultistagedAttack, "Multi-stage attack contained; see the linked ticket for the timeline."},
	{client.ClassificationInformationalExpectedActivity, client.ReasonSecurityTesting, "Expected: the purple-team exercise of this week."},
	{client.ClassificationInformationalExpectedActivity, client.ReasonLineOfBusinessApplication, "Expected behaviour of a line-of-business application."},
	{client.ClassificationFalsePositive, client.ReasonNotMalicious, "The file is a signed internal tool; not malicious."},
	{client.ClassificationFalsePositive, client.ReasonNoEnoughDataToValidate, "Not enough data to validate; closing as false positive."},
}

var plainClosingNotes = []string{
	"Remediated: host contained, credentials rotated, indicators blocked.",
	"Benign: the activity was an approved administrative task.",
	"False alarm: the detection matched a known-good scanner.",
	"Duplicate of an incident already handled.",
}

// fresh makes an incident new: unassigned, no comments yet.
func (g *gen) fresh(rec *record) {
	rec.status = client.StatusNew
	rec.updated, rec.lastActivity = rec.created, rec.created
}

// lifecycle decides an incident's status, assignee, verdict and comments
// from its age, and writes the comments that history would have left.
func (g *gen) lifecycle(ws workspaceSpec, rec *record, v values) {
	rep := v.replacer()
	age := g.now.Sub(rec.created)
	u := g.rng.Float64()
	switch {
	case age < 6*time.Hour:
		rec.status = map[bool]client.Status{true: client.StatusNew, false: client.StatusActive}[u < 0.7]
	case age < 72*time.Hour:
		rec.status = []client.Status{client.StatusNew, client.StatusActive, client.StatusClosed}[min(2, int(u/0.3))]
	default:
		rec.status = client.StatusClosed
		if u < 0.08 {
			rec.status = client.StatusNew
		} else if u < 0.25 {
			rec.status = client.StatusActive
		}
	}
	assignP := map[client.Status]float64{client.StatusNew: 0.3, client.StatusActive: 0.9, client.StatusClosed: 0.95}[rec.status]
	candidates := assignable(ws.ID)
	var assignee *person
	if g.rng.Float64() < assignP {
		assignee = candidates[g.rng.IntN(len(candidates))]
		rec.assignee = &client.UserRef{ID: assignee.id, DisplayName: assignee.name, Email: assignee.email}
	}
	actor := assignee
	if actor == nil {
		actor = candidates[0]
	}

	t := rec.created
	step := func() time.Time {
		t = g.between(t, t.Add(max(time.Second, g.now.Sub(t)/4)))
		return t
	}
	rec.updated = rec.created
	if assignee != nil {
		rec.comments = append(rec.comments, g.comment(step(), actor, "Incident assigned to "+assignee.name+".", true))
		rec.updated = t
	}
	if g.rng.IntN(100) < 45 {
		rec.comments = append(rec.comments, g.agentComment(step(), rep.Replace(pick(g, agentTriage))))
	}
	if rec.status != client.StatusNew {
		rec.comments = append(rec.comments, g.comment(step(), actor, "Status changed from New to Active.", true))
		rec.updated = t
	}
	if g.rng.IntN(100) < 40 {
		rec.comments = append(rec.comments, g.comment(step(), actor, rep.Replace(pick(g, analystNotes)), false))
	}
	if rec.status == client.StatusClosed {
		g.close(rec, actor, step(), rep)
		rec.updated = t
	}
	for i := range rec.alerts {
		if rec.status == client.StatusClosed {
			rec.alerts[i].Status = "Resolved"
		}
	}
	rec.lastActivity = latest(rec.updated, t)
}

// close records the verdict of a closed incident and, usually, a closing comment.
func (g *gen) close(rec *record, actor *person, at time.Time, rep *strings.Replacer) {
	note := pick(g, plainClosingNotes)
	switch rec.ref.Source {
	case client.SourceSentinel, client.SourceDefenderXDR:
		vs := sentinelVerdicts
		if rec.ref.Source == client.SourceDefenderXDR {
			vs = defenderVerdicts
		}
		vd := pick(g, vs)
		c, r := vd.c, vd.r
		rec.classification, rec.reason = &c, &r
		note = "Closing as " + string(c) + " (" + string(r) + "): " + rep.Replace(vd.note)
	}
	if g.rng.IntN(100) < 15 {
		return // closed without a comment, as the API allows
	}
	cm := g.comment(at, actor, note, false)
	cm.IsClosingComment = true
	if rec.classification != nil {
		rec.classificationComment = &cm.Message
	}
	if g.rng.IntN(100) < 30 {
		ticket, noteID := "INC00"+g.digits(5), g.digits(12)
		cm.TicketID, cm.TicketNoteID = &ticket, &noteID
		rec.ticketID = &ticket
	}
	rec.comments = append(rec.comments, cm)
}

func (g *gen) comment(at time.Time, by *person, msg string, activity bool) client.Comment {
	return client.Comment{ID: g.guid(), Message: msg, CreatedTime: wireTime(at), AuthorEmail: by.email,
		AuthorName: by.name, IsActivityComment: activity}
}

func (g *gen) agentComment(at time.Time, msg string) client.Comment {
	copilot := seededServiceUsers[0]
	name := copilot.DisplayName
	return client.Comment{ID: g.guid(), Message: msg, CreatedTime: wireTime(at), AuthorEmail: copilot.Email,
		AuthorName: copilot.DisplayName, IsAgentComment: true, AgentName: &name}
}

// assignable lists the active people with a role on a workspace, in a fixed order.
func assignable(ws string) []*person {
	var out []*person
	for i := range people {
		p := &people[i]
		if p.active && slices.ContainsFunc(p.roles, func(r client.RoleAssignment) bool { return r.WorkspaceID == ws }) {
			out = append(out, p)
		}
	}
	return out
}
