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
// Parameters appear in the SQL as DuckDB named parameters ($team, $from).
// Values arrive as text (from flags, the config or a URL) and are converted
// to the declared type before binding, so that a wrong value is reported
// against the parameter's name rather than as a DuckDB cast error.
//
// A control returns one row per examined subject with a `subject` column
// and a `rule` column that is NULL when the subject passes and says which
// rule was broken when it does not (a subject may break several rules, one
// row each). Run returns only the findings; Checked counts the subjects.
package queries

import (
	"bufio"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io/fs"
	"path"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/shiplog/shiplog/internal/output"
	"github.com/shiplog/shiplog/internal/warehouse"
)

// Audiences and kinds a query header may declare.
var (
	Audiences = []string{"leadership", "retro", "audit"}
	Kinds     = []string{"query", "control"}
	// Types are the accepted parameter types.
	Types = []string{"text", "int", "float", "date", "timestamp", "bool"}
)

// Param is one declared parameter.
type Param struct {
	Name string
	// Type is one of Types.
	Type string
	// Default is the text of the default value; Null says the default is
	// SQL NULL (written `null` without quotes).
	Default string
	Null    bool
}

// String renders the parameter as in --list: "team text ”".
func (p Param) String() string {
	if p.Null {
		return p.Name + " " + p.Type + " null"
	}
	return p.Name + " " + p.Type + " '" + strings.ReplaceAll(p.Default, "'", "''") + "'"
}

// Query is one named SQL file.
type Query struct {
	Name        string
	Description string
	Audience    string
	Kind        string
	Params      []Param
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

var (
	headerRE = regexp.MustCompile(`^--\s*([a-z_]+):\s*(.*?)\s*$`)
	paramRE  = regexp.MustCompile(`^([a-z_][a-z0-9_]*)\s+([a-z]+)(?:\s+(null|'(?:[^']|'')*'))?(?:\s*\(.*\))?$`)
	nameRE   = regexp.MustCompile(`^[a-z0-9][a-z0-9-]*$`)
	// usedRE finds $name parameters in SQL text (comments are removed first).
	usedRE = regexp.MustCompile(`\$([A-Za-z_][A-Za-z0-9_]*)`)
)

// Parse reads one query file. file is used in error messages and kept as
// Query.Path.
func Parse(file string, src []byte) (Query, error) {
	q := Query{Path: file, Kind: "query"}
	sc := bufio.NewScanner(strings.NewReader(string(src)))
	sc.Buffer(make([]byte, 0, 64*1024), 1<<20)
	line := 0
	var body strings.Builder
	inHeader := true
	seen := map[string]bool{}
	for sc.Scan() {
		line++
		text := sc.Text()
		if inHeader {
			trimmed := strings.TrimSpace(text)
			if trimmed == "" && q.Name == "" {
				continue
			}
			if m := headerRE.FindStringSubmatch(trimmed); m != nil {
				if err := q.setHeader(m[1], stripNote(m[2]), m[2], seen); err != nil {
					return Query{}, fmt.Errorf("%s:%d: %w", file, line, err)
				}
				continue
			}
			if strings.HasPrefix(trimmed, "--") {
				continue // free comment inside the header block
			}
			inHeader = false
		}
		body.WriteString(text)
		body.WriteByte('\n')
	}
	if err := sc.Err(); err != nil {
		return Query{}, fmt.Errorf("%s: %w", file, err)
	}
	q.SQL = strings.TrimRight(strings.TrimSpace(body.String()), ";")
	q.SQL = strings.TrimSpace(q.SQL)
	switch {
	case q.Name == "":
		return Query{}, fmt.Errorf("%s: missing `-- name:` header", file)
	case q.Description == "":
		return Query{}, fmt.Errorf("%s: missing `-- description:` header", file)
	case q.Audience == "":
		return Query{}, fmt.Errorf("%s: missing `-- audience:` header (one of %s)", file, strings.Join(Audiences, ", "))
	case q.SQL == "":
		return Query{}, fmt.Errorf("%s: no SQL after the header", file)
	}
	for _, used := range usedParams(q.SQL) {
		if _, ok := q.Param(used); !ok {
			return Query{}, fmt.Errorf("%s: $%s is used but not declared with `-- param: %s TYPE DEFAULT`", file, used, used)
		}
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
	if key != "param" {
		if seen[key] {
			return fmt.Errorf("header %q given twice", key)
		}
		seen[key] = true
	}
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
	case "param":
		m := paramRE.FindStringSubmatch(strings.TrimSpace(raw))
		if m == nil {
			return fmt.Errorf("param %q: write `-- param: NAME TYPE 'DEFAULT'`", raw)
		}
		p := Param{Name: m[1], Type: m[2]}
		if !contains(Types, p.Type) {
			return fmt.Errorf("param %s: type %q is not one of %s", p.Name, p.Type, strings.Join(Types, ", "))
		}
		if _, dup := q.Param(p.Name); dup {
			return fmt.Errorf("param %s declared twice", p.Name)
		}
		switch {
		case m[3] == "" || m[3] == "null":
			p.Null = true
		default:
			p.Default = strings.ReplaceAll(m[3][1:len(m[3])-1], "''", "'")
			if _, err := convert(p, p.Default); err != nil {
				return fmt.Errorf("param %s: default: %w", p.Name, err)
			}
		}
		q.Params = append(q.Params, p)
	default:
		// Unknown header keys are free-form notes (owner:, see: …).
	}
	return nil
}

func usedParams(sqlText string) []string {
	var b strings.Builder
	for _, l := range strings.Split(sqlText, "\n") {
		if i := strings.Index(l, "--"); i >= 0 {
			l = l[:i]
		}
		b.WriteString(l)
		b.WriteByte('\n')
	}
	seen := map[string]bool{}
	var out []string
	for _, m := range usedRE.FindAllStringSubmatch(b.String(), -1) {
		if !seen[m[1]] {
			seen[m[1]] = true
			out = append(out, m[1])
		}
	}
	return out
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
	args := make([]any, 0, len(q.Params))
	for _, p := range q.Params {
		var v any
		if s, ok := params[p.Name]; ok {
			var err error
			if v, err = convert(p, s); err != nil {
				return nil, fmt.Errorf("query %s: parameter %s: %w", q.Name, p.Name, err)
			}
		} else if !p.Null {
			v, _ = convert(p, p.Default)
		}
		args = append(args, sql.Named(p.Name, v))
	}
	return args, nil
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

func (q Query) run(ctx context.Context, db *warehouse.DB, text string, params map[string]string) (*output.Table, error) {
	args, err := q.Args(params)
	if err != nil {
		return nil, err
	}
	rows, done, err := db.QueryReadOnly(ctx, text, warehouse.Policy{}, args...)
	if err != nil {
		return nil, fmt.Errorf("query %s (%s): %w", q.Name, q.Path, err)
	}
	defer done()
	t, err := output.FromRows(rows)
	if err != nil {
		return nil, fmt.Errorf("query %s (%s): %w", q.Name, q.Path, err)
	}
	return t, nil
}

var errEmpty = errors.New("empty value")

// convert parses s as p's type.
func convert(p Param, s string) (any, error) {
	switch p.Type {
	case "text":
		return s, nil
	case "int":
		v, err := strconv.ParseInt(strings.TrimSpace(s), 10, 64)
		if err != nil {
			return nil, fmt.Errorf("%q is not an integer", s)
		}
		return v, nil
	case "float":
		v, err := strconv.ParseFloat(strings.TrimSpace(s), 64)
		if err != nil {
			return nil, fmt.Errorf("%q is not a number", s)
		}
		return v, nil
	case "bool":
		v, err := strconv.ParseBool(strings.TrimSpace(s))
		if err != nil {
			return nil, fmt.Errorf("%q is not true or false", s)
		}
		return v, nil
	case "date":
		v, err := time.Parse("2006-01-02", strings.TrimSpace(s))
		if err != nil {
			return nil, fmt.Errorf("%q is not a date (YYYY-MM-DD)", s)
		}
		return v, nil
	case "timestamp":
		v, err := ParseTime(s)
		if err != nil {
			return nil, err
		}
		return v, nil
	}
	return nil, fmt.Errorf("unknown type %q", p.Type)
}

// ParseTime accepts RFC 3339, "YYYY-MM-DD HH:MM[:SS]" (UTC) and "YYYY-MM-DD"
// (midnight UTC) and returns the instant in UTC.
func ParseTime(s string) (time.Time, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return time.Time{}, errEmpty
	}
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04:05", "2006-01-02 15:04:05", "2006-01-02 15:04", "2006-01-02T15:04", "2006-01-02"} {
		if v, err := time.Parse(layout, s); err == nil {
			return v.UTC(), nil
		}
	}
	return time.Time{}, fmt.Errorf("%q is not a time (RFC 3339, YYYY-MM-DD HH:MM or YYYY-MM-DD)", s)
}
