package transform_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/shiplog/shiplog/internal/config"
	"github.com/shiplog/shiplog/internal/fixture"
	"github.com/shiplog/shiplog/internal/output"
	"github.com/shiplog/shiplog/internal/warehouse"
	"github.com/shiplog/shiplog/metrics"
	"github.com/shiplog/shiplog/transform"
)

// Automatic failure detection and lead-time exclusions, on
// testdata/failures/failures.jsonl; every expected value is worked out by
// hand in testdata/failures/README.md (section named beside each case).

// failuresConfig is the configuration the README states: production is
// production, prod-eu and prod-us; bots and dependency bumps are excluded.
// change adjusts it for one case.
func failuresConfig(change func(*config.Config)) *config.Config {
	cfg := config.Default()
	cfg.Metrics.ProductionEnvironments = []string{"production", "prod-eu", "prod-us"}
	cfg.Metrics.ExcludeAuthors = []string{"*[bot]", "renovate*"}
	cfg.Metrics.ExcludeTitlePatterns = []string{`^chore\(deps\)`}
	if change != nil {
		change(cfg)
	}
	return cfg
}

// failuresDB loads the fixture into a warehouse file (not memory: the
// marts are written and read back as users' are) and runs the transform.
func failuresDB(t *testing.T, cfg *config.Config) *warehouse.DB {
	t.Helper()
	ctx := context.Background()
	db, err := warehouse.Open(ctx, t.TempDir()+"/shiplog.duckdb", warehouse.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	fixture.Load(t, db, "../testdata/failures/failures.jsonl")
	if err := transform.Run(ctx, db, cfg, transform.Options{}); err != nil {
		t.Fatal(err)
	}
	return db
}

// column returns the values of col in tb's rows, rendered as lines does.
func columns(t *testing.T, tb *output.Table, cols ...string) []string {
	t.Helper()
	idx := make([]int, len(cols))
	for j, c := range cols {
		idx[j] = -1
		for i, name := range tb.Columns {
			if name == c {
				idx[j] = i
			}
		}
		if idx[j] < 0 {
			t.Fatalf("no column %s in %v", c, tb.Columns)
		}
	}
	sub := &output.Table{Columns: cols}
	for _, r := range tb.Rows {
		row := make([]any, len(cols))
		for j, i := range idx {
			row[j] = r[i]
		}
		sub.Rows = append(sub.Rows, row)
	}
	return render(sub)
}

func TestFailureDetection(t *testing.T) {
	const failed = `select deployment_id, failure_reason, coalesce(f.restored_by_deployment, '-'), d.recovery_hours
		from fct_deployments d left join fct_failures f using (deployment_id)
		where d.is_failed order by d.service, d.finished_at`
	tests := []struct {
		name   string
		change func(*config.Config)
		want   []string
	}{
		{
			// README "revert" and "version_rollback"; geo's G-U2 by time
			name: "defaults",
			want: []string{
				"G-U2 | time_window | - | 2.8333",
				"D-R1 | revert | D-R2 | 4",
				"D-R3 | revert | D-R4 | 10",
				"D-R5 | revert | D-R6 | 6",
				"V-2 | version_rollback | V-3 | 2",
				"V-8 | version_rollback | V-9 | 5",
				"V-11 | rollback | V-12 | 1",
			},
		},
		{
			// README "Switches": reverts no longer fail anything
			name:   "failure_from_reverts off",
			change: func(c *config.Config) { c.Metrics.FailureFromReverts = false },
			want: []string{
				"G-U2 | time_window | - | 2.8333",
				"V-2 | version_rollback | V-3 | 2",
				"V-8 | version_rollback | V-9 | 5",
				"V-11 | rollback | V-12 | 1",
			},
		},
		{
			// README "Switches": V-11 stays failed by its rollback_of
			name:   "failure_from_version_rollbacks off",
			change: func(c *config.Config) { c.Metrics.FailureFromVersionRollbacks = false },
			want: []string{
				"G-U2 | time_window | - | 2.8333",
				"D-R1 | revert | D-R2 | 4",
				"D-R3 | revert | D-R4 | 10",
				"D-R5 | revert | D-R6 | 6",
				"V-11 | rollback | V-12 | 1",
			},
		},
		{
			// README "Switches": a 25-hour window reaches D-R8
			name:   "attribution window 25h",
			change: func(c *config.Config) { c.Metrics.AttributionWindow = config.Duration(25 * 3600e9) },
			want: []string{
				"G-U2 | time_window | - | 2.8333",
				"D-R1 | revert | D-R2 | 4",
				"D-R3 | revert | D-R4 | 10",
				"D-R5 | revert | D-R6 | 6",
				"D-R7 | revert | D-R8 | 25",
				"V-2 | version_rollback | V-3 | 2",
				"V-8 | version_rollback | V-9 | 5",
				"V-11 | rollback | V-12 | 1",
			},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			db := failuresDB(t, failuresConfig(tc.change))
			same(t, "failed deployments", lines(t, db, failed), tc.want)
		})
	}
}

// A version whose number does not fit a hugeint (2^127 has 39 digits;
// this one has 42) is not a semantic version, so the rule for versions
// that do not parse decides (README "version_rollback"), where before such
// a version failed the whole transform ("Could not convert string … to
// INT128"), and where DuckDB 2.0 failed it for versions the CASE left
// out. B-1 runs 1.0.0, B-2 the huge version, B-3 1.0.0 again: B-2 → B-3
// goes back to a version that ran before B-2 finished (B-1), so B-2
// failed, version_rollback, restored by B-3 24 h later; B-1 → B-2 goes to
// a version never run before: nothing.
func TestVersionTooLargeToParse(t *testing.T) {
	ctx := context.Background()
	extra := filepath.Join(t.TempDir(), "big.jsonl")
	huge := "1" + strings.Repeat("0", 41) + ".0.0"
	var b strings.Builder
	b.WriteString(`{"kind": "service", "id": "big", "team": "core", "repo": "acme/big"}` + "\n")
	for i, v := range []string{"1.0.0", huge, "1.0.0"} {
		fmt.Fprintf(&b, `{"kind": "deployment", "id": "B-%d", "service": "big", "environment": "production", "status": "success", "started_at": "2026-03-0%dT10:00:00Z", "finished_at": "2026-03-0%dT10:10:00Z", "version": %q}`+"\n", i+1, i+1, i+1, v)
	}
	if err := os.WriteFile(extra, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	db, err := warehouse.Open(ctx, filepath.Join(t.TempDir(), "shiplog.duckdb"), warehouse.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	fixture.Load(t, db, extra)
	if err := transform.Run(ctx, db, failuresConfig(nil), transform.Options{}); err != nil {
		t.Fatal(err)
	}
	same(t, "deployments of big", lines(t, db, `select deployment_id, d.is_failed, coalesce(d.failure_reason, '-'),
			coalesce(f.restored_by_deployment, '-'), d.recovery_hours
		from fct_deployments d left join fct_failures f using (deployment_id)
		where d.service = 'big' order by d.finished_at`), []string{
		"B-1 | false | - | - | -",
		"B-2 | true | version_rollback | B-3 | 24",
		"B-3 | false | - | - | -",
	})
}

// The metrics and explain rows of each service in March (README
// "Metrics"), through metrics.Compute and metrics.Explain as the commands
// call them.
func TestFailureMetrics(t *testing.T) {
	ctx := context.Background()
	db := failuresDB(t, failuresConfig(nil))
	tb, err := metrics.Compute(ctx, db, failuresConfig(nil), metrics.Filter{From: march, To: april})
	if err != nil {
		t.Fatal(err)
	}
	same(t, "metrics", columns(t, tb, "service", "deployments", "failed_deployments", "change_failure_rate",
		"recovery_median_hours", "recovery_p75_hours", "recovery_p90_hours", "rework_rate",
		"lead_time_median_hours", "lead_time_p75_hours", "lead_time_p90_hours", "lead_time_changes", "lead_time_excluded"), []string{
		"geo | 7 | 1 | 0.1429 | 2.8333 | 2.8333 | 2.8333 | 0 | 4 | 5.0833 | 5.7333 | 3 | 0",
		"lt | 2 | 0 | 0 | - | - | - | 0 | 9.1667 | 10.6667 | 11.5667 | 2 | 3",
		"rev | 9 | 3 | 0.3333 | 6 | 8 | 9.2 | 0 | 2.1667 | 2.1667 | 2.1667 | 9 | 1",
		"ver | 12 | 3 | 0.25 | 2 | 3.5 | 4.4 | 0.0833 | - | - | - | 0 | 0",
	})

	cfr, err := metrics.Explain(ctx, db, "change-failure-rate", metrics.Filter{Services: []string{"rev"}, From: march, To: april})
	if err != nil {
		t.Fatal(err)
	}
	same(t, "explain change-failure-rate", columns(t, cfr, "deployment_id", "is_failed", "failure_reason", "restored_by_deployment"), []string{
		"D-R1 | true | revert | D-R2",
		"D-R3 | true | revert | D-R4",
		"D-R5 | true | revert | D-R6",
		"D-R0 | false | - | -",
		"D-R2 | false | - | -",
		"D-R4 | false | - | -",
		"D-R6 | false | - | -",
		"D-R7 | false | - | -",
		"D-R8 | false | - | -",
	})

	lt, err := metrics.Explain(ctx, db, "lead-time", metrics.Filter{Services: []string{"lt"}, From: march, To: april})
	if err != nil {
		t.Fatal(err)
	}
	same(t, "explain lead-time", columns(t, lt, "change_id", "author", "lead_time_hours", "excluded_reason"), []string{
		"lt#1 | alice | 12.1667 | -",
		"lt#5 | robot | 6.1667 | -",
		"lt#2 | renovate[bot] | 11.1667 | bot",
		"lt#3 |  Dependabot[BOT]  | 10.6667 | bot",
		"lt#4 | bob | 10.1667 | pattern",
	})
}

// Without exclusions every change of lt counts (README "Lead-time
// exclusions", last paragraph).
func TestNoExclusions(t *testing.T) {
	ctx := context.Background()
	cfg := failuresConfig(func(c *config.Config) { c.Metrics.ExcludeAuthors, c.Metrics.ExcludeTitlePatterns = nil, nil })
	db := failuresDB(t, cfg)
	tb, err := metrics.Compute(ctx, db, cfg, metrics.Filter{Services: []string{"lt"}, From: march, To: april})
	if err != nil {
		t.Fatal(err)
	}
	same(t, "metrics", columns(t, tb, "lead_time_median_hours", "lead_time_changes", "lead_time_excluded"),
		[]string{"10.6667 | 5 | 0"})
}
