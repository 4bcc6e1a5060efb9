// Package sqlrun runs shiplog's SQL files — transform models and metric
// macros, named queries and controls, the source mappings of GitHub and
// Jira, the drift and calendar queries — with one convention for the
// values they take.
//
// A file starts with a header of `-- key: value` comment lines. Each value
// the SQL takes is declared there, with its type and default:
//
//	-- param: team text ''
//	-- param: from timestamp null
//	-- param: production_environments text[] 'production,prod'
//
// Types: text, int, float, bool, date, timestamp (TIMESTAMPTZ, UTC), text[]
// (a list; as text, comma-separated) and json. Values arrive either as Go
// values of the type (Args) or as text from a flag, the config or a URL
// (Values), and are converted once, here, so a wrong value is reported
// against the parameter's name.
//
// The SQL reads a value in one of two ways, both typed and both DuckDB's own:
//
//   - $name, a prepared-statement parameter, wherever DuckDB allows one
//     (SELECT, INSERT, DELETE, CREATE TABLE … AS);
//   - getvariable('name'), a DuckDB variable, where it does not (CREATE
//     VIEW, CREATE MACRO) or where the value must be a constant when the
//     statement is planned (a regular expression DuckDB should compile
//     once, a switch that lets the optimizer drop a branch). The runner
//     sets the variable just before the statement with a prepared
//     `SET VARIABLE name = CAST($name AS type)` on the same connection.
//
// No value is ever spliced into SQL text. A client that cannot bind
// parameters (Flight SQL) gets typed literals from Literal, the one
// function that writes them. Every $name and getvariable('name') must be
// declared; Parse refuses a file that uses an undeclared one.
//
// A file may hold several statements; they run in order, each given the
// values it uses. Statements, comments and strings are told apart by
// package sqlscan, never by searching the text.
package sqlrun

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"math"
	"path"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/shiplog/shiplog/internal/sqlscan"
)

// Types are the parameter types a header may declare.
var Types = []string{"text", "int", "float", "bool", "date", "timestamp", "text[]", "json"}

var sqlTypes = map[string]string{
	"text": "VARCHAR", "int": "BIGINT", "float": "DOUBLE", "bool": "BOOLEAN", "date": "DATE",
	"timestamp": "TIMESTAMPTZ", "text[]": "VARCHAR[]", "json": "JSON",
}

// SQLType is the DuckDB type of a parameter type ("timestamp" →
// "TIMESTAMPTZ"), or "" for an unknown one.
func SQLType(typ string) string { return sqlTypes[typ] }

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

// String renders the parameter as declared: "team text ”".
func (p Param) String() string {
	if p.Null {
		return p.Name + " " + p.Type + " null"
	}
	return p.Name + " " + p.Type + " '" + strings.ReplaceAll(p.Default, "'", "''") + "'"
}

// Statement is one statement of a file.
type Statement struct {
	SQL  string
	Line int // line of its first code token in the file
	// Params are the $name parameters it uses, Variables the names it reads
	// with getvariable.
	Params, Variables []string
}

// Script is one parsed SQL file.
type Script struct {
	// Path names the file in messages.
	Path string
	// Fields are the header's `-- key: value` lines other than param, in
	// order, for the caller to read (name:, materialized:, test: …).
	Fields []sqlscan.Field
	Params []Param
	// Body is the SQL after the header, without a trailing semicolon.
	Body string
	// BodyLine is the line the body starts on.
	BodyLine   int
	Statements []Statement
}

var paramRE = regexp.MustCompile(`^([a-z_][a-z0-9_]*)\s+([a-z]+(?:\[\])?)(?:\s+(null|'(?:[^']|'')*'))?(?:\s*\(.*\))?$`)

// Parse reads one SQL file: its header, declared parameters and
// statements. Errors name path and line.
func Parse(path string, src []byte) (*Script, error) {
	toks, err := sqlscan.Scan(string(src))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	fields, start := sqlscan.Header(toks)
	s := &Script{Path: path, BodyLine: 1}
	for _, f := range fields {
		if f.Key != "param" {
			s.Fields = append(s.Fields, f)
			continue
		}
		p, err := ParseParam(f.Value)
		if err != nil {
			return nil, fmt.Errorf("%s:%d: %w", path, f.Line, err)
		}
		if _, dup := s.Param(p.Name); dup {
			return nil, fmt.Errorf("%s:%d: param %s declared twice", path, f.Line, p.Name)
		}
		s.Params = append(s.Params, p)
	}
	body := toks[start:]
	if len(body) > 0 {
		s.BodyLine = body[0].Line
	}
	s.Body = strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(sqlscan.Text(body)), ";"))
	for _, st := range sqlscan.Statements(body) {
		stmt := Statement{SQL: st.SQL, Line: st.Line, Params: sqlscan.Params(st.Tokens), Variables: sqlscan.Variables(st.Tokens)}
		for _, list := range [][]string{stmt.Params, stmt.Variables} {
			for _, name := range list {
				if _, ok := s.Param(name); !ok {
					return nil, fmt.Errorf("%s:%d: %s is used but not declared with `-- param: %s TYPE DEFAULT`", path, st.Line, use(stmt, name), name)
				}
			}
		}
		s.Statements = append(s.Statements, stmt)
	}
	return s, nil
}

func use(st Statement, name string) string {
	for _, p := range st.Params {
		if p == name {
			return "$" + name
		}
	}
	return "getvariable('" + name + "')"
}

// ParseParam reads a declaration `NAME TYPE [DEFAULT]` (the value of a
// `-- param:` line); DEFAULT is a quoted text or null (the default when
// omitted). A trailing "(…)" is a note.
func ParseParam(decl string) (Param, error) {
	m := paramRE.FindStringSubmatch(strings.TrimSpace(decl))
	if m == nil {
		return Param{}, fmt.Errorf("param %q: write `-- param: NAME TYPE 'DEFAULT'`", decl)
	}
	p := Param{Name: m[1], Type: m[2]}
	if SQLType(p.Type) == "" {
		return Param{}, fmt.Errorf("param %s: type %q is not one of %s", p.Name, p.Type, strings.Join(Types, ", "))
	}
	if m[3] == "" || m[3] == "null" {
		p.Null = true
		return p, nil
	}
	p.Default = strings.ReplaceAll(m[3][1:len(m[3])-1], "''", "'")
	if _, err := Convert(p.Type, p.Default); err != nil {
		return Param{}, fmt.Errorf("param %s: default: %w", p.Name, err)
	}
	return p, nil
}

// Param returns the declared parameter called name.
func (s *Script) Param(name string) (Param, bool) {
	for _, p := range s.Params {
		if p.Name == name {
			return p, true
		}
	}
	return Param{}, false
}

// Field returns the value of the first header line with key.
func (s *Script) Field(key string) (string, bool) {
	for _, f := range s.Fields {
		if f.Key == key {
			return f.Value, true
		}
	}
	return "", false
}

// Values are converted parameter values by name, ready to bind; nil is
// SQL NULL.
type Values map[string]any

// Values converts text values (from flags, the config, a URL) to the
// declared types and fills in the defaults of the others. A name that is
// not declared, or a value that does not parse as its type, is an error
// naming the parameter.
func (s *Script) Values(text map[string]string) (Values, error) {
	if err := s.known(keys(text)); err != nil {
		return nil, err
	}
	out := make(Values, len(s.Params))
	for _, p := range s.Params {
		t, ok := text[p.Name]
		if !ok {
			out[p.Name] = p.DefaultValue()
			continue
		}
		v, err := Convert(p.Type, t)
		if err != nil {
			return nil, fmt.Errorf("%s: parameter %s: %w", s.Path, p.Name, err)
		}
		out[p.Name] = v
	}
	return out, nil
}

// Args checks Go values against the declared types and fills in the
// defaults of the parameters not given. Unknown names are an error, so
// are values of the wrong Go type (string for text, int64 for int,
// float64, bool, time.Time for date and timestamp, []string for text[],
// anything encoding/json takes for json); nil is NULL.
func (s *Script) Args(vals map[string]any) (Values, error) {
	names := make([]string, 0, len(vals))
	for k := range vals {
		names = append(names, k)
	}
	if err := s.known(names); err != nil {
		return nil, err
	}
	out := make(Values, len(s.Params))
	for _, p := range s.Params {
		v, ok := vals[p.Name]
		if !ok {
			out[p.Name] = p.DefaultValue()
			continue
		}
		v, err := check(p.Type, v)
		if err != nil {
			return nil, fmt.Errorf("%s: parameter %s: %w", s.Path, p.Name, err)
		}
		out[p.Name] = v
	}
	return out, nil
}

// Pick takes from vals the values s declares (as Args checks them) and
// ignores the others: the values a runner offers every file it runs. A
// declared value vals lacks is an error naming it and what vals holds, as
// it would silently take its default.
func (s *Script) Pick(vals map[string]any) (Values, error) {
	mine := map[string]any{}
	for _, p := range s.Params {
		v, ok := vals[p.Name]
		if !ok {
			have := make([]string, 0, len(vals))
			for k := range vals {
				have = append(have, k)
			}
			sort.Strings(have)
			return nil, fmt.Errorf("%s declares %s, which its runner does not supply (it supplies %s)", s.Path, p.Name, strings.Join(have, ", "))
		}
		mine[p.Name] = v
	}
	return s.Args(mine)
}

func (s *Script) known(names []string) error {
	for _, n := range names {
		if _, ok := s.Param(n); !ok {
			declared := make([]string, len(s.Params))
			for i, p := range s.Params {
				declared[i] = p.Name
			}
			list := "no parameters"
			if len(declared) > 0 {
				list = strings.Join(declared, ", ")
			}
			return fmt.Errorf("%s has no parameter %q (it takes: %s)", s.Path, n, list)
		}
	}
	return nil
}

func keys(m map[string]string) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	return out
}

// DefaultValue is the parameter's default, converted (nil for null).
func (p Param) DefaultValue() any {
	if p.Null {
		return nil
	}
	v, _ := Convert(p.Type, p.Default) // checked by ParseParam
	return v
}

var errEmpty = errors.New("empty value")

// Convert parses text as a value of typ.
func Convert(typ, text string) (any, error) {
	s := strings.TrimSpace(text)
	switch typ {
	case "text":
		return text, nil
	case "int":
		v, err := strconv.ParseInt(s, 10, 64)
		if err != nil {
			return nil, fmt.Errorf("%q is not an integer", text)
		}
		return v, nil
	case "float":
		v, err := strconv.ParseFloat(s, 64)
		if err != nil {
			return nil, fmt.Errorf("%q is not a number", text)
		}
		return v, nil
	case "bool":
		v, err := strconv.ParseBool(s)
		if err != nil {
			return nil, fmt.Errorf("%q is not true or false", text)
		}
		return v, nil
	case "date":
		v, err := time.Parse("2006-01-02", s)
		if err != nil {
			return nil, fmt.Errorf("%q is not a date (YYYY-MM-DD)", text)
		}
		return v, nil
	case "timestamp":
		return ParseTime(text)
	case "text[]":
		list := []string{}
		if s == "" {
			return list, nil
		}
		for _, part := range strings.Split(s, ",") {
			list = append(list, strings.TrimSpace(part))
		}
		return list, nil
	case "json":
		if !json.Valid([]byte(s)) {
			return nil, fmt.Errorf("%q is not JSON", text)
		}
		return s, nil
	}
	return nil, fmt.Errorf("unknown type %q", typ)
}

// check accepts a Go value for typ, normalising times to UTC and json
// values to their encoding.
func check(typ string, v any) (any, error) {
	if v == nil {
		return nil, nil
	}
	ok := false
	switch typ {
	case "text":
		_, ok = v.(string)
	case "int":
		switch x := v.(type) {
		case int:
			return int64(x), nil
		case int64:
			ok = true
		}
	case "float":
		switch x := v.(type) {
		case float64:
			ok = true
		case int:
			return float64(x), nil
		}
	case "bool":
		_, ok = v.(bool)
	case "date", "timestamp":
		if t, isTime := v.(time.Time); isTime {
			return t.UTC(), nil
		}
	case "text[]":
		if l, isList := v.([]string); isList {
			if l == nil {
				l = []string{}
			}
			return l, nil
		}
	case "json":
		b, err := json.Marshal(v)
		if err != nil {
			return nil, err
		}
		return string(b), nil
	}
	if !ok {
		return nil, fmt.Errorf("%T is not a %s value", v, typ)
	}
	return v, nil
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

// Literal renders a converted value of typ (nil is NULL) as a DuckDB
// literal of that type, for the clients that cannot bind parameters.
func Literal(typ string, v any) (string, error) {
	sqlType := SQLType(typ)
	if sqlType == "" {
		return "", fmt.Errorf("unknown type %q", typ)
	}
	if v == nil {
		return "CAST(NULL AS " + sqlType + ")", nil
	}
	str := func(x string) (string, error) {
		if strings.IndexByte(x, 0) >= 0 {
			return "", fmt.Errorf("text holds a NUL character")
		}
		return "'" + strings.ReplaceAll(x, "'", "''") + "'", nil
	}
	switch x := v.(type) {
	case string:
		q, err := str(x)
		if err != nil {
			return "", err
		}
		return "CAST(" + q + " AS " + sqlType + ")", nil
	case []string:
		parts := make([]string, len(x))
		for i, e := range x {
			q, err := str(e)
			if err != nil {
				return "", err
			}
			parts[i] = q
		}
		return "CAST([" + strings.Join(parts, ", ") + "] AS VARCHAR[])", nil
	case int64:
		return "CAST(" + strconv.FormatInt(x, 10) + " AS BIGINT)", nil
	case float64:
		if math.IsNaN(x) || math.IsInf(x, 0) {
			return "CAST('" + strconv.FormatFloat(x, 'g', -1, 64) + "' AS DOUBLE)", nil
		}
		return "CAST(" + strconv.FormatFloat(x, 'g', -1, 64) + " AS DOUBLE)", nil
	case bool:
		return strings.ToUpper(strconv.FormatBool(x)), nil
	case time.Time:
		if typ == "date" {
			return "DATE '" + x.Format("2006-01-02") + "'", nil
		}
		return "TIMESTAMPTZ '" + x.UTC().Format("2006-01-02 15:04:05.999999") + "+00'", nil
	}
	return "", fmt.Errorf("unsupported value %T", v)
}

// Conn runs statements. Pass a *sql.Conn or *sql.Tx when statements read
// variables (they live on one connection); given a pool (anything with a
// Conn method, such as *warehouse.DB), the runner takes one connection for
// the whole call.
type Conn interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
}

type pool interface {
	Conn(ctx context.Context) (*sql.Conn, error)
}

// Exec runs every statement of s in order with vals (from Values or Args).
func (s *Script) Exec(ctx context.Context, c Conn, vals Values) error {
	c, done, err := s.pin(ctx, c, s.Statements)
	if err != nil {
		return err
	}
	defer done()
	for _, st := range s.Statements {
		if err := s.ExecStatement(ctx, c, st, vals); err != nil {
			return err
		}
	}
	return nil
}

// Query runs the statements of s before the last one, then the last one,
// whose rows it returns.
func (s *Script) Query(ctx context.Context, c Conn, vals Values) (*sql.Rows, error) {
	if len(s.Statements) == 0 {
		return nil, fmt.Errorf("%s: no SQL statement", s.Path)
	}
	c, done, err := s.pin(ctx, c, s.Statements)
	if err != nil {
		return nil, err
	}
	n := len(s.Statements)
	for _, st := range s.Statements[:n-1] {
		if err := s.ExecStatement(ctx, c, st, vals); err != nil {
			done()
			return nil, err
		}
	}
	rows, err := s.QueryStatement(ctx, c, s.Statements[n-1], vals)
	if err != nil {
		done()
		return nil, err
	}
	// A pinned connection goes back to the pool when the rows are closed:
	// (*sql.Conn).Close waits for the open rows, so it is called aside.
	go done()
	return rows, nil
}

func nop() {}

// pin returns a single connection for stmts when they read variables and
// c is a pool.
func (s *Script) pin(ctx context.Context, c Conn, stmts []Statement) (Conn, func(), error) {
	p, isPool := c.(pool)
	if !isPool {
		return c, nop, nil
	}
	needs := false
	for _, st := range stmts {
		needs = needs || len(st.Variables) > 0
	}
	if !needs {
		return c, nop, nil
	}
	conn, err := p.Conn(ctx)
	if err != nil {
		return nil, nop, err
	}
	return conn, func() { conn.Close() }, nil
}

// ExecStatement runs one statement (of s, or built on one of its
// statements, such as a model wrapped in CREATE TABLE … AS) with vals.
func (s *Script) ExecStatement(ctx context.Context, c Conn, st Statement, vals Values) error {
	args, err := s.prepare(ctx, c, st, vals)
	if err != nil {
		return err
	}
	if _, err := c.ExecContext(ctx, st.SQL, args...); err != nil {
		return s.fail(st, err)
	}
	return nil
}

// QueryStatement runs one statement with vals and returns its rows.
func (s *Script) QueryStatement(ctx context.Context, c Conn, st Statement, vals Values) (*sql.Rows, error) {
	args, err := s.prepare(ctx, c, st, vals)
	if err != nil {
		return nil, err
	}
	rows, err := c.QueryContext(ctx, st.SQL, args...)
	if err != nil {
		return nil, s.fail(st, err)
	}
	return rows, nil
}

func (s *Script) fail(st Statement, err error) error {
	if len(s.Statements) > 1 {
		return fmt.Errorf("%s:%d: %w", s.Path, st.Line, err)
	}
	return fmt.Errorf("%s: %w", s.Path, err)
}

// SetVariables sets the DuckDB variables names (declared parameters of s)
// on c to their values in vals (defaults for the missing), as a statement
// reading them with getvariable needs: with a prepared
// `SET VARIABLE name = CAST($v AS type)`.
func (s *Script) SetVariables(ctx context.Context, c Conn, names []string, vals Values) error {
	for _, name := range names {
		p, ok := s.Param(name)
		if !ok {
			return fmt.Errorf("%s: %s is not a declared parameter", s.Path, name)
		}
		v, ok := vals[name]
		if !ok {
			v = p.DefaultValue()
		}
		// name is a declared parameter name ([a-z_][a-z0-9_]*, quoted as
		// it may be a keyword such as from), the type one of sqlTypes:
		// neither can break out of the statement.
		if _, err := c.ExecContext(ctx, `SET VARIABLE "`+name+`" = CAST($v AS `+SQLType(p.Type)+")", sql.Named("v", v)); err != nil {
			return fmt.Errorf("%s: set %s: %w", s.Path, name, err)
		}
	}
	return nil
}

// prepare sets the variables st reads and returns the named arguments of
// the parameters it uses.
func (s *Script) prepare(ctx context.Context, c Conn, st Statement, vals Values) ([]any, error) {
	if err := s.SetVariables(ctx, c, st.Variables, vals); err != nil {
		return nil, err
	}
	args := make([]any, 0, len(st.Params))
	for _, name := range st.Params {
		v, ok := vals[name]
		if !ok {
			p, _ := s.Param(name)
			v = p.DefaultValue()
		}
		args = append(args, sql.Named(name, v))
	}
	return args, nil
}

// NewStatement reads one statement written outside a file (a query
// wrapped to count a control's subjects), finding what it uses.
func NewStatement(text string) (Statement, error) {
	toks, err := sqlscan.Scan(text)
	if err != nil {
		return Statement{}, err
	}
	return Statement{SQL: text, Line: 1, Params: sqlscan.Params(toks), Variables: sqlscan.Variables(toks)}, nil
}

// Wrap returns st with its SQL put inside prefix and suffix (a model's
// SELECT inside CREATE TABLE … AS), keeping what it uses.
func (st Statement) Wrap(prefix, suffix string) Statement {
	st.SQL = prefix + st.SQL + suffix
	return st
}

// LoadDir parses every *.sql file of dir in fsys, in file-name order (the
// order a source mapping runs in: 00_macros.sql, 10_stg_….sql, 20_….sql).
// where prefixes the file names in messages.
func LoadDir(fsys fs.FS, dir, where string) ([]*Script, error) {
	names, err := fs.Glob(fsys, path.Join(dir, "*.sql"))
	if err != nil {
		return nil, err
	}
	sort.Strings(names)
	out := make([]*Script, 0, len(names))
	for _, n := range names {
		src, err := fs.ReadFile(fsys, n)
		if err != nil {
			return nil, err
		}
		s, err := Parse(path.Join(where, path.Base(n)), src)
		if err != nil {
			return nil, err
		}
		out = append(out, s)
	}
	return out, nil
}

// ExecAll runs scripts in order on c, each with the values of vals it
// declares. A script that declares a value vals lacks is an error (it
// would silently run on its default); vals may hold values some scripts
// do not take.
func ExecAll(ctx context.Context, c Conn, scripts []*Script, vals map[string]any) error {
	for _, s := range scripts {
		args, err := s.Pick(vals)
		if err != nil {
			return err
		}
		if err := s.Exec(ctx, c, args); err != nil {
			return err
		}
	}
	return nil
}
