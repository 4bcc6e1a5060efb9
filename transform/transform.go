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
//	-- materialized: view            (view, temp, table, table_macro or macro)
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
// keys the data. No model hard-codes a setting.
// Where a setting must be a constant when DuckDB plans the model (a regular
// expression it should compile once, not per row; a switch that lets it
// drop a join), the model declares it in its header and reads it with
// getvariable, the convention of package sqlrun:
//
//	-- param: hotfix_regex text null
//	... regexp_matches(d.version, getvariable('hotfix_regex')) ...
//
// The run's values are listed at RunValues.
//
// DuckDB estimates a table written earlier in the same transaction (every
// intermediate model and mart of a run) as empty, so it builds a join's
// hash table on that side whatever its size: the eight million commits to
// look up a few thousand shas. A model whose plan suffers from that
// declares
//
//	-- join_order: as written
//
// and is planned with DuckDB's join ordering and build-side choice turned
// off: every join builds its hash table on its right-hand input, so the
// model names the smaller input last (explicit JOIN … ON, never a join in
// WHERE, which would stay a cross product).
//
// A view that reads a variable, or reads a temporary table or view, is
// created as a TEMP VIEW, so that it never outlives the run it was written
// for (nor points at tables that are gone).
//
// The metrics layer holds the metric SQL that `shiplog metrics`, reports and
// `shiplog query` call with a window and scope: table macros
// (materialized: table_macro, a SELECT) and the scalar macros they use
// (materialized: macro, an expression):
//
//	-- materialized: table_macro
//	-- arguments: level, unit, lo, hi, services := [], teams := []
//	-- param: metric_test_lo timestamp null
//	-- param: metric_test_hi timestamp null
//	-- test_call: metric_rows('team', 'week', getvariable('metric_test_lo'), getvariable('metric_test_hi'))
//	-- test: unique(key, period_start)
//
// They are created (CREATE OR REPLACE MACRO name(arguments) AS [TABLE] …)
// in the same transaction as the marts they read, so they always match
// them, and a table macro's declared tests run on the rows of test_call
// (which may read run values; the body may not). Arguments are untyped:
// a warehouse file of DuckDB's default storage version refuses typed macro
// parameters. A macro reads marts only: neither run values nor temporary
// models.
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
	"github.com/shiplog/shiplog/internal/sqlrun"
	"github.com/shiplog/shiplog/internal/sqlscan"
	"github.com/shiplog/shiplog/internal/warehouse"
	"github.com/shiplog/shiplog/transform/models/intermediate"
	"github.com/shiplog/shiplog/transform/models/marts"
	"github.com/shiplog/shiplog/transform/models/metrics"
	"github.com/shiplog/shiplog/transform/models/staging"
)

// Options tune a run.
type Options struct {
	// Progress receives one line per model with its timing (stderr); nil
	// discards it.
	Progress io.Writer
	// Mappers rebuild sources' canonical rows from their raw tables before
	// the models run. A mapper that can tell (ingest.SkippingMapper) skips
	// when nothing it reads or writes changed since it last mapped.
	Mappers []ingest.Mapper
	// Full rebuilds every mart even when an incremental run would do
	// (see incremental.go), and maps every source again even when nothing
	// changed: a full rebuild rebuilds everything derived.
	Full bool
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
	{"metrics", metrics.FS},
}

// Model is one .sql file.
type Model struct {
	Name         string // file name without .sql: the table, view or macro it builds
	Layer        string
	SQL          string // the SELECT after the header
	Materialized string // view, temp, table, table_macro or macro
	// Arguments are a macro's parameters as DuckDB declares them
	// ("level varchar, lo timestamptz"); TestCall is the call whose rows
	// a table macro's declared tests check.
	Arguments, TestCall string
	Tests               []Test
	Deps                []string
	// JoinsAsWritten plans the model with each join's hash table built on
	// its right-hand input (`-- join_order: as written`).
	JoinsAsWritten bool

	script   *sqlrun.Script
	testVars []string // run values the test call reads
}

// Params are the run values the model reads (getvariable), as declared in
// its header.
func (m Model) Params() []sqlrun.Param {
	if m.script == nil {
		return nil
	}
	return m.script.Params
}

// relation is what the model's tests read: the table or view, or for a
// macro the rows of its test call.
func (m Model) relation() string {
	if m.Materialized == "table_macro" {
		return "(FROM " + m.TestCall + ")"
	}
	return warehouse.QuoteIdent(m.Name)
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

var defaultMaterialized = map[string]string{"staging": "view", "intermediate": "temp", "marts": "table", "metrics": "table_macro"}

var materializations = []string{"view", "temp", "table", "table_macro", "macro"}

// isMacro reports whether m builds a (table or scalar) macro.
func (m Model) isMacro() bool { return strings.HasSuffix(m.Materialized, "macro") }

func parseModel(layer, file, text string) (Model, error) {
	m := Model{Name: strings.TrimSuffix(file, ".sql"), Layer: layer, Materialized: defaultMaterialized[layer]}
	if m.Materialized == "" {
		m.Materialized = "table"
	}
	where := layer + "/" + file
	sc, err := sqlrun.Parse(where, []byte(text))
	if err != nil {
		return m, fmt.Errorf("transform: %w", err)
	}
	m.script, m.SQL = sc, sc.Body
	for _, f := range sc.Fields {
		switch f.Key {
		case "materialized":
			if !slices.Contains(materializations, f.Value) {
				return m, fmt.Errorf("transform: %s:%d: materialized must be one of %s, not %q", where, f.Line, strings.Join(materializations, ", "), f.Value)
			}
			m.Materialized = f.Value
		case "arguments":
			m.Arguments = f.Value
		case "test_call":
			m.TestCall = f.Value
		case "join_order":
			if f.Value != "as written" {
				return m, fmt.Errorf("transform: %s:%d: join_order can only be \"as written\", not %q", where, f.Line, f.Value)
			}
			m.JoinsAsWritten = true
		case "test":
			val := f.Value
			open := strings.Index(val, "(")
			if open < 0 || !strings.HasSuffix(val, ")") {
				return m, fmt.Errorf("transform: %s:%d: test must look like kind(args), not %q", where, f.Line, val)
			}
			tst := Test{Kind: strings.TrimSpace(val[:open]), Args: strings.TrimSpace(val[open+1 : len(val)-1])}
			if _, err := tst.query(m.relation()); err != nil {
				return m, fmt.Errorf("transform: %s:%d: %w", where, f.Line, err)
			}
			m.Tests = append(m.Tests, tst)
		}
	}
	switch {
	case len(sc.Statements) != 1:
		return m, fmt.Errorf("transform: %s: a model is one statement; this file has %d", where, len(sc.Statements))
	case m.Materialized == "table_macro" && len(m.Tests) > 0 && m.TestCall == "":
		return m, fmt.Errorf("transform: %s: a table macro with tests needs `-- test_call:` (the call whose rows they check)", where)
	case m.Materialized == "macro" && (len(m.Tests) > 0 || m.TestCall != ""):
		return m, fmt.Errorf("transform: %s: a scalar macro has no rows to test", where)
	case !m.isMacro() && (m.Arguments != "" || m.TestCall != ""):
		return m, fmt.Errorf("transform: %s: arguments and test_call are for macros", where)
	case m.isMacro() && (len(sc.Statements[0].Params) > 0 || len(sc.Statements[0].Variables) > 0):
		return m, fmt.Errorf("transform: %s: a macro takes arguments, not run values or $parameters (its test_call may read run values)", where)
	}
	if m.TestCall != "" {
		toks, err := sqlscan.Scan(m.TestCall)
		if err != nil {
			return m, fmt.Errorf("transform: %s: test_call: %w", where, err)
		}
		m.testVars = sqlscan.Variables(toks)
		for _, v := range m.testVars {
			if _, ok := sc.Param(v); !ok {
				return m, fmt.Errorf("transform: %s: test_call reads getvariable('%s'), which is not declared with `-- param:`", where, v)
			}
		}
	}
	return m, nil
}

// order finds each model's dependencies (names of other models in its SQL)
// and sorts topologically, keeping layer then name order among equals.
func order(models []Model) ([]Model, error) {
	byName := map[string]int{}
	for i, m := range models {
		byName[m.Name] = i
	}
	for i := range models {
		// Names are read with the SQL lexer, so a model named only in a
		// comment or a string is not a dependency.
		toks, err := sqlscan.Scan(models[i].SQL + " " + models[i].TestCall)
		if err != nil {
			return nil, fmt.Errorf("transform: %s/%s: %w", models[i].Layer, models[i].Name, err)
		}
		for _, id := range sqlscan.Words(toks) {
			if _, ok := byName[id]; ok && id != models[i].Name {
				models[i].Deps = append(models[i].Deps, id)
			}
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
func (t Test) query(rel string) (string, error) {
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
		return fmt.Sprintf("SELECT %s, count(*) AS n FROM %s GROUP BY ALL HAVING count(*) > 1", l, rel), nil
	case "not_null":
		cond, err := t.rowCondition()
		if err != nil {
			return "", err
		}
		return fmt.Sprintf("SELECT * FROM %s WHERE %s", rel, cond), nil
	case "accepted_values":
		cond, err := t.rowCondition()
		if err != nil {
			return "", err
		}
		col, _, _ := strings.Cut(t.Args, ":")
		return fmt.Sprintf("SELECT %s, count(*) AS n FROM %s WHERE %s GROUP BY ALL",
			q(strings.TrimSpace(col)), rel, cond), nil
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
			q(cs[0]), rel, q(tm), q(tc), q(cs[0]), q(cs[0])), nil
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
		sm, ok := m.(ingest.SkippingMapper)
		if !ok {
			if err := m.Map(ctx, db); err != nil {
				return fmt.Errorf("transform: mapper %s: %w", m.Name(), err)
			}
			fmt.Fprintf(progress, "mapped %-28s %8s\n", m.Name(), since(start))
			continue
		}
		res, err := sm.MapIfChanged(ctx, db, ingest.MapOptions{Force: opts.Full})
		if err != nil {
			return fmt.Errorf("transform: mapper %s: %w", m.Name(), err)
		}
		if res.Mapped {
			fmt.Fprintln(progress, mappedLine(m.Name(), since(start), res.Reason))
		} else {
			fmt.Fprintf(progress, "unchanged %-25s %8s (nothing new since it last mapped)\n", m.Name(), since(start))
		}
	}
	models, err := Load(Layers)
	if err != nil {
		return err
	}
	err = build(ctx, db, cfg, models, progress, opts.Full)
	if err == errRetryFull {
		fmt.Fprintln(progress, "transform: a root-cause commit links a service outside the incremental set; rebuilding fully")
		err = build(ctx, db, cfg, models, progress, true)
	}
	return err
}

// mappedLine is the progress line of a mapping that ran: its name, how
// long it took and why it ran, the reason on a line of its own when the
// line would pass 80 columns (a long table name).
func mappedLine(name, took, reason string) string {
	line := fmt.Sprintf("mapped %-28s %8s", name, took)
	if len(line)+len(reason)+3 > 80 {
		return line + "\n  (" + reason + ")"
	}
	return line + " (" + reason + ")"
}

func since(t time.Time) string {
	return time.Since(t).Round(time.Millisecond).String()
}

func build(ctx context.Context, db *warehouse.DB, cfg *config.Config, models []Model, progress io.Writer, full bool) (err error) {
	total := time.Now()
	schema, err := db.SchemaVersion(ctx)
	if err != nil {
		return fmt.Errorf("transform: schema version: %w", err)
	}
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
	vals, err := writeCfg(ctx, tx, cfg)
	if err != nil {
		return err
	}
	fp, err := fingerprint(ctx, tx, models, vals, schema)
	if err != nil {
		return err
	}
	start := time.Now()
	steps := newStepTimes()
	p, err := planRun(ctx, tx, models, fp, vals, full, steps)
	if err != nil {
		return err
	}
	if p.digests.fallback != "" {
		fmt.Fprintf(progress, "transform: digests: %s\n", p.digests)
	}
	switch p.mode {
	case "none":
		// the log entries read are done with: the next run need not
		// read them again
		if err = saveDigests(ctx, tx, p.digests); err != nil {
			return err
		}
		if err = tx.Commit(); err != nil {
			return fmt.Errorf("transform: commit: %w", err)
		}
		fmt.Fprintf(progress, "transform: nothing changed since the last build (checked in %s; %s)\n", since(start), steps)
		return nil
	case "full":
		fmt.Fprintf(progress, "transform: full rebuild: %s (planned in %s)\n", p.reason, since(start))
		// A full build frees and allocates blocks by the gigabyte, model
		// after model: DuckDB may keep their memory for the next ones.
		db.KeepFreedBlocks(ctx, func(ctx context.Context, q string) error { _, err := tx.ExecContext(ctx, q); return err })
	default:
		graph := "the whole commit graph"
		if p.graphRepos >= 0 {
			graph = fmt.Sprintf("the commits of %d repositor(ies)", p.graphRepos)
		}
		fmt.Fprintf(progress, "transform: incremental: %d service(s), %d repositor(ies) to rebuild, reading %s (planned in %s)\n", len(p.services), len(p.repos), graph, since(start))
		fmt.Fprintf(progress, "planning: %s\n", steps)
	}
	placements := false
	inc := p.mode == "incremental"
	if inc {
		if err = listNarrow(ctx, tx, &p); err != nil {
			return err
		}
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
	inMain, err := mainRelations(ctx, tx)
	if err != nil {
		return err
	}
	temps := map[string]bool{}
	runOnly := map[string]bool{} // temporary tables and views of this run
	staged := map[string]bool{}  // staging rows kept by stageFiltered
	for i, m := range models {
		start := time.Now()
		st := m.script.Statements[0]
		mvals, verr := modelValues(m, vals)
		if verr != nil {
			err = verr
			return err
		}
		readsRunOnly := slices.ContainsFunc(m.Deps, func(d string) bool { return runOnly[d] })
		kind := map[string]string{"view": "VIEW", "temp": "TEMP TABLE", "table": "TABLE", "table_macro": "MACRO", "macro": "MACRO"}[m.Materialized]
		partial := false
		if inc {
			var skip bool
			st, kind, partial, skip = incrementalModel(m, st, kind, p)
			if skip {
				fmt.Fprintf(progress, "[%2d/%d] %-12s %-30s %8s\n", i+1, len(models), m.Layer, m.Name, "kept")
				continue
			}
			if partial {
				runOnly[m.Name] = true
				if err = stageFiltered(ctx, tx, m, p, staged); err != nil {
					return err
				}
			}
		}
		if kind == "VIEW" && (len(st.Variables) > 0 || readsRunOnly) {
			// a view reading this run's values, or what lives for the run
			// only, must not outlive the run
			kind = "TEMP VIEW"
		}
		if kind == "MACRO" && (len(st.Variables) > 0 || readsRunOnly) {
			err = fmt.Errorf("transform: macro %s/%s outlives the run: it must read neither run values nor temporary models", m.Layer, m.Name)
			return err
		}
		if kind == "TEMP VIEW" || kind == "TEMP TABLE" {
			runOnly[m.Name] = true
		}
		// A name is one thing at a time: drop what an earlier run or an
		// older materialization left in the main schema. Only the kind the
		// catalog holds is dropped: DROP TABLE of a view is an error, and
		// from DuckDB 2.0 on any error aborts the transaction.
		if k := inMain[m.Name]; k != "" && k != kind && kind != "MACRO" && !partial {
			if _, err = tx.ExecContext(ctx, fmt.Sprintf("DROP %s main.%s", k, warehouse.QuoteIdent(m.Name))); err != nil {
				return fmt.Errorf("transform: %s: %w", m.Name, err)
			}
			delete(inMain, m.Name)
		}
		if native, ok := natives[m.Name]; ok && m.Materialized == "temp" {
			// same transaction: the native model runs on conn, which tx holds
			err = native(ctx, db, conn)
		} else {
			prefix := fmt.Sprintf("CREATE OR REPLACE %s %s AS\n", kind, warehouse.QuoteIdent(m.Name))
			switch m.Materialized {
			case "table_macro":
				prefix = fmt.Sprintf("CREATE OR REPLACE MACRO %s(%s) AS TABLE\n", warehouse.QuoteIdent(m.Name), m.Arguments)
			case "macro":
				prefix = fmt.Sprintf("CREATE OR REPLACE MACRO %s(%s) AS\n", warehouse.QuoteIdent(m.Name), m.Arguments)
			}
			refill := false
			if kind == "TABLE" && !partial && inMain[m.Name] == "TABLE" {
				if refill, err = sameShape(ctx, tx, m, st, mvals); err != nil {
					return fmt.Errorf("transform: model %s/%s: %w", m.Layer, m.Name, err)
				}
			}
			if refill {
				err = refillTable(ctx, tx, m, st, mvals)
			} else {
				err = execModel(ctx, tx, m, st.Wrap(prefix, ""), mvals)
			}
		}
		if err != nil {
			return fmt.Errorf("transform: model %s/%s: %w", m.Layer, m.Name, err)
		}
		if m.Materialized == "temp" {
			temps[m.Name] = true
		}
		if kind == "VIEW" || kind == "TABLE" {
			inMain[m.Name] = kind
		}
		if m.Name == "int_change_placements" && m.Materialized == "temp" {
			if err = tx.QueryRowContext(ctx, "SELECT count(*) > 0 FROM temp.int_change_placements").Scan(&placements); err != nil {
				return fmt.Errorf("transform: %s: %w", m.Name, err)
			}
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
	if inc {
		start = time.Now()
		p.models = map[string]Model{}
		for _, m := range models {
			p.models[m.Name] = m
		}
		if p.gone, err = mergeIncremental(ctx, tx, models, p); err != nil {
			return err
		}
		if err = dropStaged(ctx, tx, staged); err != nil {
			return err
		}
		fmt.Fprintf(progress, "merged %d service(s) into the marts %8s\n", len(p.services), since(start))
	}
	start = time.Now()
	var scope *plan
	if inc {
		if err = testTeams(ctx, tx, &p, vals); err != nil {
			return err
		}
		scope = &p // tests of marts merged by service read the merged rows (testRelation)
	}
	failures, stats, err := runTests(ctx, tx, models, vals, scope)
	if err != nil {
		return err
	}
	fmt.Fprintf(progress, "tests: %d run, %d failed %8s%s\n", stats.n, len(failures), since(start), stats.slowest(3))
	if inc {
		if err = dropGone(ctx, tx, p.gone); err != nil {
			return err
		}
	}
	if len(failures) > 0 {
		err = &TestError{Failures: failures}
		return err
	}
	start = time.Now()
	if err = writeCoverage(ctx, tx, p); err != nil {
		return err
	}
	fmt.Fprintf(progress, "coverage snapshot %8s\n", since(start))
	if err = saveState(ctx, tx, fp, p, placements, vals); err != nil {
		return err
	}
	if err = tx.Commit(); err != nil {
		return fmt.Errorf("transform: commit: %w", err)
	}
	fmt.Fprintf(progress, "transform done in %s\n", since(total))
	return nil
}

// mainRelations maps each table and view of the warehouse's main schema
// to its kind ("TABLE" or "VIEW"), for dropping what a model's name held
// before (see build).
func mainRelations(ctx context.Context, tx *sql.Tx) (map[string]string, error) {
	rows, err := tx.QueryContext(ctx, `SELECT table_name, 'TABLE' FROM duckdb_tables()
		WHERE database_name = current_database() AND schema_name = 'main' AND NOT temporary
		UNION ALL
		SELECT view_name, 'VIEW' FROM duckdb_views()
		WHERE database_name = current_database() AND schema_name = 'main' AND NOT temporary AND NOT internal`)
	if err != nil {
		return nil, fmt.Errorf("transform: list the main schema: %w", err)
	}
	defer rows.Close()
	kinds := map[string]string{}
	for rows.Next() {
		var name, kind string
		if err := rows.Scan(&name, &kind); err != nil {
			return nil, fmt.Errorf("transform: list the main schema: %w", err)
		}
		kinds[name] = kind
	}
	return kinds, rows.Err()
}

// Refilling a mart. A table created in the run's transaction is scanned
// by one thread until the transaction commits: DuckDB offers a scan as
// many threads as the table's committed rows fill row groups, and such a
// table has none. The tests, which read every mart once the models are
// built, then ran on one of the two cores. So a mart whose table the last
// build left with the columns the model now selects (the same names and
// types, in order) is emptied and filled again in the transaction rather
// than replaced: it keeps its committed rows (deleted in the
// transaction), and with them scans on every core. At full size the tests
// of a full build took 1.4–1.8 s instead of 2.5–3.2 s, and the build 26.2
// s instead of 28.6 s (medians; docs/benchmarks/metrics.md). A mart of
// another shape (a first build, a model whose columns changed) is created
// anew.

// sameShape reports whether the table of mart m has the columns its
// statement st selects: the same names and types, in the same order.
// DESCRIBE binds the statement without running it.
func sameShape(ctx context.Context, tx *sql.Tx, m Model, st sqlrun.Statement, vals sqlrun.Values) (bool, error) {
	rows, err := m.script.QueryStatement(ctx, tx, st.Wrap("DESCRIBE\n", ""), vals)
	if err != nil {
		return false, err
	}
	selected, err := nameTypes(rows)
	if err != nil {
		return false, fmt.Errorf("describe: %w", err)
	}
	rows, err = tx.QueryContext(ctx, `SELECT column_name, data_type FROM duckdb_columns()
		WHERE database_name = current_database() AND schema_name = 'main' AND table_name = ?
		ORDER BY column_index`, m.Name)
	if err != nil {
		return false, fmt.Errorf("columns of %s: %w", m.Name, err)
	}
	stored, err := nameTypes(rows)
	if err != nil {
		return false, fmt.Errorf("columns of %s: %w", m.Name, err)
	}
	return slices.Equal(selected, stored), nil
}

// nameTypes reads "name type" from the first two columns of rows
// (DESCRIBE has more, all read as text), and closes rows.
func nameTypes(rows *sql.Rows) ([]string, error) {
	defer rows.Close()
	cols, err := rows.Columns()
	if err != nil {
		return nil, err
	}
	var out []string
	for rows.Next() {
		vals := make([]sql.NullString, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		if err := rows.Scan(ptrs...); err != nil {
			return nil, err
		}
		out = append(out, vals[0].String+" "+vals[1].String)
	}
	return out, rows.Err()
}

// refillTable empties the table of mart m and fills it with the rows of
// its statement st, in the run's transaction (see sameShape).
func refillTable(ctx context.Context, tx *sql.Tx, m Model, st sqlrun.Statement, vals sqlrun.Values) error {
	name := "main." + warehouse.QuoteIdent(m.Name)
	if _, err := tx.ExecContext(ctx, "DELETE FROM "+name); err != nil {
		return err
	}
	return execModel(ctx, tx, m, st.Wrap("INSERT INTO "+name+"\n", ""), vals)
}

// execModel runs a model's statement, planned with the joins as written
// when the model asks for it (see the package documentation).
func execModel(ctx context.Context, tx *sql.Tx, m Model, st sqlrun.Statement, vals sqlrun.Values) error {
	if !m.JoinsAsWritten {
		return m.script.ExecStatement(ctx, tx, st, vals)
	}
	if _, err := tx.ExecContext(ctx, "SET disabled_optimizers = 'join_order,build_side_probe_side'"); err != nil {
		return err
	}
	err := m.script.ExecStatement(ctx, tx, st, vals)
	if _, rerr := tx.ExecContext(ctx, "RESET disabled_optimizers"); err == nil {
		err = rerr
	}
	return err
}

type querier interface {
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

// testRunner is one connection (or its transaction): the tests' queries,
// and the variables a macro's test call reads.
type testRunner interface {
	querier
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
}

// RunTests runs the declared tests of models against db (with the run
// values of the default configuration) and returns the failures.
func RunTests(ctx context.Context, db *warehouse.DB, models []Model) ([]TestFailure, error) {
	conn, err := db.Conn(ctx)
	if err != nil {
		return nil, err
	}
	defer conn.Close()
	vals, err := RunValues(ctx, conn, config.Default())
	if err != nil {
		return nil, err
	}
	f, _, err := runTests(ctx, conn, models, vals, nil)
	return f, err
}

// testStats counts the tests a run ran and what each model's tests cost,
// so that the progress line names the slowest (a test over a whole mart
// in an incremental run shows there).
type testStats struct {
	n     int
	costs []testCost
}

type testCost struct {
	model string
	d     time.Duration
}

// slowest returns "\n  slowest: model 1.2s, …", a line of its own, for
// the n models whose tests took longest, or "" when none took a
// millisecond.
func (s testStats) slowest(n int) string {
	c := slices.Clone(s.costs)
	slices.SortStableFunc(c, func(a, b testCost) int { return int(b.d - a.d) })
	var parts []string
	for _, x := range c {
		if len(parts) == n || x.d < time.Millisecond {
			break
		}
		parts = append(parts, x.model+" "+x.d.Round(time.Millisecond).String())
	}
	if len(parts) == 0 {
		return ""
	}
	return "\n  slowest: " + strings.Join(parts, ", ")
}

func runTests(ctx context.Context, q testRunner, models []Model, run map[string]any, scope *plan) ([]TestFailure, testStats, error) {
	var failures []TestFailure
	var st testStats
	n := 0
	for _, m := range models {
		if len(m.Tests) == 0 {
			continue
		}
		start := time.Now()
		f, k, err := runModelTests(ctx, q, m, run, scope)
		n += k
		if err != nil {
			return nil, testStats{n: n}, err
		}
		failures = append(failures, f...)
		st.costs = append(st.costs, testCost{m.Name, time.Since(start)})
	}
	st.n = n
	return failures, st, nil
}

// runModelTests runs the declared tests of m and returns the failures and
// how many ran.
func runModelTests(ctx context.Context, q testRunner, m Model, run map[string]any, scope *plan) ([]TestFailure, int, error) {
	var failures []TestFailure
	n := 0
	if len(m.testVars) > 0 {
		vals, err := modelValues(m, run)
		if err != nil {
			return nil, n, err
		}
		if err := m.script.SetVariables(ctx, q, m.testVars, vals); err != nil {
			return nil, n, fmt.Errorf("transform: tests of %s: %w", m.Name, err)
		}
	}
	// The tests of one model that a scan can decide run together in a
	// single query first; see screenTests.
	passed, err := make([]bool, len(m.Tests)), error(nil)
	if !scopedTests(m, scope) {
		passed, err = screenTests(ctx, q, m)
	}
	if err != nil {
		return nil, n, err
	}
	for i, t := range m.Tests {
		n++
		if passed[i] {
			continue
		}
		sqlText, err := t.query(testRelation(m, t, scope))
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
	if err := q.QueryRowContext(ctx, fmt.Sprintf("SELECT %s FROM %s", strings.Join(exprs, ", "), m.relation())).Scan(ptrs...); err != nil {
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

// sourcedTables are the canonical tables whose sources RunValues reports:
// staging keeps one row per key of them whichever sources sent it, and
// planning looks for an id sent under two services in those with an id
// (sameID).
var sourcedTables = []string{"changes", "deployments", "support_tickets", "adoption", "incidents", "release_plans"}

// RunValues are the values a model may declare and read with getvariable:
// the settings DuckDB needs as constants when it plans a model.
//
//   - hotfix_regex (text): the configured hotfix patterns as one RE2
//     expression (HotfixRegexp), NULL when there are none;
//   - exclude_author_regex (text): metrics.exclude_authors as one
//     anchored, case-insensitive RE2 expression (config.GlobRegexp), NULL
//     when there are none;
//   - exclude_title_regex (text): metrics.exclude_title_patterns joined
//     like the hotfix patterns, NULL when there are none;
//   - several_sources_<table> (bool), for each of sourcedTables: whether
//     more than one source had sent rows of that kind when the run
//     started (false lets DuckDB drop the deduplicating join);
//   - main_source_<table> (text), for each of sourcedTables: the source
//     that had sent the most rows of that kind (the first by name of
//     those sending as many; NULL without rows). A key sent twice was
//     sent by some other source, so the deduplicating join needs only the
//     keys the other sources sent: a hash table of a pushing CI's few
//     rows, not of the mapper's millions (and planning groups only those
//     ids, sameID).
//   - metric_test_lo, metric_test_hi (timestamp): the month of the latest
//     deployment and the one before, the window a metric macro's test_call
//     reads (NULL without deployments).
func RunValues(ctx context.Context, q execer, cfg *config.Config) (map[string]any, error) {
	if cfg == nil {
		cfg = config.Default()
	}
	vals := map[string]any{"hotfix_regex": nil, "exclude_author_regex": nil, "exclude_title_regex": nil}
	if re := HotfixRegexp(cfg.Metrics.HotfixPatterns); re != "" {
		vals["hotfix_regex"] = re
	}
	if re := config.GlobRegexp(cfg.Metrics.ExcludeAuthors); re != "" {
		vals["exclude_author_regex"] = re
	}
	if re := HotfixRegexp(cfg.Metrics.ExcludeTitlePatterns); re != "" {
		vals["exclude_title_regex"] = re
	}
	for _, table := range sourcedTables {
		var several bool
		var main *string
		if err := q.QueryRowContext(ctx, `SELECT count(*) > 1, first(source ORDER BY n DESC, source)
			FROM (SELECT source, count(*) AS n FROM `+warehouse.QuoteIdent(table)+` GROUP BY source)`).Scan(&several, &main); err != nil {
			return nil, fmt.Errorf("transform: sources of %s: %w", table, err)
		}
		vals["several_sources_"+table] = several
		vals["main_source_"+table] = nil
		if main != nil {
			vals["main_source_"+table] = *main
		}
	}
	// The window the metric macros' declared tests run on: the month of
	// the latest deployment and the one before (constants, so the test
	// calls read only those row groups).
	var lo, hi *time.Time
	if err := q.QueryRowContext(ctx, `SELECT timezone('UTC', date_trunc('month', timezone('UTC', max(finished_at))) - INTERVAL 1 MONTH),
		timezone('UTC', date_trunc('month', timezone('UTC', max(finished_at))) + INTERVAL 1 MONTH) FROM deployments`).Scan(&lo, &hi); err != nil {
		return nil, fmt.Errorf("transform: latest deployment: %w", err)
	}
	vals["metric_test_lo"], vals["metric_test_hi"] = nil, nil
	if lo != nil && hi != nil {
		vals["metric_test_lo"], vals["metric_test_hi"] = lo.UTC(), hi.UTC()
	}
	return vals, nil
}

// modelValues picks the run values m declares. A declared parameter the
// run does not supply is an error: it would silently keep its default.
func modelValues(m Model, run map[string]any) (sqlrun.Values, error) {
	v, err := m.script.Pick(run)
	if err != nil {
		return nil, fmt.Errorf("transform: %w", err)
	}
	return v, nil
}

// writeCfg (re)creates the one-row cfg table the models read their settings
// from, and returns the run values (RunValues).
func writeCfg(ctx context.Context, ex execer, cfg *config.Config) (map[string]any, error) {
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
	type allowed struct {
		Service   *string  `json:"service"`
		Team      *string  `json:"team"`
		Deployers []string `json:"deployers"`
	}
	deployers := []allowed{}
	for _, a := range cfg.Controls.AllowedDeployers {
		e := allowed{}
		if k := config.Key(a.Service); k != "" {
			e.Service = &k
		}
		if k := config.Key(a.Team); k != "" {
			e.Team = &k
		}
		for _, d := range a.Deployers {
			e.Deployers = append(e.Deployers, strings.TrimSpace(d))
		}
		deployers = append(deployers, e)
	}
	deployersJSON, _ := json.Marshal(deployers)
	sevJSON, _ := json.Marshal(m.FailureSeverities)
	if m.FailureSeverities == nil {
		sevJSON = []byte("[]")
	}
	var hotfix any
	if re := HotfixRegexp(m.HotfixPatterns); re != "" {
		hotfix = re
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
		freezes                 STRUCT(name VARCHAR, start_at TIMESTAMPTZ, end_at TIMESTAMPTZ, services VARCHAR[])[],
		failure_from_reverts    BOOLEAN,
		failure_from_version_rollbacks BOOLEAN,
		lead_time_from          VARCHAR,
		allowed_deployers       STRUCT(service VARCHAR, team VARCHAR, deployers VARCHAR[])[])`); err != nil {
		return nil, fmt.Errorf("transform: cfg: %w", err)
	}
	_, err = ex.ExecContext(ctx, `INSERT INTO cfg VALUES (
		json_transform(?::JSON, '["VARCHAR"]'), json_transform(?::JSON, '["VARCHAR"]'),
		to_microseconds(?::BIGINT), ?, ?, ?, ?,
		json_transform(?::JSON, '["VARCHAR"]'), ?,
		json_transform(?::JSON, '[{"name":"VARCHAR","start_at":"TIMESTAMPTZ","end_at":"TIMESTAMPTZ","services":["VARCHAR"]}]'),
		?, ?, ?,
		json_transform(?::JSON, '[{"service":"VARCHAR","team":"VARCHAR","deployers":["VARCHAR"]}]'))`,
		string(envJSON), string(sevJSON), m.AttributionWindow.D().Microseconds(), hotfix,
		m.AdoptionTarget, m.SupportWindowDays, m.SupportBaselineDays,
		string(stagingJSON), cfg.Controls.PreApprovedStandard, freezesJSON,
		m.FailureFromReverts, m.FailureFromVersionRollbacks, leadTimeFrom(m.LeadTimeFrom), string(deployersJSON))
	if err != nil {
		return nil, fmt.Errorf("transform: cfg: %w", err)
	}
	return RunValues(ctx, ex, cfg)
}

// leadTimeFrom is metrics.lead_time_from with its default.
func leadTimeFrom(v string) string {
	if v == "" {
		return config.LeadTimeFromAuto
	}
	return v
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
