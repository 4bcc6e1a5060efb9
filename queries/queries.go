// Package queries is shiplog's library of named SQL: retrospective and
// leadership questions and the governance controls that `shiplog audit`
// runs. Each query is one .sql file whose leading comment block names it and
// declares its typed parameters:
//
//	-- name: slowest-changes
//	-- description: Changes with the longest lead time and the stage they waited in
//	-- audience: retro            (leadership | retro | audit)
//	-- kind: query                (query | control)
//	-- param: team text ''        (name, type, default)
//	-- param: from timestamp '1970-01-01'
//
// Parameters follow the convention of package sqlrun: declared in the
// header, used in the SQL as DuckDB named parameters ($team, $from), bound
// as prepared-statement values, never spliced into the text. Values arrive
// as text (from flags, the config or a URL) and are converted to the
// declared type before binding, so that a wrong value is reported against
// the parameter's name rather than as a DuckDB cast error.
//
// A control returns one row per examined subject with a `subject` column
// and a `rule` column that is NULL when the subject passes and says which
// rule was broken when it does not (a subject may break several rules, one
// row each). Run returns only the findings; Checked counts the subjects.
package queries

import (
	"context"
	"database/sql"
	"fmt"
	"io/fs"
	"path"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/shiplog/shiplog/internal/output"
	"github.com/shiplog/shiplog/internal/sqlrun"
	"github.com/shiplog/shiplog/internal/warehouse"
)

// Audiences and kinds a query header may declare.
var (
	Audiences = []string{"leadership", "retro", "audit"}
	Kinds     = []string{"query", "control"}
	// Types are the accepted parameter types (sqlrun.Types).
	Types = sqlrun.Types
)

// Param is one declared parameter.
type Param = sqlrun.Param

// Query is one named SQL file.
type Query struct {
	Name        string
	Description string
	Audience    string
	Kind        string
	// Population names what a control's subjects are (production
	// deployments, change requests, changes …; header `population:`), so
	// that totals are reported per population and never add up unrelated
	// things.
	Population string
	Params     []Param
	// SQL is the body after the header, without a trailing semicolon.
	SQL string
	// Path is the file the query came from, inside its fs.FS.
	Path string
}

// IsControl reports whether the query is a governance control.
func (q Query) IsControl() bool { return q.Kind == "control" }

// Param returns the declared parameter called name.
func (q Query) Param(name string) (Param, bool) {
	for _, p := range q.Params {
		if p.Name == name {
			return p, true
		}
	}
	return Param{}, false
}

var nameRE = regexp.MustCompile(`^[a-z0-9][a-z0-9-]*$`)

// Parse reads one query file. file is used in error messages and kept as
// Query.Path.
func Parse(file string, src []byte) (Query, error) {
	sc, err := sqlrun.Parse(file, src)
	if err != nil {
		return Query{}, err
	}
	q := Query{Path: file, Kind: "query", Params: sc.Params}
	seen := map[string]bool{}
	for _, f := range sc.Fields {
		if err := q.setHeader(f.Key, stripNote(f.Value), f.Value, seen); err != nil {
			return Query{}, fmt.Errorf("%s:%d: %w", file, f.Line, err)
		}
	}
	q.SQL = sc.Body
	switch {
	case q.Name == "":
		return Query{}, fmt.Errorf("%s: missing `-- name:` header", file)
	case q.Description == "":
		return Query{}, fmt.Errorf("%s: missing `-- description:` header", file)
	case q.Audience == "":
		return Query{}, fmt.Errorf("%s: missing `-- audience:` header (one of %s)", file, strings.Join(Audiences, ", "))
	case q.SQL == "":
		return Query{}, fmt.Errorf("%s: no SQL after the header", file)
	case len(sc.Statements) > 1:
		return Query{}, fmt.Errorf("%s:%d: a query is one statement; this file has %d", file, sc.Statements[1].Line, len(sc.Statements))
	}
	return q, nil
}

// stripNote removes a trailing "(…)" explanation from a header value such as
// "retro            (leadership | retro | audit)".
func stripNote(v string) string {
	if i := strings.Index(v, "("); i > 0 && strings.HasSuffix(v, ")") && !strings.Contains(v[:i], "'") {
		return strings.TrimSpace(v[:i])
	}
	return v
}

func (q *Query) setHeader(key, val, raw string, seen map[string]bool) error {
	if seen[key] {
		return fmt.Errorf("header %q given twice", key)
	}
	seen[key] = true
	switch key {
	case "name":
		if !nameRE.MatchString(val) {
			return fmt.Errorf("name %q: use lower case letters, digits and dashes", val)
		}
		q.Name = val
	case "description":
		q.Description = raw
	case "audience":
		if !contains(Audiences, val) {
			return fmt.Errorf("audience %q is not one of %s", val, strings.Join(Audiences, ", "))
		}
		q.Audience = val
	case "kind":
		if !contains(Kinds, val) {
			return fmt.Errorf("kind %q is not one of %s", val, strings.Join(Kinds, ", "))
		}
		q.Kind = val
	case "population":
		q.Population = raw
	default:
		// Unknown header keys are free-form notes (owner:, see: …).
	}
	return nil
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

// Load reads every *.sql file under fsys (any depth) as a named query.
// Names must be unique.
func Load(fsys fs.FS) ([]Query, error) {
	var out []Query
	byName := map[string]string{}
	err := fs.WalkDir(fsys, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() || path.Ext(p) != ".sql" {
			return nil
		}
		src, err := fs.ReadFile(fsys, p)
		if err != nil {
			return err
		}
		q, err := Parse(p, src)
		if err != nil {
			return err
		}
		if prev, dup := byName[q.Name]; dup {
			return fmt.Errorf("%s: query name %q already used by %s", p, q.Name, prev)
		}
		byName[q.Name] = p
		out = append(out, q)
		return nil
	})
	if err != nil {
		return nil, err
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, nil
}

var builtin = func() []Query {
	qs, err := Load(builtinFS)
	if err != nil {
		panic("queries: " + err.Error())
	}
	return qs
}()

// List returns the built-in queries sorted by name.
func List() []Query {
	out := make([]Query, len(builtin))
	copy(out, builtin)
	return out
}

// Get returns the built-in query called name.
func Get(name string) (Query, bool) {
	for _, q := range builtin {
		if q.Name == name {
			return q, true
		}
	}
	return Query{}, false
}

// Run runs the built-in query called name with params (text values, each
// converted to its declared type; missing ones take their defaults). The
// statement is checked to be read-only before it runs.
func Run(ctx context.Context, db *warehouse.DB, name string, params map[string]string) (*output.Table, error) {
	q, ok := Get(name)
	if !ok {
		return nil, fmt.Errorf("no query named %q (shiplog query --list shows them)", name)
	}
	return q.Run(ctx, db, params)
}

// Args converts params to named arguments for q, applying defaults. An
// unknown parameter or a value that does not parse as the declared type is
// an error naming the parameter.
func (q Query) Args(params map[string]string) ([]any, error) {
	vals, err := q.values(params)
	if err != nil {
		return nil, err
	}
	args := make([]any, 0, len(q.Params))
	for _, p := range q.Params {
		args = append(args, sql.Named(p.Name, vals[p.Name]))
	}
	return args, nil
}

// values converts params to the declared types, applying defaults.
func (q Query) values(params map[string]string) (sqlrun.Values, error) {
	names := make([]string, 0, len(params))
	for k := range params {
		names = append(names, k)
	}
	sort.Strings(names)
	for _, k := range names {
		if _, ok := q.Param(k); !ok {
			return nil, fmt.Errorf("query %s has no parameter %q (it takes: %s)", q.Name, k, q.paramNames())
		}
	}
	vals := make(sqlrun.Values, len(q.Params))
	for _, p := range q.Params {
		s, ok := params[p.Name]
		if !ok {
			vals[p.Name] = p.DefaultValue()
			continue
		}
		v, err := sqlrun.Convert(p.Type, s)
		if err != nil {
			return nil, fmt.Errorf("query %s: parameter %s: %w", q.Name, p.Name, err)
		}
		vals[p.Name] = v
	}
	return vals, nil
}

func (q Query) paramNames() string {
	if len(q.Params) == 0 {
		return "no parameters"
	}
	s := make([]string, len(q.Params))
	for i, p := range q.Params {
		s[i] = p.Name
	}
	return strings.Join(s, ", ")
}

// Run runs q on db with params. For a control, only the findings (rows with
// a rule) are returned.
func (q Query) Run(ctx context.Context, db *warehouse.DB, params map[string]string) (*output.Table, error) {
	return q.run(ctx, db, q.FindingsSQL(), params)
}

// Checked counts the distinct subjects a control examined with params.
func (q Query) Checked(ctx context.Context, db *warehouse.DB, params map[string]string) (int64, error) {
	if !q.IsControl() {
		return 0, fmt.Errorf("query %s is not a control", q.Name)
	}
	t, err := q.run(ctx, db, q.CheckedSQL(), params)
	if err != nil {
		return 0, err
	}
	if len(t.Rows) != 1 {
		return 0, fmt.Errorf("query %s: counting subjects returned %d rows", q.Name, len(t.Rows))
	}
	switch n := t.Rows[0][0].(type) {
	case int64:
		return n, nil
	default:
		return strconv.ParseInt(output.Text(n), 10, 64)
	}
}

// Listed returns a control's findings and its subjects passed by override
// (ListedSQL).
func (q Query) Listed(ctx context.Context, db *warehouse.DB, params map[string]string) (*output.Table, error) {
	if !q.IsControl() {
		return nil, fmt.Errorf("query %s is not a control", q.Name)
	}
	return q.run(ctx, db, q.ListedSQL(), params)
}

// Outcomes counts the distinct subjects of a control per outcome class
// (OutcomesSQL).
func (q Query) Outcomes(ctx context.Context, db *warehouse.DB, params map[string]string) (map[string]int64, error) {
	if !q.IsControl() {
		return nil, fmt.Errorf("query %s is not a control", q.Name)
	}
	t, err := q.run(ctx, db, q.OutcomesSQL(), params)
	if err != nil {
		return nil, err
	}
	return OutcomeCounts(q.Name, t)
}

// OutcomeCounts reads the result of OutcomesSQL: class → subjects.
func OutcomeCounts(name string, t *output.Table) (map[string]int64, error) {
	out := map[string]int64{}
	for _, r := range t.Rows {
		if len(r) != 2 {
			return nil, fmt.Errorf("control %s: outcome counts have %d columns, want 2", name, len(r))
		}
		n, err := strconv.ParseInt(output.Text(r[1]), 10, 64)
		if err != nil {
			return nil, fmt.Errorf("control %s: outcome count: %w", name, err)
		}
		out[output.Text(r[0])] = n
	}
	return out, nil
}

func (q Query) run(ctx context.Context, db *warehouse.DB, text string, params map[string]string) (*output.Table, error) {
	vals, err := q.values(params)
	if err != nil {
		return nil, err
	}
	st, err := sqlrun.NewStatement(text)
	if err != nil {
		return nil, fmt.Errorf("query %s (%s): %w", q.Name, q.Path, err)
	}
	// The library's own text goes through the same guard as any query,
	// on a connection inside a read-only transaction.
	conn, err := db.ReadOnlyConn(ctx)
	if err != nil {
		return nil, err
	}
	defer conn.Close()
	if _, err := warehouse.Guard(ctx, conn.Conn, text, warehouse.Policy{}); err != nil {
		return nil, fmt.Errorf("query %s (%s): %w", q.Name, q.Path, err)
	}
	script := &sqlrun.Script{Path: "query " + q.Name + " (" + q.Path + ")", Params: q.Params}
	rows, err := script.QueryStatement(ctx, conn.Conn, st, vals)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	t, err := output.FromRows(rows)
	if err != nil {
		return nil, fmt.Errorf("query %s (%s): %w", q.Name, q.Path, err)
	}
	return t, nil
}

// ParseTime accepts RFC 3339, "YYYY-MM-DD HH:MM[:SS]" (UTC) and "YYYY-MM-DD"
// (midnight UTC) and returns the instant in UTC.
func ParseTime(s string) (time.Time, error) { return sqlrun.ParseTime(s) }
