package resources

import (
	"fmt"
	"maps"
	"slices"
	"strings"
)

// Text renders the investigation as an analyst reads it: the incident's
// state, description and tactics, every alert, the entities with their
// properties, the evidence query and table, the comments in full (each cut
// at 2000 characters), and the notes. It is get_incident's text and the
// data the incident prompts embed: many clients hand the model only the
// text, so nothing needed to decide is left to structured content.
//
// Only labels this function writes start a line: text from the incident
// (a description, a query, a comment) that spans lines is indented, and
// one-line values (titles, names, cells) are folded onto one line. A
// prompt's markers around the text therefore stay the only lines that look
// like the prompt's own.
func (inv *Investigation) Text() string {
	var b strings.Builder
	inc := inv.Incident
	fmt.Fprintf(&b, "%s incident #%d: %s\n", inc.Source, inc.Number, fold(inc.Title))
	fmt.Fprintf(&b, "%s, %s", inc.Severity, inc.Status)
	if inc.Classification != "" {
		fmt.Fprintf(&b, " (%s", inc.Classification)
		if inc.ClassificationReason != "" {
			fmt.Fprintf(&b, "/%s", inc.ClassificationReason)
		}
		b.WriteString(")")
	}
	if inc.Assignee != "" {
		fmt.Fprintf(&b, ", assigned to %s", fold(inc.Assignee))
	} else if !slices.Contains(inc.Unknown, UnknownAssignee) {
		b.WriteString(", unassigned")
	}
	if inc.TicketID != "" {
		fmt.Fprintf(&b, ", ticket %s", fold(inc.TicketID))
	}
	b.WriteString("\n")
	if len(inc.Unknown) > 0 {
		fmt.Fprintf(&b, "not shown by the API (unknown, not empty): %s\n", strings.Join(inc.Unknown, ", "))
	}
	var times []string
	if inc.Workspace != "" {
		times = append(times, "workspace "+fold(inc.Workspace))
	}
	times = append(times, "created "+inc.Created)
	if inc.Updated != "" && inc.Updated != inc.Created {
		times = append(times, "updated "+inc.Updated)
	}
	if inc.LastActivity != "" && inc.LastActivity != inc.Updated && inc.LastActivity != inc.Created {
		times = append(times, "last activity "+inc.LastActivity)
	}
	fmt.Fprintf(&b, "%s\n", strings.Join(times, ", "))
	if len(inc.Tactics) > 0 {
		fmt.Fprintf(&b, "tactics: %s\n", foldAll(inc.Tactics))
	}
	if inc.Description != "" {
		fmt.Fprintf(&b, "description:\n%s\n", indent(inc.Description))
	}
	if len(inv.Alerts) > 0 {
		fmt.Fprintf(&b, "\nAlerts (%d):\n", len(inv.Alerts))
		for _, a := range inv.Alerts {
			fmt.Fprintf(&b, "- %s %s: %s", a.Created, a.Severity, fold(a.Title))
			tactics := foldAll(a.Tactics)
			if slices.Equal(a.Tactics, inc.Tactics) {
				tactics = "" // said once, above
			}
			if extra := joinNonEmpty(fold(a.Product), tactics); extra != "" {
				fmt.Fprintf(&b, " (%s)", extra)
			}
			b.WriteString("\n")
		}
	}
	if len(inv.Entities) > 0 {
		fmt.Fprintf(&b, "\nEntities (%d):\n", len(inv.Entities))
		for _, e := range inv.Entities {
			fmt.Fprintf(&b, "- %s %s", fold(e.Kind), fold(e.Name))
			if len(e.Props) > 0 {
				props := make([]string, 0, len(e.Props))
				for _, k := range slices.Sorted(maps.Keys(e.Props)) {
					// A part of the name (an account's name and UPN suffix)
					// says nothing new.
					if v := e.Props[k]; !strings.Contains(strings.ToLower(e.Name), strings.ToLower(v)) {
						props = append(props, fold(k)+" "+fold(v))
					}
				}
				if len(props) > 0 {
					fmt.Fprintf(&b, " (%s)", strings.Join(props, ", "))
				}
			}
			b.WriteString("\n")
		}
	}
	if ev := inv.Evidence; ev != nil {
		b.WriteString("\nEvidence")
		if ev.Title != "" {
			fmt.Fprintf(&b, ": %s", fold(ev.Title))
		}
		fmt.Fprintf(&b, " (%d rows", ev.RowCount)
		if len(ev.Rows) < ev.RowCount {
			fmt.Fprintf(&b, ", first %d shown", len(ev.Rows))
		}
		b.WriteString(")\n")
		if ev.Query != "" {
			fmt.Fprintf(&b, "query:\n%s\n", indent(ev.Query))
		}
		writeTable(&b, ev.Columns, ev.Rows)
	}
	if len(inv.Comments) > 0 {
		b.WriteString("\nComments (oldest first):\n")
		for _, c := range inv.Comments {
			who := fold(c.Author)
			switch {
			case c.Agent && c.AgentName != "" && c.AgentName != c.Author:
				who += " [AI agent " + fold(c.AgentName) + "]"
			case c.Agent:
				who += " [AI agent]"
			}
			var tags []string
			if c.Closing {
				tags = append(tags, "closing")
			}
			if c.Activity {
				tags = append(tags, "activity")
			}
			if len(tags) > 0 {
				who += " (" + strings.Join(tags, ", ") + ")"
			}
			fmt.Fprintf(&b, "- %s %s:\n%s\n", c.Created, who, indent(c.Text))
		}
	}
	if len(inv.Notes) > 0 {
		b.WriteString("\nNotes:\n")
		for _, n := range inv.Notes {
			fmt.Fprintf(&b, "- %s\n", fold(n))
		}
	}
	return strings.TrimRight(b.String(), "\n")
}

// lineBreaks are the characters a reader may take as the end of a line.
var lineBreaks = strings.NewReplacer("\r\n", "\n", "\r", "\n", "\v", "\n", "\f", "\n", "\u0085", "\n", "\u2028", "\n", "\u2029", "\n")

// indent puts text that may span lines two spaces in, every line of it,
// without blank lines.
func indent(s string) string {
	if plainLine(s, false) {
		if s = strings.TrimRight(s, " \t"); s == "" {
			return ""
		}
		return "  " + s
	}
	lines := strings.Split(lineBreaks.Replace(s), "\n")
	out := lines[:0]
	for _, l := range lines {
		if l = strings.TrimRight(l, " \t"); l != "" {
			out = append(out, "  "+l)
		}
	}
	return strings.Join(out, "\n")
}

// fold puts a one-line value on one line; a value without line breaks or
// tabs is kept as it is.
func fold(s string) string {
	if plainLine(s, true) {
		return s
	}
	return OneLine(s)
}

// OneLine folds text onto one line: every run of white space (line breaks
// of every kind included, as strings.Fields splits on each character of
// lineBreaks) becomes one space, and none is left at either end. It does
// not Clean: callers choose whether to Clean before or after.
func OneLine(s string) string { return strings.Join(strings.Fields(s), " ") }

// plainLine reports whether s holds no line break (nor, with tab, a tab).
// Most values are plain ASCII: they are passed over a byte at a time.
func plainLine(s string, tab bool) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c >= 0x80 {
			breaks := "\n\r\v\f\u0085\u2028\u2029"
			if tab {
				breaks += "\t"
			}
			return !strings.ContainsAny(s[i:], breaks)
		}
	}
	return true
}

func foldAll(ss []string) string {
	out := make([]string, len(ss))
	for i, s := range ss {
		out[i] = fold(s)
	}
	return strings.Join(out, ", ")
}

// writeTable writes the evidence rows. A column that holds one value in
// every row shown (the host, the file hash, the command line of each
// event) is written once, above the rows, instead of in each.
func writeTable(b *strings.Builder, cols []string, rows [][]string) {
	same := make([]bool, len(cols))
	if len(rows) > 1 {
		for j := range cols {
			same[j] = true
			for _, r := range rows {
				if j >= len(r) || r[j] != rows[0][j] {
					same[j] = false
					break
				}
			}
		}
	}
	var fixed []string
	for j, c := range cols {
		if same[j] {
			fixed = append(fixed, fold(c)+" "+fold(rows[0][j]))
		}
	}
	if len(fixed) > 0 {
		fmt.Fprintf(b, "in every row: %s\n", strings.Join(fixed, "; "))
	}
	keep := func(row []string) []string {
		out := make([]string, 0, len(row))
		for j, v := range row {
			if j >= len(same) || !same[j] {
				out = append(out, v)
			}
		}
		return out
	}
	fmt.Fprintf(b, "rows:\n  %s\n", cells(keep(cols)))
	for _, r := range rows {
		fmt.Fprintf(b, "  %s\n", cells(keep(r)))
	}
}

// cells joins a table row; a "|" inside a cell is written "\|".
func cells(row []string) string {
	out := make([]string, len(row))
	for i, c := range row {
		out[i] = strings.ReplaceAll(fold(c), "|", `\|`)
	}
	return strings.Join(out, " | ")
}

func joinNonEmpty(parts ...string) string {
	return strings.Join(slices.DeleteFunc(parts, func(s string) bool { return s == "" }), "; ")
}
