package transform_test

import (
	"context"
	"fmt"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/shiplog/shiplog/audit"
	"github.com/shiplog/shiplog/internal/config"
	"github.com/shiplog/shiplog/internal/fixture"
	"github.com/shiplog/shiplog/internal/output"
	"github.com/shiplog/shiplog/internal/warehouse"
	"github.com/shiplog/shiplog/metrics"
	"github.com/shiplog/shiplog/transform"
)

// The reproductions of the "one home for every rule" issue, on the
// fixtures of testdata/rules; every expected value is worked out by hand
// in testdata/rules/README.md (section named beside each test).

var (
	march = time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	april = time.Date(2026, 4, 1, 0, 0, 0, 0, time.UTC)
)

func rulesDB(t *testing.T, file string, fixups ...string) *warehouse.DB {
	t.Helper()
	ctx := context.Background()
	db, err := warehouse.OpenMemory(ctx)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	fixture.Load(t, db, "../testdata/rules/"+file)
	// fixups write what the file loader refuses but an API source's SQL
	// mapping can store (times out of order across systems).
	for _, q := range fixups {
		if _, err := db.ExecContext(ctx, q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	if err := transform.Run(ctx, db, config.Default(), transform.Options{}); err != nil {
		t.Fatal(err)
	}
	return db
}

// lines runs q and renders each row as its values joined by " | " (floats
// to 4 decimals, NULL as "-").
func lines(t *testing.T, db *warehouse.DB, q string) []string {
	t.Helper()
	rs, err := db.QueryContext(context.Background(), q)
	if err != nil {
		t.Fatalf("%s: %v", q, err)
	}
	tb, err := output.FromRows(rs)
	if err != nil {
		t.Fatal(err)
	}
	return render(tb)
}

func render(tb *output.Table) []string {
	var out []string
	for _, r := range tb.Rows {
		cells := make([]string, len(r))
		for i, v := range r {
			switch x := v.(type) {
			case nil:
				cells[i] = "-"
			case float64:
				cells[i] = fmt.Sprint(math.Round(x*10000) / 10000)
			default:
				cells[i] = output.Text(v)
			}
		}
		out = append(out, strings.Join(cells, " | "))
	}
	return out
}

func same(t *testing.T, what string, got, want []string) {
	t.Helper()
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("%s:\n got  %s\n want %s", what, strings.Join(got, "\n      "), strings.Join(want, "\n      "))
	}
}

// metric returns column col of the only row of a metrics table.
func metric(t *testing.T, tb *output.Table, col string) any {
	t.Helper()
	if len(tb.Rows) != 1 {
		t.Fatalf("%d metrics rows, want 1", len(tb.Rows))
	}
	for i, c := range tb.Columns {
		if c == col {
			return tb.Rows[0][i]
		}
	}
	t.Fatalf("no column %s", col)
	return nil
}

func control(t *testing.T, res *audit.Result, name string) (checked int64, findings []string) {
	t.Helper()
	for _, c := range res.Controls {
		if c.Name != name {
			continue
		}
		tb := res.FindingsTable(c)
		for _, r := range tb.Rows {
			var subject, rule string
			for i, col := range tb.Columns {
				switch col {
				case "subject":
					subject = output.Text(r[i])
				case "rule":
					rule = output.Text(r[i])
				}
			}
			findings = append(findings, subject+" | "+rule)
		}
		return c.Checked, findings
	}
	t.Fatalf("control %s did not run", name)
	return 0, nil
}

// environments.jsonl: `Production` is production for the metrics and the
// audit alike, and its unapproved deployment is flagged.
func TestProductionSpelledDifferently(t *testing.T) {
	ctx := context.Background()
	db := rulesDB(t, "environments.jsonl")
	tb, err := metrics.Compute(ctx, db, config.Default(), metrics.Filter{Services: []string{"api"}, From: march, To: april})
	if err != nil {
		t.Fatal(err)
	}
	if n := metric(t, tb, "deployments"); n != int64(2) {
		t.Errorf("metrics: %v deployments, want 2", n)
	}
	res, err := audit.Run(ctx, db, config.Default(), audit.Options{From: march, To: april, Now: april,
		Controls: []string{"unapproved-production-change"}})
	if err != nil {
		t.Fatal(err)
	}
	checked, findings := control(t, res, "unapproved-production-change")
	if checked != 2 {
		t.Errorf("audit checked %d production deployments, want 2", checked)
	}
	same(t, "findings", findings, []string{"D-2 | no change request"})
	same(t, "environments", lines(t, db, `select deployment_id, environment, is_production, approval_state from fct_deployments order by 1`),
		[]string{"D-1 | production | true | approved", "D-2 | production | true | no_change_request"})
}

// names.jsonl: services, teams, people and environments compare as keys.
func TestNamesAreKeys(t *testing.T) {
	ctx := context.Background()
	db := rulesDB(t, "names.jsonl")
	same(t, "dim_services", lines(t, db, `select service, name, team, team_name, department from dim_services`),
		[]string{"checkout | Checkout | core | Core team | eng"})
	same(t, "deployments", lines(t, db, `select deployment_id, service, environment, is_production, is_staging from fct_deployments order by 1`),
		[]string{"N-1 | checkout | production | true | false", "N-2 | checkout | prod | true | false", "N-3 | checkout | staging | false | true"})
	tb, err := metrics.Compute(ctx, db, config.Default(), metrics.Filter{Services: []string{"Checkout"}, From: march, To: april})
	if err != nil {
		t.Fatal(err)
	}
	if n := metric(t, tb, "deployments"); n != int64(2) {
		t.Errorf("metrics --service Checkout: %v deployments, want 2", n)
	}
	res, err := audit.Run(ctx, db, config.Default(), audit.Options{From: march, To: april, Now: april,
		Controls: []string{"deployer-not-allowed"}})
	if err != nil {
		t.Fatal(err)
	}
	checked, findings := control(t, res, "deployer-not-allowed")
	if checked != 2 || len(findings) != 0 {
		t.Errorf("deployer-not-allowed: checked %d, findings %v; want 2 and none", checked, findings)
	}
}

// linking.jsonl: claims beat guesses, an empty list ships nothing, a change
// of an undeclared service counts where it shipped, negative stages are
// clamped and named.
func TestLinkingClaimsAndStages(t *testing.T) {
	ctx := context.Background()
	db := rulesDB(t, "linking.jsonl",
		`UPDATE changes SET first_review_at = TIMESTAMPTZ '2026-03-04 01:00:00+00' WHERE id = 'lib#1'`)
	same(t, "fct_changes", lines(t, db, `select change_id, coalesce(deployment_id, '-'), link_rule, deployed_service, deployed_team,
			lead_time_hours, coding_hours, pickup_hours, review_hours, deploy_hours, stage_anomaly, excluded_reason
		from fct_changes order by change_id`), []string{
		"lib#1 | W-5 | explicit | web | core | 35 | 2 | 0 | 35 | 0 | pickup,deploy | -",
		"web#7 | W-5 | explicit | web | core | 99 | 1 | - | - | 74 | - | -",
		"web#8 | - | - | - | - | - | 1 | - | - | - | - | not_deployed",
	})
	same(t, "fct_deployments", lines(t, db, `select deployment_id, link_rule, changes_shipped, is_failed, failure_reason, is_unplanned
		from fct_deployments where is_production order by 1`), []string{
		"W-1 | explicit | 0 | false | - | false",
		"W-3 | time | 0 | false | - | false",
		"W-4 | explicit | 0 | true | time_window | false",
		"W-5 | explicit | 2 | true | rollback | false",
		"W-6 | time | 0 | false | - | true",
	})
	same(t, "fct_incidents", lines(t, db, `select incident_id, coalesce(attributed_deployment, '-'), attribution from fct_incidents order by 1`),
		[]string{"INC-1 | - | -", "INC-2 | W-4 | time_window"})

	tb, err := metrics.Compute(ctx, db, config.Default(), metrics.Filter{Services: []string{"web"}, From: march, To: april})
	if err != nil {
		t.Fatal(err)
	}
	for col, want := range map[string]string{
		"deployments": "4", "lead_time_changes": "2", "lead_time_median_hours": "67",
		"failed_deployments": "2", "change_failure_rate": "0.5", "unplanned_deployments": "1", "rework_rate": "0.25",
		"recovery_median_hours": "3.3333",
	} {
		if got := render(&output.Table{Rows: [][]any{{metric(t, tb, col)}}})[0]; got != want {
			t.Errorf("metrics %s = %s, want %s", col, got, want)
		}
	}

	ex, err := metrics.Explain(ctx, db, "lead-time", metrics.Filter{Services: []string{"web"}, From: march, To: april})
	if err != nil {
		t.Fatal(err)
	}
	var anomalies []string
	for _, r := range ex.Rows {
		for i, c := range ex.Columns {
			if c == "stage_anomaly" {
				anomalies = append(anomalies, output.Text(r[0])+"="+output.Text(r[i]))
			}
		}
	}
	same(t, "explain lead-time stage_anomaly", anomalies, []string{"lib#1=pickup,deploy", "web#7="})
}
