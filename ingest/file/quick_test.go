package file

import (
	"context"
	"strings"
	"testing"

	"github.com/shiplog/shiplog/internal/canonical"
	"github.com/shiplog/shiplog/internal/warehouse"
)

// loadBoth loads the same files on the quick path (as Load chooses) and,
// into another warehouse, on the precise path, and returns both
// warehouses and the path the first load took.
func loadBoth(t *testing.T, paths []string, opts Options) (quick, precise *warehouse.DB, path string) {
	t.Helper()
	ctx := context.Background()
	quick, precise = openDB(t), openDB(t)
	opts.Now = fixedNow
	if _, err := Load(ctx, quick, paths, opts); err != nil {
		t.Fatal(err)
	}
	path = lastPath.Load().(string)
	forceSlow = true
	defer func() { forceSlow = false }()
	if _, err := Load(ctx, precise, paths, opts); err != nil {
		t.Fatal(err)
	}
	if p := lastPath.Load(); p != "precise" {
		t.Fatalf("forced load took the %s path", p)
	}
	return quick, precise, path
}

// sameTables compares every canonical table of two warehouses row by row.
func sameTables(t *testing.T, a, b *warehouse.DB) {
	t.Helper()
	for _, k := range canonical.Kinds {
		// extra as stored text, so that key order and number spelling count
		q := "SELECT * REPLACE (CAST(extra AS VARCHAR) AS extra) FROM " + warehouse.QuoteIdent(k.Table) + " ORDER BY ALL"
		ga, gb := dump(t, a, q), dump(t, b, q)
		if strings.Join(ga, "\n") != strings.Join(gb, "\n") {
			t.Errorf("%s differ:\nquick   %q\nprecise %q", k.Table, ga, gb)
		}
	}
}

// Clean batches take the quick path and store exactly what the precise path
// stores, value for value (the precise path's values are checked by hand in
// TestLoadEveryKind and TestTextSurvives).
func TestQuickMatchesPrecise(t *testing.T) {
	dir := t.TempDir()
	tricky := writeFile(t, dir, "tricky.jsonl", ""+
		// escapes, non-ASCII, a number kept as written in extra, an
		// unknown key null on one record and present on both, two unknown
		// keys in the same order on every record
		`{"kind":"team","id":"t\u00fcr \"q\"","name":"a\\b\ttab","n":1.50,"big":12345678901234567890,"x":null,"meta":{"a":[1,{"b":null}]}}`+"\r\n"+
		"\n"+
		`{"id":"t2","kind":"team","n":-3e2,"big":1,"x":"y","meta":[]}`+"\n"+
		`{"kind":"service","id":"s","team":"t2","tier":2,"paths":[],"depends_on":["a","b"]}`+"\n")
	nokind := writeFile(t, dir, "nokind.ndjson", `{"id":"d-9","service":"s","environment":"prod","finished_at":"2026-03-01 10:00:00.5-01:00","status":"success","is_rollback":true}`+"\n"+
		`{"kind":null,"id":"d-8","service":"s","environment":"prod","finished_at":"2026-03-01T10:00:00Z","status":"failure","changes":["c"]}`+"\n"+
		`{"kind":"deployment","id":"d-7","service":"s","environment":"prod","finished_at":"2026-03-01T10:00:00Z","status":"cancelled"}`+"\n")
	for _, tc := range []struct {
		name  string
		paths []string
		opts  Options
	}{
		{"fixtures", goodFiles, Options{}},
		{"tricky", []string{tricky}, Options{}},
		{"default kind", []string{nokind}, Options{Kind: "deployment"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			quick, precise, path := loadBoth(t, tc.paths, tc.opts)
			if path != "quick" {
				t.Errorf("took the %s path, want quick", path)
			}
			sameTables(t, quick, precise)
		})
	}
}

// Batches the quick path cannot vouch for take the precise path, with the
// precise path's result.
func TestQuickFallsBack(t *testing.T) {
	dir := t.TempDir()
	for _, tc := range []struct {
		name, text string
		want       []string // teams: id, extra
	}{
		// The JSON reader gives NULL for both a missing key and a null
		// value; extra keeps a null value, so t1's extra is {"x":null} and
		// t2 has none.
		{"unknown key on some records", `{"kind":"team","id":"t1","x":null}` + "\n" + `{"kind":"team","id":"t2"}` + "\n",
			[]string{"id=t1 | extra={\"x\":null}", "id=t2 | extra=NULL"}},
		// The JSON reader matches names regardless of case: "ID" is an
		// unknown key, not the id.
		{"keys differing in case", `{"kind":"team","ID":"big","id":"t3"}` + "\n",
			[]string{"id=t3 | extra={\"ID\":\"big\"}"}},
		// Unknown keys in another order on another record (dump prints
		// an object's keys sorted).
		{"unknown keys reordered", `{"kind":"team","id":"t4","a":1,"b":2}` + "\n" + `{"kind":"team","id":"t5","b":3,"a":4}` + "\n",
			[]string{"id=t4 | extra={\"a\":1,\"b\":2}", "id=t5 | extra={\"a\":4,\"b\":3}"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := writeFile(t, dir, strings.ReplaceAll(tc.name, " ", "_")+".jsonl", tc.text)
			quick, precise, path := loadBoth(t, []string{p}, Options{})
			if path != "precise" {
				t.Errorf("took the %s path, want precise", path)
			}
			sameTables(t, quick, precise)
			got := dump(t, quick, `SELECT id, extra FROM teams ORDER BY id`)
			if strings.Join(got, ";") != strings.Join(tc.want, ";") {
				t.Errorf("teams = %q, want %q", got, tc.want)
			}
		})
	}
}

// A batch that repeats a key is written through the staging tables so that
// the last record wins, still without the precise path; so is a batch whose
// kinds already have rows of the source.
func TestQuickStaged(t *testing.T) {
	dir := t.TempDir()
	ctx := context.Background()
	p := writeFile(t, dir, "teams.jsonl", `{"kind":"team","id":"t1","name":"first"}`+"\n"+`{"kind":"team","id":"t1","name":"second"}`+"\n")
	db := openDB(t)
	res, err := Load(ctx, db, []string{p}, Options{Now: fixedNow})
	if err != nil {
		t.Fatal(err)
	}
	if p := lastPath.Load(); p != "quick-staged" {
		t.Errorf("took the %s path, want quick-staged", p)
	}
	// Line 2 replaces line 1: one row, name "second".
	if got := dump(t, db, `SELECT id, name FROM teams`); len(got) != 1 || got[0] != "id=t1 | name=second" || res.Written != 1 || res.Read != 2 {
		t.Errorf("teams = %q, read %d written %d; want t1 second, 2 read, 1 written", got, res.Read, res.Written)
	}
	q := writeFile(t, dir, "more.jsonl", `{"kind":"team","id":"t1","name":"third"}`+"\n"+`{"kind":"team","id":"t2"}`+"\n")
	res, err = Load(ctx, db, []string{q}, Options{Now: fixedNow})
	if err != nil {
		t.Fatal(err)
	}
	if p := lastPath.Load(); p != "quick" {
		t.Errorf("took the %s path, want quick", p)
	}
	// t1 replaced (third), t2 added.
	if got := dump(t, db, `SELECT id, name FROM teams ORDER BY id`); strings.Join(got, ";") != "id=t1 | name=third;id=t2 | name=NULL" || res.Written != 2 {
		t.Errorf("teams = %q, written %d; want t1 third, t2, 2 written", got, res.Written)
	}
}
