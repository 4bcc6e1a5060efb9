package queries

import (
	"context"
	"testing"
	"time"

	"github.com/shiplog/shiplog/internal/warehouse"
)

func TestInline(t *testing.T) {
	q := Query{Name: "t", Params: []Param{
		{Name: "who", Type: "text", Default: "O'Brien"},
		{Name: "n", Type: "int", Default: "5"},
		{Name: "x", Type: "float", Default: "0.25"},
		{Name: "on", Type: "bool", Default: "true"},
		{Name: "d", Type: "date", Default: "2026-03-01"},
		{Name: "from", Type: "timestamp", Default: "2026-03-01T10:30:00+02:00"},
		{Name: "until", Type: "timestamp", Null: true},
	}}
	text := "SELECT $who AS who, $n AS n, $x AS x, $on AS on_, $d AS d, $from AS f, $until AS u, '$who' AS lit, 1 AS \"$n\" -- $who\n, $n + 1 AS n1 /* $x */"
	got, err := q.Inline(text, map[string]string{"who": "x'); DROP TABLE deployments; --"})
	if err != nil {
		t.Fatal(err)
	}
	want := "SELECT CAST('x''); DROP TABLE deployments; --' AS VARCHAR) AS who, CAST(5 AS BIGINT) AS n, CAST(0.25 AS DOUBLE) AS x, TRUE AS on_, DATE '2026-03-01' AS d, " +
		"TIMESTAMPTZ '2026-03-01 08:30:00+00' AS f, CAST(NULL AS TIMESTAMPTZ) AS u, '$who' AS lit, 1 AS \"$n\" -- $who\n, CAST(5 AS BIGINT) + 1 AS n1 /* $x */"
	if got != want {
		t.Fatalf("Inline:\n got %s\nwant %s", got, want)
	}
	// DuckDB reads the literals back as the values: the quote stays inside the
	// string, 10:30+02:00 is 08:30 UTC.
	db, err := warehouse.OpenMemory(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var who, lit string
	var n, n1 int64
	var f time.Time
	var u *time.Time
	if err := db.QueryRow(`SELECT who, n, n1, f, u, lit FROM (`+got+`)`).Scan(&who, &n, &n1, &f, &u, &lit); err != nil {
		t.Fatal(err)
	}
	if who != "x'); DROP TABLE deployments; --" || n != 5 || n1 != 6 || !f.Equal(time.Date(2026, 3, 1, 8, 30, 0, 0, time.UTC)) || u != nil || lit != "$who" {
		t.Errorf("read back %q %d %d %v %v %q", who, n, n1, f, u, lit)
	}
	if _, err := q.Inline("SELECT $nope", nil); err == nil {
		t.Error("an undeclared parameter must be an error")
	}
	if _, err := q.Inline("SELECT $n", map[string]string{"n": "five"}); err == nil {
		t.Error("a bad int must be an error")
	}
}
