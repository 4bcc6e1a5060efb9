package transform

import (
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/shiplog/shiplog/internal/config"
	"github.com/shiplog/shiplog/internal/warehouse"
)

func layer(name string, files map[string]string) Layer {
	fsys := fstest.MapFS{}
	for n, s := range files {
		fsys[n] = &fstest.MapFile{Data: []byte(s)}
	}
	return Layer{Name: name, FS: fsys}
}

func names(ms []Model) string {
	var out []string
	for _, m := range ms {
		out = append(out, m.Name)
	}
	return strings.Join(out, " ")
}

func TestLoadOrdersByReferences(t *testing.T) {
	ms, err := Load([]Layer{
		layer("marts", map[string]string{
			"fct_b.sql": "select * from int_a join stg_x using (id)",
			"fct_a.sql": "-- reads fct_b only in this comment: fct_c\nselect * from fct_b -- fct_c",
			"fct_c.sql": "select 'int_a' as s from stg_x",
		}),
		layer("staging", map[string]string{"stg_x.sql": "select 1 as id"}),
		layer("intermediate", map[string]string{"int_a.sql": "select id from stg_x"}),
	})
	if err != nil {
		t.Fatal(err)
	}
	// fct_a first in its folder but needs fct_b, which needs int_a and stg_x;
	// names in comments and string literals are not references.
	if got, want := names(ms), "stg_x int_a fct_b fct_a fct_c"; got != want {
		t.Errorf("order %q, want %q", got, want)
	}
	for _, m := range ms {
		if m.Name == "fct_c" && len(m.Deps) != 1 {
			t.Errorf("fct_c deps %v, want [stg_x]", m.Deps)
		}
	}
}

func TestLoadRefusesCyclesAndBadHeaders(t *testing.T) {
	_, err := Load([]Layer{layer("marts", map[string]string{
		"a.sql": "select * from b",
		"b.sql": "select * from a",
	})})
	if err == nil || !strings.Contains(err.Error(), "cycle") {
		t.Errorf("cycle: err = %v", err)
	}
	for _, header := range []string{
		"-- test: unique(a b)",
		"-- test: frobnicate(a)",
		"-- test: relationships(a)",
		"-- materialized: ephemeral",
		"-- join_order: cost based",
	} {
		_, err := Load([]Layer{layer("marts", map[string]string{"a.sql": header + "\nselect 1 as a"})})
		if err == nil || !strings.Contains(err.Error(), "marts/a.sql:1") {
			t.Errorf("%s: err = %v, want one naming marts/a.sql:1", header, err)
		}
	}
}

func TestBuiltinModelsLoad(t *testing.T) {
	ms, err := Load(Layers)
	if err != nil {
		t.Fatal(err)
	}
	pos := map[string]int{}
	for i, m := range ms {
		pos[m.Name] = i
	}
	for _, mart := range []string{"dim_services", "fct_deployments", "fct_deployment_changes", "fct_changes",
		"fct_failures", "fct_incidents", "fct_adoption", "fct_support_impact",
		"dim_teams", "dim_freezes", "dim_commits", "dim_canonical_tables", "fct_change_requests", "fct_approvals",
		"fct_test_runs", "fct_release_plans", "fct_gate_decisions", "fct_change_sizes"} {
		if _, ok := pos[mart]; !ok {
			t.Errorf("mart %s missing", mart)
		}
	}
	if pos["int_commit_walk"] > pos["int_links_graph"] || pos["fct_failures"] > pos["fct_deployments"] ||
		pos["fct_change_requests"] > pos["fct_deployments"] || pos["dim_services"] > pos["fct_change_rows"] {
		t.Errorf("dependency order wrong: %s", names(ms))
	}
}

func memDB(t *testing.T) *warehouse.DB {
	t.Helper()
	db, err := warehouse.OpenMemory(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// fileDB opens a warehouse file in the test's temporary folder (some
// paths, such as the push committer's, differ from an in-memory one).
func fileDB(t *testing.T) *warehouse.DB {
	t.Helper()
	db, err := warehouse.Open(context.Background(), filepath.Join(t.TempDir(), "w.duckdb"), warehouse.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

func count(t *testing.T, db *warehouse.DB, q string) int64 {
	t.Helper()
	var n int64
	if err := db.QueryRow(q).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

func TestDeclaredTestsReportRowsAndRollBack(t *testing.T) {
	ctx := context.Background()
	db := memDB(t)
	good := []Layer{layer("marts", map[string]string{
		"fct_p.sql": "-- test: unique(id)\nselect * from (values (1), (2)) t(id)",
		"fct_c.sql": "-- test: relationships(p -> fct_p.id)\n-- test: accepted_values(k: a, b)\n-- test: not_null(k)\nselect * from (values (1, 'a'), (2, 'b')) t(p, k)",
	})}
	ms, err := Load(good)
	if err != nil {
		t.Fatal(err)
	}
	if err := build(ctx, db, config.Default(), ms, io.Discard, true); err != nil {
		t.Fatal(err)
	}

	bad := []Layer{layer("marts", map[string]string{
		"fct_p.sql": "-- test: unique(id)\nselect * from (values (1), (1), (3)) t(id)",
		"fct_c.sql": "-- test: relationships(p -> fct_p.id)\n-- test: accepted_values(k: a, b)\n-- test: not_null(k)\n-- test: not_null(p)\nselect * from (values (1, 'a'), (2, 'z'), (3, null)) t(p, k)",
		"fct_q.sql": "-- test: unique(a, b)\n-- test: unique(a, c)\nselect * from (values (1, null::varchar, 'x'), (1, null, 'y'), (2, null, 'x')) t(a, b, c)",
	})}
	ms, err = Load(bad)
	if err != nil {
		t.Fatal(err)
	}
	err = build(ctx, db, config.Default(), ms, io.Discard, true)
	var te *TestError
	if !errors.As(err, &te) {
		t.Fatalf("err = %v, want a TestError", err)
	}
	got := map[string]int64{}
	for _, f := range te.Failures {
		got[f.Model+" "+f.Test.Kind] = f.Count
		if len(f.Example) == 0 {
			t.Errorf("%s: no example rows", f)
		}
	}
	// fct_p: id 1 twice. fct_c: p=2 has no parent (2 is gone); 'z' is not
	// accepted; one k is NULL; no p is NULL, so not_null(p) passes although
	// it is counted in the same scan as the failing row-wise tests. fct_q:
	// (a, b) = (1, NULL) twice is one duplicate group (NULLs compare equal
	// when grouping); (a, c) = (1,x), (1,y), (2,x) are all distinct.
	if len(te.Failures) != 5 {
		t.Errorf("%d failures, want 5: %v", len(te.Failures), te.Failures)
	}
	want := map[string]int64{"fct_p unique": 1, "fct_c relationships": 1, "fct_c accepted_values": 1, "fct_c not_null": 1, "fct_q unique": 1}
	for k, n := range want {
		if got[k] != n {
			t.Errorf("%s failing rows = %d, want %d (all: %v)", k, got[k], n, got)
		}
	}
	if !strings.Contains(err.Error(), "fct_c: relationships(p -> fct_p.id) failed on 1 row(s): p=2") {
		t.Errorf("message does not name the failing row: %v", err)
	}
	// The good build is intact.
	if n := count(t, db, "select count(*) from fct_p"); n != 2 {
		t.Errorf("fct_p has %d rows after a failed build, want the previous 2", n)
	}
	if n := count(t, db, "select count(*) from fct_c where k = 'z'"); n != 0 {
		t.Errorf("fct_c changed by a failed build")
	}
}

func TestFailedModelRollsBack(t *testing.T) {
	ctx := context.Background()
	db := memDB(t)
	ms, _ := Load([]Layer{layer("marts", map[string]string{"fct_a.sql": "select 1 as x"})})
	if err := build(ctx, db, config.Default(), ms, io.Discard, true); err != nil {
		t.Fatal(err)
	}
	ms, _ = Load([]Layer{layer("marts", map[string]string{
		"fct_a.sql": "select 2 as x union all select 3",
		"fct_b.sql": "select nonsense from fct_a",
	})})
	err := build(ctx, db, config.Default(), ms, io.Discard, true)
	if err == nil || !strings.Contains(err.Error(), "marts/fct_b") {
		t.Fatalf("err = %v, want one naming marts/fct_b", err)
	}
	if n := count(t, db, "select count(*) from fct_a where x = 1"); n != 1 {
		t.Errorf("fct_a was replaced although the build failed")
	}
}

// A rebuild empties and fills again the table of a mart whose model
// selects the columns the table has (same names and types, in order),
// which keeps its committed rows and with them DuckDB's parallel scans,
// and replaces a table of another shape. duckdb_tables() tells a table
// kept from one created anew by its oid.
func TestRebuildRefillsMartsOfTheSameShape(t *testing.T) {
	ctx := context.Background()
	db := memDB(t)
	oids := func() map[string]int64 {
		t.Helper()
		rows, err := db.QueryContext(ctx, `SELECT table_name, table_oid FROM duckdb_tables() WHERE schema_name = 'main' AND table_name LIKE 'fct_%'`)
		if err != nil {
			t.Fatal(err)
		}
		defer rows.Close()
		out := map[string]int64{}
		for rows.Next() {
			var name string
			var oid int64
			if err := rows.Scan(&name, &oid); err != nil {
				t.Fatal(err)
			}
			out[name] = oid
		}
		return out
	}
	columns := func(table string) string {
		t.Helper()
		var s string
		if err := db.QueryRowContext(ctx, `SELECT string_agg(column_name || ' ' || data_type, ', ' ORDER BY column_index)
			FROM duckdb_columns() WHERE schema_name = 'main' AND table_name = ?`, table).Scan(&s); err != nil {
			t.Fatal(err)
		}
		return s
	}
	first, err := Load([]Layer{layer("marts", map[string]string{
		"fct_same.sql":    "select 1 as x, 'a' as y",
		"fct_wider.sql":   "select 1 as x",
		"fct_retyped.sql": "select 1 as x",
		"fct_moved.sql":   "select 1 as x, 'a' as y",
	})})
	if err != nil {
		t.Fatal(err)
	}
	if err := build(ctx, db, config.Default(), first, io.Discard, true); err != nil {
		t.Fatal(err)
	}
	before := oids()
	second, err := Load([]Layer{layer("marts", map[string]string{
		"fct_same.sql":    "select 2 as x, 'b' as y union all select 3, 'c'",
		"fct_wider.sql":   "select 1 as x, 2 as z",
		"fct_retyped.sql": "select 1.5 as x",
		"fct_moved.sql":   "select 'a' as y, 1 as x",
	})})
	if err != nil {
		t.Fatal(err)
	}
	if err := build(ctx, db, config.Default(), second, io.Discard, true); err != nil {
		t.Fatal(err)
	}
	after := oids()
	for name, refilled := range map[string]bool{"fct_same": true, "fct_wider": false, "fct_retyped": false, "fct_moved": false} {
		if before[name] == 0 || after[name] == 0 {
			t.Fatalf("%s: no table (oids before %v, after %v)", name, before, after)
		}
		if kept := after[name] == before[name]; kept != refilled {
			t.Errorf("%s: table kept = %v, want %v (oid %d, then %d)", name, kept, refilled, before[name], after[name])
		}
	}
	// the refilled table holds the new rows only
	var got string
	if err := db.QueryRowContext(ctx, `SELECT string_agg(x || y, ' ' ORDER BY x) FROM fct_same`).Scan(&got); err != nil {
		t.Fatal(err)
	}
	if got != "2b 3c" {
		t.Errorf("fct_same holds %q, want %q", got, "2b 3c")
	}
	for table, want := range map[string]string{
		"fct_wider":   "x INTEGER, z INTEGER",
		"fct_retyped": "x DECIMAL(2,1)",
		"fct_moved":   "y VARCHAR, x INTEGER",
	} {
		if got := columns(table); got != want {
			t.Errorf("%s has columns %q, want %q", table, got, want)
		}
	}
}

// A model declaring `-- join_order: as written` is planned with DuckDB's
// join ordering and build-side choice off, and only that model: the
// setting is back to DuckDB's default for the next one.
func TestJoinsAsWritten(t *testing.T) {
	ctx := context.Background()
	db := memDB(t)
	ms, err := Load([]Layer{
		layer("intermediate", map[string]string{
			"int_big.sql":   "select range as k from range(100000)",
			"int_small.sql": "select range * 1000 as k from range(10)",
		}),
		layer("marts", map[string]string{
			"fct_a_before.sql": "select current_setting('disabled_optimizers') as d",
			"fct_b_written.sql": "-- join_order: as written\n" +
				"select current_setting('disabled_optimizers') as d, count(*) as n from int_big b join int_small s on s.k = b.k",
			"fct_c_after.sql": "select current_setting('disabled_optimizers') as d from fct_b_written",
		}),
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range ms {
		if got, want := m.JoinsAsWritten, m.Name == "fct_b_written"; got != want {
			t.Errorf("%s: JoinsAsWritten = %v, want %v", m.Name, got, want)
		}
	}
	if err := build(ctx, db, config.Default(), ms, io.Discard, true); err != nil {
		t.Fatal(err)
	}
	var before, written, after string
	var n int64
	if err := db.QueryRow(`select a.d, w.d, w.n, c.d from fct_a_before a, fct_b_written w, fct_c_after c`).Scan(&before, &written, &n, &after); err != nil {
		t.Fatal(err)
	}
	// 0, 1000, …, 9000 are all below 100,000: ten matches
	if n != 10 {
		t.Errorf("join found %d rows, want 10", n)
	}
	if !strings.Contains(written, "join_order") || !strings.Contains(written, "build_side_probe_side") {
		t.Errorf("as-written model planned with disabled_optimizers %q", written)
	}
	if before != "" || after != "" {
		t.Errorf("disabled_optimizers before %q, after %q: want the default (none) for other models", before, after)
	}
}

func TestCfgTableCarriesConfig(t *testing.T) {
	ctx := context.Background()
	db := memDB(t)
	cfg := config.Default()
	cfg.Metrics.ProductionEnvironments = []string{"Live"}
	cfg.Metrics.HotfixPatterns = []string{"^hf-", "(?i)urgent"}
	ms, _ := Load([]Layer{layer("marts", map[string]string{
		"fct_cfg.sql": "select production_environments, attribution_window, hotfix_regex, regexp_matches('URGENT fix', hotfix_regex) as m from cfg",
	})})
	if err := build(ctx, db, cfg, ms, io.Discard, true); err != nil {
		t.Fatal(err)
	}
	var envs, window, re string
	var m bool
	if err := db.QueryRow("select production_environments::varchar, attribution_window::varchar, hotfix_regex, m from fct_cfg").Scan(&envs, &window, &re, &m); err != nil {
		t.Fatal(err)
	}
	if envs != "[live]" || window != "1 day" && window != "24:00:00" || re != "(?:^hf-)|(?:(?i)urgent)" || !m {
		t.Errorf("cfg = %s, %s, %s, %v", envs, window, re, m)
	}
}

func TestRunOnEmptyWarehouse(t *testing.T) {
	db := memDB(t)
	var progress strings.Builder
	if err := Run(context.Background(), db, config.Default(), Options{Progress: &progress}); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(progress.String(), "fct_deployments") || !strings.Contains(progress.String(), "tests:") {
		t.Errorf("progress lacks per-model lines:\n%s", progress.String())
	}
	if n := count(t, db, "select count(*) from fct_deployments"); n != 0 {
		t.Errorf("fct_deployments has %d rows", n)
	}
}

// Several sources may send the same change, deployment, ticket or adoption
// day: the first source by name wins, and a key only a later source sent is
// kept. Sources here: "b-github" and "a-git" send change c1, deployment d1,
// ticket t1 and the feature's second day ("a-git" wins), "b-github" alone
// sends c2, c4, d2 and t2, "c-jira" sends c1 again (loses to both).
// "b-github" sent the most changes (3) and deployments (3) and is their
// main source: c3 and d3, which only "a-git" and "c-jira" sent, must be
// deduplicated all the same (a month later, d3 and d4 see no ticket). So
// must ticket t3 ("b-github" sent the most tickets, t4 a month later still)
// and the feature's day 7 ("a-git" sent the most days), which only the
// two other sources sent.
func TestStagingKeepsFirstSourcePerID(t *testing.T) {
	ctx := context.Background()
	for _, single := range []bool{false, true} {
		db := memDB(t)
		stmts := []string{
			`INSERT INTO changes (id, service, title, first_commit_at, source) VALUES
				('c1', 'svc', 'from github', TIMESTAMPTZ '2026-01-01 00:00:00+00', 'b-github'),
				('c1', 'svc', 'from git', TIMESTAMPTZ '2026-01-01 00:00:00+00', 'a-git'),
				('c2', 'svc', 'only github', TIMESTAMPTZ '2026-01-01 00:00:00+00', 'b-github'),
				('c4', 'svc', 'github again', TIMESTAMPTZ '2026-01-01 00:00:00+00', 'b-github'),
				('c1', 'svc', 'from jira', TIMESTAMPTZ '2026-01-01 00:00:00+00', 'c-jira'),
				('c3', 'svc', 'git not github', TIMESTAMPTZ '2026-01-01 00:00:00+00', 'a-git'),
				('c3', 'svc', 'jira not github', TIMESTAMPTZ '2026-01-01 00:00:00+00', 'c-jira')`,
			`INSERT INTO deployments (id, service, environment, status, finished_at, version, source) VALUES
				('d1', 'svc', 'production', 'success', TIMESTAMPTZ '2026-01-02 00:00:00+00', 'v-github', 'b-github'),
				('d1', 'svc', 'production', 'success', TIMESTAMPTZ '2026-01-02 00:00:00+00', 'v-git', 'a-git'),
				('d2', 'svc', 'production', 'success', TIMESTAMPTZ '2026-01-03 00:00:00+00', 'v2', 'b-github'),
				('d4', 'svc', 'production', 'success', TIMESTAMPTZ '2026-02-02 00:00:00+00', 'v4', 'b-github'),
				('d3', 'svc', 'production', 'success', TIMESTAMPTZ '2026-02-01 00:00:00+00', 'v3-git', 'a-git'),
				('d3', 'svc', 'production', 'success', TIMESTAMPTZ '2026-02-01 00:00:00+00', 'v3-jira', 'c-jira')`,
			// t1 and t3 twice (two sources), t2 once: three tickets in the
			// week after each of d1 and d2; t4 in none
			`INSERT INTO support_tickets (id, service, created_at, source) VALUES
				('t1', 'svc', TIMESTAMPTZ '2026-01-04 00:00:00+00', 'b-github'),
				('t1', 'svc', TIMESTAMPTZ '2026-01-04 00:00:00+00', 'a-git'),
				('t2', 'svc', TIMESTAMPTZ '2026-01-05 00:00:00+00', 'b-github'),
				('t3', 'svc', TIMESTAMPTZ '2026-01-04 00:00:00+00', 'a-git'),
				('t3', 'svc', TIMESTAMPTZ '2026-01-04 00:00:00+00', 'c-jira'),
				('t4', 'svc', TIMESTAMPTZ '2026-03-01 00:00:00+00', 'b-github')`,
			// the feature's second day twice: 10 active users (a-git) wins
			// over 99; day 7 twice: 7 (b-github) wins over 70 (c-jira)
			`INSERT INTO adoption (service, feature, day, active_users, source) VALUES
				('svc', 'f', DATE '2026-01-01', 5, 'a-git'),
				('svc', 'f', DATE '2026-01-02', 10, 'a-git'),
				('svc', 'f', DATE '2026-01-02', 99, 'b-github'),
				('svc', 'f', DATE '2026-01-08', 7, 'b-github'),
				('svc', 'f', DATE '2026-01-08', 70, 'c-jira'),
				('svc', 'f', DATE '2026-01-09', 1, 'a-git')`,
		}
		if single { // one source: every row stays
			stmts = []string{
				`INSERT INTO changes (id, service, title, first_commit_at, source) VALUES
					('c1', 'svc', 'one', TIMESTAMPTZ '2026-01-01 00:00:00+00', 'git'),
					('c2', 'svc', 'two', TIMESTAMPTZ '2026-01-01 00:00:00+00', 'git')`,
				`INSERT INTO deployments (id, service, environment, status, finished_at, version, source) VALUES
					('d1', 'svc', 'production', 'success', TIMESTAMPTZ '2026-01-02 00:00:00+00', 'v1', 'git'),
					('d2', 'svc', 'production', 'success', TIMESTAMPTZ '2026-01-03 00:00:00+00', 'v2', 'git')`,
				`INSERT INTO support_tickets (id, service, created_at, source) VALUES
					('t1', 'svc', TIMESTAMPTZ '2026-01-04 00:00:00+00', 'git'),
					('t2', 'svc', TIMESTAMPTZ '2026-01-05 00:00:00+00', 'git')`,
				`INSERT INTO adoption (service, feature, day, active_users, source) VALUES
					('svc', 'f', DATE '2026-01-01', 5, 'git'),
					('svc', 'f', DATE '2026-01-02', 10, 'git')`,
			}
		}
		for _, s := range stmts {
			if _, err := db.ExecContext(ctx, s); err != nil {
				t.Fatal(err)
			}
		}
		if err := Run(ctx, db, config.Default(), Options{}); err != nil {
			t.Fatal(err)
		}
		var changes, deploys string
		if err := db.QueryRow(`SELECT string_agg(change_id || '=' || title, ' ' ORDER BY change_id) FROM fct_changes`).Scan(&changes); err != nil {
			t.Fatal(err)
		}
		if err := db.QueryRow(`SELECT string_agg(deployment_id || '=' || version, ' ' ORDER BY deployment_id) FROM fct_deployments`).Scan(&deploys); err != nil {
			t.Fatal(err)
		}
		wantTickets := int64(6) // 3 + 3
		if single {
			wantTickets = 4 // 2 + 2
		}
		if got := count(t, db, "select sum(tickets_after) from fct_support_impact"); got != wantTickets {
			t.Errorf("single source %v: %d tickets after the two deployments, want %d", single, got, wantTickets)
		}
		if !single {
			if got := count(t, db, "select day7_users from fct_adoption where feature = 'f'"); got != 7 {
				t.Errorf("%d users on day 7, want 7 (b-github before c-jira)", got)
			}
		}
		// no version: released on its first day, so day 1 is 2026-01-02
		if got := count(t, db, "select day1_users from fct_adoption where feature = 'f'"); got != 10 {
			t.Errorf("single source %v: %d users on day 1, want 10", single, got)
		}
		want := [2]string{"c1=from git c2=only github c3=git not github c4=github again", "d1=v-git d2=v2 d3=v3-git d4=v4"}
		if single {
			want = [2]string{"c1=one c2=two", "d1=v1 d2=v2"}
		}
		if changes != want[0] || deploys != want[1] {
			t.Errorf("single source %v: changes %q, deployments %q; want %q, %q", single, changes, deploys, want[0], want[1])
		}
	}
}

func TestMacroAndRunValueHeaders(t *testing.T) {
	tests := []struct{ name, file, want string }{
		{"tests need a call", "-- materialized: table_macro\n-- arguments: a\n-- test: unique(a)\nselect a", "needs `-- test_call:`"},
		{"scalar macros have no rows", "-- materialized: macro\n-- arguments: a\n-- test_call: m(1)\n-- test: unique(a)\na + 1", "scalar macro has no rows"},
		{"a macro body reads no run value", "-- materialized: table_macro\n-- param: x text null\nselect getvariable('x') as a", "a macro takes arguments, not run values"},
		{"a test call reads declared values only", "-- materialized: table_macro\n-- test_call: m(getvariable('lo'))\n-- test: unique(a)\nselect 1 as a", "test_call reads getvariable('lo'), which is not declared"},
		{"arguments are for macros", "-- arguments: a\nselect 1 as a", "arguments and test_call are for macros"},
		{"undeclared run value", "select getvariable('hotfix_regex') as a", "getvariable('hotfix_regex') is used but not declared"},
		{"one statement", "select 1 as a; select 2 as a", "a model is one statement; this file has 2"},
	}
	for _, tt := range tests {
		_, err := Load([]Layer{layer("marts", map[string]string{"m.sql": tt.file})})
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: err = %v, want %q", tt.name, err, tt.want)
		}
	}

	// A declared run value the transform does not supply is an error, not
	// a silent default; a view reading one is temporary; a macro is
	// created and its test call reads the run values.
	ctx := context.Background()
	db := memDB(t)
	ms, err := Load([]Layer{layer("marts", map[string]string{"m.sql": "-- param: typo_regex text null\nselect getvariable('typo_regex') as a"})})
	if err != nil {
		t.Fatal(err)
	}
	if err := build(ctx, db, config.Default(), ms, io.Discard, true); err == nil || !strings.Contains(err.Error(), "declares typo_regex, which its runner does not supply") {
		t.Errorf("unsupplied value: err = %v", err)
	}
	cfg := config.Default()
	cfg.Metrics.HotfixPatterns = []string{"^hf-"}
	ms, err = Load([]Layer{
		layer("staging", map[string]string{"stg_v.sql": "-- param: hotfix_regex text null\nselect getvariable('hotfix_regex') as re"}),
		layer("metrics", map[string]string{"m_twice.sql": `-- arguments: x
-- param: several_sources_changes bool 'true'
-- test_call: m_twice(getvariable('several_sources_changes')::int + 20)
-- test: accepted_values(y: 40)
-- test: not_null(y)
select x * 2 as y`}),
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := build(ctx, db, cfg, ms, io.Discard, true); err != nil {
		t.Fatal(err)
	}
	var re, temp string
	if err := db.QueryRow(`select re, (select temporary::varchar from duckdb_views() where view_name = 'stg_v') from stg_v`).Scan(&re, &temp); err != nil {
		t.Fatal(err)
	}
	if re != "(?:^hf-)" || temp != "true" {
		t.Errorf("stg_v: re %q, temporary %s; want (?:^hf-) and true", re, temp)
	}
	// several_sources_changes is false (no changes at all): the call is
	// m_twice(0 + 20) = 40, which the tests accept (unset, it would be
	// NULL and fail not_null; true would make it 42).
	var y int
	if err := db.QueryRow(`select y from m_twice(21)`).Scan(&y); err != nil || y != 42 {
		t.Errorf("m_twice(21) = %d, %v; want 42", y, err)
	}
}

// TestMappedLine: a mapping's progress line fits 80 columns; a long
// reason goes on a line of its own.
func TestMappedLine(t *testing.T) {
	// "mapped ", the name padded to 28, a space, the time right-aligned in 8
	head := "mapped github" + strings.Repeat(" ", 22+1+4) + "1.2s"
	for _, c := range []struct{ name, took, reason, want string }{
		{"github", "1.2s", "raw_github_pulls changed", head + " (raw_github_pulls changed)"},
		// 44 columns, then " (", 33 and ")": 80 columns
		{"github", "1.2s", "raw_github_deployments_xy changed", head + " (raw_github_deployments_xy changed)"},
		{"github", "1.2s", "raw_github_deployments_xyz changed", head + "\n  (raw_github_deployments_xyz changed)"},
		{"jira", "12m3.5s", "canonical rows of change_requests changed", "mapped jira" + strings.Repeat(" ", 24+1+1) + "12m3.5s\n  (canonical rows of change_requests changed)"},
	} {
		got := mappedLine(c.name, c.took, c.reason)
		if got != c.want {
			t.Errorf("mappedLine(%q, %q, %q) =\n%s\nwant\n%s", c.name, c.took, c.reason, got, c.want)
		}
		for _, l := range strings.Split(got, "\n") {
			if len(l) > 80 {
				t.Errorf("%d columns: %s", len(l), l)
			}
		}
	}
}

// A full build lets DuckDB keep the memory of freed blocks for the rest of
// the process (warehouse.DB.KeepFreedBlocks): with a 1 GB limit, up to the
// limit, 1,000,000,000 B, which DuckDB shows as 953.6 MiB. A run that
// finds nothing to rebuild leaves the allocator as the warehouse opened it.
func TestFullBuildKeepsFreedBlocks(t *testing.T) {
	if warehouse.AvailableMemory(os.DirFS("/")) < 4<<30 {
		t.Skip("less than 4 GiB available: a 1 GB limit leaves no room for freed blocks")
	}
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "w.duckdb")
	setting := func(db *warehouse.DB) string {
		t.Helper()
		var s string
		if err := db.QueryRowContext(ctx, "SELECT current_setting('block_allocator_memory')").Scan(&s); err != nil {
			t.Fatal(err)
		}
		return s
	}
	run := func(want string) {
		t.Helper()
		db, err := warehouse.Open(ctx, path, warehouse.Options{MemoryLimit: "1GB"})
		if err != nil {
			t.Fatal(err)
		}
		defer db.Close()
		if got := setting(db); got != "0 bytes" {
			t.Fatalf("opened keeping freed blocks up to %s, want 0 bytes", got)
		}
		if err := Run(ctx, db, config.Default(), Options{Progress: io.Discard}); err != nil {
			t.Fatal(err)
		}
		if got := setting(db); got != want {
			t.Errorf("after the run: freed blocks kept up to %s, want %s", got, want)
		}
	}
	run("953.6 MiB") // the first build is a full one
	run("0 bytes")   // nothing changed since
}
