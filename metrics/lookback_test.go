package metrics_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/shiplog/shiplog/internal/config"
	"github.com/shiplog/shiplog/internal/fixture"
	"github.com/shiplog/shiplog/internal/warehouse"
	"github.com/shiplog/shiplog/metrics"
	"github.com/shiplog/shiplog/transform"
)

// The look-back: the first gap of a window runs from the last successful
// production deployment before it, of the same key (and environment when
// the request is split), however long ago. testdata/lookback/lookback.jsonl
// (UTC; successful production deployments unless said):
//
//	a (core)  2021-03-01 00:00; 2024-06-01 failed and 2025-02-25 staging
//	          (neither counts); 2025-03-10 00:00
//	b (core)  2025-03-05 12:00, 2025-03-07 12:00; 2025-04-15 (after)
//	c (core)  prod-us 2024-12-01 00:00, prod-eu 2025-02-20 00:00,
//	          prod-eu 2025-03-02 00:00, prod-us 2025-03-03 00:00
//	d (solo)  2020-01-01 00:00 only
//
// Gaps in March 2025 (hours): a 2021-03-01 → 2025-03-10 is 1,470 days
// (four years with 2024-02-29, plus 9 days): 35280. b has nothing before
// the window: only 03-05 12:00 → 03-07 12:00, 48. c: 02-20 → 03-02 is
// 240, 03-02 → 03-03 is 24: median 132. d deploys nothing in the window:
// no gap. Team core, from 02-20 (c, the latest before the window): 240,
// 24, 03-03 → 03-05 12:00 60, 48, 03-07 12:00 → 03-10 60: median 60.
func TestLookBack(t *testing.T) {
	ctx := context.Background()
	cfg := config.Default()
	cfg.Metrics.ProductionEnvironments = []string{"production", "prod-eu", "prod-us"}
	db, err := warehouse.Open(ctx, t.TempDir()+"/shiplog.duckdb", warehouse.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	fixture.Load(t, db, "../testdata/lookback/lookback.jsonl")
	if err := transform.Run(ctx, db, cfg, transform.Options{}); err != nil {
		t.Fatal(err)
	}
	day := func(m time.Month, d int) time.Time { return time.Date(2025, m, d, 0, 0, 0, 0, time.UTC) }
	march := metrics.Filter{From: day(3, 1), To: day(4, 1)}
	with := func(f metrics.Filter, set func(*metrics.Filter)) metrics.Filter { set(&f); return f }
	tests := []struct {
		name   string
		filter metrics.Filter
		want   []string // key | period start | deployments | median gap
	}{
		{"services", march, []string{
			"a | 2025-03-01 | 1 | 35280",
			"b | 2025-03-01 | 2 | 48",
			"c | 2025-03-01 | 2 | 132",
			"d | 2025-03-01 | 0 | -",
		}},
		{"teams", with(march, func(f *metrics.Filter) { f.Level = "team" }), []string{
			"core | 2025-03-01 | 5 | 60",
			"solo | 2025-03-01 | 0 | -",
		}},
		// the organisation's latest before the window is c's 02-20 too
		{"org", with(march, func(f *metrics.Filter) { f.Level = "org" }), []string{
			"all | 2025-03-01 | 5 | 60",
		}},
		// one service in scope: a's 2021 deployment, not c's 02-20
		{"service a alone, team level", with(march, func(f *metrics.Filter) { f.Services = []string{"a"}; f.Level = "team" }), []string{
			"core | 2025-03-01 | 1 | 35280",
		}},
		// February: c's 2024-12-01 (prod-us) → 02-20 is 31 + 31 + 19 days;
		// March starts from 02-20, inside the request's own window
		{"service c by month", with(march, func(f *metrics.Filter) { f.Services = []string{"c"}; f.From = day(2, 1); f.By = "month" }), []string{
			"c | 2025-02-01 | 1 | 1944",
			"c | 2025-03-01 | 2 | 132",
		}},
		// split: each environment from its own last deployment. prod-eu
		// 02-20 → 03-02, 240; prod-us 2024-12-01 → 03-03 is 92 days,
		// 2208; production (a and b) from a's 2021-03-01: → 03-05 12:00
		// is 1,465.5 days, 35172, then 48 and 60: median 60
		{"level environment", with(march, func(f *metrics.Filter) { f.Level = "environment" }), []string{
			"prod-eu | 2025-03-01 | 1 | 240",
			"prod-us | 2025-03-01 | 1 | 2208",
			"production | 2025-03-01 | 3 | 60",
		}},
		{"--environment prod-us", with(march, func(f *metrics.Filter) { f.Environments = []string{"prod-us"} }), []string{
			"c | 2025-03-01 | 1 | 2208",
		}},
		// team core in production: a and b, from a's 2021-03-01; d's
		// team has its row, without a gap
		{"--environment production, teams", with(march, func(f *metrics.Filter) { f.Environments = []string{"production"}; f.Level = "team" }), []string{
			"core | 2025-03-01 | 3 | 60",
			"solo | 2025-03-01 | 0 | -",
		}},
		// a window from 03-06: b's 03-05 12:00 is the latest before it;
		// gaps 48 (→ 03-07 12:00) and 60 (→ a's 03-10): median 54
		{"team core from 03-06", with(march, func(f *metrics.Filter) { f.Teams = []string{"core"}; f.Level = "team"; f.From = day(3, 6) }), []string{
			"core | 2025-03-06 | 2 | 54",
		}},
	}
	lines := func(t *testing.T, tb [][]any, cols []string) []string {
		t.Helper()
		idx := func(c string) int {
			for i, x := range cols {
				if x == c {
					return i
				}
			}
			t.Fatalf("no column %s", c)
			return -1
		}
		var out []string
		for _, r := range tb {
			ps, _ := r[idx("period_start")].(time.Time)
			out = append(out, strings.Join([]string{cell(r[0]), ps.UTC().Format(time.DateOnly),
				cell(r[idx("deployments")]), cell(r[idx("deploy_interval_median_hours")])}, " | "))
		}
		return out
	}
	var all []metrics.Filter
	for _, tc := range tests {
		all = append(all, tc.filter)
		t.Run(tc.name, func(t *testing.T) {
			tb, err := metrics.Compute(ctx, db, cfg, tc.filter)
			if err != nil {
				t.Fatal(err)
			}
			equalRows(t, "metrics", lines(t, tb.Rows, tb.Columns), tc.want)
		})
	}
	// every request in one call: each window start and scope takes its own
	// last deployment before it
	t.Run("together", func(t *testing.T) {
		tbs, err := metrics.ComputeMany(ctx, db, cfg, all)
		if err != nil {
			t.Fatal(err)
		}
		for i, tb := range tbs {
			equalRows(t, tests[i].name, lines(t, tb.Rows, tb.Columns), tests[i].want)
		}
	})
}
