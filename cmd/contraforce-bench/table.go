package main

import (
	"fmt"
	"io"
	"strings"
)

// row is one figure of the table. ref and ratio are empty when the figure
// has no reference; target and result when it has no target. goal, when
// set, names a target of issue 13 ("fast where the agent waits"): such rows
// are repeated in the summary at the top, in the order (rank).
type row struct {
	area, measure, value, ref, ratio, target, result string
	goal                                             string
	rank                                             int
}

// Results of a target.
const (
	pass = "PASS"
	miss = "MISS"
)

// verdict is the result cell of a target that was met or not.
func verdict(ok bool) string {
	if ok {
		return pass
	}
	return miss
}

// report is everything the command prints: header lines, the table, notes.
type report struct {
	header []string
	rows   []row
	notes  []string
}

// add appends rows.
func (r *report) add(rows ...row) { r.rows = append(r.rows, rows...) }

// note appends a note and returns its marker, e.g. "[3]".
func (r *report) note(format string, args ...any) string {
	r.notes = append(r.notes, fmt.Sprintf(format, args...))
	return fmt.Sprintf("[%d]", len(r.notes))
}

// misses counts the targets missed.
func (r *report) misses() int {
	n := 0
	for _, x := range r.rows {
		if x.result == miss {
			n++
		}
	}
	return n
}

// markdown writes the report as Markdown: header lines, one table, notes.
func (r *report) markdown(w io.Writer) error {
	var b strings.Builder
	for _, h := range r.header {
		b.WriteString(h)
		b.WriteString("  \n")
	}
	if len(r.header) > 0 {
		b.WriteString("\n")
	}
	r.summary(&b)
	b.WriteString("| Area | Measure | contraforce-mcp | Reference | Ratio | Target | Result |\n")
	b.WriteString("|---|---|---:|---:|---:|---|---|\n")
	for _, x := range r.rows {
		cells := []string{x.area, x.measure, x.value, x.ref, x.ratio, x.target, x.result}
		for i, c := range cells {
			cells[i] = cell(c)
		}
		b.WriteString("| " + strings.Join(cells, " | ") + " |\n")
	}
	if len(r.notes) > 0 {
		b.WriteString("\n")
		for i, n := range r.notes {
			fmt.Fprintf(&b, "%d. %s\n", i+1, n)
		}
	}
	fmt.Fprintf(&b, "\nTargets met: %d of %d.\n", r.targets()-r.misses(), r.targets())
	_, err := io.WriteString(w, b.String())
	return err
}

// goals are the targets of issue 13 with their rank in its list; a goal
// whose figure was not measured (its phase was not run) shows as such.
var goals = []struct {
	rank int
	what string
}{
	{1, "`list_incidents` on a 140-row API page ≤ 2.0× the floor's one-request call"},
	{2, "`get_incident` ≤ 1.5× the floor's one-request call"},
	{3, "cold start to `tools/list` ≤ 1.3× floor (release builds)"},
	{4, "RSS after `tools/list` ≤ 1.4× floor (release builds)"},
	{5, "`tools/list` ≤ 1,500 B per tool on average, with output schemas"},
	{6, "`get_incident` result ≤ 60% of the raw API JSON it came from"},
	{7, "hosted, 100 sessions: calls/s ≥ 50% of the emulator alone, p99 ≤ 10× p50 (`list_incidents`, `get_incident`)"},
}

// summary writes the issue-13 targets, each with the figures that decide it.
func (r *report) summary(b *strings.Builder) {
	b.WriteString("Targets of issue 13, measured in this run (details in the table below):\n\n")
	b.WriteString("| Target | Figure | Measured | Reference | Ratio | Result |\n|---|---|---:|---:|---:|---|\n")
	for _, g := range goals {
		found := false
		for _, x := range r.rows {
			if x.rank != g.rank {
				continue
			}
			found = true
			cells := []string{g.what, x.goal, x.value, x.ref, x.ratio, x.result}
			for i, c := range cells {
				cells[i] = cell(c)
			}
			b.WriteString("| " + strings.Join(cells, " | ") + " |\n")
		}
		if !found {
			b.WriteString("| " + cell(g.what) + " | not measured in this run |  |  |  | — |\n")
		}
	}
	b.WriteString("\n")
}

// targets counts the rows that carry a target.
func (r *report) targets() int {
	n := 0
	for _, x := range r.rows {
		if x.result == pass || x.result == miss {
			n++
		}
	}
	return n
}

// cell makes s safe inside a Markdown table cell.
func cell(s string) string {
	s = strings.ReplaceAll(s, "|", `\|`)
	return strings.ReplaceAll(s, "\n", " ")
}
