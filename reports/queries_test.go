package reports

import (
	"bufio"
	"context"
	"database/sql"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/shiplog/shiplog/internal/output"
	"github.com/shiplog/shiplog/internal/warehouse"
)

// The queries of queries/reports run here against marts built with the
// columns of the marts contract, filled with a handful of rows whose
// results are worked out by hand below.

const martsDDL = `
create table dim_services (service varchar, name varchar, team varchar, team_name varchar, department varchar, tier integer, repo varchar, depends_on varchar[]);
create table fct_deployments (deployment_id varchar, service varchar, team varchar, department varchar, environment varchar, is_production boolean,
  status varchar, started_at timestamptz, finished_at timestamptz, version varchar, commit_sha varchar, triggered_by varchar, change_request varchar,
  is_rollback boolean, rollback_of varchar, is_hotfix boolean, hotfix_of varchar, is_unplanned boolean, is_failed boolean, failure_reason varchar,
  recovered_at timestamptz, recovery_hours double, changes_shipped integer);
create table fct_changes (change_id varchar, service varchar, team varchar, repo varchar, title varchar, author varchar, first_commit_at timestamptz,
  opened_at timestamptz, first_review_at timestamptz, approved_at timestamptz, merged_at timestamptz, approvals integer, is_revert boolean,
  deployment_id varchar, deployed_at timestamptz, link_rule varchar, lead_time_hours double, coding_hours double, pickup_hours double,
  review_hours double, deploy_hours double, excluded_reason varchar);
create table fct_failures (deployment_id varchar, service varchar, team varchar, finished_at timestamptz, reason varchar, incident_ids varchar[],
  restored_by_deployment varchar, recovered_at timestamptz, recovery_hours double);
create table fct_incidents (incident_id varchar, service varchar, team varchar, severity varchar, title varchar, opened_at timestamptz,
  acknowledged_at timestamptz, resolved_at timestamptz, ack_hours double, resolve_hours double, is_false_positive boolean,
  caused_by_deployment varchar, attributed_deployment varchar);
create table fct_adoption (service varchar, feature varchar, version varchar, released_at timestamptz, day1_users bigint, day7_users bigint,
  day30_users bigint, day1_share double, day7_share double, day30_share double, days_to_target integer);
create table fct_support_impact (deployment_id varchar, service varchar, version varchar, finished_at timestamptz, tickets_after bigint,
  baseline_per_day double, expected_after double, ratio double);
create table dim_canonical_tables ("table" varchar, "rows" bigint);
insert into dim_canonical_tables values ('teams', 2), ('services', 3), ('deployments', 7), ('changes', 3), ('commits', 0), ('incidents', 3),
  ('change_requests', 0), ('approvals', 0), ('support_tickets', 19), ('test_runs', 0), ('adoption', 1), ('release_plans', 0);

insert into dim_services values
  ('checkout', 'Checkout', 'core', 'Core', 'eng', 1, 'shop/checkout', []),
  ('search', 'Search', 'core', 'Core', 'eng', 2, 'shop/search', []),
  ('billing', 'Billing', 'pay', 'Payments', 'eng', 1, 'shop/billing', []);
-- d1 Mon 10:00, d2 Tue 08:00 (failed), d3 Tue 09:30 (rolls d2 back), d4 Wed 10:15 hotfix,
-- d5 billing Mon 10:45 (team pay), d6 before the period, d7 staging.
insert into fct_deployments (deployment_id, service, team, environment, is_production, status, finished_at, version, is_rollback, rollback_of, is_hotfix, is_failed) values
  ('d1', 'checkout', 'core', 'production', true, 'success', '2026-10-05 10:00:00+00', 'v1', false, null, false, false),
  ('d2', 'checkout', 'core', 'production', true, 'success', '2026-10-06 08:00:00+00', 'v2', false, null, false, true),
  ('d3', 'checkout', 'core', 'production', true, 'success', '2026-10-06 09:30:00+00', 'v1', true, 'd2', false, false),
  ('d4', 'search', 'core', 'production', true, 'success', '2026-10-07 10:15:00+00', 'v9-hotfix', false, null, true, false),
  ('d5', 'billing', 'pay', 'production', true, 'success', '2026-10-05 10:45:00+00', 'v3', false, null, false, false),
  ('d6', 'checkout', 'core', 'production', true, 'success', '2026-09-30 10:00:00+00', 'v0', false, null, false, false),
  ('d7', 'checkout', 'core', 'staging', false, 'success', '2026-10-08 10:00:00+00', 'v3', false, null, false, false);
insert into fct_failures values
  ('d2', 'checkout', 'core', '2026-10-06 08:00:00+00', 'rollback', ['inc-1'], 'd3', '2026-10-06 09:30:00+00', 1.5);
insert into fct_incidents values
  ('inc-1', 'checkout', 'core', 'sev2', 'checkout errors', '2026-10-06 08:20:00+00', '2026-10-06 08:30:00+00', '2026-10-06 09:30:00+00', 1.0/6, 7.0/6, false, 'd2', 'd2'),
  ('inc-2', 'search', 'core', 'sev1', 'search down', '2026-10-07 11:00:00+00', '2026-10-07 11:06:00+00', '2026-10-07 13:00:00+00', 0.1, 2.0, false, null, null),
  ('inc-3', 'checkout', 'core', 'sev2', 'noise', '2026-10-07 12:00:00+00', null, null, null, null, true, null, null);
insert into fct_changes (change_id, service, team, title, author, deployment_id, deployed_at, lead_time_hours, coding_hours, pickup_hours, review_hours, deploy_hours, excluded_reason) values
  ('shop/checkout#1', 'checkout', 'core', '</script><img src=x onerror=alert(1)>', 'ana', 'd1', '2026-10-05 10:00:00+00', 50, 30, 10, 5, 5, null),
  ('shop/search#2', 'search', 'core', 'speed', 'bo', 'd4', '2026-10-07 10:15:00+00', 20, 10, 4, 4, 2, null),
  ('shop/search#3', 'search', 'core', 'old', 'bo', 'd4', '2026-10-07 10:15:00+00', 900, 800, 50, 40, 10, 'pre_tracking');
insert into fct_adoption values
  ('checkout', 'one-click', 'v1', '2026-10-05 10:00:00+00', 10, 30, 55, 0.1, 0.3, 0.55, 20);
-- tickets above expectation: d1 9 - 3 = 6, d4 6 - 1 = 5, d3 2 - 3 = -1;
-- d5 (team pay) 1 - 1 = 0
insert into fct_support_impact values
  ('d1', 'checkout', 'v1', '2026-10-05 10:00:00+00', 9, 3.0/7, 3.0, 3.0),
  ('d3', 'checkout', 'v1.1', '2026-10-06 09:30:00+00', 2, 3.0/7, 3.0, 2.0/3),
  ('d4', 'checkout', 'v1.2', '2026-10-07 10:15:00+00', 6, 1.0/7, 1.0, 6.0),
  ('d5', 'billing', 'v3', '2026-10-05 10:45:00+00', 1, 1.0/7, 1.0, 1.0);
`

var headerParam = regexp.MustCompile(`^--\s*param:\s*(\w+)\s+(\w+)\s+'([^']*)'`)

// runReportQuery reads queries/reports/NAME.sql and runs it with params
// bound by type, the way the queries package binds them.
func runReportQuery(t *testing.T, db *warehouse.DB, name string, params map[string]string) *output.Table {
	t.Helper()
	path := filepath.Join("..", "queries", "reports", name+".sql")
	if _, err := os.Stat(path); err != nil {
		path = filepath.Join("..", "queries", "retro", name+".sql")
	}
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var text strings.Builder
	var args []any
	seen := map[string]bool{}
	sc := bufio.NewScanner(f)
	header := map[string]bool{}
	for sc.Scan() {
		line := sc.Text()
		text.WriteString(line + "\n")
		if m := regexp.MustCompile(`^--\s*(\w+):`).FindStringSubmatch(line); m != nil {
			header[m[1]] = true
		}
		m := headerParam.FindStringSubmatch(line)
		if m == nil {
			continue
		}
		v, ok := params[m[1]]
		if !ok {
			v = m[3]
		}
		seen[m[1]] = true
		var arg any
		switch m[2] {
		case "text":
			arg = v
		case "int":
			n, err := strconv.ParseInt(v, 10, 64)
			if err != nil {
				t.Fatalf("%s: param %s: %v", name, m[1], err)
			}
			arg = n
		case "timestamp":
			tv, err := time.Parse(time.RFC3339, v)
			if err != nil {
				if tv, err = time.Parse("2006-01-02", v); err != nil {
					t.Fatalf("%s: param %s: %v", name, m[1], err)
				}
			}
			arg = tv
		default:
			t.Fatalf("%s: param %s: type %s not handled", name, m[1], m[2])
		}
		args = append(args, sql.Named(m[1], arg))
	}
	for _, h := range []string{"name", "description", "audience", "kind"} {
		if !header[h] {
			t.Errorf("%s: header lacks %q", name, h)
		}
	}
	for k := range params {
		if !seen[k] {
			t.Fatalf("%s: param %s not declared", name, k)
		}
	}
	rows, err := db.QueryContext(context.Background(), text.String(), args...)
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	tbl, err := output.FromRows(rows)
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	return tbl
}

func marts(t *testing.T) *warehouse.DB {
	t.Helper()
	db, err := warehouse.OpenMemory(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	if _, err := db.ExecContext(context.Background(), martsDDL); err != nil {
		t.Fatal(err)
	}
	return db
}

// render prints a table as "a|b|c" lines with values as output.Text
// renders them, times as dates and minutes.
func render(t *output.Table) []string {
	var out []string
	for _, r := range t.Rows {
		cells := make([]string, len(r))
		for i, v := range r {
			if tv, ok := v.(time.Time); ok {
				cells[i] = tv.UTC().Format("2006-01-02 15:04")
				continue
			}
			cells[i] = output.Text(v)
		}
		out = append(out, strings.Join(cells, "|"))
	}
	return out
}

func TestReportQueries(t *testing.T) {
	db := marts(t)
	oct := map[string]string{"team": "core", "from": "2026-10-01T00:00:00Z", "to": "2026-11-01T00:00:00Z"}
	with := func(extra map[string]string) map[string]string {
		m := map[string]string{}
		for k, v := range oct {
			m[k] = v
		}
		for k, v := range extra {
			m[k] = v
		}
		return m
	}
	tests := []struct {
		name   string
		params map[string]string
		want   []string
	}{
		// d1 on the 5th; d2, its failure, inc-1 and the rollback d3 on the
		// 6th; the hotfix d4 and inc-2 on the 7th (inc-3 is a false
		// positive, d6 is September, d7 staging, d5 team pay).
		{"retro-timeline", oct, []string{
			"2026-10-05|deployment|1",
			"2026-10-06|deployment|1", "2026-10-06|failed deployment|1", "2026-10-06|incident|1", "2026-10-06|rollback|1",
			"2026-10-07|hotfix|1", "2026-10-07|incident|1",
		}},
		// Without a team, billing's d5 joins the 5th.
		{"retro-timeline", with(map[string]string{"team": ""}), []string{
			"2026-10-05|deployment|2",
			"2026-10-06|deployment|1", "2026-10-06|failed deployment|1", "2026-10-06|incident|1", "2026-10-06|rollback|1",
			"2026-10-07|hotfix|1", "2026-10-07|incident|1",
		}},
		// Both traced changes were deployed in the week of Monday 5
		// October: medians of (30, 10), (10, 4), (5, 4), (5, 2); #3 is
		// excluded.
		{"retro-lead-time-stages", oct, []string{"2026-10-05|2|20|7|4.5|3.5"}},
		{"retro-slowest-changes", with(map[string]string{"limit": "1"}), []string{
			"shop/checkout#1|checkout|</script><img src=x onerror=alert(1)>|ana|50|30|10|5|5|2026-10-05 10:00",
		}},
		{"retro-failed-deployments", oct, []string{"d2|checkout|v2|2026-10-06 08:00|rollback|inc-1|d3|2026-10-06 09:30|1.5"}},
		// inc-1: acknowledged after 10 minutes (0.17 h), resolved after 70
		// (1.17 h); inc-2: 0.1 h and 2 h.
		{"retro-incidents-by-severity", oct, []string{"sev1|1|1|0.1|2", "sev2|1|1|0.17|1.17"}},
		// most tickets above expectation first (d1 +6, d4 +5, d3 -1)
		{"retro-support-impact", oct, []string{
			"checkout v1|d1|checkout|2026-10-05 10:00|9|3|3",
			"checkout v1.2|d4|checkout|2026-10-07 10:15|6|1|6",
			"checkout v1.1|d3|checkout|2026-10-06 09:30|2|3|0.67",
		}},
		{"retro-support-impact", with(map[string]string{"limit": "2"}), []string{
			"checkout v1|d1|checkout|2026-10-05 10:00|9|3|3",
			"checkout v1.2|d4|checkout|2026-10-07 10:15|6|1|6",
		}},
		{"retro-support-impact", with(map[string]string{"team": "pay"}), []string{"billing v3|d5|billing|2026-10-05 10:45|1|1|1"}},
		{"retro-adoption", oct, []string{"checkout: one-click|day 1|0.1", "checkout: one-click|day 7|0.3", "checkout: one-click|day 30|0.55"}},
		{"retro-events", with(map[string]string{"team": "pay"}), []string{"2026-10-05 10:45|deployment|billing|d5|v3"}},
		// d2 failed and was rolled back by d3: counted once, as failed.
		{"retro-timeline-days", oct, []string{
			"2026-10-05|deployment|1",
			"2026-10-06|failed deployment|1", "2026-10-06|incident|1", "2026-10-06|rollback|1",
			"2026-10-07|hotfix|1", "2026-10-07|incident|1",
		}},
		// sev1 first; inc-3 is a false positive.
		{"report-major-incidents", oct, []string{
			"inc-2|sev1|search|search down|2026-10-07 11:00|2026-10-07 13:00|2|",
			"inc-1|sev2|checkout|checkout errors|2026-10-06 08:20|2026-10-06 09:30|1.1666666666666667|d2",
		}},
		{"report-major-incidents", with(map[string]string{"severities": "SEV1"}), []string{
			"inc-2|sev1|search|search down|2026-10-07 11:00|2026-10-07 13:00|2|",
		}},
		// d2 (08:00) failed: the rollback reason, restored by d3 after 1.5
		// h; inc-1 (08:20) is blamed on it and took 70 min = 7/6 h; d3
		// rolled it back at 09:30, 1.5 h after it.
		{"release-impact", map[string]string{"deployment": "d2"}, []string{
			"d2|deployment|d2|checkout|2026-10-06 08:00|success, failed|",
			"d2|failure|d2|checkout|2026-10-06 08:00|rollback, restored by d3|1.5",
			"d2|incident|inc-1|checkout|2026-10-06 08:20|sev2: checkout errors|1.1666666666666667",
			"d2|rollback|d3|checkout|2026-10-06 09:30|v1|1.5",
		}},
		// checkout v1 is d1 and d3 (the rollback redeployed it): each with
		// its support tickets (9 after d1 where 3 were expected; 2 after
		// d3, 3 expected).
		{"release-impact", map[string]string{"service": "checkout", "version": "v1"}, []string{
			"d1|deployment|d1|checkout|2026-10-05 10:00|success|",
			"d1|support tickets|d1|checkout|2026-10-05 10:00|9 after it, 3.0 expected from the baseline|",
			"d3|deployment|d3|checkout|2026-10-06 09:30|success|",
			"d3|support tickets|d3|checkout|2026-10-06 09:30|2 after it, 3.0 expected from the baseline|",
		}},
		{"release-impact", map[string]string{"deployment": "nope"}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := render(runReportQuery(t, db, tt.name, tt.params))
			if strings.Join(got, "\n") != strings.Join(tt.want, "\n") {
				t.Errorf("got\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(tt.want, "\n"))
			}
		})
	}

	t.Run("retro-deploy-heatmap", func(t *testing.T) {
		tbl := runReportQuery(t, db, "retro-deploy-heatmap", oct)
		if len(tbl.Rows) != 7*24 {
			t.Fatalf("%d cells, want 168", len(tbl.Rows))
		}
		// d1 Monday 10h, d2 Tuesday 08h, d3 Tuesday 09h, d4 Wednesday 10h.
		want := map[string]string{"Mon|10": "1", "Tue|08": "1", "Tue|09": "1", "Wed|10": "1"}
		total := 0
		for _, line := range render(tbl) {
			parts := strings.Split(line, "|")
			n, _ := strconv.Atoi(parts[2])
			total += n
			if w, ok := want[parts[0]+"|"+parts[1]]; ok && parts[2] != w {
				t.Errorf("%s: %s, want %s", line, parts[2], w)
			}
		}
		if total != 4 {
			t.Errorf("%d deployments in the grid, want 4", total)
		}
		if first := render(tbl)[0]; first != "Mon|00|0" {
			t.Errorf("first cell %s, want Mon|00|0", first)
		}
	})
	t.Run("events order", func(t *testing.T) {
		got := render(runReportQuery(t, db, "retro-events", oct))
		// 4 deployments, 1 failure, 2 incidents, by time.
		if len(got) != 7 || !strings.HasPrefix(got[0], "2026-10-05 10:00|deployment|checkout|d1") || !strings.HasPrefix(got[6], "2026-10-07 11:00|incident|search|inc-2|sev1: search down") {
			t.Errorf("events:\n%s", strings.Join(got, "\n"))
		}
	})
	t.Run("audit", func(t *testing.T) {
		counts := runReportQuery(t, db, "audit-row-counts", nil)
		// the counts the marts were built from, by table name
		if got := strings.Join(render(counts), " "); got != "adoption|1 approvals|0 change_requests|0 changes|3 commits|0 deployments|7 "+
			"incidents|3 release_plans|0 services|3 support_tickets|19 teams|2 test_runs|0" {
			t.Errorf("row counts: %s", got)
		}
		runs := runReportQuery(t, db, "audit-ingest-runs", nil)
		if strings.Join(runs.Columns, ",") != "id,source,target,started_at,finished_at,rows_read,rows_written,rows_rejected,status" {
			t.Errorf("columns %v", runs.Columns)
		}
	})
}
