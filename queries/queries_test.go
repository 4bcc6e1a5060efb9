package queries

import (
	"context"
	"github.com/shiplog/shiplog/internal/config"
	"github.com/shiplog/shiplog/internal/fixture"
	"github.com/shiplog/shiplog/transform"
	"strings"
	"testing"
	"testing/fstest"
	"time"

	"github.com/shiplog/shiplog/internal/warehouse"
)

// martDDL creates the marts of the cross-part contract with exactly the
// contract's columns, so that every query can be prepared and run without
// the transform step.
const martDDL = `
CREATE TABLE dim_services (service VARCHAR, name VARCHAR, team VARCHAR, team_name VARCHAR, department VARCHAR, tier BIGINT, repo VARCHAR, depends_on VARCHAR[]);
CREATE TABLE fct_deployments (deployment_id VARCHAR, service VARCHAR, team VARCHAR, department VARCHAR, environment VARCHAR, is_production BOOLEAN,
  status VARCHAR, started_at TIMESTAMPTZ, finished_at TIMESTAMPTZ, version VARCHAR, commit_sha VARCHAR, triggered_by VARCHAR, change_request VARCHAR,
  is_rollback BOOLEAN, rollback_of VARCHAR, is_hotfix BOOLEAN, hotfix_of VARCHAR, is_unplanned BOOLEAN, is_failed BOOLEAN, failure_reason VARCHAR,
  recovered_at TIMESTAMPTZ, recovery_hours DOUBLE, changes_shipped BIGINT);
CREATE TABLE fct_deployment_changes (deployment_id VARCHAR, change_id VARCHAR, link_rule VARCHAR);
CREATE TABLE fct_changes (change_id VARCHAR, service VARCHAR, team VARCHAR, repo VARCHAR, title VARCHAR, author VARCHAR, first_commit_at TIMESTAMPTZ,
  opened_at TIMESTAMPTZ, first_review_at TIMESTAMPTZ, approved_at TIMESTAMPTZ, merged_at TIMESTAMPTZ, approvals BIGINT, is_revert BOOLEAN,
  deployment_id VARCHAR, deployed_at TIMESTAMPTZ, link_rule VARCHAR, lead_time_hours DOUBLE, coding_hours DOUBLE, pickup_hours DOUBLE,
  review_hours DOUBLE, deploy_hours DOUBLE, excluded_reason VARCHAR, deployed_service VARCHAR, deployed_team VARCHAR, stage_anomaly VARCHAR);
CREATE TABLE fct_change_sizes (change_id VARCHAR, additions BIGINT, deletions BIGINT, lines_changed BIGINT, commits BIGINT);
CREATE TABLE fct_failures (deployment_id VARCHAR, service VARCHAR, team VARCHAR, finished_at TIMESTAMPTZ, reason VARCHAR, incident_ids VARCHAR[],
  restored_by_deployment VARCHAR, recovered_at TIMESTAMPTZ, recovery_hours DOUBLE);
CREATE TABLE fct_incidents (incident_id VARCHAR, service VARCHAR, team VARCHAR, severity VARCHAR, title VARCHAR, opened_at TIMESTAMPTZ,
  acknowledged_at TIMESTAMPTZ, resolved_at TIMESTAMPTZ, ack_hours DOUBLE, resolve_hours DOUBLE, is_false_positive BOOLEAN,
  caused_by_deployment VARCHAR, attributed_deployment VARCHAR, attribution VARCHAR, root_cause_sha VARCHAR, acknowledged_by VARCHAR,
  stated_cause VARCHAR);
`

func TestParse(t *testing.T) {
	src := `-- name: slowest-changes
-- description: The slowest changes
-- audience: retro            (leadership | retro | audit)
-- kind: query                (query | control)
-- param: team text ''        (name, type, default)
-- param: from timestamp '1970-01-01'
-- param: n int '5'
-- param: who text 'O''Brien'
-- param: until timestamp null
-- a free note
select $team, $from, $n, $who, $until; -- trailing
`
	q, err := Parse("x.sql", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	if q.Name != "slowest-changes" || q.Audience != "retro" || q.Kind != "query" || q.Description != "The slowest changes" {
		t.Errorf("header = %+v", q)
	}
	want := []Param{{Name: "team", Type: "text"}, {Name: "from", Type: "timestamp", Default: "1970-01-01"},
		{Name: "n", Type: "int", Default: "5"}, {Name: "who", Type: "text", Default: "O'Brien"}, {Name: "until", Type: "timestamp", Null: true}}
	if len(q.Params) != len(want) {
		t.Fatalf("params = %+v", q.Params)
	}
	for i := range want {
		if q.Params[i] != want[i] {
			t.Errorf("param %d = %+v, want %+v", i, q.Params[i], want[i])
		}
	}
	if !strings.HasPrefix(q.SQL, "select $team") || strings.Contains(q.SQL, "name:") {
		t.Errorf("SQL = %q", q.SQL)
	}
}

func TestParseErrors(t *testing.T) {
	head := "-- name: q\n-- description: d\n-- audience: retro\n"
	tests := []struct {
		name, src, want string
	}{
		{"no name", "-- description: d\n-- audience: retro\nselect 1", "missing `-- name:`"},
		{"no audience", "-- name: q\n-- description: d\nselect 1", "missing `-- audience:`"},
		{"bad audience", "-- name: q\n-- description: d\n-- audience: board\nselect 1", `x.sql:3: audience "board"`},
		{"bad kind", head + "-- kind: report\nselect 1", `kind "report"`},
		{"bad type", head + "-- param: n integer '1'\nselect $n", `type "integer"`},
		{"bad default", head + "-- param: n int 'ten'\nselect $n", `param n: default: "ten" is not an integer`},
		{"undeclared", head + "select $team", "$team is used but not declared"},
		{"duplicate param", head + "-- param: n int '1'\n-- param: n int '2'\nselect $n", "param n declared twice"},
		{"no sql", head, "no SQL after the header"},
		{"bad name", "-- name: Slow Changes\n", "use lower case"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse("x.sql", []byte(tt.src))
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err = %v, want it to contain %q", err, tt.want)
			}
		})
	}
}

func TestLoadDuplicateNames(t *testing.T) {
	body := []byte("-- name: same\n-- description: d\n-- audience: retro\nselect 1")
	_, err := Load(fstest.MapFS{"a/x.sql": {Data: body}, "b/y.sql": {Data: body}, "README.md": {Data: []byte("#")}})
	if err == nil || !strings.Contains(err.Error(), `b/y.sql: query name "same" already used by a/x.sql`) {
		t.Fatalf("err = %v", err)
	}
}

func TestArgs(t *testing.T) {
	q, err := Parse("x.sql", []byte(`-- name: q
-- description: d
-- audience: audit
-- param: from timestamp '1970-01-01'
-- param: n int '3'
-- param: rate float '0.5'
-- param: day date '2026-01-31'
-- param: on bool 'false'
select $from, $n, $rate, $day, $on`))
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		params map[string]string
		want   string
	}{
		{map[string]string{"team": "x"}, `query q has no parameter "team" (it takes: from, n, rate, day, on)`},
		{map[string]string{"n": "3.5"}, `query q: parameter n: "3.5" is not an integer`},
		{map[string]string{"rate": "lots"}, `parameter rate: "lots" is not a number`},
		{map[string]string{"day": "31/01/2026"}, `parameter day: "31/01/2026" is not a date`},
		{map[string]string{"on": "yes"}, `parameter on: "yes" is not true or false`},
		{map[string]string{"from": "last week"}, `parameter from: "last week" is not a time`},
	}
	for _, tt := range tests {
		if _, err := q.Args(tt.params); err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("Args(%v) err = %v, want %q", tt.params, err, tt.want)
		}
	}

	db := openDB(t)
	tab, err := q.Run(context.Background(), db, map[string]string{"from": "2026-03-01T10:00:00+02:00", "n": "7", "on": "true"})
	if err != nil {
		t.Fatal(err)
	}
	row := tab.Rows[0]
	// 10:00 at +02:00 is 08:00 UTC.
	if got := row[0].(time.Time).UTC(); !got.Equal(time.Date(2026, 3, 1, 8, 0, 0, 0, time.UTC)) {
		t.Errorf("from = %v", got)
	}
	if row[1] != int64(7) || row[2] != 0.5 || row[4] != true {
		t.Errorf("row = %#v", row)
	}
	if got := row[3].(time.Time); got.Format("2006-01-02") != "2026-01-31" {
		t.Errorf("day = %v", got)
	}
}

func TestRunRefusesWrites(t *testing.T) {
	q, err := Parse("w.sql", []byte("-- name: w\n-- description: d\n-- audience: audit\ndelete from deployments"))
	if err != nil {
		t.Fatal(err)
	}
	_, err = q.Run(context.Background(), openDB(t), nil)
	if err == nil || !strings.Contains(err.Error(), "DELETE statements are refused") {
		t.Fatalf("err = %v", err)
	}
}

func TestBuiltinQueriesRun(t *testing.T) {
	qs := List()
	if len(qs) < 17 {
		t.Fatalf("only %d built-in queries", len(qs))
	}
	controls := 0
	for _, q := range qs {
		if q.IsControl() {
			controls++
			if q.Audience != "audit" {
				t.Errorf("control %s has audience %s", q.Name, q.Audience)
			}
		}
	}
	if controls != 9 {
		t.Errorf("%d controls, want the 9 of DESIGN.md", controls)
	}
	// The governance fixture in the canonical tables and the marts the real
	// transform builds from it: every query must run against the marts as
	// they are, not as a test imagines them.
	db := openDB(t)
	fixture.Load(t, db, "../testdata/governance/canonical.jsonl")
	if err := transform.Run(context.Background(), db, config.Default(), transform.Options{}); err != nil {
		t.Fatal(err)
	}
	for _, q := range qs {
		t.Run(q.Name, func(t *testing.T) {
			if _, err := Run(context.Background(), db, q.Name, nil); err != nil {
				t.Fatal(err)
			}
			if q.IsControl() {
				if _, err := q.Checked(context.Background(), db, nil); err != nil {
					t.Fatal(err)
				}
			}
		})
	}
	if _, err := Run(context.Background(), db, "no-such-query", nil); err == nil || !strings.Contains(err.Error(), `no query named "no-such-query"`) {
		t.Errorf("err = %v", err)
	}
}

func openDB(t *testing.T) *warehouse.DB {
	t.Helper()
	db, err := warehouse.OpenMemory(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}
