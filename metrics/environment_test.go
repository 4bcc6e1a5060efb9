package metrics_test

import (
	"context"
	"testing"

	"github.com/shiplog/shiplog/internal/config"
	"github.com/shiplog/shiplog/internal/fixture"
	"github.com/shiplog/shiplog/internal/output"
	"github.com/shiplog/shiplog/internal/warehouse"
	"github.com/shiplog/shiplog/metrics"
	"github.com/shiplog/shiplog/transform"
)

// The environment split on testdata/failures/failures.jsonl; every
// expected value is worked out by hand in testdata/failures/README.md
// ("Environments — service geo").
func TestEnvironmentSplit(t *testing.T) {
	ctx := context.Background()
	cfg := config.Default()
	cfg.Metrics.ProductionEnvironments = []string{"production", "prod-eu", "prod-us"}
	cfg.Metrics.ExcludeAuthors = []string{"*[bot]", "renovate*"}
	cfg.Metrics.ExcludeTitlePatterns = []string{`^chore\(deps\)`}
	db, err := warehouse.Open(ctx, t.TempDir()+"/shiplog.duckdb", warehouse.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	fixture.Load(t, db, "../testdata/failures/failures.jsonl")
	if err := transform.Run(ctx, db, cfg, transform.Options{}); err != nil {
		t.Fatal(err)
	}
	march := jan.AddDate(0, 2, 0)
	april := jan.AddDate(0, 3, 0)
	cols := []string{"deployments", "failed_deployments", "change_failure_rate", "recovery_median_hours",
		"lead_time_median_hours", "lead_time_changes", "lead_time_excluded", "rework_rate", "incidents", "mttr_median_hours"}
	tests := []struct {
		name   string
		filter metrics.Filter
		want   []string
	}{
		{
			name:   "level environment, service geo",
			filter: metrics.Filter{Services: []string{"geo"}, Level: "environment"},
			want: []string{
				"prod-eu | 4 | 0 | 0 | - | 4 | 3 | 0 | 0 | - | -",
				"prod-us | 3 | 1 | 0.3333 | 2.8333 | - | 0 | 0 | 0 | - | -",
			},
		},
		{
			name:   "level environment, every service",
			filter: metrics.Filter{Level: "environment"},
			want: []string{
				"prod-eu | 4 | 0 | 0 | - | 4 | 3 | 0 | 0 | - | -",
				"prod-us | 3 | 1 | 0.3333 | 2.8333 | - | 0 | 0 | 0 | - | -",
				"production | 23 | 6 | 0.2609 | 4.5 | 2.1667 | 11 | 4 | 0.0435 | - | -",
			},
		},
		{
			name:   "--environment prod-us, service level",
			filter: metrics.Filter{Environments: []string{" Prod-US"}},
			want: []string{
				"geo | 3 | 1 | 0.3333 | 2.8333 | - | 0 | 0 | 0 | - | -",
			},
		},
		{
			name:   "--environment prod-eu and prod-us, team level",
			filter: metrics.Filter{Environments: []string{"prod-eu", "prod-us"}, Level: "team"},
			want: []string{
				"core | 7 | 1 | 0.1429 | 2.8333 | 4 | 3 | 0 | 0 | - | -",
			},
		},
		{
			// not split: incidents and MTTR are there (I-1: 2 h)
			name:   "service geo, no split",
			filter: metrics.Filter{Services: []string{"geo"}},
			want: []string{
				"geo | 7 | 1 | 0.1429 | 2.8333 | 4 | 3 | 0 | 0 | 1 | 2",
			},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := tc.filter
			f.From, f.To = march, april
			tb, err := metrics.Compute(ctx, db, cfg, f)
			if err != nil {
				t.Fatal(err)
			}
			sub := &output.Table{Columns: append([]string{tb.Columns[0]}, cols...)}
			for _, r := range tb.Rows {
				row := []any{r[0]}
				for _, c := range cols {
					i := tb.Index(c)
					if i < 0 {
						t.Fatalf("no column %s", c)
					}
					row = append(row, r[i])
				}
				sub.Rows = append(sub.Rows, row)
			}
			var got []string
			for _, r := range sub.Rows {
				line := ""
				for i, v := range r {
					if i > 0 {
						line += " | "
					}
					line += cell(v)
				}
				got = append(got, line)
			}
			equalRows(t, "metrics", got, tc.want)
		})
	}
	// the views are not split
	if _, err := metrics.View(ctx, db, "velocity", metrics.Filter{Level: "environment"}); err == nil {
		t.Error("--view velocity --level environment: no error")
	}
}
