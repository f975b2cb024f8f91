package hosted

import (
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"sync"
)

// A tiny Prometheus text exposition (version 0.0.4), written by hand so the
// server needs no metrics library: counters and histograms with labels, and
// gauges read at scrape time. Label sets are bounded by construction (routes,
// status codes, tools, tenants, API endpoints), never by caller input.

// series is one labelled value of a metric family.
type series struct {
	labels []string
	value  float64
	// histogram only
	buckets []uint64
	sum     float64
	count   uint64
}

// family is a metric: name, help, type and its series by label values.
type family struct {
	name, help, kind string
	labelNames       []string
	bounds           []float64 // histogram upper bounds

	mu     sync.Mutex
	series map[string]*series
}

func newFamily(name, help, kind string, labelNames []string, bounds []float64) *family {
	return &family{name: name, help: help, kind: kind, labelNames: labelNames, bounds: bounds, series: map[string]*series{}}
}

// get returns the series for the label values; f.mu is held.
func (f *family) get(values []string) *series {
	key := strings.Join(values, "\xff")
	s, ok := f.series[key]
	if !ok {
		s = &series{labels: slices.Clone(values)}
		if f.kind == "histogram" {
			s.buckets = make([]uint64, len(f.bounds))
		}
		f.series[key] = s
	}
	return s
}

// add adds v to a counter.
func (f *family) add(v float64, values ...string) {
	f.mu.Lock()
	f.get(values).value += v
	f.mu.Unlock()
}

// set sets a gauge.
func (f *family) set(v float64, values ...string) {
	f.mu.Lock()
	f.get(values).value = v
	f.mu.Unlock()
}

// observe records one histogram observation.
func (f *family) observe(v float64, values ...string) {
	f.mu.Lock()
	s := f.get(values)
	for i, b := range f.bounds {
		if v <= b {
			s.buckets[i]++
		}
	}
	s.sum += v
	s.count++
	f.mu.Unlock()
}

// write writes the family in the text format, series sorted by labels.
func (f *family) write(w io.Writer) {
	f.mu.Lock()
	defer f.mu.Unlock()
	fmt.Fprintf(w, "# HELP %s %s\n# TYPE %s %s\n", f.name, f.help, f.name, f.kind)
	keys := make([]string, 0, len(f.series))
	for k := range f.series {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		s := f.series[k]
		if f.kind != "histogram" {
			fmt.Fprintf(w, "%s%s %s\n", f.name, labelText(f.labelNames, s.labels, "", ""), formatFloat(s.value))
			continue
		}
		for i, b := range f.bounds {
			fmt.Fprintf(w, "%s_bucket%s %d\n", f.name, labelText(f.labelNames, s.labels, "le", formatFloat(b)), s.buckets[i])
		}
		fmt.Fprintf(w, "%s_bucket%s %d\n", f.name, labelText(f.labelNames, s.labels, "le", "+Inf"), s.count)
		fmt.Fprintf(w, "%s_sum%s %s\n", f.name, labelText(f.labelNames, s.labels, "", ""), formatFloat(s.sum))
		fmt.Fprintf(w, "%s_count%s %d\n", f.name, labelText(f.labelNames, s.labels, "", ""), s.count)
	}
}

// labelText renders {a="x",b="y"} with an optional extra label.
func labelText(names, values []string, extraName, extraValue string) string {
	if len(names) == 0 && extraName == "" {
		return ""
	}
	var b strings.Builder
	b.WriteByte('{')
	for i, n := range names {
		if i > 0 {
			b.WriteByte(',')
		}
		fmt.Fprintf(&b, `%s="%s"`, n, escapeLabel(values[i]))
	}
	if extraName != "" {
		if len(names) > 0 {
			b.WriteByte(',')
		}
		fmt.Fprintf(&b, `%s="%s"`, extraName, escapeLabel(extraValue))
	}
	b.WriteByte('}')
	return b.String()
}

// escapeLabel escapes a label value as the format requires.
func escapeLabel(v string) string {
	return strings.NewReplacer(`\`, `\\`, `"`, `\"`, "\n", `\n`).Replace(v)
}

func formatFloat(v float64) string {
	return strconv.FormatFloat(v, 'g', -1, 64)
}
