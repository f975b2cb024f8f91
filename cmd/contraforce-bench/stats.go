package main

import (
	"fmt"
	"slices"
	"time"
)

// samples are durations measured for one figure.
type samples []time.Duration

// percentile returns the p-th percentile (0 < p ≤ 100) by the nearest-rank
// method: the smallest sample with at least p% of the samples at or below
// it. It returns 0 for no samples.
func (s samples) percentile(p float64) time.Duration {
	if len(s) == 0 {
		return 0
	}
	sorted := slices.Clone(s)
	slices.Sort(sorted)
	rank := int(float64(len(sorted))*p/100 + 0.999999999)
	rank = max(1, min(rank, len(sorted)))
	return sorted[rank-1]
}

// median is the 50th percentile.
func (s samples) median() time.Duration { return s.percentile(50) }

// summary is median, p90 and p99 of s, for a table cell.
func (s samples) summary() string {
	return fmt.Sprintf("%s / %s / %s", ms(s.percentile(50)), ms(s.percentile(90)), ms(s.percentile(99)))
}

// medianInt is the median of whole numbers (RSS in KiB), 0 for none.
func medianInt(v []int64) int64 {
	if len(v) == 0 {
		return 0
	}
	sorted := slices.Clone(v)
	slices.Sort(sorted)
	return sorted[(len(sorted)-1)/2]
}

// ratio is a / b, or 0 when b is 0.
func ratio(a, b float64) float64 {
	if b == 0 {
		return 0
	}
	return a / b
}

// ms formats a duration in milliseconds with a precision that suits it.
func ms(d time.Duration) string {
	v := float64(d) / float64(time.Millisecond)
	switch {
	case v >= 100:
		return fmt.Sprintf("%.0f ms", v)
	case v >= 10:
		return fmt.Sprintf("%.1f ms", v)
	default:
		return fmt.Sprintf("%.2f ms", v)
	}
}

// kib formats a size given in KiB.
func kib(k int64) string {
	if k >= 10*1024 {
		return fmt.Sprintf("%.1f MiB", float64(k)/1024)
	}
	return fmt.Sprintf("%d KiB", k)
}

// times formats a ratio as "1.23×".
func times(r float64) string { return fmt.Sprintf("%.2f×", r) }

// percent formats a ratio as "37%".
func percent(r float64) string { return fmt.Sprintf("%.0f%%", r*100) }
