package warehouse

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"sort"
	"strings"
	"sync"

	"github.com/duckdb/duckdb-go/v2"
	"github.com/duckdb/duckdb-go/v2/mapping"
)

// The read-only query guard.
//
// Text that a user or a client sends (`shiplog query`, the Flight SQL
// endpoint, named queries with their parameters) is parsed by DuckDB, in a
// private in-memory DuckDB instance that holds no data and cannot reach
// files, before any of it is prepared on the warehouse. Preparing is not
// harmless: the driver executes every statement of a text but the last while
// preparing it, and binding a statement reads the files it names. So the
// guard decides on the parse tree alone:
//
//   - DuckDB's own statement splitter (duckdb_extract_statements) must find
//     exactly one statement;
//   - DuckDB's serializer (json_serialize_sql), which only accepts SELECT
//     statements (WITH, FROM-first, VALUES, DESCRIBE and SUMMARIZE included),
//     must accept it; EXPLAIN of such a statement is accepted and run as
//     "EXPLAIN " followed by the statement DuckDB accepted, so that EXPLAIN
//     ANALYZE (which executes its statement) never runs;
//   - every table function in the tree must be on an allow-list (no
//     read_text, read_csv, glob, query, checkpoint …), no function may read
//     the environment or advance a sequence, and every table must be a table
//     or view of the warehouse or a named subquery (no replacement scan of a
//     file such as FROM 'x.csv'). Policy.Files lets the file readers through
//     for `shiplog query --allow-files`, with their arguments written out
//     (no name computed) and no URL among them.
//
// The guard is one of three layers. The connection that runs an accepted
// query is inside a READ ONLY transaction (DuckDB refuses any write, in
// any attached database, whatever the statement), and the DuckDB instance
// itself runs with enable_external_access off and its configuration locked
// (Options.Sandbox), so that neither a gap in the guard nor a new DuckDB
// function can write the warehouse or reach a file outside the folders the
// loaders need.

// Policy says what an accepted query may reach besides the warehouse.
type Policy struct {
	// Files lets a query read local files: the file reader table functions
	// (read_csv, read_json, read_parquet, read_text, glob …) and replacement
	// scans (FROM 'deployments.csv'). Only `shiplog query --allow-files`
	// sets it; nothing ever lets a query write a file.
	Files bool
	// Macros are the warehouse's own table macros (metric_*, explain_* …,
	// lower-cased), which a query may call: transform defines them over
	// the warehouse's tables, and a read-only query cannot define one.
	// Guard fills it from the catalog.
	Macros map[string]bool
}

// RefusedError is a query text the guard does not let run.
type RefusedError struct{ Reason string }

func (e *RefusedError) Error() string { return "query: " + e.Reason }

func refused(format string, args ...any) error {
	return &RefusedError{Reason: fmt.Sprintf(format, args...)}
}

// IsRefused reports whether err is the guard refusing a text (as opposed
// to a query that failed while it ran).
func IsRefused(err error) bool {
	var r *RefusedError
	return errors.As(err, &r)
}

// readOnlyHint ends every refusal of a statement of the wrong kind.
const readOnlyHint = "only one SELECT statement (WITH, FROM, VALUES, DESCRIBE, SUMMARIZE, or EXPLAIN of one) may run here; queries never change the warehouse or touch files"

// safeTableFunctions are the table functions any read-only query may call:
// generators and the catalog. Everything else is refused, so that a table
// function added by a later DuckDB is refused until it is looked at.
var safeTableFunctions = setOf(
	"range", "generate_series", "unnest", "json_each", "json_tree", "repeat", "repeat_row",
	"duckdb_columns", "duckdb_constraints", "duckdb_databases", "duckdb_dependencies",
	"duckdb_functions", "duckdb_indexes", "duckdb_keywords", "duckdb_schemas",
	"duckdb_sequences", "duckdb_tables", "duckdb_types", "duckdb_views", "duckdb_settings",
	"pragma_table_info", "pragma_show", "pragma_version", "pragma_database_size",
	"pragma_storage_info", "pg_timezone_names", "icu_calendar_names",
)

// fileTableFunctions read local files; only Policy.Files allows them.
var fileTableFunctions = setOf(
	"read_csv", "read_csv_auto", "read_json", "read_json_auto", "read_json_objects",
	"read_json_objects_auto", "read_ndjson", "read_ndjson_auto", "read_ndjson_objects",
	"read_parquet", "parquet_scan", "parquet_metadata", "parquet_schema",
	"parquet_file_metadata", "parquet_kv_metadata", "parquet_full_metadata",
	"read_text", "read_blob", "glob", "sniff_csv", "read_duckdb",
)

// unsafeFunctions are scalar functions no query may call: they read the
// process environment or change state.
var unsafeFunctions = setOf("getenv", "nextval", "setseed")

func setOf(names ...string) map[string]bool {
	m := make(map[string]bool, len(names))
	for _, n := range names {
		m[n] = true
	}
	return m
}

// Checked is a query the guard accepted.
type Checked struct {
	// SQL is the text to run: the text given, or for EXPLAIN, "EXPLAIN "
	// and the statement DuckDB accepted.
	SQL string
	// Tables are the table names the query reads that are not named
	// subqueries (lower case); Guard checks them against the catalog.
	Tables []string
}

// Parse checks text on the parse tree alone (no catalog): one statement,
// a SELECT or EXPLAIN of one, allowed functions only. Guard adds the check
// of table names against a warehouse.
func Parse(text string, p Policy) (*Checked, error) {
	ps, err := sharedParser()
	if err != nil {
		return nil, err
	}
	n, err := ps.count(text)
	if err != nil {
		return nil, err
	}
	switch {
	case n == 0:
		return nil, refused("the text holds no statement")
	case n > 1:
		return nil, refused("the text holds %d statements; send one at a time (none of them was run)%s", n, pivotHint(text))
	}
	tree, err := ps.serialize(text)
	if err != nil {
		return nil, err
	}
	if tree != nil {
		return walk(text, tree, p)
	}
	// Not a SELECT: an EXPLAIN of one is accepted as EXPLAIN of exactly
	// the statement DuckDB accepts.
	kw, rest := leadingWord(text)
	if kw != "EXPLAIN" {
		if kw == "" {
			return nil, refused("this statement is not a query: %s%s", readOnlyHint, pivotHint(text))
		}
		return nil, refused("%s statements are refused: %s%s", kw, readOnlyHint, pivotHint(text))
	}
	if w, _ := leadingWord(rest); w == "ANALYZE" || w == "ANALYSE" || strings.HasPrefix(strings.TrimSpace(rest), "(") {
		return nil, refused("EXPLAIN ANALYZE (and EXPLAIN with options) runs its statement and is refused; EXPLAIN alone shows the plan")
	}
	inner, err := ps.serialize(rest)
	if err != nil {
		return nil, err
	}
	if inner == nil {
		w, _ := leadingWord(rest)
		if w == "" {
			w = "this"
		}
		return nil, refused("EXPLAIN of a %s statement is refused: %s", w, readOnlyHint)
	}
	c, err := walk(rest, inner, p)
	if err != nil {
		return nil, err
	}
	c.SQL = "EXPLAIN " + strings.TrimSpace(rest)
	return c, nil
}

// Guard checks text (Parse) and that every table it reads is a table or
// view of the database conn is on (or a named subquery), so that no name
// falls through to a replacement scan of a file. It returns the text to
// run on conn.
func Guard(ctx context.Context, conn *sql.Conn, text string, p Policy) (string, error) {
	macros, err := tableMacros(ctx, conn)
	if err != nil {
		return "", err
	}
	p.Macros = macros
	c, err := Parse(text, p)
	if err != nil {
		return "", err
	}
	if p.Files || len(c.Tables) == 0 {
		return c.SQL, nil
	}
	known := map[string]bool{}
	rows, err := conn.QueryContext(ctx, `SELECT lower(table_name) FROM duckdb_tables()
		UNION SELECT lower(view_name) FROM duckdb_views()`)
	if err != nil {
		return "", fmt.Errorf("query: read the catalog: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var n string
		if err := rows.Scan(&n); err != nil {
			return "", err
		}
		known[n] = true
	}
	if err := rows.Err(); err != nil {
		return "", err
	}
	for _, t := range c.Tables {
		if !known[t] {
			if strings.ContainsAny(t, `./\:`) {
				return "", refused("no table or view named %q (files are not read here; `shiplog query --allow-files` reads local files)", t)
			}
			return "", refused("no table or view named %q", t)
		}
	}
	return c.SQL, nil
}

// walk checks the parse tree of one SELECT statement.
func walk(text string, tree map[string]any, p Policy) (*Checked, error) {
	stmts, _ := tree["statements"].([]any)
	if len(stmts) != 1 {
		return nil, refused("the text holds %d statements; send one at a time (none of them was run)", len(stmts))
	}
	w := &walker{policy: p, ctes: map[string]bool{}, tables: map[string]bool{}}
	// Named subqueries first: a table reference may name one.
	w.collectCTEs(stmts[0])
	if err := w.visit(stmts[0]); err != nil {
		return nil, err
	}
	c := &Checked{SQL: text}
	for t := range w.tables {
		c.Tables = append(c.Tables, t)
	}
	sort.Strings(c.Tables)
	return c, nil
}

type walker struct {
	policy Policy
	ctes   map[string]bool
	tables map[string]bool
}

func (w *walker) collectCTEs(v any) {
	switch x := v.(type) {
	case map[string]any:
		if cm, ok := x["cte_map"].(map[string]any); ok {
			entries, _ := cm["map"].([]any)
			for _, e := range entries {
				if m, ok := e.(map[string]any); ok {
					if k, ok := m["key"].(string); ok {
						w.ctes[strings.ToLower(k)] = true
					}
				}
			}
		}
		for _, c := range x {
			w.collectCTEs(c)
		}
	case []any:
		for _, c := range x {
			w.collectCTEs(c)
		}
	}
}

func (w *walker) visit(v any) error {
	switch x := v.(type) {
	case map[string]any:
		typ, _ := x["type"].(string)
		class, _ := x["class"].(string)
		switch {
		case typ == "TABLE_FUNCTION":
			fn, _ := x["function"].(map[string]any)
			name, _ := fn["function_name"].(string)
			if err := w.tableFunction(name, fn); err != nil {
				return err
			}
		case typ == "BASE_TABLE":
			if err := w.table(x); err != nil {
				return err
			}
		case class == "FUNCTION" || class == "WINDOW":
			name, _ := x["function_name"].(string)
			if err := w.function(name); err != nil {
				return err
			}
		}
		for _, c := range x {
			if err := w.visit(c); err != nil {
				return err
			}
		}
	case []any:
		for _, c := range x {
			if err := w.visit(c); err != nil {
				return err
			}
		}
	}
	return nil
}

func (w *walker) tableFunction(name string, node any) error {
	n := strings.ToLower(name)
	switch {
	case safeTableFunctions[n], w.policy.Macros[n]:
		return nil
	case fileTableFunctions[n] && w.policy.Files:
		fn, _ := node.(map[string]any)
		for _, a := range funcArgs(fn) {
			if what := computed(a); what != "" {
				return refused("the arguments of %s must be written out (strings, numbers, lists and structs of them), not computed: found %s; a computed name could be a URL", name, what)
			}
		}
		if u := findURL(node); u != "" {
			return refused("%s of %q: files may be read, the network may not", name, u)
		}
		return nil
	case fileTableFunctions[n]:
		return refused("the table function %s reads files and is refused here (`shiplog query --allow-files` reads local files; the query endpoint never does)", name)
	}
	return refused("the table function %s is refused here: it can reach files, the network or the server's state (allowed: %s)", name, strings.Join(sortedKeys(safeTableFunctions), ", "))
}

func (w *walker) function(name string) error {
	n := strings.ToLower(name)
	if unsafeFunctions[n] {
		return refused("the function %s is refused here: it reads the environment or changes state", name)
	}
	if fileTableFunctions[n] && !w.policy.Files {
		return refused("the function %s reads files and is refused here (`shiplog query --allow-files` reads local files; the query endpoint never does)", name)
	}
	return nil
}

// table notes a table reference. A name that is not a named subquery must
// be in the catalog (Guard checks); a name with a dot or a slash is a file
// path to DuckDB's replacement scans, and is only accepted under
// Policy.Files or as a table that exists.
func (w *walker) table(ref map[string]any) error {
	name, _ := ref["table_name"].(string)
	n := strings.ToLower(name)
	fileLike := strings.ContainsAny(n, `./\:`)
	if w.ctes[n] && !fileLike {
		return nil
	}
	if w.policy.Files {
		if strings.Contains(n, "://") {
			return refused("%q: files may be read, the network may not", name)
		}
		return nil
	}
	w.tables[n] = true
	return nil
}

// funcArgs returns the argument expressions of a function node, in either
// shape of DuckDB's tree: a list of expressions under "children" (DuckDB
// 1.x), or of {name, expression} under "arguments" (2.0).
func funcArgs(fn map[string]any) []any {
	var out []any
	children, _ := fn["children"].([]any)
	out = append(out, children...)
	args, _ := fn["arguments"].([]any)
	for _, a := range args {
		if m, ok := a.(map[string]any); ok {
			out = append(out, m["expression"])
		}
	}
	return out
}

// writtenFunctions build a value out of the values written in them; they
// compute nothing a URL could come from.
var writtenFunctions = setOf("list_value", "struct_pack", "row", "map")

// computed returns "" when expr is a value written out in the text (a
// constant; a list, struct or map of such; a cast of one; a named
// parameter set to one), and else what it found, for the refusal. A file
// reader's arguments are held to that under Policy.Files, so that
// findURL sees every name the reader is given: 'http:' || '//…' is a URL
// no constant of the text shows.
func computed(expr any) string {
	x, ok := expr.(map[string]any)
	if !ok {
		return "an expression the guard does not know"
	}
	class, _ := x["class"].(string)
	typ, _ := x["type"].(string)
	switch class {
	case "CONSTANT":
		return ""
	case "CAST":
		// the type (from DuckDB 2.0 an expression too, under type_expr)
		// holds only type names and constants
		for _, k := range []string{"child", "type_expr"} {
			if c, ok := x[k]; ok && c != nil {
				if what := computed(c); what != "" {
					return what
				}
			}
		}
		return ""
	case "TYPE":
		children, _ := x["children"].([]any)
		for _, c := range children {
			if what := computed(c); what != "" {
				return what
			}
		}
		return ""
	case "COMPARISON":
		// name = value is how DuckDB's tree writes a named parameter
		left, _ := x["left"].(map[string]any)
		if lc, _ := left["class"].(string); typ == "COMPARE_EQUAL" && lc == "COLUMN_REF" {
			return computed(x["right"])
		}
		return "a comparison"
	case "FUNCTION":
		name, _ := x["function_name"].(string)
		if !writtenFunctions[strings.ToLower(name)] {
			return fmt.Sprintf("the function %s", name)
		}
		for _, a := range funcArgs(x) {
			if what := computed(a); what != "" {
				return what
			}
		}
		return ""
	case "COLUMN_REF":
		names, _ := x["column_names"].([]any)
		var parts []string
		for _, n := range names {
			if s, ok := n.(string); ok {
				parts = append(parts, s)
			}
		}
		return fmt.Sprintf("the column %s", strings.Join(parts, "."))
	case "":
		return "an expression the guard does not know"
	}
	return "a " + strings.ToLower(class) + " expression"
}

// findURL returns the first string under node that names a URL
// (scheme://…), or "". Every string of the tree counts, whatever its key:
// DuckDB 1.x writes a constant as {"value": {"value": …}}, 2.0 as
// {"literal": {"text": …}}, and a name (a struct's field, an alias) that
// holds a URL is refused too, which costs nothing.
func findURL(node any) string {
	switch x := node.(type) {
	case string:
		if strings.Contains(x, "://") {
			return x
		}
	case map[string]any:
		keys := make([]string, 0, len(x))
		for k := range x {
			keys = append(keys, k)
		}
		sort.Strings(keys) // the first URL of a text is the same each time
		for _, k := range keys {
			if u := findURL(x[k]); u != "" {
				return u
			}
		}
	case []any:
		for _, c := range x {
			if u := findURL(c); u != "" {
				return u
			}
		}
	}
	return ""
}

func sortedKeys(m map[string]bool) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// pivotWord finds PIVOT (or PIVOT_WIDER) as a word of a text.
var pivotWord = regexp.MustCompile(`(?i)\bpivot(_wider)?\b`)

// pivotHint explains a refusal of a text that names PIVOT. A PIVOT
// without an IN list must read the pivoted values before it can name its
// columns: DuckDB 1.5 splits it into two statements (a type is created
// first), DuckDB 2.0 parses it as a PIVOT statement that is not a query.
// Either way it is refused; with the values listed it is one query on
// both.
func pivotHint(text string) string {
	if !pivotWord.MatchString(text) {
		return ""
	}
	return "; DuckDB runs a PIVOT without an IN list as more than a query: list the values, as in PIVOT … ON col IN ('a', 'b')"
}

// leadingWord returns the first word of text in upper case, skipping
// white space and comments, and the text after it; for messages and for
// telling an EXPLAIN: the decision to accept is DuckDB's (Parse).
func leadingWord(text string) (word, rest string) {
	s := text
	for {
		s = strings.TrimLeft(s, " \t\r\n\f\v")
		switch {
		case strings.HasPrefix(s, "--"):
			i := strings.IndexByte(s, '\n')
			if i < 0 {
				return "", ""
			}
			s = s[i+1:]
			continue
		case strings.HasPrefix(s, "/*"):
			i := strings.Index(s, "*/")
			if i < 0 {
				return "", ""
			}
			s = s[i+2:]
			continue
		}
		break
	}
	end := 0
	for end < len(s) && (s[end] >= 'a' && s[end] <= 'z' || s[end] >= 'A' && s[end] <= 'Z' || s[end] == '_') {
		end++
	}
	return strings.ToUpper(s[:end]), s[end:]
}

// parser is the private DuckDB instance the guard parses with: in memory,
// empty, with external access off and its configuration locked.
type parser struct {
	mu   sync.Mutex
	db   mapping.Database
	conn mapping.Connection
	sql  *sql.DB
}

var (
	parserOnce sync.Once
	parserVal  *parser
	parserErr  error
)

func sharedParser() (*parser, error) {
	parserOnce.Do(func() { parserVal, parserErr = newParser() })
	return parserVal, parserErr
}

// parserSettings make the parse instances small and sealed.
const parserSettings = "?threads=1&memory_limit=64MB&enable_external_access=false&autoload_known_extensions=false&autoinstall_known_extensions=false&lock_configuration=true"

func newParser() (*parser, error) {
	p := &parser{}
	var cfg mapping.Config
	if mapping.CreateConfig(&cfg) == mapping.StateError {
		return nil, errors.New("query: cannot configure the parser")
	}
	defer mapping.DestroyConfig(&cfg)
	for _, kv := range strings.Split(strings.TrimPrefix(parserSettings, "?"), "&") {
		k, v, _ := strings.Cut(kv, "=")
		if mapping.SetConfig(cfg, k, v) == mapping.StateError {
			return nil, fmt.Errorf("query: parser setting %s", kv)
		}
	}
	var msg string
	if mapping.OpenExt("", &p.db, cfg, &msg) == mapping.StateError {
		return nil, fmt.Errorf("query: open the parser: %s", msg)
	}
	if mapping.Connect(p.db, &p.conn) == mapping.StateError {
		mapping.Close(&p.db)
		return nil, errors.New("query: connect the parser")
	}
	connector, err := duckdb.NewConnector(parserSettings, nil)
	if err != nil {
		return nil, fmt.Errorf("query: open the parser: %w", err)
	}
	p.sql = sql.OpenDB(connector)
	p.sql.SetMaxOpenConns(2)
	return p, nil
}

// count splits text with DuckDB's statement extraction (parsing only).
func (p *parser) count(text string) (int, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	var stmts mapping.ExtractedStatements
	n := mapping.ExtractStatements(p.conn, text, &stmts)
	defer mapping.DestroyExtracted(&stmts)
	if n == 0 {
		if msg := mapping.ExtractStatementsError(stmts); msg != "" {
			return 0, refused("cannot parse the text: %s", firstLine(msg))
		}
		return 0, nil
	}
	return int(n), nil
}

// serialize returns DuckDB's parse tree of text when it is made of SELECT
// statements, nil when it holds another kind, and an error for text that
// does not parse.
func (p *parser) serialize(text string) (map[string]any, error) {
	var out string
	if err := p.sql.QueryRow(`SELECT CAST(json_serialize_sql(CAST(? AS VARCHAR)) AS VARCHAR)`, text).Scan(&out); err != nil {
		return nil, fmt.Errorf("query: parse: %w", err)
	}
	var tree map[string]any
	if err := json.Unmarshal([]byte(out), &tree); err != nil {
		return nil, refused("the parse tree is too deep to check")
	}
	if bad, _ := tree["error"].(bool); bad {
		msg, _ := tree["error_message"].(string)
		if strings.HasPrefix(msg, "Only SELECT statements") {
			return nil, nil
		}
		return nil, refused("cannot parse the text: %s", firstLine(msg))
	}
	return tree, nil
}

func firstLine(s string) string {
	s, _, _ = strings.Cut(strings.TrimSpace(s), "\n")
	return s
}

// tableMacros lists the table macros the warehouse defines (not DuckDB's
// own), lower-cased.
func tableMacros(ctx context.Context, conn *sql.Conn) (map[string]bool, error) {
	rows, err := conn.QueryContext(ctx, `SELECT DISTINCT lower(function_name) FROM duckdb_functions()
		WHERE function_type = 'table_macro' AND NOT internal`)
	if err != nil {
		return nil, fmt.Errorf("query: read the catalog: %w", err)
	}
	defer rows.Close()
	out := map[string]bool{}
	for rows.Next() {
		var n string
		if err := rows.Scan(&n); err != nil {
			return nil, err
		}
		out[n] = true
	}
	return out, rows.Err()
}
