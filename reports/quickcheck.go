package reports

import (
	"fmt"

	"github.com/shiplog/shiplog/internal/format"
)

// The quick-check-style score puts each metric of a period on a 0–10
// scale the way DORA's Quick Check offers answers: six ranges per metric,
// best first, worth 10, 8, 6, 4, 2 and 0 points. The measured value picks
// the range a team would have answered; the score is the mean of the
// metrics that have a value (throughput and instability separately, and
// all five together). It is an approximation for orientation, not DORA's
// own model (which weighs answers with its survey data and is not
// published as a formula): docs/reports.md says how it is computed.
//
// Ranges (a value on a boundary takes the better range):
//
//	deployment frequency (deployments per day): ≥ 2 (on demand, several a
//	  day), ≥ 1 (daily), ≥ 1/7 (weekly), ≥ 1/30 (monthly), ≥ 1/182 (every
//	  six months), less
//	lead time and recovery time: < 1 hour, < 1 day, < 1 week, < 1 month
//	  (30 days), < 6 months (182 days), longer
//	change fail rate and rework rate: ≤ 15 %, ≤ 30 %, ≤ 45 %, ≤ 60 %,
//	  ≤ 75 %, more
var quickRanges = map[string]struct {
	col            string
	bounds         []float64
	higherIsBetter bool
}{
	DeploymentFrequency: {"deployments_per_day", []float64{2, 1, 1.0 / 7, 1.0 / 30, 1.0 / 182}, true},
	LeadTime:            {"lead_time_median_hours", []float64{1, 24, 24 * 7, 24 * 30, 24 * 182}, false},
	RecoveryTime:        {"recovery_median_hours", []float64{1, 24, 24 * 7, 24 * 30, 24 * 182}, false},
	ChangeFailureRate:   {"change_failure_rate", []float64{0.15, 0.30, 0.45, 0.60, 0.75}, false},
	ReworkRate:          {"rework_rate", []float64{0.15, 0.30, 0.45, 0.60, 0.75}, false},
}

// quickCheck returns the points (0–10) of one metric of r; false without
// a value.
func quickCheck(key string, r row) (float64, bool) {
	q, ok := quickRanges[key]
	if !ok {
		return 0, false
	}
	v, ok := r.num(q.col)
	if !ok {
		return 0, false
	}
	for i, b := range q.bounds {
		hit := v <= b
		switch {
		case q.higherIsBetter:
			hit = v >= b
		case key == LeadTime || key == RecoveryTime:
			hit = v < b
		}
		if hit {
			return float64(10 - 2*i), true
		}
	}
	return 0, true
}

type quickPoints struct {
	group  string
	points float64
}

// score is the page's quick-check-style score.
type score struct {
	Overall, Throughput, Instability string
}

// overallScore averages the points overall and per group, to one decimal.
func overallScore(ps []quickPoints) *score {
	if len(ps) == 0 {
		return nil
	}
	mean := func(group string) string {
		var sum float64
		n := 0
		for _, p := range ps {
			if group == "" || p.group == group {
				sum += p.points
				n++
			}
		}
		if n == 0 {
			return format.Dash
		}
		return fmt.Sprintf("%.1f", sum/float64(n))
	}
	return &score{Overall: mean(""), Throughput: mean(throughput), Instability: mean(instability)}
}
