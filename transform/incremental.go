package transform

// Incremental transform.
//
// After a full build, the next run finds what changed in the canonical
// tables since and rebuilds only the marts' rows those changes can reach.
//
//   - What changed is found by content, not by who wrote it: each
//     canonical table is summed per partition (a service key, a commit's
//     repository, a change request's id) as a row count and the sum of
//     the rows' hashes (transform_digests). A partition whose sum moved
//     holds new, changed or removed rows, whichever source, push or mapper
//     wrote them, and a re-ingest that rewrites identical rows changes
//     nothing. The writers log the change each write made to the sums
//     (canonical_writes; see "Digests" below) and a run adds the changes
//     up, reading no canonical row; rows added or removed by another
//     program are caught by a row count, an UPDATE in place by another
//     program needs `transform --full`.
//   - Nearly every rule is decided within one service: a deployment's
//     predecessor, the commit-graph walk, time links, incidents blamed by
//     time, support tickets, adoption. The services whose rows changed
//     are grown by every reference that can cross services, in the old
//     marts and in the new rows: a change list naming another service's
//     change, a rollback or hotfix of another service's deployment, an
//     incident naming one or blaming one by a commit, an id sent by two
//     sources under two services, a change request, a commit history one
//     repository shares with another. The marts declared
//     `-- incremental: service` are then rebuilt for those services only:
//     the same model SQL runs on staging filtered to them (temporary
//     tables of the same names), and the rows of those services are
//     replaced. The other marts are small and rebuilt whole; dim_commits
//     (`-- incremental: repo`) is rebuilt for the changed repositories.
//   - The commit graph is one graph, but the walks of an incremental run
//     start only at the rebuilt services' deployments: it reads the
//     commits of the repositories holding a sha their deployments or
//     changes name, when no commit of those leads into another
//     repository's history (graphRepos); else the whole graph.
//   - Planning costs what changed, besides the digests: in a narrow run
//     (at most one service or repository in narrowShare changed) the
//     references are probed from the rows of the services in the set (a
//     scan of one column of the other rows, with a hash table of the few
//     values named), never a join of two whole tables. The references by
//     id between deployments and incidents are found for every service
//     at once, still without such a join: the few rows that name one
//     (a rollback, a hotfix, an incident's deployment, an attribution)
//     probe each id column once (referenced), so they hold for the set
//     however it grows. The commits the set names are looked for in its
//     own repositories first (holders), the shared-history check scans
//     the other commits' shas and first parents in one pass, and a set
//     of repositories is checked once per planning (unshared). A wide
//     run joins whole tables, which then costs less than probing with
//     most rows, and reads the whole graph.
//   - A narrow run (a few services of many) names its services and graph
//     repositories as constants, which DuckDB filters inside the table
//     scans (listNarrow), and keeps the staging rows of the
//     rebuilt services in temporary tables (stageFiltered), so the
//     intermediate models do not scan the canonical tables again for
//     each view that reads them; the declared tests of a mart merged by
//     service, or of a view declared so, read its merged rows, the rows
//     sharing their keys and the child rows of parent keys the merge
//     removed (testRelation), the other rows having passed when they
//     were built; a metric macro declared `-- incremental: team` tests
//     the teams the rebuilt rows count for (testTeams).
//   - What still costs the same whatever changed: the rebuild of a whole
//     service's history when a day of data touches it, so a day for every service costs
//     about a full rebuild; a run reaching more than fullShare of the
//     services therefore rebuilds fully, which costs less. A time
//     boundary inside each service (rebuild from the deployment before
//     the earliest changed row) is the missing piece.
//   - Anything it cannot bound rebuilds everything: teams or services
//     changed, changes placed into a monorepo's services by path, a
//     commit history shared across repositories that a changed row walks,
//     a model that reads staging it does not know how to filter, and any
//     change of the models, the settings they read or the schema (the
//     fingerprint in transform_state). `shiplog transform --full` asks for
//     it.
//
// A test (TestIncrementalMatchesFull) holds an incremental run to the
// marts a full rebuild makes from the same tables, row for row.

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"fmt"
	"io"
	"regexp"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/shiplog/shiplog/internal/canonical"
	"github.com/shiplog/shiplog/internal/coverage"
	"github.com/shiplog/shiplog/internal/sqlrun"
	"github.com/shiplog/shiplog/internal/warehouse"
)

// incrementalRevision is part of the fingerprint: change it when Go code
// that shapes the marts changes (a native model, the merge below), so that
// the next run rebuilds fully.
const incrementalRevision = "1"

// serviceTables are the tables whose partitions are service keys.
var serviceTables = []string{"deployments", "changes", "incidents", "support_tickets", "adoption", "release_plans"}

// filteredStaging are the staging models an incremental run filters to
// the services it rebuilds (by their service column) for the models it
// rebuilds by service; globalStaging are read whole (the commit graph is
// one graph; services and teams unchanged, else the run is full).
var (
	filteredStaging = map[string]bool{"stg_deployments": true, "stg_changes": true, "stg_incidents": true,
		"stg_support_tickets": true, "stg_adoption": true, "stg_release_plans": true}
	globalStaging = map[string]bool{"stg_commits": true, "stg_services": true, "stg_teams": true}
)

// plan is what a run will do.
type plan struct {
	mode     string // full, incremental or none
	reason   string // why full
	services []string
	repos    []string
	// placements: int_change_placements had rows in the last full build
	placements bool
	// graphRepos: the repositories whose commits the rebuild reads
	// (temp.inc_graph_repos), or -1 when it reads the whole commit graph
	graphRepos int
	// digests: what the digests of this run cover (saveDigests)
	digests digestScope
	// narrow: the rebuilt services are a small part of all (at most one
	// in narrowShare), so the staging rows of theirs are kept in
	// temporary tables, read once (stageFiltered)
	narrow bool
	// models by name, for the tests' scope (testRelation); gone counts,
	// per "mart.column" a relationships test points at, the keys the
	// merge removed from the mart and did not put back (temp.inc_gone_…)
	models map[string]Model
	gone   map[string]int64
	// teams: the teams whose rows the metric macros' test calls read
	// (testTeams); nil for every team
	teams []string
	// graphRepoList: in a narrow run reading part of the commit graph,
	// the repositories of temp.inc_graph_repos (listNarrow)
	graphRepoList []string
}

// listNarrow reads, for a narrow run, the repositories of the commit
// graph it reads (p.services is read by planRun). A narrow run names its
// few services and repositories in its statements as constants
// (inConstants) rather than as a subquery of their temporary tables:
// DuckDB evaluates such a filter of one column in the table scan, which
// then reads the other columns of the matching rows only, where a semi
// join against a temporary table reads every row of every column first
// (at full size, the seven million changes with their JSON; the commits
// and their messages for each model reading them).
func listNarrow(ctx context.Context, tx *sql.Tx, p *plan) error {
	if !p.narrow || p.graphRepos < 0 {
		return nil
	}
	rows, err := tx.QueryContext(ctx, `SELECT DISTINCT repo FROM temp.inc_graph_repos WHERE repo IS NOT NULL ORDER BY 1`)
	if err != nil {
		return fmt.Errorf("transform: graph repositories: %w", err)
	}
	defer rows.Close()
	p.graphRepoList = []string{}
	for rows.Next() {
		var r string
		if err := rows.Scan(&r); err != nil {
			return fmt.Errorf("transform: graph repositories: %w", err)
		}
		p.graphRepoList = append(p.graphRepoList, r)
	}
	return rows.Err()
}

// inConstants is `list_contains(['a', 'b', …], col)` for the values vals,
// or false for none. It selects the rows `col IN ('a', 'b', …)` does, but
// DuckDB evaluates it in the table scan as a filter of one column, where
// it plans a list of constants with IN as a join against the list above
// a scan of every row (the list only pruning by zone maps).
func inConstants(col string, vals []string) string {
	if len(vals) == 0 {
		return "false"
	}
	q := make([]string, len(vals))
	for i, v := range vals {
		q[i] = warehouse.QuoteString(v)
	}
	return "list_contains([" + strings.Join(q, ", ") + "], " + col + ")"
}

// serviceIn is the condition on a service column selecting the rebuilt
// services: their names as constants in a narrow run (listNarrow), the
// subquery of temp.inc_services in a wide one, whose list would be long.
func serviceIn(col string, p plan) string {
	if p.narrow {
		return inConstants(col, p.services)
	}
	return col + " IN (SELECT service FROM temp.inc_services)"
}

// maxConstants bounds the values inSet writes as constants: past it, the
// list costs more to write and to read than the join of a subquery.
const maxConstants = 1000

// inSet is a condition selecting the rows whose col is among the values of
// set (a query of one column): those values as constants (inConstants)
// while they are few, which DuckDB evaluates inside the table scan before
// reading the other columns, else `col IN (set)`, a join above a scan of
// every row. Planning filters the big tables by the services and
// repositories of its set this way: for ten services of five hundred, the
// scan of seven million changes by service took 0.17 s as a subquery and
// 0.07 s as constants (0.55 s and 0.09 s cold).
func inSet(ctx context.Context, tx *sql.Tx, col, set string) (string, error) {
	rows, err := tx.QueryContext(ctx, `SELECT DISTINCT v FROM (`+set+`) s(v) WHERE v IS NOT NULL ORDER BY 1 LIMIT `+fmt.Sprint(maxConstants+1))
	if err != nil {
		return "", fmt.Errorf("transform: plan: %w", err)
	}
	defer rows.Close()
	var vals []string
	for rows.Next() {
		var v string
		if err := rows.Scan(&v); err != nil {
			return "", fmt.Errorf("transform: plan: %w", err)
		}
		vals = append(vals, v)
	}
	if err := rows.Err(); err != nil {
		return "", fmt.Errorf("transform: plan: %w", err)
	}
	if len(vals) > maxConstants {
		return col + " IN (" + set + ")", nil
	}
	return inConstants(col, vals), nil
}

// narrowShare: an incremental run rebuilding at most one service in this
// many keeps their staging rows in temporary tables; a wider run filters
// the staging views each time a model reads them, as a full run does,
// rather than hold millions of wide rows in memory.
var narrowShare = 8 // a variable: tests take the narrow path on small organisations

// fullShare: a run that would rebuild more than this share of the
// services (numerator, denominator) rebuilds everything instead. A
// rebuild by service plans with whole-table joins, filters every model's
// staging and then replaces the rows it rebuilt, so for most services it
// costs more than a full build, and holds more memory: at full size a
// day for every service took 73.0 s incrementally against 55.7 s as a
// full build, and peaked at 5.4 GB against 4.0 GB
// (docs/benchmarks/metrics.md).
var fullShare = [2]int{2, 3} // a variable: tests take the wide path on small organisations

// incrementalKey returns how a mart is merged in an incremental run: ""
// (rebuilt whole), "service" or "repo".
func (m Model) incrementalKey() string {
	if m.script == nil {
		return ""
	}
	v, _ := m.script.Field("incremental")
	return v
}

// dataFact says whether the run value k (RunValues) is a fact about the
// data, which the digests follow, rather than a setting: which sources
// sent a kind and which sent the most, the month of the latest
// deployment. A setting that changes rebuilds everything; a fact that
// changes must not (a second source starting to push, or overtaking the
// first, is an ordinary day).
func dataFact(k string) bool {
	for _, p := range []string{"several_sources_", "main_source_", "metric_test_"} {
		if strings.HasPrefix(k, p) {
			return true
		}
	}
	return false
}

// fingerprint hashes what the marts are a function of besides the data:
// every model's text, the settings (the cfg row and the run's constant
// values), the schema version and incrementalRevision.
func fingerprint(ctx context.Context, q querier, models []Model, vals map[string]any, schema int) (string, error) {
	h := sha256.New()
	fmt.Fprintf(h, "revision %s\nschema %d\n", incrementalRevision, schema)
	names := make([]string, len(models))
	byName := map[string]Model{}
	for i, m := range models {
		names[i] = m.Name
		byName[m.Name] = m
	}
	sort.Strings(names)
	for _, n := range names {
		m := byName[n]
		fmt.Fprintf(h, "model %s/%s %s %q %q\n", m.Layer, m.Name, m.Materialized, m.Arguments, m.TestCall)
		if m.script != nil {
			for _, f := range m.script.Fields {
				fmt.Fprintf(h, "  %s: %s\n", f.Key, f.Value)
			}
		}
		io.WriteString(h, m.SQL)
		io.WriteString(h, "\n")
	}
	var cfgJSON string
	if err := q.QueryRowContext(ctx, `SELECT to_json(c)::VARCHAR FROM cfg c`).Scan(&cfgJSON); err != nil {
		return "", fmt.Errorf("transform: fingerprint: %w", err)
	}
	fmt.Fprintf(h, "cfg %s\n", cfgJSON)
	keys := make([]string, 0, len(vals))
	for k := range vals {
		if dataFact(k) {
			continue
		}
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		fmt.Fprintf(h, "value %s=%v\n", k, vals[k])
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// Digests.
//
// transform_digests holds, per table, source and partition value as
// stored (canonical.Partitions), the row count and the sum of the rows'
// hashes the marts were last built from. A full build sums every row. An
// incremental run, and one that finds nothing new, reads no canonical
// row: each writer logged (canonical.WritesTable, canonical.DeltaSQL) the
// count and hash sum of the rows it deleted, negated, and of the rows it
// inserted, per (table, source, part), and the run adds them to the
// stored sums of those keys. Comparing the results with the stored ones
// finds the partitions that really changed, so a re-ingest rewriting
// identical rows changes nothing. The build's transaction then stores the
// new sums and removes the log rows it read: a transform killed before its
// commit leaves both as they were.
//
// Rows written by another program (the DuckDB CLI) are not logged. Each
// table's count(*) is compared with the stored count adjusted by the log;
// when they disagree, or the log takes from a key more rows than it held,
// every row is summed again, as in a full build (digestScope.fallback
// says why). An UPDATE in place by another
// program keeps the count and is not seen: `transform --full` re-reads all.

// digestScope is what the digests of a run cover.
type digestScope struct {
	all      bool   // every row (temp.inc_scope is not used)
	fallback string // why every row was summed though the log was read
	parts    int    // keys the log changed, when not all
}

func (d digestScope) String() string {
	switch {
	case d.fallback != "":
		return "every row re-read: " + d.fallback
	case d.all:
		return "every row re-read"
	}
	return fmt.Sprintf("%d partition(s) from the log of writes", d.parts)
}

// digestSelect sums the rows of p passing where (over alias t) per source
// and partition value.
func digestSelect(p canonical.Partition, where string) string {
	col, src := "NULL::VARCHAR", p.SourceExpr
	if p.Column != "" {
		col = "t." + warehouse.QuoteIdent(p.Column)
	}
	if src == "source" {
		src = "t.source"
	}
	if where != "" {
		where = "\n\tWHERE " + where
	}
	return fmt.Sprintf(`SELECT '%s' AS "table", %s AS source, %s AS part, count(*)::BIGINT AS "rows", coalesce(sum(hash(t)::HUGEINT), 0)::HUGEINT AS digest
	FROM %s t%s GROUP BY ALL HAVING count(*) > 0`, p.Table, src, col, warehouse.QuoteIdent(p.Table), where)
}

// writeAllDigests sums every row into temp.inc_digests, and takes every
// stored digest (temp.inc_old) as the ones to compare with.
func writeAllDigests(ctx context.Context, tx *sql.Tx) error {
	var parts []string
	for _, p := range canonical.Partitions {
		parts = append(parts, digestSelect(p, ""))
	}
	for _, q := range []string{
		"CREATE OR REPLACE TEMP TABLE inc_digests AS\n" + strings.Join(parts, "\nUNION ALL\n"),
		`CREATE OR REPLACE TEMP TABLE inc_old AS SELECT * FROM transform_digests`,
	} {
		if _, err := tx.ExecContext(ctx, q); err != nil {
			return fmt.Errorf("transform: digests: %w", err)
		}
	}
	return nil
}

// writeLoggedDigests adds the changes the log of canonical writes holds
// to the stored digests of the keys it names (temp.inc_scope: the
// changes summed per key) into temp.inc_digests, and copies the stored
// digests of the same keys into temp.inc_old; it reads no canonical row.
// When the log takes from a key more rows than it held, or a table's row
// count disagrees with what the log accounts for, it sums every row
// instead (writeAllDigests) and says why.
func writeLoggedDigests(ctx context.Context, tx *sql.Tx) (digestScope, error) {
	for _, q := range []string{
		`CREATE OR REPLACE TEMP TABLE inc_scope AS
		SELECT "table", source, part, sum("rows")::BIGINT AS "rows", sum(digest)::HUGEINT AS digest
		FROM ` + canonical.WritesTable + ` GROUP BY ALL`,
		`CREATE OR REPLACE TEMP TABLE inc_old AS SELECT o.* FROM transform_digests o
		SEMI JOIN temp.inc_scope s ON s."table" = o."table" AND s.source = o.source AND s.part IS NOT DISTINCT FROM o.part`,
		`CREATE OR REPLACE TEMP TABLE inc_digests AS
		SELECT s."table", s.source, s.part, (coalesce(o."rows", 0) + s."rows")::BIGINT AS "rows",
			(coalesce(o.digest, 0) + s.digest)::HUGEINT AS digest
		FROM temp.inc_scope s LEFT JOIN temp.inc_old o ON o."table" = s."table" AND o.source = s.source AND o.part IS NOT DISTINCT FROM s.part`,
	} {
		if _, err := tx.ExecContext(ctx, q); err != nil {
			return digestScope{}, fmt.Errorf("transform: digests from the log of writes: %w", err)
		}
	}
	var n int
	var bad sql.NullString
	if err := tx.QueryRowContext(ctx, `SELECT (SELECT count(*) FROM temp.inc_scope),
		(SELECT min("table" || '/' || source || '/' || coalesce(part, '')) FROM temp.inc_digests WHERE "rows" < 0 OR ("rows" = 0 AND digest <> 0))`).Scan(&n, &bad); err != nil {
		return digestScope{}, fmt.Errorf("transform: digests from the log of writes: %w", err)
	}
	if bad.Valid {
		if err := writeAllDigests(ctx, tx); err != nil {
			return digestScope{}, err
		}
		return digestScope{all: true, fallback: fmt.Sprintf("the log of writes takes from %s rows it did not hold", bad.String)}, nil
	}
	// a partition left empty has no digest, as in a full build
	if _, err := tx.ExecContext(ctx, `DELETE FROM temp.inc_digests WHERE "rows" = 0`); err != nil {
		return digestScope{}, fmt.Errorf("transform: digests from the log of writes: %w", err)
	}
	// The safety net: each table's rows now against the rows stored,
	// less those of the keys logged, plus what they hold now.
	var counts []string
	for _, p := range canonical.Partitions {
		counts = append(counts, fmt.Sprintf(`SELECT '%s' AS "table", count(*) AS n FROM %s`, p.Table, warehouse.QuoteIdent(p.Table)))
	}
	var table string
	var now, expected int64
	err := tx.QueryRowContext(ctx, `WITH actual AS (`+strings.Join(counts, " UNION ALL ")+`),
		stored AS (SELECT "table", sum("rows") AS n FROM transform_digests GROUP BY ALL),
		old AS (SELECT "table", sum("rows") AS n FROM temp.inc_old GROUP BY ALL),
		new AS (SELECT "table", sum("rows") AS n FROM temp.inc_digests GROUP BY ALL)
		SELECT a."table", a.n, (coalesce(s.n, 0) - coalesce(o.n, 0) + coalesce(w.n, 0))::BIGINT AS expected
		FROM actual a LEFT JOIN stored s USING ("table") LEFT JOIN old o USING ("table") LEFT JOIN new w USING ("table")
		WHERE a.n <> expected ORDER BY 1 LIMIT 1`).Scan(&table, &now, &expected)
	switch {
	case err == sql.ErrNoRows:
		return digestScope{parts: n}, nil
	case err != nil:
		return digestScope{}, fmt.Errorf("transform: digests: row counts: %w", err)
	}
	if err := writeAllDigests(ctx, tx); err != nil {
		return digestScope{}, err
	}
	return digestScope{all: true, fallback: fmt.Sprintf("%s holds %d row(s), the log of writes accounts for %d (written by another program?)",
		table, now, expected)}, nil
}

// saveState records the digests and the fingerprint the marts now match,
// and the window the metric macros' tests read (testTeams), and removes
// the log entries this run read (all it sees: a writer that commits
// meanwhile is seen by the next run).
func saveState(ctx context.Context, tx *sql.Tx, fp string, p plan, placements bool, vals map[string]any) error {
	if err := saveDigests(ctx, tx, p.digests); err != nil {
		return err
	}
	stmts := []struct {
		q    string
		args []any
	}{
		{`DELETE FROM transform_state`, nil},
		{`INSERT INTO transform_state (fingerprint, built_at, mode, reason, services, placements, metric_test_lo, metric_test_hi)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
			[]any{fp, time.Now().UTC(), p.mode, nullable(p.reason), int64(len(p.services)), placements, vals["metric_test_lo"], vals["metric_test_hi"]}},
	}
	for _, s := range stmts {
		if _, err := tx.ExecContext(ctx, s.q, s.args...); err != nil {
			return fmt.Errorf("transform: save state: %w", err)
		}
	}
	return nil
}

// saveDigests replaces the stored digests of the keys the run summed
// with the new sums and empties the log of writes.
func saveDigests(ctx context.Context, tx *sql.Tx, d digestScope) error {
	del := `DELETE FROM transform_digests`
	if !d.all {
		del = `DELETE FROM transform_digests o WHERE EXISTS (SELECT 1 FROM temp.inc_scope s
			WHERE s."table" = o."table" AND s.source = o.source AND s.part IS NOT DISTINCT FROM o.part)`
	}
	for _, q := range []string{
		del,
		`INSERT INTO transform_digests SELECT * FROM temp.inc_digests`,
		`DELETE FROM ` + canonical.WritesTable,
		`DROP TABLE temp.inc_digests`,
		`DROP TABLE temp.inc_old`,
		`DROP TABLE IF EXISTS temp.inc_scope`,
	} {
		if _, err := tx.ExecContext(ctx, q); err != nil {
			return fmt.Errorf("transform: save digests: %w", err)
		}
	}
	return nil
}

func nullable(s string) any {
	if s == "" {
		return nil
	}
	return s
}

// fullReason says why the run must rebuild everything before the data is
// looked at ("" when it need not).
func fullReason(ctx context.Context, tx *sql.Tx, models []Model, fp string, full bool) (string, error) {
	if full {
		return "asked for (--full)", nil
	}
	var oldFP string
	var placements bool
	switch err := tx.QueryRowContext(ctx, `SELECT fingerprint, placements FROM transform_state LIMIT 1`).Scan(&oldFP, &placements); {
	case err == sql.ErrNoRows:
		return "no earlier build recorded", nil
	case err != nil:
		return "", fmt.Errorf("transform: read state: %w", err)
	}
	if oldFP != fp {
		return "models, settings or schema changed since the last build", nil
	}
	if placements {
		return "changes are placed into monorepo services by path", nil
	}
	if reason := checkModels(models); reason != "" {
		return reason, nil
	}
	for _, mart := range []string{"fct_change_rows", "fct_deployments", "fct_incidents", "fct_failures"} {
		var n int
		if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM duckdb_tables() WHERE database_name = current_database() AND schema_name = 'main' AND table_name = ?`, mart).Scan(&n); err != nil {
			return "", err
		}
		if n == 0 {
			return mart + " is missing", nil
		}
	}
	return "", nil
}

// planRun decides between a full rebuild, an incremental one and none.
// The digests of the current tables are left in temp.inc_digests, and for
// an incremental run the services and repositories to rebuild in
// temp.inc_services and temp.inc_repos.
func planRun(ctx context.Context, tx *sql.Tx, models []Model, fp string, vals map[string]any, full bool, steps *stepTimes) (p plan, err error) {
	reason, err := fullReason(ctx, tx, models, fp, full)
	if err != nil {
		return plan{}, err
	}
	if reason != "" {
		if err := writeAllDigests(ctx, tx); err != nil {
			return plan{}, err
		}
		steps.mark("digests")
		return plan{mode: "full", reason: reason, digests: digestScope{all: true}}, nil
	}
	scope, err := writeLoggedDigests(ctx, tx)
	if err != nil {
		return plan{}, err
	}
	steps.mark("digests")
	steps.note(scope.String())
	defer func() { p.digests = scope }()
	// the changed partitions, and the sources whose rows of a table changed
	// (writeCoverage)
	for _, s := range []string{`CREATE OR REPLACE TEMP TABLE inc_moved AS
		SELECT coalesce(n."table", o."table") AS "table", coalesce(n.source, o.source) AS source, coalesce(n.part, o.part) AS part
		FROM temp.inc_digests n
		FULL JOIN temp.inc_old o ON o."table" = n."table" AND o.source = n.source AND o.part IS NOT DISTINCT FROM n.part
		WHERE n."rows" IS DISTINCT FROM o."rows" OR n.digest IS DISTINCT FROM o.digest`,
		`CREATE OR REPLACE TEMP TABLE inc_changed AS
		SELECT DISTINCT "table", CASE WHEN "table" IN ('` + strings.Join(serviceTables, "', '") + `') THEN lower(trim(part)) ELSE part END AS part
		FROM temp.inc_moved`,
		`CREATE OR REPLACE TEMP TABLE inc_changed_sources AS SELECT DISTINCT "table", source FROM temp.inc_moved`,
		`DROP TABLE temp.inc_moved`,
	} {
		if _, err := tx.ExecContext(ctx, s); err != nil {
			return plan{}, fmt.Errorf("transform: changed partitions: %w", err)
		}
	}
	changed := map[string]int{}
	rows, err := tx.QueryContext(ctx, `SELECT "table", count(*) FROM temp.inc_changed GROUP BY ALL`)
	if err != nil {
		return plan{}, err
	}
	for rows.Next() {
		var t string
		var n int
		if err := rows.Scan(&t, &n); err != nil {
			rows.Close()
			return plan{}, err
		}
		changed[t] = n
	}
	rows.Close()
	steps.mark("changed")
	if len(changed) == 0 {
		return plan{mode: "none"}, nil
	}
	if changed["teams"] > 0 || changed["services"] > 0 {
		return plan{mode: "full", reason: "teams or services changed"}, nil
	}
	// A wide run (many services or repositories changed) plans with
	// whole-table joins: the probes below build their hash tables from
	// the changed rows, which then are most rows.
	var all, touched int
	if err := tx.QueryRowContext(ctx, `SELECT (SELECT count(DISTINCT lower(trim(id))) FROM services),
		greatest((SELECT count(DISTINCT part) FROM temp.inc_changed WHERE "table" IN ('`+strings.Join(serviceTables, "', '")+`')),
		         (SELECT count(*) FROM temp.inc_changed WHERE "table" = 'commits'))`).Scan(&all, &touched); err != nil {
		return plan{}, fmt.Errorf("transform: plan: %w", err)
	}
	if touched*fullShare[1] > all*fullShare[0] {
		return plan{mode: "full", reason: fmt.Sprintf("%d of %d services changed, more than a rebuild by service pays for", touched, all)}, nil
	}
	wide := touched*narrowShare > all
	q := func(s string) error {
		if _, err := tx.ExecContext(ctx, s); err != nil {
			return fmt.Errorf("transform: plan: %w\n%s", err, s)
		}
		return nil
	}
	exists := func(s string) (bool, error) {
		var b bool
		if err := tx.QueryRowContext(ctx, "SELECT EXISTS ("+s+")").Scan(&b); err != nil {
			return false, fmt.Errorf("transform: plan: %w\n%s", err, s)
		}
		return b, nil
	}
	inList := "('" + strings.Join(serviceTables, "', '") + "')"
	if err := q(`CREATE OR REPLACE TEMP TABLE inc_repos AS
		SELECT DISTINCT part AS repo FROM temp.inc_changed WHERE "table" = 'commits'`); err != nil {
		return plan{}, err
	}
	if err := q(`CREATE OR REPLACE TEMP TABLE inc_requests AS
		SELECT DISTINCT part AS change_request FROM temp.inc_changed WHERE "table" IN ('change_requests', 'approvals')`); err != nil {
		return plan{}, err
	}
	// the commits of the changed repositories (dim_commits is a view of
	// the same table: no other set to look at)
	repoShas := `SELECT sha FROM commits c SEMI JOIN temp.inc_repos r ON r.repo = c.repo`
	if !wide {
		inRepos, err := inSet(ctx, tx, "repo", `SELECT repo FROM temp.inc_repos`)
		if err != nil {
			return plan{}, err
		}
		if err := q(`CREATE OR REPLACE TEMP TABLE inc_repo_shas AS
		SELECT DISTINCT sha FROM commits WHERE ` + inRepos); err != nil {
			return plan{}, err
		}
		repoShas = `SELECT sha FROM temp.inc_repo_shas`
	}
	// seeds: the services whose rows changed; the services that deploy a
	// changed request or a commit of a changed repository, now or before
	// (one scan of each table for both, and the few services of the rows
	// found trimmed and lower-cased: a third of four semi-joins' cost)
	seed := `SELECT part AS service FROM temp.inc_changed WHERE "table" IN ` + inList + ` AND part IS NOT NULL
		UNION SELECT lower(trim(service)) FROM (SELECT DISTINCT service FROM deployments
			WHERE trim(change_request) IN (SELECT change_request FROM temp.inc_requests) OR commit_sha IN (` + repoShas + `))
		UNION SELECT service FROM fct_deployments
			WHERE change_request IN (SELECT change_request FROM temp.inc_requests) OR commit_sha IN (` + repoShas + `)`
	if err := q(`CREATE OR REPLACE TEMP TABLE inc_services AS SELECT DISTINCT service FROM (` + seed + `) WHERE service IS NOT NULL`); err != nil {
		return plan{}, err
	}
	steps.mark("seeds")
	// A changed change that names no known service but a repository (a
	// monorepo's change placed by path) can move between services.
	if placed, err := exists(`SELECT 1 FROM changes c
		SEMI JOIN temp.inc_changed x ON x."table" = 'changes' AND x.part = lower(trim(c.service))
		ANTI JOIN (SELECT lower(trim(id)) AS service FROM services) s ON s.service = lower(trim(c.service))
		WHERE len(cast(c.extra -> '$.files' AS VARCHAR[])) > 0`); err != nil || placed {
		return plan{mode: "full", reason: "a changed change is placed into a monorepo service by path"}, err
	}
	steps.mark("placements")
	history := unshared{}
	// The commit-graph walk follows parents by sha. A changed repository
	// whose commits share shas with another, or link to another's by
	// parent, could change what walks from elsewhere reach.
	if changed["commits"] > 0 {
		if shared, err := history.check(ctx, tx, "temp.inc_repos", true, wide); err != nil || shared {
			return plan{mode: "full", reason: "a changed repository shares commit history with another"}, err
		}
		steps.mark("shared history")
	}
	// filled by addChangeRefs as the set grows; a connection keeps its
	// temporary tables, so the last run's rows go first
	if err := q(`CREATE OR REPLACE TEMP TABLE inc_change_refs (service VARCHAR, ref VARCHAR, is_id BOOLEAN)`); err != nil {
		return plan{}, err
	}
	if err := growServices(ctx, tx, steps, wide, history, vals); err != nil {
		if err == errUnbounded {
			return plan{mode: "full", reason: "a changed incident's root-cause commit lies in history shared across repositories"}, nil
		}
		return plan{}, err
	}
	p = plan{mode: "incremental", graphRepos: -1}
	if !wide {
		if p.graphRepos, err = graphRepos(ctx, tx, changed["commits"] > 0, history); err != nil {
			return plan{}, err
		}
		steps.mark("commit graph")
	}
	for _, s := range []struct {
		dst   *[]string
		query string
	}{{&p.services, `SELECT service FROM temp.inc_services ORDER BY 1`}, {&p.repos, `SELECT repo FROM temp.inc_repos ORDER BY 1`}} {
		rows, err := tx.QueryContext(ctx, s.query)
		if err != nil {
			return plan{}, err
		}
		for rows.Next() {
			var v string
			if err := rows.Scan(&v); err != nil {
				rows.Close()
				return plan{}, err
			}
			*s.dst = append(*s.dst, v)
		}
		rows.Close()
	}
	if len(p.services)*fullShare[1] > all*fullShare[0] {
		return plan{mode: "full", reason: fmt.Sprintf("%d of %d services to rebuild, more than a rebuild by service pays for", len(p.services), all)}, nil
	}
	p.narrow = !wide && len(p.services)*narrowShare <= all
	return p, nil
}

// sharedHistory reports whether a repository of the table repos (one
// column, repo) shares a sha with another repository, or whether a commit
// of one side names a parent only the other side holds. With inbound
// false, only the first two are checked (the repositories' own commits
// lead outside): enough to know that a walk started inside stays inside.
//
// The commits of repos are few; every check probes them with a scan of
// the other commits (a hash table of all commits would cost more than
// the rest of an incremental run's planning): their shas, then
// (inbound) their parents. Two statements, not one scan with `sha IN (…) OR
// parents[1] IN (…)`, which DuckDB plans as two mark joins above every
// row: at full size, one team's ten repositories, the scan with the OR
// took 0.41–0.43 s and the merges' other parents 0.15–0.16 s more, where
// the shas took 0.15–0.16 s and every parent unnested 0.23–0.24 s.
func sharedHistory(ctx context.Context, tx *sql.Tx, repos string, inbound bool) (bool, error) {
	in, err := inSet(ctx, tx, "repo", "SELECT repo FROM "+repos)
	if err != nil {
		return false, err
	}
	steps := []string{
		`CREATE OR REPLACE TEMP TABLE inc_inside AS
		 SELECT DISTINCT sha FROM commits WHERE ` + in,
		// shas the inside commits lead to: their own and their parents
		`CREATE OR REPLACE TEMP TABLE inc_inside_reach AS
		 SELECT sha FROM temp.inc_inside
		 UNION SELECT p FROM (SELECT unnest(parents) AS p FROM commits WHERE ` + in + `)`,
	}
	for _, s := range steps {
		if _, err := tx.ExecContext(ctx, s); err != nil {
			return false, fmt.Errorf("transform: plan: shared history: %w", err)
		}
	}
	defer func() {
		for _, t := range []string{"inc_inside", "inc_inside_reach"} {
			tx.ExecContext(context.WithoutCancel(ctx), "DROP TABLE IF EXISTS temp."+t)
		}
	}()
	// (the other commits are most commits: a filter of the few
	// repositories as constants planned worse there, 2.3 times slower)
	// an inside sha or parent held outside (a parent the inside holds
	// too is a sha the outside holds as well: the same finding); inbound,
	// an outside commit's parent inside
	checks := []string{
		`SELECT 1 FROM commits o WHERE o.sha IN (SELECT sha FROM temp.inc_inside_reach) AND o.repo NOT IN (SELECT repo FROM ` + repos + `)`,
	}
	if inbound {
		checks = append(checks,
			`SELECT 1 FROM (SELECT unnest(parents) AS p FROM commits o WHERE o.repo NOT IN (SELECT repo FROM `+repos+`))
			 WHERE p IN (SELECT sha FROM temp.inc_inside)`)
	}
	for _, c := range checks {
		var shared bool
		if err := tx.QueryRowContext(ctx, "SELECT EXISTS ("+c+")").Scan(&shared); err != nil {
			return false, fmt.Errorf("transform: plan: shared history: %w", err)
		}
		if shared {
			return true, nil
		}
	}
	return false, nil
}

// unshared remembers, within one planning, the sets of repositories
// found to share no history with the others (inbound checked), so that
// a later check of the same set reads nothing again: the repositories
// of the root-cause commits of the rebuilt services' incidents, and
// those of the commits their walks read, are most often the changed
// ones, checked first. An inbound check finding nothing answers a check
// without inbound too.
type unshared map[string]bool

// check is sharedHistory (sharedHistoryWide when wide) of the table
// repos, unless the same set was found to share nothing before.
func (u unshared) check(ctx context.Context, tx *sql.Tx, repos string, inbound, wide bool) (bool, error) {
	var key string
	if err := tx.QueryRowContext(ctx, `SELECT coalesce(string_agg(repo, chr(10) ORDER BY repo), '')
		FROM (SELECT DISTINCT repo FROM `+repos+`)`).Scan(&key); err != nil {
		return false, fmt.Errorf("transform: plan: shared history: %w", err)
	}
	if u[key] {
		return false, nil
	}
	check := sharedHistory
	if wide {
		check, inbound = sharedHistoryWide, true
	}
	shared, err := check(ctx, tx, repos, inbound)
	if err == nil && !shared && inbound {
		u[key] = true
	}
	return shared, err
}

// sharedHistoryWide is sharedHistory (inbound) for many repositories:
// the commits inside and outside joined whole, which costs less than
// probing when the inside is most of the graph.
func sharedHistoryWide(ctx context.Context, tx *sql.Tx, repos string, _ bool) (bool, error) {
	var shared bool
	err := tx.QueryRowContext(ctx, `WITH inside AS (
			SELECT sha, repo, parents FROM commits c SEMI JOIN `+repos+` r ON r.repo = c.repo
		), outside AS (
			SELECT sha, repo, parents FROM commits c ANTI JOIN `+repos+` r ON r.repo = c.repo
		)
		SELECT EXISTS (SELECT 1 FROM inside i SEMI JOIN outside o ON o.sha = i.sha)
		    OR EXISTS (SELECT 1 FROM (SELECT unnest(parents) AS p FROM inside) e SEMI JOIN outside o ON o.sha = e.p
		               ANTI JOIN inside i ON i.sha = e.p)
		    OR EXISTS (SELECT 1 FROM (SELECT unnest(parents) AS p FROM outside) e SEMI JOIN inside i ON i.sha = e.p)`).Scan(&shared)
	if err != nil {
		return false, fmt.Errorf("transform: plan: shared history: %w", err)
	}
	return shared, nil
}

// graphRepos finds the repositories that hold a commit the rebuilt
// services' deployments or changes name (temp.inc_graph_repos) and
// returns how many, when their histories lead nowhere else; -1 when they
// do (the run then reads the whole commit graph).
//
// The walks an incremental run makes start at the rebuilt deployments'
// commits and stop at a sha the graph does not hold; the commits they
// reach are then matched to the rebuilt changes' shas, to root-cause
// shas and to revert trailers only among themselves and those changes'
// shas. When no sha of these repositories is held by another and no
// commit of theirs names a parent only another holds, every walk stays
// inside them: the graph of their commits alone gives the same walks,
// the same commit times and the same matches as the whole graph, which
// for a few services is a small part of it.
//
// The changed repositories (temp.inc_repos) are read too: most shas named
// are theirs (temp.inc_repo_shas), so only the others are looked up in
// every commit, and when none is left and the changed repositories were
// already found to share nothing (checked is true), nothing more is read.
func graphRepos(ctx context.Context, tx *sql.Tx, checked bool, history unshared) (int, error) {
	if err := addChangeRefs(ctx, tx); err != nil {
		return 0, err
	}
	inServices, err := inSet(ctx, tx, "lower(trim(service))", `SELECT service FROM temp.inc_services`)
	if err != nil {
		return 0, err
	}
	if _, err := tx.ExecContext(ctx, `CREATE OR REPLACE TEMP TABLE inc_named AS
		SELECT sha FROM (
			SELECT commit_sha AS sha FROM deployments
			WHERE commit_sha IS NOT NULL AND `+inServices+`
			UNION SELECT ref FROM temp.inc_change_refs WHERE service IN (SELECT service FROM temp.inc_services)
			AND (NOT is_id OR regexp_full_match(ref, '[0-9a-f]{7,40}')) -- an id is a sha only so (int_change_shas)
		) WHERE sha IS NOT NULL AND sha NOT IN (SELECT sha FROM temp.inc_repo_shas)`); err != nil {
		return 0, fmt.Errorf("transform: plan: commit graph: %w", err)
	}
	var others bool
	if err := tx.QueryRowContext(ctx, `SELECT EXISTS (FROM temp.inc_named)`).Scan(&others); err != nil {
		return 0, fmt.Errorf("transform: plan: commit graph: %w", err)
	}
	find := `SELECT repo FROM temp.inc_repos`
	if others {
		if err := holders(ctx, tx, "inc_named_at", "SELECT sha FROM temp.inc_named"); err != nil {
			return 0, err
		}
		find += ` UNION SELECT repo FROM temp.inc_named_at`
	}
	if _, err := tx.ExecContext(ctx, `CREATE OR REPLACE TEMP TABLE inc_graph_repos AS `+find); err != nil {
		return 0, fmt.Errorf("transform: plan: commit graph: %w", err)
	}
	var n, beyond int
	if err := tx.QueryRowContext(ctx, `SELECT count(*), count(*) FILTER (WHERE repo NOT IN (SELECT repo FROM temp.inc_repos)) FROM temp.inc_graph_repos`).Scan(&n, &beyond); err != nil {
		return 0, fmt.Errorf("transform: plan: commit graph: %w", err)
	}
	if beyond > 0 || !checked {
		shared, err := history.check(ctx, tx, "temp.inc_graph_repos", false, false)
		if err != nil || shared {
			return -1, err
		}
	}
	return n, nil
}

// rootRepos selects (service, repo) for the root-cause commits of the
// incidents of the services of temp.inc_services.
const rootRepos = `SELECT DISTINCT lower(trim(i.service)) AS service, rc.repo
	FROM incidents i JOIN commits rc ON rc.sha = trim(i.root_cause_sha)
	WHERE i.root_cause_sha IS NOT NULL AND lower(trim(i.service)) IN (SELECT service FROM temp.inc_services)`

// addRoots adds to temp.inc_roots (service, repo) the repositories of the
// root-cause commits of the incidents of the services of
// temp.inc_services not yet in it, found by holders (the check of
// inc_root_repos for shared history then finds any other repository
// holding one).
func addRoots(ctx context.Context, tx *sql.Tx) error {
	in, err := inSet(ctx, tx, "lower(trim(service))", `SELECT service FROM temp.inc_services EXCEPT SELECT service FROM temp.inc_roots`)
	if err != nil {
		return err
	}
	if _, err := tx.ExecContext(ctx, `CREATE OR REPLACE TEMP TABLE inc_root_shas AS
		SELECT DISTINCT lower(trim(service)) AS service, trim(root_cause_sha) AS sha FROM incidents
		WHERE root_cause_sha IS NOT NULL AND `+in); err != nil {
		return fmt.Errorf("transform: plan: root causes: %w", err)
	}
	if err := holders(ctx, tx, "inc_root_at", "SELECT sha FROM temp.inc_root_shas"); err != nil {
		return err
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO temp.inc_roots
		SELECT DISTINCT s.service, h.repo FROM temp.inc_root_shas s JOIN temp.inc_root_at h ON h.sha = s.sha`); err != nil {
		return fmt.Errorf("transform: plan: root causes: %w", err)
	}
	return nil
}

// holders makes the temporary table dst (sha, repo) of the commits
// holding a sha of the query shas (one column, sha), looked for first
// among the commits of the repositories of the rebuilt services and the
// changed ones, and among every commit only for the shas not found
// there. A filter on the repository, a column of few values, is read
// before the shas of the rows it keeps, which costs a fraction of probing
// every commit's sha; and most shas a service names are its own
// repository's.
//
// A sha found there is not looked for in other repositories: each caller
// checks the repositories found for history shared with any other
// (sharedHistory), which finds another repository holding one of their
// shas, and then reads the whole graph or rebuilds everything.
func holders(ctx context.Context, tx *sql.Tx, dst, shas string) error {
	fail := func(err error) error { return fmt.Errorf("transform: plan: commits named: %w", err) }
	rows, err := tx.QueryContext(ctx, `SELECT DISTINCT repo FROM (
		SELECT repo FROM services WHERE lower(trim(id)) IN (SELECT service FROM temp.inc_services)
		UNION ALL SELECT repo FROM temp.inc_repos) WHERE repo IS NOT NULL ORDER BY 1`)
	if err != nil {
		return fail(err)
	}
	var near []string
	for rows.Next() {
		var r string
		if err := rows.Scan(&r); err != nil {
			rows.Close()
			return fail(err)
		}
		near = append(near, warehouse.QuoteString(r))
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return fail(err)
	}
	// a list of constants: DuckDB filters the scan by it (a subquery
	// would be a join, read after every row's sha)
	inNear := "false"
	if len(near) > 0 {
		inNear = "repo IN (" + strings.Join(near, ", ") + ")"
	}
	dst = warehouse.QuoteIdent(dst)
	for _, s := range []string{
		`CREATE OR REPLACE TEMP TABLE inc_sought AS SELECT DISTINCT sha FROM (` + shas + `) WHERE sha IS NOT NULL`,
		`CREATE OR REPLACE TEMP TABLE ` + dst + ` AS SELECT DISTINCT sha, repo FROM commits
		 WHERE ` + inNear + ` AND sha IN (SELECT sha FROM temp.inc_sought)`,
		`DELETE FROM temp.inc_sought WHERE sha IN (SELECT sha FROM temp.` + dst + `)`,
	} {
		if _, err := tx.ExecContext(ctx, s); err != nil {
			return fail(err)
		}
	}
	var rest bool
	if err := tx.QueryRowContext(ctx, `SELECT EXISTS (FROM temp.inc_sought)`).Scan(&rest); err != nil {
		return fail(err)
	}
	if rest {
		if _, err := tx.ExecContext(ctx, `INSERT INTO temp.`+dst+` SELECT DISTINCT sha, repo FROM commits
			WHERE sha IN (SELECT sha FROM temp.inc_sought)`); err != nil {
			return fail(err)
		}
	}
	return nil
}

// changesNaming selects (service, ref) for every way a change is named
// (its id, its merge commit, one of its commits) whose ref is among refs
// (a query of one column, a few values): each way probes its own column
// with those values, rather than a join of every change. Not one scan
// with `id IN (refs) OR merge_commit_sha IN (refs)`: DuckDB plans the OR
// as two mark joins above a scan of every change. At full size (a team's
// 28,000 refs, seven million changes) that statement alone took
// 0.28–0.63 s against 0.06 s for the two filtered scans; in a one-team
// day the references step took 0.1–0.2 s less, the rest of its cost
// being the first read of the columns.
func changesNaming(refs string) string {
	return `SELECT lower(trim(service)) AS service, id AS ref FROM changes WHERE id IN (` + refs + `)
		UNION ALL SELECT lower(trim(service)), merge_commit_sha FROM changes WHERE merge_commit_sha IN (` + refs + `)
		UNION ALL SELECT service, ref FROM (SELECT lower(trim(service)) AS service, unnest(commit_shas) AS ref FROM changes WHERE len(commit_shas) > 0)
		WHERE ref IN (` + refs + `)`
}

// addChangeRefs adds to temp.inc_change_refs (service, ref, is_id) the
// ways the changes of the services of temp.inc_services not yet in it are
// named: id, merge commit, commits.
func addChangeRefs(ctx context.Context, tx *sql.Tx) error {
	in, err := inSet(ctx, tx, "lower(trim(service))", `SELECT service FROM temp.inc_services EXCEPT SELECT service FROM temp.inc_change_refs`)
	if err != nil {
		return err
	}
	for _, s := range []string{
		`INSERT INTO temp.inc_change_refs
		 WITH ch AS MATERIALIZED (
			SELECT lower(trim(service)) AS service, id, merge_commit_sha, commit_shas FROM changes
			WHERE ` + in + `
		 )
		 SELECT service, id, true FROM ch
		 UNION ALL SELECT service, merge_commit_sha, false FROM ch WHERE merge_commit_sha IS NOT NULL
		 UNION ALL SELECT service, unnest(commit_shas), false FROM ch WHERE len(commit_shas) > 0`,
	} {
		if _, err := tx.ExecContext(ctx, s); err != nil {
			return fmt.Errorf("transform: plan: change references: %w", err)
		}
	}
	return nil
}

// stepTimes collects how long each step of the planning took, for the
// progress line: the planning's cost should follow what changed.
type stepTimes struct {
	last  time.Time
	parts []string
}

func newStepTimes() *stepTimes { return &stepTimes{last: time.Now()} }

// mark ends a step.
func (s *stepTimes) mark(name string) {
	now := time.Now()
	s.parts = append(s.parts, name+" "+now.Sub(s.last).Round(time.Millisecond).String())
	s.last = now
}

// note adds a remark to the step just ended.
func (s *stepTimes) note(text string) {
	if len(s.parts) > 0 {
		s.parts[len(s.parts)-1] += " (" + text + ")"
	}
}

func (s *stepTimes) String() string { return strings.Join(s.parts, ", ") }

// idColumn is a column that identifies the rows of a table, for
// referenced: the names of kind are looked up in it, and svc gives the
// service of a row.
type idColumn struct{ kind, table, id, svc string }

// referenced pairs (a, b) each row of refs (a, ref, kind), a few rows that
// name another by id, with the service b of each row of the table of its
// kind whose id is ref. The rows named are found by one scan of each id
// column probed with the names, not a hash table of every id: joined the
// other way round, two tables of a million rows cost several times more.
func referenced(refs string, ids ...idColumn) string {
	parts := make([]string, len(ids))
	for i, c := range ids {
		kind := warehouse.QuoteString(c.kind)
		parts[i] = `SELECT r.a, t.b FROM (SELECT ` + c.id + ` AS ref, ` + c.svc + ` AS b FROM ` + c.table + `
			WHERE ` + c.id + ` IN (SELECT ref FROM r WHERE kind = ` + kind + `)) t
		JOIN r ON r.ref = t.ref AND r.kind = ` + kind
	}
	return `WITH r AS MATERIALIZED (SELECT a, ref, kind FROM (` + refs + `) WHERE ref IS NOT NULL)
		` + strings.Join(parts, "\nUNION ALL ")
}

// sameID selects the pairs of services one id of table was sent under,
// or is "" when at most one source sent the table (vals, RunValues). A
// source sends an id once, so an id sent twice was sent by a source other
// than the one that sent the most rows (main_source_<table>): only the
// ids the other sources sent are grouped. Grouping every id took 3.2 s
// of a one-team day at full size, where a file had sent 130 of seven
// million changes. Grouping the other sources' ids took 0.17 s with the
// main source found by a subquery, 0.12 s with it a constant (DuckDB
// skips its row groups by their zone maps); those ids as a list of
// constants cost more (the list is searched for every row's id).
func sameID(table string, vals map[string]any) string {
	several, _ := vals["several_sources_"+table].(bool)
	main, _ := vals["main_source_"+table].(string)
	if !several || main == "" {
		return ""
	}
	t := warehouse.QuoteIdent(table)
	return `SELECT l[1], unnest(l) FROM (
		SELECT list(DISTINCT lower(trim(service))) AS l FROM ` + t + `
		WHERE id IN (SELECT id FROM ` + t + ` WHERE source <> ` + warehouse.QuoteString(main) + `)
		GROUP BY id HAVING count(DISTINCT lower(trim(service))) > 1)`
}

var errUnbounded = fmt.Errorf("transform: unbounded")

// growServices adds to temp.inc_services, until nothing more is added,
// every service one reference links to one already in it: in the new
// rows (canonical tables) and in the marts of the last build.
func growServices(ctx context.Context, tx *sql.Tx, steps *stepTimes, wide bool, history unshared, vals map[string]any) error {
	// the set before it grows, as constants while few (inSet)
	inServices, err := inSet(ctx, tx, "lower(trim(service))", `SELECT service FROM temp.inc_services`)
	if err != nil {
		return err
	}
	// one id sent under two services (the first source wins in staging);
	// only possible when several sources sent the table
	var sameIDs []string
	for _, table := range []string{"deployments", "changes", "incidents", "support_tickets", "release_plans"} {
		if e := sameID(table, vals); e != "" {
			sameIDs = append(sameIDs, e)
		}
	}
	// pairs of services (a, b): rows of one can change rows of the other;
	// these are asked the same way of a narrow set and of a wide one
	common := []string{
		`SELECT service, deployed_service FROM fct_changes WHERE deployed_service <> service`,
		// rollbacks and hotfixes of another deployment, a hotfix of an
		// incident, an incident naming its deployment; every attribution
		// of the last build: the few rows that name one, joined to the
		// rows named (a hash table of the names, not of every id), each
		// table of ids read once
		referenced(`SELECT lower(trim(service)) AS a, unnest([rollback_of, hotfix_of, hotfix_of]) AS ref,
				unnest(['deployment', 'deployment', 'incident']) AS kind
			FROM deployments WHERE rollback_of IS NOT NULL OR hotfix_of IS NOT NULL
			UNION ALL SELECT lower(trim(service)), trim(caused_by_deployment), 'deployment' FROM incidents
			WHERE caused_by_deployment IS NOT NULL`,
			idColumn{"deployment", "deployments", "id", "lower(trim(service))"},
			idColumn{"incident", "incidents", "id", "lower(trim(service))"}),
		referenced(`SELECT service AS a, unnest([rollback_of, hotfix_of, hotfix_of]) AS ref,
				unnest(['deployment', 'deployment', 'incident']) AS kind
			FROM fct_deployments WHERE rollback_of IS NOT NULL OR hotfix_of IS NOT NULL
			UNION ALL SELECT service, attributed_deployment, 'deployment' FROM fct_incidents
			WHERE attributed_deployment IS NOT NULL`,
			idColumn{"deployment", "fct_deployments", "deployment_id", "service"},
			idColumn{"incident", "fct_incidents", "incident_id", "service"}),
		// a root-cause commit of an incident in the set, deployed or
		// carried by a change of another service
		referenced(`SELECT lower(trim(service)) AS a, trim(root_cause_sha) AS ref, 'commit' AS kind FROM incidents
			WHERE root_cause_sha IS NOT NULL AND `+inServices,
			idColumn{"commit", "deployments", "commit_sha", "lower(trim(service))"}),
	}
	// a wide set: every reference joined whole (the edges the probes
	// below find, for most services at once)
	wideEdges := []string{
		// a change list naming a change by id or by one of its shas
		`SELECT lower(trim(d.service)) AS a, k.service AS b
		 FROM (SELECT service, unnest(changes) AS ref FROM deployments WHERE len(changes) > 0) d
		 JOIN (SELECT lower(trim(service)) AS service, id AS ref FROM changes
		       UNION ALL SELECT lower(trim(service)), merge_commit_sha FROM changes WHERE merge_commit_sha IS NOT NULL
		       UNION ALL SELECT lower(trim(service)), unnest(commit_shas) FROM changes WHERE len(commit_shas) > 0) k
		   ON k.ref = d.ref
		 WHERE lower(trim(d.service)) IN (SELECT service FROM temp.inc_services)
		    OR k.service IN (SELECT service FROM temp.inc_services)`,
		`SELECT lower(trim(i.service)), k.service
		 FROM incidents i JOIN (SELECT lower(trim(service)) AS service, id AS ref FROM changes
		       UNION ALL SELECT lower(trim(service)), merge_commit_sha FROM changes WHERE merge_commit_sha IS NOT NULL
		       UNION ALL SELECT lower(trim(service)), unnest(commit_shas) FROM changes WHERE len(commit_shas) > 0) k
		   ON k.ref = trim(i.root_cause_sha)
		 WHERE lower(trim(i.service)) IN (SELECT service FROM temp.inc_services)`,
		// … or in the history of a repository another service deploys
		`WITH roots AS (
			SELECT DISTINCT lower(trim(i.service)) AS service, rc.repo
			FROM incidents i JOIN commits rc ON rc.sha = trim(i.root_cause_sha)
			WHERE lower(trim(i.service)) IN (SELECT service FROM temp.inc_services)
		 ), deployers AS (
			SELECT DISTINCT dc.repo, lower(trim(d.service)) AS service
			FROM deployments d
			JOIN (SELECT sha, repo FROM commits c SEMI JOIN roots r ON r.repo = c.repo) dc ON dc.sha = d.commit_sha
		 )
		 SELECT r.service, d.service FROM roots r JOIN deployers d ON d.repo = r.repo`,
	}
	edges := []string{
		// a change list naming a change by id or by one of its shas: the
		// lists of the set's deployments, and the lists naming the set's
		// changes
		`SELECT d.service AS a, k.service AS b FROM temp.inc_probe d JOIN temp.inc_probe_hits k ON k.ref = d.ref WHERE d.kind = 'list'`,
		`SELECT lower(trim(d.service)), k.service
		 FROM (SELECT service, ref FROM (SELECT service, unnest(changes) AS ref FROM deployments WHERE len(changes) > 0)
		       WHERE ref IN (SELECT ref FROM temp.inc_change_refs)) d
		 JOIN temp.inc_change_refs k ON k.ref = d.ref`,
		`SELECT i.service, k.service FROM temp.inc_probe i JOIN temp.inc_probe_hits k ON k.ref = i.ref WHERE i.kind = 'root'`,
	}
	// … or in the history of a repository another service deploys (the
	// deployments are probed with the repositories' shas: joined, DuckDB
	// hashes every deployment's sha, the larger side). The services
	// deploying a commit of a changed repository are seeds already: only
	// the other repositories are read.
	deployers := []string{
		`WITH rc AS MATERIALIZED (
			SELECT sha, repo FROM commits
			WHERE repo IN (SELECT repo FROM temp.inc_roots EXCEPT SELECT repo FROM temp.inc_repos)
		 ), deployed AS (
			SELECT DISTINCT commit_sha, lower(trim(service)) AS service FROM deployments
			WHERE commit_sha IN (SELECT sha FROM rc)
		 ), deployers AS (
			SELECT DISTINCT rc.repo, d.service FROM deployed d JOIN rc ON rc.sha = d.commit_sha
		 )
		 SELECT r.service, d.service FROM temp.inc_roots r JOIN deployers d ON d.repo = r.repo`,
	}
	if wide {
		edges = wideEdges
	} else if err := addChangeRefs(ctx, tx); err != nil {
		return err
	}
	edges = append(append(edges, common...), sameIDs...)
	// what the set's deployments list and its incidents blame, and the
	// changes so named (one probe of the changes for both); the
	// repositories of the set's root-cause commits
	for _, s := range []string{
		`CREATE OR REPLACE TEMP TABLE inc_probe AS
		 SELECT 'list' AS kind, lower(trim(service)) AS service, unnest(changes) AS ref FROM deployments
		 WHERE len(changes) > 0 AND ` + inServices + `
		 UNION ALL SELECT 'root', lower(trim(service)), trim(root_cause_sha) FROM incidents
		 WHERE root_cause_sha IS NOT NULL AND ` + inServices,
		`CREATE OR REPLACE TEMP TABLE inc_probe_hits AS ` + changesNaming("SELECT ref FROM temp.inc_probe"),
		`CREATE OR REPLACE TEMP TABLE inc_roots (service VARCHAR, repo VARCHAR)`,
	} {
		if wide {
			break
		}
		if _, err := tx.ExecContext(ctx, s); err != nil {
			return fmt.Errorf("transform: plan: references: %w", err)
		}
	}
	if !wide {
		if err := addRoots(ctx, tx); err != nil {
			return err
		}
		var beyond bool
		if err := tx.QueryRowContext(ctx, `SELECT EXISTS (SELECT repo FROM temp.inc_roots EXCEPT SELECT repo FROM temp.inc_repos)`).Scan(&beyond); err != nil {
			return fmt.Errorf("transform: plan: references: %w", err)
		}
		if beyond {
			edges = append(edges, deployers...)
		}
	}
	// each edge is its own statement: one statement of their union costs
	// twice their sum (its pipelines share the memory of the largest)
	if _, err := tx.ExecContext(ctx, `CREATE OR REPLACE TEMP TABLE inc_edges (a VARCHAR, b VARCHAR)`); err != nil {
		return fmt.Errorf("transform: plan: references: %w", err)
	}
	for _, e := range edges {
		if _, err := tx.ExecContext(ctx, `INSERT INTO temp.inc_edges SELECT DISTINCT * FROM (`+e+`) e(a, b) WHERE a IS NOT NULL AND b IS NOT NULL AND a <> b`); err != nil {
			return fmt.Errorf("transform: plan: references: %w\n%s", err, e)
		}
	}
	steps.mark("references")
	for i := 0; ; i++ {
		res, err := tx.ExecContext(ctx, `INSERT INTO temp.inc_services
			SELECT DISTINCT x FROM (
				SELECT b AS x FROM temp.inc_edges WHERE a IN (SELECT service FROM temp.inc_services)
				UNION SELECT a FROM temp.inc_edges WHERE b IN (SELECT service FROM temp.inc_services))
			WHERE x NOT IN (SELECT service FROM temp.inc_services)`)
		if err != nil {
			return fmt.Errorf("transform: plan: grow: %w", err)
		}
		n, _ := res.RowsAffected()
		if n == 0 {
			break
		}
		if i > 20 {
			// the edges were computed for the first set; a set that keeps
			// growing is rebuilt fully rather than chased
			return errUnbounded
		}
	}
	steps.mark("grow")
	// A root-cause commit may be walked to from another repository's
	// history: only repositories that share none are bounded.
	if wide {
		if _, err := tx.ExecContext(ctx, `CREATE OR REPLACE TEMP TABLE inc_roots AS `+rootRepos); err != nil {
			return fmt.Errorf("transform: plan: %w", err)
		}
	} else if err := addRoots(ctx, tx); err != nil {
		return err
	}
	if _, err := tx.ExecContext(ctx, `CREATE OR REPLACE TEMP TABLE inc_root_repos AS SELECT DISTINCT repo FROM temp.inc_roots`); err != nil {
		return fmt.Errorf("transform: plan: %w", err)
	}
	var n int
	if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM temp.inc_root_repos`).Scan(&n); err != nil {
		return err
	}
	if n > 0 {
		shared, err := history.check(ctx, tx, "temp.inc_root_repos", true, wide)
		if err != nil {
			return err
		}
		if shared {
			return errUnbounded
		}
	}
	return nil
}

// checkModels returns why the models cannot be rebuilt by service, or "".
// The intermediate models and the marts declared `-- incremental: service`
// are rebuilt for the set of services; they may read only staging an
// incremental run filters or reads whole. The other marts are rebuilt
// whole and must not read them (a mart view, which reads the marts as
// they are, may).
func checkModels(models []Model) string {
	byName := map[string]Model{}
	partial := map[string]bool{}
	for _, m := range models {
		byName[m.Name] = m
		key := m.incrementalKey()
		switch {
		case m.Materialized == "table_macro" && key == "team" && m.TestCall != "":
			continue // its test call is narrowed to teams (testTeams)
		case key != "" && key != "service" && !strings.HasPrefix(key, "service by "):
			return fmt.Sprintf("model %s: incremental must be `service` or `service by MART.COLUMN`, not %q", m.Name, key)
		case key != "" && m.Layer == "marts" && m.Materialized == "view" && key != "service":
			return fmt.Sprintf("model %s: a view can only be declared `incremental: service`", m.Name)
		case key != "" && (m.Layer != "marts" || (m.Materialized != "table" && m.Materialized != "view")):
			return fmt.Sprintf("model %s: only marts materialized as tables are merged by service", m.Name)
		}
		if m.Layer == "intermediate" || key != "" {
			partial[m.Name] = true
		}
	}
	for _, m := range models {
		for _, d := range m.Deps {
			dm := byName[d]
			switch {
			case partial[m.Name] && dm.Layer == "staging" && !filteredStaging[d] && !globalStaging[d]:
				return fmt.Sprintf("model %s reads %s, which an incremental run cannot filter by service", m.Name, d)
			case !partial[m.Name] && partial[d] && m.Layer == "marts" && m.Materialized != "view":
				return fmt.Sprintf("model %s, rebuilt whole, reads %s, rebuilt by service", m.Name, d)
			case m.Materialized == "view" && m.incrementalKey() == "service" && (dm.Layer != "marts" || dm.incrementalKey() != "service"):
				// its tests read it over those marts' rows of the rebuilt
				// services (freshRows)
				return fmt.Sprintf("model %s, a view declared incremental, reads %s, which is not a mart declared `incremental: service`", m.Name, d)
			}
		}
	}
	return ""
}

// errRetryFull asks Run for a full rebuild: the incremental run found a
// link it had not bounded beforehand.
var errRetryFull = fmt.Errorf("transform: retry as a full rebuild")

// stagingRE finds the staging models an incremental run filters.
var stagingRE = regexp.MustCompile(`\bstg_[a-z_]+\b`)

// incrementalModel returns how an incremental run builds m: its statement
// (filtered staging in place of the staging models it reads), what it is
// created as, whether it is a partial (temporary) rebuild, and whether it
// is skipped (the metric macros, unchanged with the fingerprint; the
// partial models when there is nothing of their kind to rebuild).
func incrementalModel(m Model, st sqlrun.Statement, kind string, p plan) (sqlrun.Statement, string, bool, bool) {
	key := m.incrementalKey()
	switch {
	case m.Layer == "metrics":
		return st, kind, false, true
	case m.Layer == "staging":
		return st, kind, false, false
	case m.Layer == "marts" && m.Materialized == "view":
		// a view reads the marts as they are: its definition is unchanged
		return st, kind, false, true
	case m.Layer == "intermediate" || key == "service":
		if len(p.services) == 0 {
			return st, kind, false, true
		}
		st.SQL = stagingRE.ReplaceAllStringFunc(st.SQL, func(name string) string {
			if name == "stg_commits" && p.graphRepos >= 0 {
				// the commits the rebuilt services' walks can reach (graphRepos)
				if p.graphRepoList != nil {
					return "(SELECT * FROM stg_commits WHERE " + inConstants("repo", p.graphRepoList) + ")"
				}
				return "(SELECT * FROM stg_commits WHERE repo IN (SELECT repo FROM temp.inc_graph_repos))"
			}
			if !filteredStaging[name] {
				return name
			}
			if p.narrow {
				return "temp.inc_" + name // stageFiltered
			}
			return "(" + filteredStagingRows(name, p) + ")"
		})
		if kind == "VIEW" {
			return st, "TEMP VIEW", true, false
		}
		return st, "TEMP TABLE", true, false
	}
	return st, kind, false, false
}

// filteredStagingRows selects the rows of staging model name an
// incremental run reads.
func filteredStagingRows(name string, p plan) string {
	cond := serviceIn("service", p)
	if name == "stg_incidents" {
		// every incident that claims a root-cause commit, so that
		// one of another service blamed on a rebuilt deployment
		// is seen (mergeIncremental)
		cond += " OR root_cause_sha IS NOT NULL"
	}
	return "SELECT * FROM " + name + " WHERE " + cond
}

// stageFiltered keeps, in a narrow incremental run, the rows of each
// filtered staging model m reads in the temporary table
// temp.inc_<model>, made the first time a model reads it (staged records
// which): the staging views read the canonical tables whole, and the
// intermediate models read the changes through several views, which
// would scan seven million rows again each time.
func stageFiltered(ctx context.Context, tx *sql.Tx, m Model, p plan, staged map[string]bool) error {
	if !p.narrow {
		return nil
	}
	for _, d := range m.Deps {
		if !filteredStaging[d] || staged[d] {
			continue
		}
		if _, err := tx.ExecContext(ctx, "CREATE OR REPLACE TEMP TABLE "+warehouse.QuoteIdent("inc_"+d)+" AS "+filteredStagingRows(d, p)); err != nil {
			return fmt.Errorf("transform: %s: %w", d, err)
		}
		staged[d] = true
	}
	return nil
}

// dropStaged drops the tables stageFiltered made.
func dropStaged(ctx context.Context, tx *sql.Tx, staged map[string]bool) error {
	for d := range staged {
		if _, err := tx.ExecContext(ctx, "DROP TABLE IF EXISTS temp."+warehouse.QuoteIdent("inc_"+d)); err != nil {
			return fmt.Errorf("transform: drop %s: %w", d, err)
		}
	}
	return nil
}

// mergeIncremental replaces, in each mart rebuilt by service or
// repository, the rows of the rebuilt services (repositories) with those
// of its temporary rebuild, then drops the temporary tables. A mart
// declared `-- incremental: service by MART.COLUMN` has no service column:
// its rows belong to the service of MART's row with the same COLUMN.
//
// It returns, for each key column of a merged mart that a relationships
// test points at ("mart.column"), how many of the mart's keys of the
// rebuilt services are gone (there before, not after), left in the table
// goneTable names for the tests (testRelation).
func mergeIncremental(ctx context.Context, tx *sql.Tx, models []Model, p plan) (map[string]int64, error) {
	gone := map[string]int64{}
	if len(p.services) > 0 {
		// An incident of a service outside the set that claims a commit a
		// rebuilt deployment shipped: its own row would change too.
		var n int
		if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM temp.fct_incidents
			WHERE attributed_deployment IS NOT NULL AND service NOT IN (SELECT service FROM temp.inc_services)`).Scan(&n); err != nil {
			return nil, fmt.Errorf("transform: merge: %w", err)
		}
		if n > 0 {
			return nil, errRetryFull
		}
	}
	// "main.x" would find temp.main.x first: name the file's catalog
	var catalog string
	if err := tx.QueryRowContext(ctx, "SELECT current_database()").Scan(&catalog); err != nil {
		return nil, fmt.Errorf("transform: merge: %w", err)
	}
	home := warehouse.QuoteIdent(catalog) + ".main."
	type target struct {
		name, del, ins string
	}
	var targets []target
	for _, m := range models {
		key, via, _ := strings.Cut(m.incrementalKey(), " by ")
		name := warehouse.QuoteIdent(m.Name)
		switch {
		case key == "service" && len(p.services) > 0 && m.Materialized == "table":
			in := serviceIn("service", p)
			del, ins := in, in
			if via != "" {
				mart, col, ok := strings.Cut(strings.TrimSpace(via), ".")
				if !ok {
					return nil, fmt.Errorf("transform: %s: incremental: want service by MART.COLUMN, not %q", m.Name, via)
				}
				c, mt := warehouse.QuoteIdent(col), warehouse.QuoteIdent(mart)
				del = c + " IN (SELECT " + c + " FROM " + home + mt + " WHERE " + in + ")"
				ins = c + " IN (SELECT " + c + " FROM temp." + mt + " WHERE " + in + ")"
			}
			targets = append(targets, target{m.Name, "DELETE FROM " + home + name + " WHERE " + del,
				"INSERT INTO " + home + name + " BY NAME SELECT * FROM temp." + name + " WHERE " + ins})
			// the keys of this mart that relationships tests point at and
			// that the merge takes away (testRelation)
			for _, ref := range parentKeys(models, m.Name) {
				c := warehouse.QuoteIdent(ref)
				table := goneTable(m.Name, ref)
				if _, err := tx.ExecContext(ctx, "CREATE OR REPLACE TEMP TABLE "+table+" AS SELECT "+c+" AS key FROM "+home+name+" WHERE "+del+
					" EXCEPT SELECT "+c+" FROM temp."+name+" WHERE "+ins); err != nil {
					return nil, fmt.Errorf("transform: merge %s: %w", m.Name, err)
				}
				var n int64
				if err := tx.QueryRowContext(ctx, "SELECT count(*) FROM temp."+table).Scan(&n); err != nil {
					return nil, fmt.Errorf("transform: merge %s: %w", m.Name, err)
				}
				gone[m.Name+"."+ref] = n
			}
		}
	}
	// delete readers first (a mart owned through another mart's rows finds
	// them before they go), insert in build order
	for i := len(targets) - 1; i >= 0; i-- {
		if _, err := tx.ExecContext(ctx, targets[i].del); err != nil {
			return nil, fmt.Errorf("transform: merge %s: %w", targets[i].name, err)
		}
	}
	for _, t := range targets {
		if _, err := tx.ExecContext(ctx, t.ins); err != nil {
			return nil, fmt.Errorf("transform: merge %s: %w", t.name, err)
		}
	}
	for _, t := range targets {
		if _, err := tx.ExecContext(ctx, "DROP TABLE temp."+warehouse.QuoteIdent(t.name)); err != nil {
			return nil, fmt.Errorf("transform: merge %s: %w", t.name, err)
		}
	}
	return gone, nil
}

// writeCoverage keeps coverage.Query's rows of the tables this run read in
// coverage.SnapshotTable: all of them in a full run; in an incremental one
// those of the sources whose rows of a table moved (temp.inc_changed_sources),
// since a kind's rows per source and day are counted from that source's
// rows alone.
func writeCoverage(ctx context.Context, tx *sql.Tx, p plan) error {
	where := ""
	if p.mode == "incremental" {
		sources := map[string][]string{}
		rows, err := tx.QueryContext(ctx, `SELECT "table", source FROM temp.inc_changed_sources ORDER BY ALL`)
		if err != nil {
			return fmt.Errorf("transform: coverage: %w", err)
		}
		for rows.Next() {
			var t string
			var src sql.NullString
			if err := rows.Scan(&t, &src); err != nil {
				rows.Close()
				return fmt.Errorf("transform: coverage: %w", err)
			}
			sources[t] = append(sources[t], src.String)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return fmt.Errorf("transform: coverage: %w", err)
		}
		var conds []string
		for _, e := range coverage.EventTimes() {
			if src := sources[e.Table]; len(src) > 0 {
				conds = append(conds, "(kind = "+warehouse.QuoteString(e.Kind)+" AND "+inConstants("source", src)+")")
			}
		}
		if len(conds) == 0 {
			return nil
		}
		where = " WHERE " + strings.Join(conds, " OR ")
	}
	snap := coverage.SnapshotTable
	for _, s := range []string{"DELETE FROM " + snap + where, "INSERT INTO " + snap + " SELECT * FROM (" + coverage.Query() + ")" + where} {
		if _, err := tx.ExecContext(ctx, s); err != nil {
			return fmt.Errorf("transform: coverage: %w", err)
		}
	}
	return nil
}

// scopedTests reports whether an incremental run checks the tests of m on
// the rows it rebuilt (testRelation) rather than on the whole mart: m is
// a table merged by its own service column or a view declared so
// (freshRows), and the run is narrow (when most services were rebuilt,
// the one scan of screenTests over the whole mart costs less than the
// join that finds the rows sharing a key).
func scopedTests(m Model, scope *plan) bool {
	if scope == nil || !scope.narrow || len(scope.services) == 0 {
		return false
	}
	_, ok := freshRows(m, scope)
	return ok
}

// freshRows selects the rows of mart m that the run rebuilt, or says
// there is no such selection. A table merged by its own service column:
// its rows of the rebuilt services. A view declared `incremental:
// service`, which shows the rows of the marts it reads one for one (a
// projection and a filter of one row at a time, no join, no aggregate;
// checkModels holds it to reading marts declared so): its statement over
// those marts' fresh rows, so that a row of the view is fresh exactly when
// the row it shows is.
func freshRows(m Model, scope *plan) (string, bool) {
	if m.Layer != "marts" || m.incrementalKey() != "service" {
		return "", false
	}
	switch m.Materialized {
	case "table":
		return "SELECT * FROM " + warehouse.QuoteIdent(m.Name) + " WHERE " + serviceIn("service", *scope), true
	case "view":
		if m.script == nil || len(m.script.Statements) != 1 || len(m.script.Statements[0].Variables) > 0 || len(m.script.Statements[0].Params) > 0 {
			return "", false
		}
		q := m.script.Statements[0].SQL
		for _, d := range m.Deps {
			dm, ok := scope.models[d]
			if !ok {
				return "", false
			}
			f, ok := freshRows(dm, scope)
			if !ok {
				return "", false
			}
			q = regexp.MustCompile(`\b`+regexp.QuoteMeta(d)+`\b`).ReplaceAllLiteralString(q, "("+f+")")
		}
		return q, true
	}
	return "", false
}

// parentKeys returns the columns of mart that the relationships tests of
// models point at (mart.column).
func parentKeys(models []Model, mart string) []string {
	var out []string
	for _, m := range models {
		for _, t := range m.Tests {
			if tm, tc, ok := relationshipTarget(t); ok && tm == mart && !slices.Contains(out, tc) {
				out = append(out, tc)
			}
		}
	}
	sort.Strings(out)
	return out
}

// relationshipTarget returns the parent model and column of a
// relationships test.
func relationshipTarget(t Test) (string, string, bool) {
	if t.Kind != "relationships" {
		return "", "", false
	}
	_, target, ok := strings.Cut(t.Args, "->")
	if !ok {
		return "", "", false
	}
	tm, tc, ok := strings.Cut(strings.TrimSpace(target), ".")
	return strings.TrimSpace(tm), strings.TrimSpace(tc), ok
}

// goneTable names the temporary table of the keys of mart.col the merge
// removed (mergeIncremental).
func goneTable(mart, col string) string {
	return warehouse.QuoteIdent("inc_gone_" + mart + "_" + col)
}

// dropGone drops the tables goneTable names.
func dropGone(ctx context.Context, tx *sql.Tx, gone map[string]int64) error {
	for k := range gone {
		mart, col, _ := strings.Cut(k, ".")
		if _, err := tx.ExecContext(ctx, "DROP TABLE IF EXISTS temp."+goneTable(mart, col)); err != nil {
			return fmt.Errorf("transform: drop %s: %w", k, err)
		}
	}
	return nil
}

// testRelation is what test t of m reads. In an incremental run, a mart
// merged by service holds the rows of the rebuilt services, new, and the
// rows of every other service as the last build left them, when all of
// its tests passed (the build commits only then, and a change of a test
// is a change of the fingerprint: a full rebuild); a view declared
// `incremental: service` shows those rows one for one (freshRows), so
// the same holds for its rows. Each scoped relation below is a set of
// rows of the whole relation, so a test that fails on it fails on the
// whole; and it holds every row that can fail:
//
//   - not_null, accepted_values look at one row at a time: a kept row
//     passed before and is the same row, so only fresh rows can fail;
//   - unique fails on a key two rows share; two kept rows sharing it
//     would have failed before, so one of them is fresh: the rows whose
//     key is a fresh row's key;
//   - relationships fails on a child row whose key no parent row has. A
//     fresh child row is checked as it is. A kept child row had its
//     parent in the last build; its parent can be gone only when the
//     parent mart is merged by service and the merge removed that key
//     (deleted with the rebuilt services' old rows and not put back by
//     their new ones: goneTable): the kept child rows naming a gone key.
//     A parent rebuilt whole may lose any key: the whole child is read.
//
// Fresh rows are few, and a table's rows of a few services are found by
// the min/max of its row groups; a unique test's join and a gone key's
// probe read one column of the mart.
func testRelation(m Model, t Test, scope *plan) string {
	if scope != nil && scope.teams != nil && m.Materialized == "table_macro" && m.incrementalKey() == "team" {
		call := strings.TrimSpace(m.TestCall)
		if strings.HasSuffix(call, ")") {
			return "(FROM " + call[:len(call)-1] + ", teams := getvariable('" + testTeamsVar + "')))"
		}
	}
	if !scopedTests(m, scope) {
		return m.relation()
	}
	fresh, _ := freshRows(m, scope)
	whole := m.relation()
	switch t.Kind {
	case "not_null", "accepted_values":
		return "(" + fresh + ")"
	case "unique":
		cs, err := cols(t.Args)
		if err != nil {
			return whole // the test's own query reports it
		}
		on := make([]string, len(cs))
		for i, c := range cs {
			c = warehouse.QuoteIdent(c)
			on[i] = "k." + c + " IS NOT DISTINCT FROM m." + c
			cs[i] = c
		}
		return "(SELECT m.* FROM " + whole + " m SEMI JOIN (SELECT DISTINCT " + strings.Join(cs, ", ") + " FROM (" + fresh + ")) k ON " + strings.Join(on, " AND ") + ")"
	case "relationships":
		tm, tc, ok := relationshipTarget(t)
		col, _, _ := strings.Cut(t.Args, "->")
		pm, known := scope.models[tm]
		if !ok || !known || pm.Materialized != "table" || !strings.HasPrefix(pm.incrementalKey(), "service") {
			return whole
		}
		n, merged := scope.gone[tm+"."+tc]
		if !merged {
			return whole
		}
		if n == 0 {
			return "(" + fresh + ")"
		}
		return "(" + fresh + " UNION ALL SELECT * FROM " + whole + " WHERE " + warehouse.QuoteIdent(strings.TrimSpace(col)) +
			" IN (SELECT key FROM temp." + goneTable(tm, tc) + "))"
	}
	return whole
}

// testTeamsVar is the variable holding the teams a narrowed metric test
// call reads.
const testTeamsVar = "incremental_test_teams"

// testTeams narrows, in a narrow incremental run, the test calls of the
// metric macros declared `-- incremental: team` to the teams the rebuilt
// rows count for: it sets p.teams and the variable testTeamsVar, when it
// can.
//
// Such a macro's test call groups its rows by team, and a team's rows
// are computed from the marts' rows that count for that team's services
// only, so the call with teams := [T…] returns exactly the whole call's
// rows of T… (the scope the argument is for). The marts' rows outside the
// rebuilt services are as the last build left them, and they count for
// the teams of their services or, for a change, of the service that
// deployed it (fct_change_rows.deployed_team). So a team none of whose
// services was rebuilt, and for which no rebuilt change counts now, has
// the rows the last build's tests passed on, when they read the same
// window (metric_test_lo, metric_test_hi: the month of the latest
// deployment and the one before, kept in transform_state); else every
// team is read. (A rebuilt change that counted for another service's
// team in the last build brought that service into the run: the planning
// follows every deployed_service of the old marts.) A unique or not_null
// test of the call then fails exactly when it fails on the rows of the
// teams read.
func testTeams(ctx context.Context, tx *sql.Tx, p *plan, vals map[string]any) error {
	if !p.narrow || len(p.services) == 0 {
		return nil
	}
	var lo, hi *time.Time
	switch err := tx.QueryRowContext(ctx, `SELECT metric_test_lo, metric_test_hi FROM transform_state`).Scan(&lo, &hi); {
	case err == sql.ErrNoRows:
		return nil
	case err != nil:
		return fmt.Errorf("transform: test window: %w", err)
	}
	same := func(a *time.Time, b any) bool {
		t, ok := b.(time.Time)
		return a != nil && ok && a.Equal(t)
	}
	if !same(lo, vals["metric_test_lo"]) || !same(hi, vals["metric_test_hi"]) {
		return nil
	}
	teams := []string{}
	rows, err := tx.QueryContext(ctx, `SELECT DISTINCT team FROM (
			SELECT team FROM dim_services WHERE `+serviceIn("service", *p)+`
			UNION ALL SELECT deployed_team FROM fct_change_rows WHERE `+serviceIn("service", *p)+`
		) WHERE team IS NOT NULL ORDER BY 1`)
	if err != nil {
		return fmt.Errorf("transform: test teams: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var t string
		if err := rows.Scan(&t); err != nil {
			return err
		}
		teams = append(teams, t)
	}
	if err := rows.Err(); err != nil {
		return err
	}
	if len(teams) == 0 {
		return nil // teams := [] is every team
	}
	lits := make([]string, len(teams))
	for i, t := range teams {
		lits[i] = warehouse.QuoteString(t)
	}
	if _, err := tx.ExecContext(ctx, "SET VARIABLE "+testTeamsVar+" = ["+strings.Join(lits, ", ")+"]::VARCHAR[]"); err != nil {
		return fmt.Errorf("transform: test teams: %w", err)
	}
	p.teams = teams
	return nil
}
