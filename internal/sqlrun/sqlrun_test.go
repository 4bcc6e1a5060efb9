package sqlrun_test

import (
	"context"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/shiplog/shiplog/internal/sqlrun"
	"github.com/shiplog/shiplog/internal/warehouse"
)

func TestParse(t *testing.T) {
	src := `-- name: q
-- param: team text 'O''Brien'   (a note)
-- param: envs text[] 'production, prod'
-- param: re text null
-- test: unique(x)
select $team, '$not', getvariable('re') -- $nor
;
select $envs;`
	s, err := sqlrun.Parse("q.sql", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	if v, _ := s.Field("name"); v != "q" {
		t.Errorf("name = %q", v)
	}
	if v, _ := s.Field("test"); v != "unique(x)" {
		t.Errorf("test = %q", v)
	}
	want := []sqlrun.Param{{Name: "team", Type: "text", Default: "O'Brien"}, {Name: "envs", Type: "text[]", Default: "production, prod"},
		{Name: "re", Type: "text", Null: true}}
	if !reflect.DeepEqual(s.Params, want) {
		t.Errorf("params = %+v", s.Params)
	}
	if len(s.Statements) != 2 {
		t.Fatalf("statements = %+v", s.Statements)
	}
	st := s.Statements[0]
	if !reflect.DeepEqual(st.Params, []string{"team"}) || !reflect.DeepEqual(st.Variables, []string{"re"}) || st.Line != 6 {
		t.Errorf("statement 1 = %+v", st)
	}
	if s.Statements[1].Line != 8 || !reflect.DeepEqual(s.Statements[1].Params, []string{"envs"}) {
		t.Errorf("statement 2 = %+v", s.Statements[1])
	}
	if s.BodyLine != 6 || !strings.HasSuffix(s.Body, "select $envs") {
		t.Errorf("body at %d = %q", s.BodyLine, s.Body)
	}
}

func TestParseErrors(t *testing.T) {
	tests := []struct{ name, src, want string }{
		{"undeclared parameter", "-- param: a text\nselect 1;\nselect $b", "f.sql:3: $b is used but not declared"},
		{"undeclared variable", "select getvariable('v')", "f.sql:1: getvariable('v') is used but not declared"},
		{"bad type", "-- param: a money\nselect 1", `f.sql:1: param a: type "money"`},
		{"bad default", "-- param: n int 'x'\nselect $n", `f.sql:1: param n: default: "x" is not an integer`},
		{"twice", "-- param: a text\n-- param: a int\nselect 1", "f.sql:2: param a declared twice"},
		{"unterminated", "select 'x", "f.sql: line 1: unterminated string"},
	}
	for _, tt := range tests {
		_, err := sqlrun.Parse("f.sql", []byte(tt.src))
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: error = %v, want %q", tt.name, err, tt.want)
		}
	}
}

func TestValuesAndArgs(t *testing.T) {
	s, err := sqlrun.Parse("f.sql", []byte(`-- param: n int '3'
-- param: from timestamp null
-- param: envs text[] ''
-- param: doc json '{}'
select $n, $from, $envs, $doc`))
	if err != nil {
		t.Fatal(err)
	}
	v, err := s.Values(map[string]string{"from": "2024-03-01", "envs": " Production ,prod"})
	if err != nil {
		t.Fatal(err)
	}
	want := sqlrun.Values{"n": int64(3), "from": time.Date(2024, 3, 1, 0, 0, 0, 0, time.UTC),
		"envs": []string{"Production", "prod"}, "doc": "{}"}
	if !reflect.DeepEqual(v, want) {
		t.Errorf("Values = %#v, want %#v", v, want)
	}
	for _, bad := range []map[string]string{{"n": "three"}, {"zzz": "1"}, {"from": "March"}, {"doc": "{"}} {
		if _, err := s.Values(bad); err == nil {
			t.Errorf("Values(%v) accepted", bad)
		}
	}
	if _, err := s.Values(map[string]string{"n": "x"}); err == nil || !strings.Contains(err.Error(), "parameter n") {
		t.Errorf("error does not name the parameter: %v", err)
	}
	a, err := s.Args(map[string]any{"n": 7, "envs": []string(nil), "doc": map[string]int{"a": 1}})
	if err != nil {
		t.Fatal(err)
	}
	if a["n"] != int64(7) || a["doc"] != `{"a":1}` || !reflect.DeepEqual(a["envs"], []string{}) || a["from"] != nil {
		t.Errorf("Args = %#v", a)
	}
	if _, err := s.Args(map[string]any{"n": "7"}); err == nil {
		t.Error("Args took a string for an int")
	}
}

// TestExecAndQuery runs a script whose view reads a variable and whose
// query binds parameters, on a pool: the variable must reach the view's
// statement on the same connection.
func TestExecAndQuery(t *testing.T) {
	ctx := context.Background()
	db, err := warehouse.OpenMemory(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	s, err := sqlrun.Parse("v.sql", []byte(`-- param: envs text[] 'production,prod'
-- param: suffix text '-x'
-- param: since timestamp '2024-01-01'
create temp table d as
    select * from (values ('a', 'Production', timestamptz '2024-02-01 00:00:00+00'),
                          ('b', 'staging',    timestamptz '2024-02-01 00:00:00+00'),
                          ('c', 'prod',       timestamptz '2023-12-31 00:00:00+00')) t(id, env, ts);
create or replace temp view prod as
    select id || getvariable('suffix') as id, ts from d
    where list_contains(getvariable('envs'), lower(env));
select id from prod where ts >= $since order by id`))
	if err != nil {
		t.Fatal(err)
	}
	vals, err := s.Values(nil)
	if err != nil {
		t.Fatal(err)
	}
	conn, err := db.Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	rows, err := s.Query(ctx, conn, vals)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			t.Fatal(err)
		}
		got = append(got, id)
	}
	rows.Close()
	conn.Close() // the in-memory warehouse has one connection
	// 'a' is Production (lower-cased in), after since; 'b' staging; 'c' before since.
	if !reflect.DeepEqual(got, []string{"a-x"}) {
		t.Errorf("rows = %q, want [a-x]", got)
	}

	// On a pool, a statement reading a variable gets one connection for
	// the call.
	q, err := sqlrun.Parse("q.sql", []byte("-- param: w text 'hello'\nselect getvariable('w') || $w"))
	if err != nil {
		t.Fatal(err)
	}
	vals, _ = q.Values(map[string]string{"w": "ab"})
	rows, err = q.Query(ctx, db, vals)
	if err != nil {
		t.Fatal(err)
	}
	var w string
	if !rows.Next() {
		t.Fatal("no row")
	}
	if err := rows.Scan(&w); err != nil || w != "abab" {
		t.Errorf("got %q, %v; want abab", w, err)
	}
	rows.Close()

	// A parameter in a view is refused by DuckDB itself, with the file named.
	bad, err := sqlrun.Parse("bad.sql", []byte("-- param: x text 'a'\ncreate temp view bad as select $x"))
	if err != nil {
		t.Fatal(err)
	}
	vals, _ = bad.Values(nil)
	if err := bad.Exec(ctx, db, vals); err == nil || !strings.Contains(err.Error(), "bad.sql") {
		t.Errorf("view with a parameter: %v", err)
	}
}

func TestLiteral(t *testing.T) {
	tests := []struct {
		typ  string
		v    any
		want string
	}{
		{"text", "O'Brien", "CAST('O''Brien' AS VARCHAR)"},
		{"text", nil, "CAST(NULL AS VARCHAR)"},
		{"int", int64(-3), "CAST(-3 AS BIGINT)"},
		{"float", 0.25, "CAST(0.25 AS DOUBLE)"},
		{"bool", true, "TRUE"},
		{"date", time.Date(2024, 2, 29, 0, 0, 0, 0, time.UTC), "DATE '2024-02-29'"},
		{"timestamp", time.Date(2024, 2, 29, 13, 4, 5, 500000000, time.FixedZone("x", 3600)), "TIMESTAMPTZ '2024-02-29 12:04:05.5+00'"},
		{"text[]", []string{"a", "b'c"}, "CAST(['a', 'b''c'] AS VARCHAR[])"},
		{"json", `{"a":"it's"}`, `CAST('{"a":"it''s"}' AS JSON)`},
	}
	for _, tt := range tests {
		got, err := sqlrun.Literal(tt.typ, tt.v)
		if err != nil || got != tt.want {
			t.Errorf("Literal(%s, %v) = %q, %v; want %q", tt.typ, tt.v, got, err, tt.want)
		}
	}
	if _, err := sqlrun.Literal("text", "a\x00b"); err == nil {
		t.Error("NUL accepted")
	}
}
