package metrics_test

import (
	"context"
	"fmt"
	"github.com/shiplog/shiplog/internal/fixture"
	"math"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/shiplog/shiplog/internal/config"
	"github.com/shiplog/shiplog/internal/output"
	"github.com/shiplog/shiplog/internal/warehouse"
	"github.com/shiplog/shiplog/metrics"
	"github.com/shiplog/shiplog/transform"
)

// Every expected value below is worked out by hand in
// testdata/metrics/README.md; the section is named beside each block.

const fixturePath = "../testdata/metrics/fixture.jsonl"

var (
	jan = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	feb = time.Date(2026, 2, 1, 0, 0, 0, 0, time.UTC)
)

func fixtureDB(t *testing.T, cfg *config.Config) *warehouse.DB {
	t.Helper()
	ctx := context.Background()
	db, err := warehouse.OpenMemory(ctx)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	fixture.Load(t, db, fixturePath)
	if err := transform.Run(ctx, db, cfg, transform.Options{}); err != nil {
		t.Fatal(err)
	}
	return db
}

// rows runs q and renders each row as its values joined by " | " (times in
// RFC 3339 UTC, floats rounded to 4 decimals, NULL as "-").
func rows(t *testing.T, db *warehouse.DB, q string) []string {
	t.Helper()
	rs, err := db.QueryContext(context.Background(), q)
	if err != nil {
		t.Fatalf("%s: %v", q, err)
	}
	tb, err := output.FromRows(rs)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, r := range tb.Rows {
		cells := make([]string, len(r))
		for i, v := range r {
			cells[i] = cell(v)
		}
		out = append(out, strings.Join(cells, " | "))
	}
	return out
}

func cell(v any) string {
	switch x := v.(type) {
	case nil:
		return "-"
	case float64:
		return fmt.Sprint(math.Round(x*10000) / 10000)
	}
	return output.Text(v)
}

func equalRows(t *testing.T, what string, got, want []string) {
	t.Helper()
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("%s:\n got:\n  %s\nwant:\n  %s", what, strings.Join(got, "\n  "), strings.Join(want, "\n  "))
	}
}

func TestFixtureLinking(t *testing.T) {
	db := fixtureDB(t, config.Default())
	// README "Linking"
	equalRows(t, "fct_deployment_changes", rows(t, db,
		`select change_id, deployment_id, link_rule from fct_deployment_changes order by change_id`), []string{
		"aa000002 | D2 | commit_graph",
		"api#1 | D1 | commit_graph",
		"api#10 | D10 | commit_graph",
		"api#11 | D10 | commit_graph",
		"api#2 | D2 | commit_graph",
		"api#3 | D3 | commit_graph",
		"api#5 | D5 | commit_graph",
		"api#6 | D6 | commit_graph",
		"api#7 | D7 | commit_graph",
		"api#8 | D8 | commit_graph",
		"api#9 | D9 | commit_graph",
		"shop#1 | K1 | time",
		"web#1 | W1 | explicit",
		"web#2 | W2 | explicit",
		"web#3 | W2 | explicit",
		"web#4 | W3 | time",
	})
	// README "Lead time"
	equalRows(t, "fct_changes", rows(t, db,
		`select change_id, service, deployment_id, lead_time_hours, excluded_reason from fct_changes order by change_id`), []string{
		"aa000002 | api | D2 | 28.5 | -",
		"api#1 | api | D1 | 384.5 | pre_tracking",
		"api#10 | api | D10 | 2 | -",
		"api#11 | api | D10 | 0 | non_positive",
		"api#2 | api | D2 | 29.5 | -",
		"api#3 | api | D3 | 2.3333 | -",
		"api#5 | api | D5 | 24.5 | -",
		"api#6 | api | D6 | 2.5 | -",
		"api#7 | api | D7 | 25 | -",
		"api#8 | api | D8 | 24 | -",
		"api#9 | api | D9 | 2 | -",
		"shop#1 | checkout | K1 | 24 | -",
		"shop#2 | cart | - | - | not_deployed",
		"web#1 | web | W1 | 23 | pre_tracking",
		"web#2 | web | W2 | 24 | -",
		"web#3 | web | W2 | 6 | -",
		"web#4 | web | W3 | 23.25 | -",
		"web#5 | web | - | - | not_deployed",
	})
	// README "Stages"
	equalRows(t, "stages", rows(t, db,
		`select change_id, coding_hours, pickup_hours, review_hours, deploy_hours from fct_changes
		 where change_id in ('api#2', 'api#3', 'web#4') order by change_id`), []string{
		"api#2 | 1 | 2 | 25 | 1.5",
		"api#3 | 0.1667 | 0.5 | 0.3333 | 1.3333",
		"web#4 | 0.5 | - | - | 22.25",
	})
}

func TestFixtureFailures(t *testing.T) {
	db := fixtureDB(t, config.Default())
	// README "Failures"
	equalRows(t, "fct_failures", rows(t, db,
		`select deployment_id, reason, incident_ids, restored_by_deployment, recovered_at, recovery_hours
		 from fct_failures order by deployment_id`), []string{
		`D10 | time_window | ["INC-6"] | - | 2026-01-21T13:30:00Z | 1.5`,
		`D2 | root_cause_commit | ["INC-2"] | - | 2026-01-10T12:00:00Z | 70.5`,
		`D3 | incident | ["INC-1"] | D4 | 2026-01-08T12:30:00Z | 2.1667`,
		`D5 | hotfix | [] | D6 | 2026-01-12T16:30:00Z | 6`,
		`D7 | time_window | ["INC-4"] | - | 2026-01-15T12:00:00Z | 26`,
		`W2 | incident | ["INC-8"] | - | - | -`,
		`W4 | rollback | [] | W5 | 2026-01-20T11:00:00Z | 1`,
	})
	equalRows(t, "fct_incidents", rows(t, db,
		`select incident_id, attributed_deployment, attribution, ack_hours, resolve_hours from fct_incidents order by incident_id`), []string{
		"INC-1 | D3 | incident | 0.25 | 3",
		"INC-2 | D2 | root_cause_commit | 0.5 | 2",
		"INC-3 | - | - | 0.0833 | 0.5",
		"INC-4 | D7 | time_window | 0.5 | 3",
		"INC-5 | - | - | 0.5 | 1",
		"INC-6 | D10 | time_window | 0.25 | 1",
		"INC-7 | - | - | 0.25 | 2",
		"INC-8 | W2 | incident | - | -",
		"INC-9 | - | - | 0.5 | 4",
	})
	// README "Deployments"
	equalRows(t, "fct_deployments", rows(t, db,
		`select deployment_id, is_production, status, finished_at, is_failed, failure_reason, is_unplanned,
		        unplanned_reason, changes_shipped
		 from fct_deployments order by finished_at, deployment_id`), []string{
		"K0 | true | success | 2026-01-02T10:00:00Z | false | - | false | - | 0",
		"D1 | true | success | 2026-01-05T10:30:00Z | false | - | false | - | 1",
		"W1 | true | success | 2026-01-06T11:00:00Z | false | - | false | - | 1",
		"D2 | true | success | 2026-01-07T13:30:00Z | true | root_cause_commit | false | - | 2",
		"D3 | true | success | 2026-01-08T10:20:00Z | true | incident | false | - | 1",
		"D4 | true | success | 2026-01-08T12:30:00Z | false | - | true | rollback | 0",
		"D-stg | false | success | 2026-01-09T09:10:00Z | - | - | false | - | -",
		"D-fail | true | failure | 2026-01-09T10:05:00Z | - | - | false | - | -",
		"D5 | true | success | 2026-01-12T10:30:00Z | true | hotfix | false | - | 1",
		"D6 | true | success | 2026-01-12T16:30:00Z | false | - | true | hotfix | 1",
		"W2 | true | success | 2026-01-13T09:30:00Z | true | incident | false | - | 2",
		"D7 | true | success | 2026-01-14T10:00:00Z | true | time_window | false | - | 1",
		"W3 | true | success | 2026-01-14T10:15:00Z | false | - | true | pattern | 1",
		"K1 | true | success | 2026-01-16T10:00:00Z | false | - | false | - | 1",
		"D8 | true | success | 2026-01-19T10:00:00Z | false | - | false | - | 1",
		"W4 | true | success | 2026-01-20T10:00:00Z | true | rollback | true | pattern | 0",
		"W5 | true | success | 2026-01-20T11:00:00Z | false | - | true | rollback | 0",
		"D9 | true | success | 2026-01-21T10:00:00Z | false | - | false | - | 1",
		"D10 | true | success | 2026-01-21T12:00:00Z | true | time_window | false | - | 2",
		"S1 | true | success | 2026-01-27T10:00:00Z | false | - | false | - | 0",
	})
}

func TestFixtureAdoptionAndSupport(t *testing.T) {
	db := fixtureDB(t, config.Default())
	// README "Adoption"
	equalRows(t, "fct_adoption", rows(t, db,
		`select service, feature, version, released_at, day1_users, day7_users, day30_users,
		        day1_share, day7_share, day30_share, days_to_target from fct_adoption`), []string{
		"web | dark-mode | 2026.01.06 | 2026-01-06T11:00:00Z | 10 | 60 | 80 | 0.1 | 0.6 | 0.8 | 5",
	})
	// README "Support impact"
	equalRows(t, "fct_support_impact", rows(t, db,
		`select deployment_id, tickets_after, baseline_per_day, expected_after, ratio
		 from fct_support_impact where service = 'web' order by finished_at`), []string{
		"W1 | 2 | 0 | 0 | -",
		"W2 | 2 | 0.0714 | 0.5 | 4",
		"W3 | 3 | 0.0714 | 0.5 | 6",
		"W4 | 1 | 0.1429 | 1 | 1",
		"W5 | 1 | 0.1429 | 1 | 1",
	})
}

// computed renders Compute's rows as column=value maps keyed by the level key
// (and period start when split).
func computed(t *testing.T, db *warehouse.DB, cfg *config.Config, f metrics.Filter) map[string]map[string]string {
	t.Helper()
	tb, err := metrics.Compute(context.Background(), db, cfg, f)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := strings.Join(tb.Columns[1:], ","), strings.Join(metrics.Columns, ","); got != want {
		t.Fatalf("columns %s, want %s", got, want)
	}
	out := map[string]map[string]string{}
	for _, r := range tb.Rows {
		m := map[string]string{}
		for i, c := range tb.Columns {
			m[c] = cell(r[i])
		}
		key := m[tb.Columns[0]]
		if f.By != "" {
			key += " " + m["period_start"]
		}
		out[key] = m
	}
	return out
}

func check(t *testing.T, row string, got map[string]string, want map[string]string) {
	t.Helper()
	if got == nil {
		t.Errorf("%s: no row", row)
		return
	}
	keys := make([]string, 0, len(want))
	for k := range want {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		if got[k] != want[k] {
			t.Errorf("%s %s = %s, want %s", row, k, got[k], want[k])
		}
	}
}

func TestFixtureComputeServices(t *testing.T) {
	db := fixtureDB(t, config.Default())
	got := computed(t, db, config.Default(), metrics.Filter{From: jan, To: feb})
	if len(got) != 5 {
		t.Errorf("%d rows, want 5 (api, cart, checkout, search, web)", len(got))
	}
	// README "Metrics per service, January 2026"
	check(t, "api", got["api"], map[string]string{
		"period_start": "2026-01-01T00:00:00Z", "period_end": "2026-02-01T00:00:00Z",
		"deployments": "10", "deployments_per_day": "0.3226", "deployment_days_per_week": "2",
		"deploy_interval_median_hours": "41.5",
		"lead_time_median_hours":       "24", "lead_time_p75_hours": "25", "lead_time_p90_hours": "28.7",
		"lead_time_changes": "9", "lead_time_excluded": "2",
		"change_failure_rate": "0.5", "failed_deployments": "5",
		"recovery_median_hours": "6", "recovery_p75_hours": "26", "recovery_p90_hours": "52.7",
		"unrecovered_failures": "0", "rework_rate": "0.2", "unplanned_deployments": "2",
		"mttr_median_hours": "2", "mtta_median_hours": "0.375", "incidents": "6",
		"deployment_frequency_tier": "high", "lead_time_tier": "elite", "change_failure_rate_tier": "low",
		"recovery_time_tier": "high", "rework_rate_tier": "-",
	})
	check(t, "web", got["web"], map[string]string{
		"deployments": "5", "deployments_per_day": "0.1613", "deployment_days_per_week": "1",
		"deploy_interval_median_hours": "84.25",
		"lead_time_median_hours":       "23.25", "lead_time_p75_hours": "23.625", "lead_time_p90_hours": "23.85",
		"lead_time_changes": "3", "lead_time_excluded": "1",
		"change_failure_rate": "0.4", "failed_deployments": "2",
		"recovery_median_hours": "1", "recovery_p75_hours": "1", "recovery_p90_hours": "1",
		"unrecovered_failures": "1", "rework_rate": "0.6", "unplanned_deployments": "3",
		"mttr_median_hours": "-", "mtta_median_hours": "-", "incidents": "1",
		"deployment_frequency_tier": "high", "lead_time_tier": "elite", "change_failure_rate_tier": "low",
		"recovery_time_tier": "elite", "rework_rate_tier": "-",
	})
	check(t, "checkout", got["checkout"], map[string]string{
		"deployments": "2", "deployment_days_per_week": "0", "deploy_interval_median_hours": "336",
		"lead_time_median_hours": "24", "lead_time_changes": "1", "lead_time_excluded": "0",
		// no incident of checkout was ever ingested: its failure rate is
		// unknown, not 0 (elite)
		"change_failure_rate": "-", "failed_deployments": "0", "recovery_median_hours": "-",
		"failure_unknown_reason": "no incident source", "lead_time_unknown_reason": "-",
		"rework_rate": "0", "deployment_frequency_tier": "medium", "change_failure_rate_tier": "-",
		"recovery_time_tier": "-",
	})
	// cart never deployed: counts are 0, every rate is undefined.
	check(t, "cart", got["cart"], map[string]string{
		"deployments": "0", "deployments_per_day": "0", "deployment_days_per_week": "0",
		"deploy_interval_median_hours": "-", "lead_time_median_hours": "-", "lead_time_changes": "0",
		"change_failure_rate": "-", "failed_deployments": "0", "rework_rate": "-",
		"recovery_median_hours": "-", "mttr_median_hours": "-",
		"change_failure_rate_tier": "-", "lead_time_tier": "-", "recovery_time_tier": "-",
		"deployment_frequency_tier": "low",
	})
	check(t, "search", got["search"], map[string]string{
		"deployments": "1", "deployment_days_per_week": "0", "deploy_interval_median_hours": "-",
		"change_failure_rate": "0", "mttr_median_hours": "4", "mtta_median_hours": "0.5",
		"incidents": "1", "deployment_frequency_tier": "low",
	})
}

func TestFixtureComputeLevels(t *testing.T) {
	db := fixtureDB(t, config.Default())
	// README "Team pay"
	team := computed(t, db, config.Default(), metrics.Filter{From: jan, To: feb, Level: "team", Teams: []string{"pay"}})
	if len(team) != 1 {
		t.Errorf("%d team rows, want 1", len(team))
	}
	check(t, "pay", team["pay"], map[string]string{
		"deployments": "15", "failed_deployments": "7", "change_failure_rate": "0.4667",
		"unplanned_deployments": "5", "rework_rate": "0.3333",
		"lead_time_median_hours": "23.625", "lead_time_p75_hours": "24.625", "lead_time_p90_hours": "28.15",
		"lead_time_changes": "12", "lead_time_excluded": "3",
		"recovery_median_hours": "4.0833", "unrecovered_failures": "1",
		"deployment_days_per_week": "3", "deploy_interval_median_hours": "21.9167",
		"mttr_median_hours": "2", "mtta_median_hours": "0.375", "incidents": "7",
		"deployment_frequency_tier": "high", "lead_time_tier": "elite",
		"change_failure_rate_tier": "low", "recovery_time_tier": "high",
	})
	// README "Departments and organisation"
	dept := computed(t, db, config.Default(), metrics.Filter{From: jan, To: feb, Level: "department"})
	check(t, "commerce", dept["commerce"], map[string]string{"deployments": "17", "failed_deployments": "7", "lead_time_changes": "13"})
	check(t, "discovery", dept["discovery"], map[string]string{"deployments": "1", "failed_deployments": "0"})
	org := computed(t, db, config.Default(), metrics.Filter{From: jan, To: feb, Level: "org"})
	check(t, "all", org["all"], map[string]string{
		"deployments": "18", "failed_deployments": "7", "change_failure_rate": "0.3889",
		"unplanned_deployments": "5", "incidents": "8", "lead_time_changes": "13", "lead_time_excluded": "3",
	})
}

func TestFixtureComputeEmptyWeeks(t *testing.T) {
	db := fixtureDB(t, config.Default())
	// README "Weeks of search"
	got := computed(t, db, config.Default(), metrics.Filter{From: jan, To: feb, By: "week", Services: []string{"search"}})
	want := []struct{ start, end, deployments, cfr, perDay string }{
		{"2026-01-01T00:00:00Z", "2026-01-05T00:00:00Z", "0", "-", "0"},
		{"2026-01-05T00:00:00Z", "2026-01-12T00:00:00Z", "0", "-", "0"},
		{"2026-01-12T00:00:00Z", "2026-01-19T00:00:00Z", "0", "-", "0"},
		{"2026-01-19T00:00:00Z", "2026-01-26T00:00:00Z", "0", "-", "0"},
		{"2026-01-26T00:00:00Z", "2026-02-01T00:00:00Z", "1", "0", "0.1667"},
	}
	if len(got) != len(want) {
		t.Fatalf("%d rows, want %d", len(got), len(want))
	}
	for _, w := range want {
		check(t, "search "+w.start, got["search "+w.start], map[string]string{
			"period_end": w.end, "deployments": w.deployments, "change_failure_rate": w.cfr,
			"deployments_per_day": w.perDay, "rework_rate": w.cfr,
		})
	}
}

func TestFixtureConfigReachesSQL(t *testing.T) {
	// README "Configuration": a 48 h window blames INC-5 on D8; no hotfix
	// patterns leave W3 and W4 planned.
	cfg := config.Default()
	cfg.Metrics.AttributionWindow = config.Duration(48 * time.Hour)
	cfg.Metrics.HotfixPatterns = nil
	db := fixtureDB(t, cfg)
	got := computed(t, db, cfg, metrics.Filter{From: jan, To: feb, Services: []string{"api", "web"}})
	check(t, "api", got["api"], map[string]string{"failed_deployments": "6", "change_failure_rate": "0.6"})
	check(t, "web", got["web"], map[string]string{"unplanned_deployments": "1", "rework_rate": "0.2"})
	equalRows(t, "INC-5", rows(t, db, `select attributed_deployment, attribution from fct_incidents where incident_id = 'INC-5'`),
		[]string{"D8 | time_window"})

	// dora-2021 ranks api's 24 h median lead time high (elite is < 1 h).
	cfg.Metrics.Benchmarks = "dora-2021"
	got = computed(t, db, cfg, metrics.Filter{From: jan, To: feb, Services: []string{"api"}})
	check(t, "api 2021", got["api"], map[string]string{"lead_time_tier": "high", "change_failure_rate_tier": "low"})
}

func TestFixtureExplain(t *testing.T) {
	db := fixtureDB(t, config.Default())
	ctx := context.Background()
	tb, err := metrics.Explain(ctx, db, "lead-time", metrics.Filter{Services: []string{"web"}, From: jan, To: feb})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, r := range tb.Rows {
		got = append(got, fmt.Sprintf("%s %s %s %s", cell(r[0]), cell(r[4]), cell(r[6]), cell(r[13])))
	}
	equalRows(t, "explain lead-time web", got, []string{
		"web#2 W2 explicit -",
		"web#3 W2 explicit -",
		"web#4 W3 time -",
		"web#1 W1 explicit pre_tracking",
	})
	tb, err = metrics.Explain(ctx, db, "change-failure-rate", metrics.Filter{Services: []string{"web"}})
	if err != nil {
		t.Fatal(err)
	}
	if len(tb.Rows) != 5 || cell(tb.Rows[0][0]) != "W2" || cell(tb.Rows[0][6]) != "incident" || cell(tb.Rows[1][0]) != "W4" {
		t.Errorf("explain change-failure-rate web: %v", tb.Rows)
	}
	if _, err := metrics.Explain(ctx, db, "happiness", metrics.Filter{}); err == nil {
		t.Error("unknown metric accepted")
	}
}
