package reports

import (
	"strings"
	"testing"
	"time"
)

func TestSummarize(t *testing.T) {
	tests := []struct {
		name string
		r    row
		want []string
	}{
		{"no row at all", nil, []string{"Team x made no production deployments in this period, so there is no change failure rate, recovery time or rework rate to report."}},
		{"no failures", row{"deployments": int64(12), "failed_deployments": int64(0), "change_failure_rate": 0.0, "rework_rate": 0.0, "unplanned_deployments": int64(0)},
			[]string{"Team x shipped 12 deployments to production.", "No change could be traced from its first commit to production, so lead time is unknown.",
				"No production deployment needed immediate intervention.", "Every deployment was planned: no rollbacks or hotfixes."}},
		// 3 of 24 = exactly 1 in 8.
		{"one in eight", row{"deployments": int64(24), "failed_deployments": int64(3), "recovery_median_hours": 3.0, "lead_time_median_hours": 0.5},
			[]string{"Team x shipped 24 deployments to production.", "A typical change reached production 30 minutes after its first commit.",
				"1 in 8 production deployments needed immediate intervention; recovery took a median of 3.0 hours."}},
		// 10 / 3 = 3.33 → about 1 in 3; one of the three still open.
		{"about one in three", row{"deployments": int64(10), "failed_deployments": int64(3), "unrecovered_failures": int64(1)},
			[]string{"Team x shipped 10 deployments to production.", "No change could be traced from its first commit to production, so lead time is unknown.",
				"About 1 in 3 production deployments needed immediate intervention; 1 failure is not recovered yet."}},
		// 7 / 3 = 2.33: too far from "1 in 2" to say so.
		{"three of seven", row{"deployments": int64(7), "failed_deployments": int64(3), "lead_time_median_hours": 100.0, "lead_time_p90_hours": 400.0, "recovery_median_hours": 26.0},
			[]string{"Team x shipped 7 deployments to production.", "A typical change reached production 4.2 days after its first commit; 1 in 10 took longer than 17 days.",
				"3 of 7 production deployments needed immediate intervention; recovery took a median of 26 hours."}},
		{"the only one failed", row{"deployments": int64(1), "failed_deployments": int64(1), "unrecovered_failures": int64(1), "incidents": int64(1), "mttr_median_hours": 0.25},
			[]string{"Team x shipped 1 deployment to production.", "No change could be traced from its first commit to production, so lead time is unknown.",
				"The only production deployment needed immediate intervention; 1 failure is not recovered yet.", "There was 1 incident; resolving one took a median of 15 minutes."}},
		{"all failed", row{"deployments": int64(2), "failed_deployments": int64(2), "deployment_days_per_week": 1.5},
			[]string{"Team x shipped 2 deployments to production, on a median of 1.5 days a week.", "No change could be traced from its first commit to production, so lead time is unknown.",
				"Every one of the 2 production deployments needed immediate intervention."}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := summarize("Team x", tt.r, false, 0)
			if strings.Join(got, "\n") != strings.Join(tt.want, "\n") {
				t.Errorf("got\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(tt.want, "\n"))
			}
		})
	}
}

// A monthly cadence: the median week had no deployment and the tier
// (medium) rests on the mean, 2 days in 5 weeks = 0.4; the sentence says
// the mean, never "a median of 0 days a week".
func TestSummarizeOnTheMean(t *testing.T) {
	got := summarize("Team x", row{"deployments": int64(2), "failed_deployments": int64(0), "deployment_days_per_week": 0.0}, true, 0.4)
	if want := "Team x shipped 2 deployments to production, on an average of 0.4 days a week."; got[0] != want {
		t.Errorf("got %q, want %q", got[0], want)
	}
}

func TestPeriod(t *testing.T) {
	d := func(s string) time.Time { return ts(s + "T00:00:00Z") }
	now := ts("2026-11-15T09:30:00Z")
	tests := []struct {
		from, to         time.Time
		wantFrom, wantTo time.Time
		prevFrom, prevTo time.Time
		text             string
	}{
		{time.Time{}, time.Time{}, d("2026-10-01"), d("2026-11-01"), d("2026-09-01"), d("2026-10-01"), "October 2026"},
		{time.Time{}, d("2026-04-01"), d("2026-03-01"), d("2026-04-01"), d("2026-02-01"), d("2026-03-01"), "March 2026"},
		// A quarter steps back a quarter.
		{d("2026-07-01"), d("2026-10-01"), d("2026-07-01"), d("2026-10-01"), d("2026-04-01"), d("2026-07-01"), "2026-07-01 to 2026-09-30"},
		// Ten days step back ten days.
		{d("2026-10-05"), d("2026-10-15"), d("2026-10-05"), d("2026-10-15"), d("2026-09-25"), d("2026-10-05"), "2026-10-05 to 2026-10-14"},
	}
	for _, tt := range tests {
		f, to, err := Period(tt.from, tt.to, now)
		if err != nil {
			t.Fatal(err)
		}
		pf, pt := previous(f, to)
		if !f.Equal(tt.wantFrom) || !to.Equal(tt.wantTo) || !pf.Equal(tt.prevFrom) || !pt.Equal(tt.prevTo) || periodText(f, to) != tt.text {
			t.Errorf("Period(%v, %v) = %v %v prev %v %v %q", tt.from, tt.to, f, to, pf, pt, periodText(f, to))
		}
	}
	if _, _, err := Period(d("2026-10-05"), d("2026-10-05"), now); err == nil {
		t.Error("empty window accepted")
	}
}

func TestTeamFile(t *testing.T) {
	if got := teamFile("payments"); got != "leadership-payments.html" {
		t.Errorf("teamFile(payments) = %s", got)
	}
	a, b := teamFile("a/b"), teamFile("a b")
	if a == b || !strings.HasPrefix(a, "leadership-a-b-") {
		t.Errorf("teamFile: %s, %s", a, b)
	}
	if strings.ContainsAny(teamFile("../../etc"), "/\\") {
		t.Errorf("teamFile leaves the folder: %s", teamFile("../../etc"))
	}
}
