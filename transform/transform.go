// Package transform rebuilds the marts from the canonical tables with layered
// SQL models (staging → intermediate → marts), the way dbt projects are laid
// out: one model per embedded .sql file, dependencies found from the names of
// other models in the SQL, every model built with CREATE OR REPLACE inside one
// transaction, then the tests declared in each model's header run against the
// result. A failed build or test rolls everything back, so the previous marts
// stay intact.
//
// A model's header is its leading comment block:
//
//	-- materialized: view            (view, temp or table; see below)
//	-- test: unique(deployment_id)
//	-- test: not_null(deployment_id, service)
//	-- test: accepted_values(link_rule: explicit, commit_graph, time)
//	-- test: relationships(deployment_id -> fct_deployments.deployment_id)
//
// Materialization defaults by layer: staging models are views (rename and
// cast, read once), intermediate models are temporary tables that live for
// the run only (nothing downstream of the marts reads them, and they are not
// written to disk), marts are tables. DuckDB keeps a temporary table's
// memory until the transaction ends, even once it is dropped, so the
// intermediate models are kept narrow (integer ids) and the wide or merely
// derived ones (int_changes, int_change_shas) are views.
//
// Configuration reaches the SQL through the one-row table `cfg`, written from
// config.Metrics, controls.pre_approved_standard and the calendar (staging
// environment names, freezes resolved to instants in their time zones)
// before the models run; names in it are keys (config.Key), as staging
// keys the data. No model hard-codes a setting. Where
// a setting must be a constant for speed (a regular expression DuckDB should
// compile once, not per row), a model writes {{cfg.NAME}} and the runner puts
// the value in as a quoted SQL literal (NULL when unset). Likewise
// {{several_sources.TABLE}} (changes, deployments, support_tickets, adoption)
// is true or false: whether more than one source had sent rows of that kind
// when the run started. A view whose SQL holds such a constant, or that
// reads a temporary table or view, is created as a TEMP VIEW, so that it
// never outlives the run it was written for (nor points at tables that are
// gone).
package transform

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"io"
	"io/fs"
	"regexp"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/shiplog/shiplog/ingest"
	"github.com/shiplog/shiplog/internal/config"
	"github.com/shiplog/shiplog/internal/warehouse"
	"github.com/shiplog/shiplog/transform/models/intermediate"
	"github.com/shiplog/shiplog/transform/models/marts"
	"github.com/shiplog/shiplog/transform/models/staging"
)

// Options tune a run.
type Options struct {
	// Progress receives one line per model with its timing (stderr); nil
	// discards it.
	Progress io.Writer
	// Mappers rebuild sources' canonical rows from their raw tables before
	// the models run.
	Mappers []ingest.Mapper
}

// Layer is a folder of models.
type Layer struct {
	Name string
	FS   fs.FS
}

// Layers are the built-in model folders in build order of preference.
var Layers = []Layer{
	{"staging", staging.FS},
	{"intermediate", intermediate.FS},
	{"marts", marts.FS},
}

// Model is one .sql file.
type Model struct {
	Name         string // file name without .sql: the table or view it builds
	Layer        string
	SQL          string // the SELECT, header included
	Materialized string // view, temp or table
	Tests        []Test
	Deps         []string
}

// Test is one declared model test.
type Test struct {
	Kind string // unique, not_null, accepted_values, relationships
	Args string // as written between the parentheses
}

// TestFailure reports a declared test that found rows.
type TestFailure struct {
	Model   string
	Test    Test
	Count   int64
	Example []string // up to five failing rows, formatted
}

func (f TestFailure) String() string {
	return fmt.Sprintf("%s: %s(%s) failed on %d row(s): %s", f.Model, f.Test.Kind, f.Test.Args, f.Count, strings.Join(f.Example, "; "))
}

// TestError is returned when declared tests fail; the run was rolled back.
type TestError struct{ Failures []TestFailure }

func (e *TestError) Error() string {
	lines := make([]string, len(e.Failures))
	for i, f := range e.Failures {
		lines[i] = f.String()
	}
	return "transform: model tests failed, previous marts kept:\n  " + strings.Join(lines, "\n  ")
}

// Load reads the models of layers and returns them in dependency order.
func Load(layers []Layer) ([]Model, error) {
	var models []Model
	seen := map[string]string{}
	for _, l := range layers {
		entries, err := fs.ReadDir(l.FS, ".")
		if err != nil {
			return nil, err
		}
		for _, e := range entries {
			if e.IsDir() || !strings.HasSuffix(e.Name(), ".sql") {
				continue
			}
			b, err := fs.ReadFile(l.FS, e.Name())
			if err != nil {
				return nil, err
			}
			m, err := parseModel(l.Name, e.Name(), string(b))
			if err != nil {
				return nil, err
			}
			if prev, ok := seen[m.Name]; ok {
				return nil, fmt.Errorf("transform: model %s defined in both %s and %s", m.Name, prev, l.Name)
			}
			seen[m.Name] = l.Name
			models = append(models, m)
		}
	}
	return order(models)
}

var defaultMaterialized = map[string]string{"staging": "view", "intermediate": "temp", "marts": "table"}

var identRe = regexp.MustCompile(`[A-Za-z_][A-Za-z0-9_]*`)

func parseModel(layer, file, text string) (Model, error) {
	m := Model{Name: strings.TrimSuffix(file, ".sql"), Layer: layer, SQL: text, Materialized: defaultMaterialized[layer]}
	if m.Materialized == "" {
		m.Materialized = "table"
	}
	where := layer + "/" + file
	for i, line := range strings.Split(text, "\n") {
		t := strings.TrimSpace(line)
		if t == "" {
			continue
		}
		if !strings.HasPrefix(t, "--") {
			break
		}
		t = strings.TrimSpace(strings.TrimPrefix(t, "--"))
		key, val, ok := strings.Cut(t, ":")
		if !ok {
			continue
		}
		val = strings.TrimSpace(val)
		switch strings.TrimSpace(key) {
		case "materialized":
			if val != "table" && val != "view" && val != "temp" {
				return m, fmt.Errorf("transform: %s:%d: materialized must be view, temp or table, not %q", where, i+1, val)
			}
			m.Materialized = val
		case "test":
			open := strings.Index(val, "(")
			if open < 0 || !strings.HasSuffix(val, ")") {
				return m, fmt.Errorf("transform: %s:%d: test must look like kind(args), not %q", where, i+1, val)
			}
			tst := Test{Kind: strings.TrimSpace(val[:open]), Args: strings.TrimSpace(val[open+1 : len(val)-1])}
			if _, err := tst.query(m.Name); err != nil {
				return m, fmt.Errorf("transform: %s:%d: %w", where, i+1, err)
			}
			m.Tests = append(m.Tests, tst)
		}
	}
	return m, nil
}

// stripComments removes -- comments and string literals so that dependency
// scanning sees identifiers only.
func stripComments(s string) string {
	var b strings.Builder
	for _, line := range strings.Split(s, "\n") {
		if i := strings.Index(line, "--"); i >= 0 {
			line = line[:i]
		}
		b.WriteString(line)
		b.WriteByte('\n')
	}
	return regexp.MustCompile(`'[^']*'`).ReplaceAllString(b.String(), "''")
}

// order finds each model's dependencies (names of other models in its SQL)
// and sorts topologically, keeping layer then name order among equals.
func order(models []Model) ([]Model, error) {
	byName := map[string]int{}
	for i, m := range models {
		byName[m.Name] = i
	}
	for i := range models {
		deps := map[string]bool{}
		for _, id := range identRe.FindAllString(stripComments(models[i].SQL), -1) {
			id = strings.ToLower(id)
			if _, ok := byName[id]; ok && id != models[i].Name {
				deps[id] = true
			}
		}
		for d := range deps {
			models[i].Deps = append(models[i].Deps, d)
		}
		sort.Strings(models[i].Deps)
	}
	state := map[string]int{} // 1 visiting, 2 done
	var out []Model
	var visit func(name string, path []string) error
	visit = func(name string, path []string) error {
		switch state[name] {
		case 1:
			return fmt.Errorf("transform: dependency cycle: %s", strings.Join(append(path, name), " → "))
		case 2:
			return nil
		}
		state[name] = 1
		m := models[byName[name]]
		for _, d := range m.Deps {
			if err := visit(d, append(path, name)); err != nil {
				return err
			}
		}
		state[name] = 2
		out = append(out, m)
		return nil
	}
	for _, m := range models {
		if err := visit(m.Name, nil); err != nil {
			return nil, err
		}
	}
	return out, nil
}

var colRe = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)

func cols(s string) ([]string, error) {
	var out []string
	for _, c := range strings.Split(s, ",") {
		c = strings.TrimSpace(c)
		if !colRe.MatchString(c) {
			return nil, fmt.Errorf("bad column name %q", c)
		}
		out = append(out, c)
	}
	return out, nil
}

// query returns SQL selecting the rows that break the test.
func (t Test) query(model string) (string, error) {
	q := warehouse.QuoteIdent
	switch t.Kind {
	case "unique":
		cs, err := cols(t.Args)
		if err != nil {
			return "", fmt.Errorf("unique: %w", err)
		}
		list := make([]string, len(cs))
		for i, c := range cs {
			list[i] = q(c)
		}
		l := strings.Join(list, ", ")
		return fmt.Sprintf("SELECT %s, count(*) AS n FROM %s GROUP BY ALL HAVING count(*) > 1", l, q(model)), nil
	case "not_null":
		cond, err := t.rowCondition()
		if err != nil {
			return "", err
		}
		return fmt.Sprintf("SELECT * FROM %s WHERE %s", q(model), cond), nil
	case "accepted_values":
		cond, err := t.rowCondition()
		if err != nil {
			return "", err
		}
		col, _, _ := strings.Cut(t.Args, ":")
		return fmt.Sprintf("SELECT %s, count(*) AS n FROM %s WHERE %s GROUP BY ALL",
			q(strings.TrimSpace(col)), q(model), cond), nil
	case "relationships":
		col, target, ok := strings.Cut(t.Args, "->")
		if !ok {
			return "", fmt.Errorf("relationships: want (column -> model.column)")
		}
		tm, tc, ok := strings.Cut(strings.TrimSpace(target), ".")
		cs, err := cols(col)
		if err != nil || len(cs) != 1 || !ok || !colRe.MatchString(tm) || !colRe.MatchString(tc) {
			return "", fmt.Errorf("relationships: want (column -> model.column)")
		}
		return fmt.Sprintf("SELECT DISTINCT c.%s FROM %s c ANTI JOIN %s p ON p.%s = c.%s WHERE c.%s IS NOT NULL",
			q(cs[0]), q(model), q(tm), q(tc), q(cs[0]), q(cs[0])), nil
	}
	return "", fmt.Errorf("unknown test kind %q (unique, not_null, accepted_values, relationships)", t.Kind)
}

// rowCondition returns the condition that marks a row breaking a row-wise
// test (not_null, accepted_values), the same condition its query uses, or ""
// for tests that compare rows (unique, relationships).
func (t Test) rowCondition() (string, error) {
	q := warehouse.QuoteIdent
	switch t.Kind {
	case "not_null":
		cs, err := cols(t.Args)
		if err != nil {
			return "", fmt.Errorf("not_null: %w", err)
		}
		conds := make([]string, len(cs))
		for i, c := range cs {
			conds[i] = q(c) + " IS NULL"
		}
		return strings.Join(conds, " OR "), nil
	case "accepted_values":
		col, vals, ok := strings.Cut(t.Args, ":")
		if !ok {
			return "", fmt.Errorf("accepted_values: want (column: value, value …)")
		}
		cs, err := cols(col)
		if err != nil || len(cs) != 1 {
			return "", fmt.Errorf("accepted_values: one column expected")
		}
		var lits []string
		for _, v := range strings.Split(vals, ",") {
			lits = append(lits, warehouse.QuoteString(strings.TrimSpace(v)))
		}
		return fmt.Sprintf("%s IS NOT NULL AND %s NOT IN (%s)", q(cs[0]), q(cs[0]), strings.Join(lits, ", ")), nil
	}
	return "", nil
}

// Run calls each mapper, then rebuilds every model and runs the declared
// tests, all in one transaction.
func Run(ctx context.Context, db *warehouse.DB, cfg *config.Config, opts Options) error {
	progress := opts.Progress
	if progress == nil {
		progress = io.Discard
	}
	for _, m := range opts.Mappers {
		start := time.Now()
		if err := m.Map(ctx, db); err != nil {
			return fmt.Errorf("transform: mapper %s: %w", m.Name(), err)
		}
		fmt.Fprintf(progress, "mapped %-28s %8s\n", m.Name(), since(start))
	}
	models, err := Load(Layers)
	if err != nil {
		return err
	}
	return build(ctx, db, cfg, models, progress)
}

func since(t time.Time) string {
	return time.Since(t).Round(time.Millisecond).String()
}

func build(ctx context.Context, db *warehouse.DB, cfg *config.Config, models []Model, progress io.Writer) (err error) {
	total := time.Now()
	conn, err := db.Conn(ctx)
	if err != nil {
		return err
	}
	defer conn.Close()
	// ASOF joins against tables built earlier in this transaction must not
	// fall back to nested loops on their (unknown) size estimates.
	if _, err = conn.ExecContext(ctx, "SET asof_loop_join_threshold = 0"); err != nil {
		return fmt.Errorf("transform: %w", err)
	}
	defer conn.ExecContext(context.WithoutCancel(ctx), "RESET asof_loop_join_threshold")
	// No model relies on insertion order (the narrower marts that are read
	// by time say ORDER BY), and keeping it forces order-preserving,
	// memory-hungry plans.
	if _, err = conn.ExecContext(ctx, "SET preserve_insertion_order = false"); err != nil {
		return fmt.Errorf("transform: %w", err)
	}
	defer conn.ExecContext(context.WithoutCancel(ctx), "RESET preserve_insertion_order")
	// The marts are rewritten on every run, and choosing FSST for their
	// string columns (ids, titles) costs about a third of writing them while
	// saving only file space; dictionary compression still applies.
	if _, err = conn.ExecContext(ctx, "SET disabled_compression_methods = 'fsst'"); err != nil {
		return fmt.Errorf("transform: %w", err)
	}
	defer conn.ExecContext(context.WithoutCancel(ctx), "RESET disabled_compression_methods")
	tx, err := conn.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer func() {
		if err != nil {
			_ = tx.Rollback()
		}
	}()
	consts, err := writeCfg(ctx, tx, cfg)
	if err != nil {
		return err
	}
	// A temporary model is dropped as soon as the last model reading it is
	// built, which keeps memory for the big joins that follow.
	lastUse := map[string]int{}
	for i, m := range models {
		for _, d := range m.Deps {
			lastUse[d] = i
		}
	}
	for _, m := range models {
		if len(m.Tests) > 0 {
			lastUse[m.Name] = len(models) // tests read it at the end
		}
	}
	// A view reads its inputs whenever it is read: extend their use to the
	// view's last reader (reverse order sees a view before its inputs).
	for i := len(models) - 1; i >= 0; i-- {
		if m := models[i]; m.Materialized == "view" {
			for _, d := range m.Deps {
				lastUse[d] = max(lastUse[d], lastUse[m.Name])
			}
		}
	}
	temps := map[string]bool{}
	runOnly := map[string]bool{} // temporary tables and views of this run
	for i, m := range models {
		start := time.Now()
		sqlText := consts.Replace(m.SQL)
		kind := map[string]string{"view": "VIEW", "temp": "TEMP TABLE", "table": "TABLE"}[m.Materialized]
		if kind == "VIEW" && (sqlText != m.SQL || slices.ContainsFunc(m.Deps, func(d string) bool { return runOnly[d] })) {
			// a view holding this run's constants, or reading what lives
			// for the run only, must not outlive the run
			kind = "TEMP VIEW"
		}
		if kind == "TEMP VIEW" || kind == "TEMP TABLE" {
			runOnly[m.Name] = true
		}
		// A name is one thing at a time: drop what an earlier run or an
		// older materialization left in the main schema.
		for _, k := range []string{"VIEW", "TABLE"} {
			if k == kind {
				continue
			}
			if _, err = tx.ExecContext(ctx, fmt.Sprintf("DROP %s IF EXISTS main.%s", k, warehouse.QuoteIdent(m.Name))); err != nil {
				if !strings.Contains(err.Error(), "Catalog Error") {
					return fmt.Errorf("transform: %s: %w", m.Name, err)
				}
				err = nil
			}
		}
		if native, ok := natives[m.Name]; ok && m.Materialized == "temp" {
			// same transaction: the native model runs on conn, which tx holds
			err = native(ctx, conn)
		} else {
			stmt := fmt.Sprintf("CREATE OR REPLACE %s %s AS\n%s", kind, warehouse.QuoteIdent(m.Name), sqlText)
			_, err = tx.ExecContext(ctx, stmt)
		}
		if err != nil {
			return fmt.Errorf("transform: model %s/%s: %w", m.Layer, m.Name, err)
		}
		if m.Materialized == "temp" {
			temps[m.Name] = true
		}
		for _, d := range m.Deps {
			if temps[d] && lastUse[d] == i {
				if _, err = tx.ExecContext(ctx, "DROP TABLE temp."+warehouse.QuoteIdent(d)); err != nil {
					return fmt.Errorf("transform: drop %s: %w", d, err)
				}
				delete(temps, d)
			}
		}
		fmt.Fprintf(progress, "[%2d/%d] %-12s %-30s %8s\n", i+1, len(models), m.Layer, m.Name, since(start))
	}
	start := time.Now()
	failures, n, err := runTests(ctx, tx, models)
	if err != nil {
		return err
	}
	fmt.Fprintf(progress, "tests: %d run, %d failed %8s\n", n, len(failures), since(start))
	if len(failures) > 0 {
		err = &TestError{Failures: failures}
		return err
	}
	if err = tx.Commit(); err != nil {
		return fmt.Errorf("transform: commit: %w", err)
	}
	fmt.Fprintf(progress, "transform done in %s\n", since(total))
	return nil
}

type querier interface {
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

// RunTests runs the declared tests of models against db and returns the
// failures.
func RunTests(ctx context.Context, db *warehouse.DB, models []Model) ([]TestFailure, error) {
	f, _, err := runTests(ctx, db, models)
	return f, err
}

func runTests(ctx context.Context, q querier, models []Model) ([]TestFailure, int, error) {
	var failures []TestFailure
	n := 0
	for _, m := range models {
		// The tests of one model that a scan can decide run together in a
		// single query first; see screenTests.
		passed, err := screenTests(ctx, q, m)
		if err != nil {
			return nil, n, err
		}
		for i, t := range m.Tests {
			n++
			if passed[i] {
				continue
			}
			sqlText, err := t.query(m.Name)
			if err != nil {
				return nil, n, err
			}
			rows, err := q.QueryContext(ctx, fmt.Sprintf("SELECT count(*) OVER () AS failing, * FROM (%s) LIMIT 5", sqlText))
			if err != nil {
				return nil, n, fmt.Errorf("transform: test %s %s(%s): %w", m.Name, t.Kind, t.Args, err)
			}
			fl, err := collect(rows, m.Name, t)
			if err != nil {
				return nil, n, err
			}
			if fl != nil {
				failures = append(failures, *fl)
			}
		}
	}
	return failures, n, nil
}

// screenTests checks the tests of m that one scan of the model can decide
// (not_null, accepted_values, unique) in a single query and reports which
// of them surely pass; only a test not marked passed runs its own query for
// the count and examples it reports. A row-wise test passes when no row
// meets its condition; a unique test passes when its columns' hashes are
// all distinct (equal values, NULLs included, hash equally, so distinct
// hashes mean distinct values; a hash collision only costs the exact query).
// Relationships tests are never marked passed here.
func screenTests(ctx context.Context, q querier, m Model) ([]bool, error) {
	passed := make([]bool, len(m.Tests))
	var idx []int
	var exprs []string
	for i, t := range m.Tests {
		expr, err := t.screen()
		if err != nil {
			return nil, fmt.Errorf("transform: test %s %s(%s): %w", m.Name, t.Kind, t.Args, err)
		}
		if expr == "" {
			continue
		}
		idx = append(idx, i)
		exprs = append(exprs, expr)
	}
	if len(idx) == 0 {
		return passed, nil
	}
	vals := make([]int64, len(idx))
	ptrs := make([]any, len(idx))
	for i := range vals {
		ptrs[i] = &vals[i]
	}
	if err := q.QueryRowContext(ctx, fmt.Sprintf("SELECT %s FROM %s", strings.Join(exprs, ", "), warehouse.QuoteIdent(m.Name))).Scan(ptrs...); err != nil {
		return nil, fmt.Errorf("transform: tests of %s: %w", m.Name, err)
	}
	for j, i := range idx {
		passed[i] = vals[j] == 0
	}
	return passed, nil
}

// screen returns an aggregate that is 0 when the test surely passes, or ""
// for tests that need their own query (relationships).
func (t Test) screen() (string, error) {
	if t.Kind == "unique" {
		cs, err := cols(t.Args)
		if err != nil {
			return "", fmt.Errorf("unique: %w", err)
		}
		list := make([]string, len(cs))
		for i, c := range cs {
			list[i] = warehouse.QuoteIdent(c)
		}
		return fmt.Sprintf("count(*) - count(DISTINCT hash(%s))", strings.Join(list, ", ")), nil
	}
	cond, err := t.rowCondition()
	if err != nil || cond == "" {
		return "", err
	}
	return fmt.Sprintf("count(*) FILTER (WHERE %s)", cond), nil
}

func collect(rows *sql.Rows, model string, t Test) (*TestFailure, error) {
	defer rows.Close()
	colNames, err := rows.Columns()
	if err != nil {
		return nil, err
	}
	var fl *TestFailure
	for rows.Next() {
		vals := make([]any, len(colNames))
		ptrs := make([]any, len(vals))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		if err := rows.Scan(ptrs...); err != nil {
			return nil, err
		}
		if fl == nil {
			fl = &TestFailure{Model: model, Test: t, Count: vals[0].(int64)}
		}
		parts := make([]string, 0, len(colNames)-1)
		for i := 1; i < len(colNames) && i <= 4; i++ {
			parts = append(parts, fmt.Sprintf("%s=%v", colNames[i], vals[i]))
		}
		fl.Example = append(fl.Example, strings.Join(parts, " "))
	}
	return fl, rows.Err()
}

type execer interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

// HotfixRegexp joins the configured hotfix patterns into one RE2 expression,
// or "" when there are none.
func HotfixRegexp(patterns []string) string {
	parts := make([]string, len(patterns))
	for i, p := range patterns {
		parts[i] = "(?:" + p + ")"
	}
	return strings.Join(parts, "|")
}

// writeCfg (re)creates the one-row cfg table the models read their settings
// from, and returns the replacer for the run constants ({{cfg.NAME}} and
// {{several_sources.TABLE}}).
func writeCfg(ctx context.Context, ex execer, cfg *config.Config) (*strings.Replacer, error) {
	if cfg == nil {
		cfg = config.Default()
	}
	m := cfg.Metrics
	envJSON, _ := json.Marshal(config.Keys(m.ProductionEnvironments))
	stagingJSON, _ := json.Marshal(config.Keys(cfg.Calendar.StagingEnvironments))
	freezesJSON, err := freezes(&cfg.Calendar)
	if err != nil {
		return nil, err
	}
	sevJSON, _ := json.Marshal(m.FailureSeverities)
	if m.FailureSeverities == nil {
		sevJSON = []byte("[]")
	}
	var hotfix any
	hotfixLit := "NULL::VARCHAR"
	if re := HotfixRegexp(m.HotfixPatterns); re != "" {
		hotfix = re
		hotfixLit = warehouse.QuoteString(re)
	}
	if _, err := ex.ExecContext(ctx, `CREATE OR REPLACE TABLE cfg (
		production_environments VARCHAR[],
		failure_severities      VARCHAR[],
		attribution_window      INTERVAL,
		hotfix_regex            VARCHAR,
		adoption_target         DOUBLE,
		support_window_days     INTEGER,
		support_baseline_days   INTEGER,
		staging_environments    VARCHAR[],
		pre_approved_standard   BOOLEAN,
		freezes                 STRUCT(name VARCHAR, start_at TIMESTAMPTZ, end_at TIMESTAMPTZ, services VARCHAR[])[])`); err != nil {
		return nil, fmt.Errorf("transform: cfg: %w", err)
	}
	_, err = ex.ExecContext(ctx, `INSERT INTO cfg VALUES (
		json_transform(?::JSON, '["VARCHAR"]'), json_transform(?::JSON, '["VARCHAR"]'),
		to_microseconds(?::BIGINT), ?, ?, ?, ?,
		json_transform(?::JSON, '["VARCHAR"]'), ?,
		json_transform(?::JSON, '[{"name":"VARCHAR","start_at":"TIMESTAMPTZ","end_at":"TIMESTAMPTZ","services":["VARCHAR"]}]'))`,
		string(envJSON), string(sevJSON), m.AttributionWindow.D().Microseconds(), hotfix,
		m.AdoptionTarget, m.SupportWindowDays, m.SupportBaselineDays,
		string(stagingJSON), cfg.Controls.PreApprovedStandard, freezesJSON)
	if err != nil {
		return nil, fmt.Errorf("transform: cfg: %w", err)
	}
	sources, err := sourceConstants(ctx, ex)
	if err != nil {
		return nil, err
	}
	return strings.NewReplacer(append([]string{"{{cfg.hotfix_regex}}", hotfixLit}, sources...)...), nil
}

// freezes returns calendar.freezes resolved to instants (each freeze's time
// zone applied once, here) as the JSON of cfg.freezes: name ("freeze N"
// when unnamed), start_at, end_at and the service keys it applies to
// (empty: every service). The models decide from it which deployments ran
// inside a freeze (dim_freezes, fct_deployments.freezes).
func freezes(c *config.Calendar) (string, error) {
	type freeze struct {
		Name     string    `json:"name"`
		Start    time.Time `json:"start_at"`
		End      time.Time `json:"end_at"`
		Services []string  `json:"services"`
	}
	out := []freeze{}
	for i, f := range c.Freezes {
		start, end, err := c.FreezeInterval(f)
		if err != nil {
			return "", fmt.Errorf("transform: calendar.freezes[%d]: %w", i, err)
		}
		name := f.Name
		if name == "" {
			name = fmt.Sprintf("freeze %d", i+1)
		}
		out = append(out, freeze{Name: name, Start: start.UTC(), End: end.UTC(), Services: config.Keys(f.Services)})
	}
	// in dim_freezes' order, which fct_deployments.freezes keeps
	sort.SliceStable(out, func(i, j int) bool {
		if !out[i].Start.Equal(out[j].Start) {
			return out[i].Start.Before(out[j].Start)
		}
		return out[i].Name < out[j].Name
	})
	b, err := json.Marshal(out)
	return string(b), err
}

// sourceConstants returns the run constants {{several_sources.TABLE}}:
// whether more than one source sent a kind that staging deduplicates (as a
// constant, it lets DuckDB drop the deduplicating join when there is one).
func sourceConstants(ctx context.Context, ex execer) ([]string, error) {
	var pairs []string
	for _, table := range []string{"changes", "deployments", "support_tickets", "adoption"} {
		var several bool
		if err := ex.QueryRowContext(ctx, "SELECT coalesce(min(source) < max(source), false) FROM "+table).Scan(&several); err != nil {
			return nil, fmt.Errorf("transform: sources of %s: %w", table, err)
		}
		pairs = append(pairs, "{{several_sources."+table+"}}", fmt.Sprint(several))
	}
	return pairs, nil
}
