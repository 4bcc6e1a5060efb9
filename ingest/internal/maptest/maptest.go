// Package maptest holds the one check the API sources' tests run against
// their mapping's skip (ingest.Mapping): with nothing changed it writes
// nothing, and each change to what it reads or writes maps again into
// exactly the rows a mapping from scratch makes.
package maptest

import (
	"context"
	"path/filepath"
	"strings"
	"testing"

	"github.com/shiplog/shiplog/ingest"
	"github.com/shiplog/shiplog/internal/warehouse"
)

// Case is one change to what a mapping reads or writes.
type Case struct {
	Name string
	// SQL changes the warehouse before mapping (a raw row inserted,
	// updated or deleted; a canonical row altered by another writer).
	SQL string
	// Mapper maps after the change; nil: the source's usual mapper. A
	// mapper built from a changed configuration is a changed setting.
	Mapper ingest.SkippingMapper
	// Reason is what the mapping must say it mapped for.
	Reason string
	// Restores: the change altered the source's canonical rows, and the
	// mapping must put them back as they were. Otherwise the change must
	// change them (so that a skipped mapping could not pass).
	Restores bool
}

// Check runs against db, where base has mapped the source's raw rows:
// a mapping with nothing changed is skipped (no canonical row, log of
// canonical writes or mapping_state row changes, and the rows are those a
// mapping from scratch makes); then each case, in order, maps again, into
// the rows a mapping from scratch makes, after which mapping again skips.
func Check(t *testing.T, db *warehouse.DB, source string, tables []string, base ingest.SkippingMapper, cases []Case) {
	t.Helper()
	ctx := context.Background()
	state := func() string {
		return one(t, db, `SELECT coalesce(any_value(CAST(m AS VARCHAR)), '') FROM mapping_state m WHERE source = ?`, source)
	}
	writes := func() string { return one(t, db, `SELECT count(*)::VARCHAR FROM canonical_writes`) }

	rows0, st0, w0 := Rows(t, db, source, tables), state(), writes()
	if st0 == "" {
		t.Fatalf("%s: no mapping_state row after a mapping", source)
	}
	if strings.Count(rows0, "\n") <= 2*len(tables) {
		t.Fatalf("%s: the fixtures map to too few canonical rows:\n%s", source, rows0)
	}
	res, err := base.MapIfChanged(ctx, db, ingest.MapOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if res.Mapped {
		t.Errorf("nothing changed, yet it mapped (%s)", res.Reason)
	}
	if got := Rows(t, db, source, tables); got != rows0 {
		t.Errorf("a skipped mapping changed the canonical rows:\n%s\nwant\n%s", got, rows0)
	}
	if got := state(); got != st0 {
		t.Errorf("a skipped mapping changed mapping_state: %s, was %s", got, st0)
	}
	if got := writes(); got != w0 {
		t.Errorf("a skipped mapping logged canonical writes: %s rows, had %s", got, w0)
	}
	if got := FromScratch(t, db, source, tables, base); got != rows0 {
		t.Errorf("the rows kept differ from a mapping from scratch:\n%s\nwant\n%s", rows0, got)
	}

	for _, c := range cases {
		t.Run(c.Name, func(t *testing.T) {
			m := c.Mapper
			if m == nil {
				m = base
			}
			before, w := Rows(t, db, source, tables), writes()
			if _, err := db.ExecContext(ctx, c.SQL); err != nil {
				t.Fatalf("%s: %v", c.SQL, err)
			}
			res, err := m.MapIfChanged(ctx, db, ingest.MapOptions{})
			if err != nil {
				t.Fatal(err)
			}
			if !res.Mapped || res.Reason != c.Reason {
				t.Errorf("mapped %v (%q), want a mapping for %q", res.Mapped, res.Reason, c.Reason)
			}
			got := Rows(t, db, source, tables)
			switch {
			case c.Restores && got != before:
				t.Errorf("the altered canonical rows were not restored:\n%s\nwant\n%s", got, before)
			case !c.Restores && got == before:
				t.Errorf("the change changed no canonical row: it proves nothing")
			}
			if writes() == w {
				t.Error("the mapping logged no canonical write")
			}
			if res, err := m.MapIfChanged(ctx, db, ingest.MapOptions{}); err != nil || res.Mapped {
				t.Errorf("mapping again right after: mapped %v (%s), %v; want skipped", res.Mapped, res.Reason, err)
			}
			if want := FromScratch(t, db, source, tables, m); got != want {
				t.Errorf("rows after the change differ from a mapping from scratch:\n%s\nwant\n%s", got, want)
			}
			// back to the usual settings for the next case
			if _, err := base.MapIfChanged(ctx, db, ingest.MapOptions{}); err != nil {
				t.Fatal(err)
			}
		})
	}
}

// FromScratch removes the source's canonical rows and mapping state, maps
// with m and returns the rows (Rows).
func FromScratch(t *testing.T, db *warehouse.DB, source string, tables []string, m ingest.SkippingMapper) string {
	t.Helper()
	ctx := context.Background()
	for _, tb := range tables {
		if _, err := db.ExecContext(ctx, `DELETE FROM `+warehouse.QuoteIdent(tb)+` WHERE source = ?`, source); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := db.ExecContext(ctx, `DELETE FROM mapping_state WHERE source = ?`, source); err != nil {
		t.Fatal(err)
	}
	res, err := m.MapIfChanged(ctx, db, ingest.MapOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if !res.Mapped || res.Reason != "not mapped before" {
		t.Errorf("a mapping with no state: mapped %v (%q), want a mapping for %q", res.Mapped, res.Reason, "not mapped before")
	}
	return Rows(t, db, source, tables)
}

// Rows renders the source's rows of tables as sorted text, one line per
// row under a line naming the table.
func Rows(t *testing.T, db *warehouse.DB, source string, tables []string) string {
	t.Helper()
	var b strings.Builder
	for _, tb := range tables {
		b.WriteString("== " + tb + "\n")
		b.WriteString(one(t, db, `SELECT coalesce(string_agg(CAST(t AS VARCHAR), chr(10) ORDER BY CAST(t AS VARCHAR)), '') FROM `+
			warehouse.QuoteIdent(tb)+` AS t WHERE t.source = ?`, source))
		b.WriteString("\n")
	}
	return b.String()
}

func one(t *testing.T, db *warehouse.DB, q string, args ...any) string {
	t.Helper()
	var s string
	if err := db.QueryRowContext(context.Background(), q, args...).Scan(&s); err != nil {
		t.Fatalf("%s: %v", q, err)
	}
	return s
}

// OpenFile opens a new warehouse file in a temporary folder, closed when
// the test ends.
func OpenFile(t *testing.T) *warehouse.DB {
	t.Helper()
	db, err := warehouse.Open(context.Background(), filepath.Join(t.TempDir(), "shiplog.duckdb"), warehouse.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}
