package reports

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/shiplog/shiplog/internal/output"
)

// largeData is an organisation of 500 services in 50 teams with twelve
// months of metrics, a busy retrospective and nine controls with findings.
func largeData(b testing.TB) *fakeData {
	const services, teams = 500, 50
	d := newFixture(b)
	team := func(i int) string { return fmt.Sprintf("team-%02d", i%teams) }
	vals := func(i int) map[string]any {
		dep := int64(20 + i%17)
		failed := int64(i % 4)
		return map[string]any{
			"deployments": dep, "deployments_per_day": float64(dep) / 31, "deployment_days_per_week": float64(2 + i%4),
			"lead_time_median_hours": float64(10 + i%90), "lead_time_p90_hours": float64(50 + i%200), "lead_time_changes": dep * 2,
			"change_failure_rate": float64(failed) / float64(dep), "failed_deployments": failed,
			"recovery_median_hours": float64(1 + i%12), "unrecovered_failures": int64(i % 7 / 6),
			"rework_rate": float64(i%3) / float64(dep), "unplanned_deployments": int64(i % 3), "incidents": int64(i % 5),
			"deployment_frequency_tier": "high", "lead_time_tier": "high", "change_failure_rate_tier": "medium", "recovery_time_tier": "high",
		}
	}
	var build func(f MetricsFilter) *output.Table
	// The tables are built once per filter, so the benchmark measures the
	// rendering and not the double.
	cache := map[string]*output.Table{}
	d.metrics = func(f MetricsFilter) *output.Table {
		key := fmt.Sprint(f)
		if t, ok := cache[key]; ok {
			return t
		}
		t := build(f)
		cache[key] = t
		return t
	}
	build = func(f MetricsFilter) *output.Table {
		var rows [][]any
		keep := func(t string) bool { return len(f.Teams) == 0 || f.Teams[0] == t }
		if f.By == "month" {
			n := 1
			if f.Level == "team" {
				n = teams
			}
			for k := 0; k < n; k++ {
				key := f.Level
				if f.Level == "team" {
					key = team(k)
				}
				for mth := 0; mth < 12; mth++ {
					from := f.From.AddDate(0, mth, 0)
					rows = append(rows, m(key, from, from.AddDate(0, 1, 0), vals(k+mth)))
				}
			}
			return metricsTable(f.Level, rows...)
		}
		switch f.Level {
		case "org":
			rows = append(rows, m("org", f.From, f.To, vals(int(f.From.Month()))))
		case "team":
			for k := 0; k < teams; k++ {
				rows = append(rows, m(team(k), f.From, f.To, vals(k+int(f.From.Month()))))
			}
		case "service":
			for s := 0; s < services; s++ {
				if keep(team(s)) {
					rows = append(rows, m(fmt.Sprintf("svc-%03d", s), f.From, f.To, vals(s+int(f.From.Month()))))
				}
			}
		}
		return metricsTable(f.Level, rows...)
	}
	_ = build
	start := time.Date(2026, 10, 1, 0, 0, 0, 0, time.UTC)
	events := &output.Table{Columns: []string{"occurred_at", "kind", "service", "id", "detail"}}
	timeline := &output.Table{Columns: []string{"day", "kind", "events"}}
	for i := 0; i < 10000; i++ {
		at := start.Add(time.Duration(i) * 4 * time.Minute)
		events.Rows = append(events.Rows, []any{at, "deployment", fmt.Sprintf("svc-%03d", i%services), fmt.Sprintf("d-%d", i), "v1." + fmt.Sprint(i)})
	}
	for day := 0; day < 31; day++ {
		for _, k := range []string{"deployment", "rollback", "hotfix", "failed deployment", "incident"} {
			timeline.Rows = append(timeline.Rows, []any{start.AddDate(0, 0, day).Format("2006-01-02"), k, int64(day%7 + len(k))})
		}
	}
	d.queries["retro-events"] = events
	d.queries["retro-timeline"] = timeline
	failed := &output.Table{Columns: d.queries["retro-failed-deployments"].Columns}
	for i := 0; i < 400; i++ {
		failed.Rows = append(failed.Rows, []any{fmt.Sprintf("d-%d", i), fmt.Sprintf("svc-%03d", i), "v2", start, "incident", "inc-1", nil, nil, nil})
	}
	d.queries["retro-failed-deployments"] = failed
	heat := &output.Table{Columns: []string{"weekday", "hour", "deployments"}}
	for _, wd := range []string{"Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"} {
		for h := 0; h < 24; h++ {
			heat.Rows = append(heat.Rows, []any{wd, fmt.Sprintf("%02d", h), int64(h * 3 % 17)})
		}
	}
	d.queries["retro-deploy-heatmap"] = heat
	d.audit = nil
	for c := 0; c < 9; c++ {
		f := &output.Table{Columns: []string{"deployment_id", "service", "triggered_by", "reason"}}
		for i := 0; i < 200; i++ {
			f.Rows = append(f.Rows, []any{fmt.Sprintf("d-%d", i), fmt.Sprintf("svc-%03d", i), "someone", "no approved change request"})
		}
		d.audit = append(d.audit, ControlResult{Control: fmt.Sprintf("control-%d", c), Description: "checks", Checked: 5000, Failed: 200, Findings: f})
	}
	return d
}

// BenchmarkWriteAllLarge renders every report of a 500-service, 50-team
// organisation (51 leadership pages, the retrospective, the audit, the
// index) from tables in memory, so it measures rendering alone.
func BenchmarkWriteAllLarge(b *testing.B) {
	data := largeData(b)
	var sizes map[string]int64
	for b.Loop() {
		out := b.TempDir()
		if _, err := Write(context.Background(), data, Options{Out: out, Now: fixedNow}, Kinds...); err != nil {
			b.Fatal(err)
		}
		if sizes == nil {
			sizes = map[string]int64{}
			files, _ := filepath.Glob(filepath.Join(out, "*.html"))
			for _, f := range files {
				st, _ := os.Stat(f)
				sizes[filepath.Base(f)] = st.Size()
			}
		}
	}
	var total int64
	for _, s := range sizes {
		total += s
	}
	b.ReportMetric(float64(len(sizes)), "pages")
	b.ReportMetric(float64(total)/1024, "html-KiB")
	b.ReportMetric(float64(sizes["leadership.html"])/1024, "org-page-KiB")
	b.ReportMetric(float64(sizes["leadership-team-00.html"])/1024, "team-page-KiB")
	b.ReportMetric(float64(sizes["retro.html"])/1024, "retro-KiB")
	b.ReportMetric(float64(sizes["audit.html"])/1024, "audit-KiB")
}

// BenchmarkLeadershipTeamPage renders the leadership report for one team.
func BenchmarkLeadershipTeamPage(b *testing.B) {
	data := largeData(b)
	for b.Loop() {
		if _, err := Write(context.Background(), data, Options{Out: b.TempDir(), Team: "team-07", Now: fixedNow}, Leadership); err != nil {
			b.Fatal(err)
		}
	}
}
