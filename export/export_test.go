package export

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/shiplog/shiplog/internal/canonical"
	"github.com/shiplog/shiplog/internal/warehouse"
	"github.com/shiplog/shiplog/transform"
)

// warehouseColumns reads a table's columns and types from the catalog, as
// the test's own source of truth.
func warehouseColumns(t *testing.T, db *warehouse.DB, table string) []string {
	t.Helper()
	rows, err := db.Query(`SELECT column_name || ' ' || data_type FROM information_schema.columns
		WHERE table_schema = 'main' AND table_name = ? ORDER BY ordinal_position`, table)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			t.Fatal(err)
		}
		out = append(out, s)
	}
	return out
}

func count(t *testing.T, db *warehouse.DB, q string, args ...any) int64 {
	t.Helper()
	var n int64
	if err := db.QueryRow(q, args...).Scan(&n); err != nil {
		t.Fatalf("%s: %v", q, err)
	}
	return n
}

// reader returns the DuckDB table function reading a table of an export.
func reader(out string, e TableEntry, format string) string {
	glob := filepath.Join(out, e.Name, "*."+format)
	if e.PartitionColumn != "" {
		glob = filepath.Join(out, e.Name, "*", "*."+format)
	}
	if format == "parquet" {
		return fmt.Sprintf("read_parquet(%s, hive_partitioning = true)", warehouse.QuoteString(glob))
	}
	return fmt.Sprintf(`read_csv(%s, hive_partitioning = true, header = true, all_varchar = true, quote = '"', escape = '"')`, warehouse.QuoteString(glob))
}

// inMonth is the condition that a row's partition column lies in the month
// its folder names, written independently of the export's own expression:
// [first instant of the month, first instant of the next) in UTC.
func inMonth(col, typ, key string) string {
	c := warehouse.QuoteIdent(col)
	k := warehouse.QuoteIdent(key)
	if typ == "DATE" {
		return fmt.Sprintf("%s >= (%s || '-01')::DATE AND %s < (%s || '-01')::DATE + INTERVAL 1 MONTH", c, k, c, k)
	}
	start := fmt.Sprintf("(%s || '-01 00:00:00+00')::TIMESTAMPTZ", k)
	return fmt.Sprintf("%s >= %s AND %s < %s + INTERVAL 1 MONTH", c, start, c, start)
}

// Every canonical table and every mart comes back from the Parquet files
// with the same columns, types and rows as in the warehouse, each row in the
// folder of its UTC month, and the manifest's counts and file hashes match
// what is on disk.
func TestRoundTripParquet(t *testing.T) {
	db, _ := demoWarehouse(t)
	out := filepath.Join(t.TempDir(), "lake")
	res := runExport(t, db, Options{Out: out})
	m, err := ReadManifest(out)
	if err != nil {
		t.Fatal(err)
	}
	if m.ExportID != res.Manifest.ExportID || m.Format != "parquet" || m.Compression != "zstd" || m.Since != nil {
		t.Errorf("manifest header: id %d format %s compression %s since %v", m.ExportID, m.Format, m.Compression, m.Since)
	}
	var schema int
	if err := db.QueryRow("SELECT max(version) FROM shiplog_schema").Scan(&schema); err != nil {
		t.Fatal(err)
	}
	if m.SchemaVersion != schema || m.Shiplog != testVersion(t) {
		t.Errorf("manifest schema %d (warehouse %d), shiplog %+v", m.SchemaVersion, schema, m.Shiplog)
	}
	if m.ExportedAt.Format("2006-01-02T15:04:05Z") != "2026-11-02T09:30:00Z" {
		t.Errorf("exported_at %s", m.ExportedAt)
	}

	onDisk := snapshot(t, out)
	listed := map[string]bool{ManifestName: true}
	var total int64
	for _, e := range m.Tables {
		t.Run(e.Name, func(t *testing.T) {
			want := warehouseColumns(t, db, e.Name)
			var got []string
			for _, c := range e.Columns {
				got = append(got, c.Name+" "+c.Type)
			}
			if strings.Join(got, ", ") != strings.Join(want, ", ") {
				t.Errorf("manifest columns\n %v\nwarehouse\n %v", got, want)
			}
			src := reader(out, e, "parquet")
			key := ""
			if e.PartitionColumn != "" {
				key = e.PartitionKey
				want = append(want, key+" VARCHAR")
			}
			var read []string
			rows, err := db.Query("SELECT column_name || ' ' || column_type FROM (DESCRIBE SELECT * FROM " + src + ")")
			if err != nil {
				t.Fatal(err)
			}
			for rows.Next() {
				var s string
				rows.Scan(&s)
				read = append(read, s)
			}
			rows.Close()
			if strings.Join(read, ", ") != strings.Join(want, ", ") {
				t.Errorf("Parquet reads back as\n %v\nwant\n %v", read, want)
			}
			fileCols := "*"
			if key != "" {
				fileCols = "* EXCLUDE (" + warehouse.QuoteIdent(key) + ")"
			}
			tbl := "main." + warehouse.QuoteIdent(e.Name)
			n := count(t, db, "SELECT count(*) FROM "+tbl)
			if e.Rows != n || count(t, db, "SELECT count(*) FROM "+src) != n {
				t.Errorf("rows: manifest %d, files %d, warehouse %d", e.Rows, count(t, db, "SELECT count(*) FROM "+src), n)
			}
			if n == 0 {
				t.Errorf("the demo should have rows in %s", e.Name)
			}
			missing := count(t, db, fmt.Sprintf("SELECT count(*) FROM (SELECT * FROM %s EXCEPT ALL SELECT %s FROM %s)", tbl, fileCols, src))
			extra := count(t, db, fmt.Sprintf("SELECT count(*) FROM (SELECT %s FROM %s EXCEPT ALL SELECT * FROM %s)", fileCols, src, tbl))
			if missing != 0 || extra != 0 {
				t.Errorf("%d warehouse rows not in the files, %d file rows not in the warehouse", missing, extra)
			}
			if key != "" {
				var typ string
				for _, c := range e.Columns {
					if c.Name == e.PartitionColumn {
						typ = c.Type
					}
				}
				if bad := count(t, db, fmt.Sprintf("SELECT count(*) FROM %s WHERE NOT (%s)", src, inMonth(e.PartitionColumn, typ, key))); bad != 0 {
					t.Errorf("%d rows in the folder of another month", bad)
				}
			}
			var partRows int64
			for _, p := range e.Partitions {
				partRows += p.Rows
				if key != "" {
					// rows of the month, counted in the warehouse
					var typ string
					for _, c := range e.Columns {
						if c.Name == e.PartitionColumn {
							typ = c.Type
						}
					}
					cond := strings.ReplaceAll(inMonth(e.PartitionColumn, typ, "k"), `"k"`, warehouse.QuoteString(p.Value))
					if wn := count(t, db, "SELECT count(*) FROM "+tbl+" WHERE "+cond); wn != p.Rows {
						t.Errorf("partition %s: manifest %d rows, warehouse %d", p.Value, p.Rows, wn)
					}
				}
				for _, f := range p.Files {
					listed[filepath.FromSlash(f.Path)] = true
					if onDisk[filepath.FromSlash(f.Path)] != f.SHA256 {
						t.Errorf("%s: SHA-256 in the manifest does not match the file", f.Path)
					}
					if !strings.HasPrefix(f.Path, p.Path+"/") {
						t.Errorf("file %s outside its partition %s", f.Path, p.Path)
					}
				}
			}
			if partRows != e.Rows {
				t.Errorf("partitions hold %d rows, table %d", partRows, e.Rows)
			}
		})
		total += e.Rows
	}
	if total != m.Rows {
		t.Errorf("manifest rows %d, tables sum to %d", m.Rows, total)
	}
	for p, h := range onDisk {
		if h != "dir" && !listed[p] {
			t.Errorf("file %s is not in the manifest", p)
		}
	}
	if len(siblings(t, out)) != 0 {
		t.Errorf("left beside the export: %v", siblings(t, out))
	}
}

// Every mart the transform's registry names is exported, and so is every
// fct_/dim_ table or view the warehouse holds (a mart added by anyone is
// picked up without touching the export), with every canonical table.
func TestEveryMartAndCanonicalTableExported(t *testing.T) {
	db, _ := demoWarehouse(t)
	out := filepath.Join(t.TempDir(), "lake")
	m := runExport(t, db, Options{Out: out}).Manifest
	exported := map[string]TableEntry{}
	for _, e := range m.Tables {
		exported[e.Name] = e
	}
	want := map[string]string{}
	for _, k := range canonical.Kinds {
		want[k.Table] = KindCanonical
	}
	models, err := transform.Load(transform.Layers)
	if err != nil {
		t.Fatal(err)
	}
	for _, md := range models {
		if md.Layer == "marts" {
			want[md.Name] = KindMart
		}
	}
	rows, err := db.Query(`SELECT table_name FROM information_schema.tables
		WHERE table_schema = 'main' AND (table_name LIKE 'fct\_%' ESCAPE '\' OR table_name LIKE 'dim\_%' ESCAPE '\')`)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var name string
		rows.Scan(&name)
		want[name] = KindMart
	}
	rows.Close()
	if len(want) < 12+9 {
		t.Fatalf("only %d tables expected; the registry was not read", len(want))
	}
	for name, kind := range want {
		e, ok := exported[name]
		if !ok {
			t.Errorf("%s %s is not exported", kind, name)
			continue
		}
		if e.Kind != kind {
			t.Errorf("%s exported as %s, want %s", name, e.Kind, kind)
		}
		if _, err := os.Stat(filepath.Join(out, name)); err != nil {
			t.Errorf("%s: no folder: %v", name, err)
		}
	}
	for name := range exported {
		if _, ok := want[name]; !ok {
			t.Errorf("%s is exported but is neither canonical nor a mart", name)
		}
	}
}

// How each table is split, decided by hand from DESIGN's definitions: a
// deployment counts in the month it finished, an incident in the month it
// opened, a change in the month of its first commit; dimensions whole.
func TestPartitionColumns(t *testing.T) {
	db, _ := demoWarehouse(t)
	tables, err := Discover(context.Background(), db)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for _, tb := range tables {
		got[tb.Name] = tb.PartitionColumn
		if tb.Partitioned() && tb.PartitionKey != "month" {
			t.Errorf("%s: partition key %q", tb.Name, tb.PartitionKey)
		}
	}
	for table, want := range map[string]string{
		"teams": "", "services": "", "dim_services": "",
		"deployments": "finished_at", "changes": "first_commit_at", "commits": "authored_at",
		"incidents": "opened_at", "change_requests": "created_at", "approvals": "decided_at",
		"support_tickets": "created_at", "test_runs": "started_at", "adoption": "day",
		"release_plans":   "planned_at",
		"fct_deployments": "finished_at", // not started_at, which comes first but may be NULL
		"fct_failures":    "finished_at", "fct_incidents": "opened_at",
		"fct_change_rows": "first_commit_at", "fct_changes": "first_commit_at",
		"fct_deployment_changes": "deployed_at", "fct_support_impact": "finished_at",
		"fct_adoption": "released_at",
	} {
		if g, ok := got[table]; !ok || g != want {
			t.Errorf("%s partitioned by %q, want %q", table, g, want)
		}
	}
}

func TestPartitionColumnRule(t *testing.T) {
	ts := "TIMESTAMP WITH TIME ZONE"
	for _, tc := range []struct {
		name string
		t    Table
		want string
	}{
		{"dimension mart with a time column", Table{Name: "dim_teams", Kind: KindMart, Columns: []Column{{Name: "created_at", Type: ts, NotNull: true}}}, ""},
		{"canonical dim_ name is not a dimension", Table{Name: "dim_x", Kind: KindCanonical, Columns: []Column{{Name: "at", Type: ts}}}, "at"},
		{"first not-null time column", Table{Name: "fct_x", Kind: KindMart, Columns: []Column{{Name: "started_at", Type: ts}, {Name: "finished_at", Type: ts, NotNull: true}}}, "finished_at"},
		{"first time column when none is declared not null", Table{Name: "fct_x", Kind: KindMart, Columns: []Column{{Name: "id", Type: "VARCHAR", NotNull: true}, {Name: "day", Type: "DATE"}, {Name: "at", Type: ts}}}, "day"},
		{"plain timestamp counts", Table{Name: "fct_x", Kind: KindMart, Columns: []Column{{Name: "at", Type: "TIMESTAMP"}}}, "at"},
		{"no time column", Table{Name: "fct_x", Kind: KindMart, Columns: []Column{{Name: "n", Type: "BIGINT"}}}, ""},
	} {
		if got := partitionColumn(tc.t); got != tc.want {
			t.Errorf("%s: %q, want %q", tc.name, got, tc.want)
		}
	}
}

// A time zone far from UTC in the session changes nothing: months are UTC
// months. The instants are chosen on month edges and worked out by hand.
func TestMonthsAreUTC(t *testing.T) {
	db, _ := demoWarehouse(t)
	loadJSONL(t, db,
		// 2026-06-30 23:30 at -01:00 is 2026-07-01 00:30 UTC: July
		`{"kind":"deployment","id":"edge-1","service":"checkout-api","environment":"staging","status":"success","finished_at":"2026-06-30T23:30:00-01:00"}`,
		// 2026-08-01 01:00 at +02:00 is 2026-07-31 23:00 UTC: July
		`{"kind":"deployment","id":"edge-2","service":"checkout-api","environment":"staging","status":"success","finished_at":"2026-08-01T01:00:00+02:00"}`,
		// exactly midnight UTC on 2026-08-01: August
		`{"kind":"deployment","id":"edge-3","service":"checkout-api","environment":"staging","status":"success","finished_at":"2026-08-01T00:00:00Z"}`,
	)
	if _, err := db.Exec("SET GLOBAL TimeZone = 'Pacific/Kiritimati'"); err != nil { // UTC+14
		t.Fatal(err)
	}
	out := filepath.Join(t.TempDir(), "lake")
	runExport(t, db, Options{Out: out, Tables: []string{"deployments"}})
	src := reader(out, TableEntry{Name: "deployments", PartitionColumn: "finished_at"}, "parquet")
	rows, err := db.Query("SELECT id, month FROM " + src + " WHERE id LIKE 'edge-%' ORDER BY id")
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var got []string
	for rows.Next() {
		var id, month string
		rows.Scan(&id, &month)
		got = append(got, id+"="+month)
	}
	if want := "edge-1=2026-07 edge-2=2026-07 edge-3=2026-08"; strings.Join(got, " ") != want {
		t.Errorf("months %v, want %s", got, want)
	}
}

// Rows whose partition column is NULL go to the partition readers know as
// NULL, and the export counts and hashes it like any other.
func TestNullPartition(t *testing.T) {
	db, _ := demoWarehouse(t)
	ctx := context.Background()
	if _, err := db.Exec(`CREATE TABLE fct_null_test AS SELECT * FROM (VALUES
		(1, TIMESTAMPTZ '2026-07-04 10:00:00+00'), (2, NULL), (3, NULL)) v(id, ts)`); err != nil {
		t.Fatal(err)
	}
	staging := t.TempDir()
	c, err := db.Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	tb := Table{Name: "fct_null_test", Kind: KindMart, Columns: []Column{{Name: "id", Type: "INTEGER"}, {Name: "ts", Type: "TIMESTAMP WITH TIME ZONE"}}, PartitionColumn: "ts", PartitionKey: "month"}
	w := &writer{c: c, run: 7, format: "parquet", staging: staging}
	e, written, kept, err := w.table(ctx, tb)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, p := range e.Partitions {
		got = append(got, fmt.Sprintf("%s:%d", p.Path, p.Rows))
	}
	if want := "fct_null_test/month=2026-07:1 fct_null_test/month=__HIVE_DEFAULT_PARTITION__:2"; strings.Join(got, " ") != want || written != 2 || kept != 0 {
		t.Errorf("partitions %v (%d written, %d kept), want %s", got, written, kept, want)
	}
	if n := count(t, db, "SELECT count(*) FROM read_parquet(?, hive_partitioning = true) WHERE month IS NULL AND ts IS NULL",
		filepath.Join(staging, "fct_null_test", "*", "*.parquet")); n != 2 {
		t.Errorf("%d rows read back with a NULL month, want 2", n)
	}
}

// Appending one deployment rewrites only the partitions of its month in
// the tables it lands in; every other file is kept as it was (the same
// inode: not rewritten, not even copied), and the manifest says which run
// wrote what. A staging deployment is in deployments and fct_deployments
// only: the other marts read production deployments.
func TestIncrementalWritesOnlyChangedPartitions(t *testing.T) {
	db, _ := demoWarehouse(t)
	out := filepath.Join(t.TempDir(), "lake")
	first := runExport(t, db, Options{Out: out, Since: "last"})
	if first.Kept != 0 || first.Written == 0 || len(first.Notes) != 1 || !strings.Contains(first.Notes[0], "no previous export") {
		t.Fatalf("first run: %d written, %d kept, notes %v", first.Written, first.Kept, first.Notes)
	}
	before := map[string]os.FileInfo{}
	for _, e := range first.Manifest.Tables {
		for _, p := range e.Partitions {
			for _, f := range p.Files {
				st, err := os.Stat(filepath.Join(out, filepath.FromSlash(f.Path)))
				if err != nil {
					t.Fatal(err)
				}
				before[f.Path] = st
			}
		}
	}
	prevRows := map[string]int64{}
	for _, e := range first.Manifest.Tables {
		for _, p := range e.Partitions {
			prevRows[p.Path] = p.Rows
		}
	}

	// Unchanged warehouse: nothing is written.
	again := runExport(t, db, Options{Out: out, Since: "last"})
	if again.Written != 0 || again.Kept != first.Written {
		t.Errorf("unchanged warehouse: %d written, %d kept, want 0 and %d", again.Written, again.Kept, first.Written)
	}

	loadJSONL(t, db, `{"kind":"deployment","id":"extra-staging-1","service":"checkout-api","environment":"staging","status":"success","finished_at":"2026-08-14T12:00:00Z","version":"9.9.9"}`)
	retransform(t, db)
	res := runExport(t, db, Options{Out: out, Since: "last"})
	m, err := ReadManifest(out)
	if err != nil {
		t.Fatal(err)
	}
	if m.ExportID != again.Manifest.ExportID+1 || m.Since == nil || *m.Since != again.Manifest.ExportID {
		t.Errorf("manifest export %d since %v, want %d since %d", m.ExportID, m.Since, again.Manifest.ExportID+1, again.Manifest.ExportID)
	}
	var rewritten []string
	for _, e := range m.Tables {
		for _, p := range e.Partitions {
			if p.WrittenBy == m.ExportID {
				rewritten = append(rewritten, p.Path)
				if p.Path == "dim_canonical_tables" {
					// one row per canonical table, with its row count:
					// deployments' count changed, not the number of rows
					if p.Rows != prevRows[p.Path] {
						t.Errorf("%s: %d rows, was %d", p.Path, p.Rows, prevRows[p.Path])
					}
				} else if p.Rows != prevRows[p.Path]+1 {
					t.Errorf("%s: %d rows, was %d", p.Path, p.Rows, prevRows[p.Path])
				}
				for _, f := range p.Files {
					if !strings.Contains(f.Path, fmt.Sprintf("/part-%06d-", m.ExportID)) {
						t.Errorf("rewritten file %s not named after run %d", f.Path, m.ExportID)
					}
				}
				continue
			}
			if p.WrittenBy != first.Manifest.ExportID {
				t.Errorf("%s kept from run %d, want %d", p.Path, p.WrittenBy, first.Manifest.ExportID)
			}
			for _, f := range p.Files {
				st, err := os.Stat(filepath.Join(out, filepath.FromSlash(f.Path)))
				if err != nil {
					t.Fatal(err)
				}
				if !os.SameFile(st, before[f.Path]) {
					t.Errorf("%s was rewritten", f.Path)
				}
			}
		}
	}
	sort.Strings(rewritten)
	// dim_canonical_tables holds the canonical tables' row counts, so the
	// new deployment changes it too.
	if want := "deployments/month=2026-08 dim_canonical_tables fct_deployments/month=2026-08"; strings.Join(rewritten, " ") != want {
		t.Errorf("rewritten partitions %v, want %s", rewritten, want)
	}
	if res.Written != 3 || res.Kept != first.Written-3 {
		t.Errorf("%d written, %d kept, want 3 and %d", res.Written, res.Kept, first.Written-3)
	}
	// the old files of the rewritten partitions are gone from the folder
	for p := range before {
		if strings.HasPrefix(p, "deployments/month=2026-08/") || strings.HasPrefix(p, "fct_deployments/month=2026-08/") {
			if _, err := os.Stat(filepath.Join(out, filepath.FromSlash(p))); !os.IsNotExist(err) {
				t.Errorf("old file %s still there", p)
			}
		}
	}
	// the new row is read back from its month
	if n := count(t, db, "SELECT count(*) FROM read_parquet(?, hive_partitioning = true) WHERE id = 'extra-staging-1' AND month = '2026-08'",
		filepath.Join(out, "deployments", "*", "*.parquet")); n != 1 {
		t.Errorf("new deployment read back %d times from month=2026-08", n)
	}
	// the warehouse records the run and only its own partitions are kept
	var status string
	var written, kept, since int64
	if err := db.QueryRow("SELECT status, partitions_written, partitions_kept, since_run FROM export_runs WHERE id = ?", m.ExportID).
		Scan(&status, &written, &kept, &since); err != nil {
		t.Fatal(err)
	}
	if status != "done" || written != 3 || kept != int64(first.Written-3) || since != again.Manifest.ExportID {
		t.Errorf("export_runs: %s, %d written, %d kept, since %d", status, written, kept, since)
	}
	if n := count(t, db, "SELECT count(DISTINCT export_run) FROM export_partitions"); n != 1 {
		t.Errorf("partition records of %d runs kept, want only the latest", n)
	}
}

// A partition whose rows disappear disappears from the export; a changed
// table schema rewrites the whole table.
func TestIncrementalRemovedPartitionAndSchemaChange(t *testing.T) {
	db, _ := demoWarehouse(t)
	out := filepath.Join(t.TempDir(), "lake")
	runExport(t, db, Options{Out: out, Tables: []string{"release_plans", "teams"}})
	if _, err := os.Stat(filepath.Join(out, "release_plans", "month=2026-05")); err != nil {
		t.Fatalf("the demo should plan releases in May 2026: %v", err)
	}
	wantRows := count(t, db, "SELECT count(*) FROM release_plans WHERE planned_at >= '2026-06-01 00:00:00+00'")
	if _, err := db.Exec("DELETE FROM release_plans WHERE planned_at < '2026-06-01 00:00:00+00'"); err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec("ALTER TABLE teams ADD COLUMN note VARCHAR"); err != nil {
		t.Fatal(err)
	}
	res := runExport(t, db, Options{Out: out, Tables: []string{"release_plans", "teams"}, Since: "last"})
	for _, e := range res.Manifest.Tables {
		switch e.Name {
		case "release_plans":
			if e.Rows != wantRows {
				t.Errorf("release_plans: %d rows, want %d", e.Rows, wantRows)
			}
			for _, p := range e.Partitions {
				if p.Value < "2026-06" {
					t.Errorf("partition %s still listed", p.Value)
				}
				if p.WrittenBy == res.Manifest.ExportID {
					t.Errorf("partition %s rewritten though unchanged", p.Value)
				}
			}
		case "teams":
			if e.Partitions[0].WrittenBy != res.Manifest.ExportID {
				t.Errorf("teams kept after its schema changed")
			}
		}
	}
	entries, _ := os.ReadDir(filepath.Join(out, "release_plans"))
	for _, d := range entries {
		if d.Name() < "month=2026-06" {
			t.Errorf("folder %s left in the export", d.Name())
		}
	}
}

// CSV: one header row, lists as JSON text, times in UTC; read back with
// the manifest's types, every row equals the warehouse's.
func TestCSV(t *testing.T) {
	db, _ := demoWarehouse(t)
	// times are written in UTC whatever the session's zone
	if _, err := db.Exec("SET GLOBAL TimeZone = 'America/Los_Angeles'"); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(t.TempDir(), "csv")
	res := runExport(t, db, Options{Out: out, Format: "csv", Tables: []string{"services", "deployments", "fct_deployments"}})
	m := res.Manifest
	if m.Format != "csv" || m.Compression != "none" || len(m.Tables) != 3 {
		t.Fatalf("manifest: %s %s %d tables", m.Format, m.Compression, len(m.Tables))
	}
	for _, e := range m.Tables {
		for _, p := range e.Partitions {
			for _, f := range p.Files {
				if !strings.HasSuffix(f.Path, ".csv") {
					t.Errorf("%s is not a .csv file", f.Path)
				}
			}
		}
	}
	// A row worked out from the demo's service record of checkout-api.
	b, err := os.ReadFile(filepath.Join(out, filepath.FromSlash(m.Tables[0].Partitions[0].Files[0].Path)))
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(string(b), "\n")
	if lines[0] != "id,name,team,tier,repo,paths,depends_on,release_managers,rollback_authority,allowed_deployers,extra,source" {
		t.Errorf("header %q", lines[0])
	}
	var checkout string
	for _, l := range lines {
		if strings.HasPrefix(l, "checkout-api,") {
			checkout = l
		}
	}
	if want := `checkout-api,Checkout API,payments,1,acme/payments,"[""services/checkout/**""]","[""payment-gateway"",""auth"",""catalog""]",`; !strings.HasPrefix(checkout, want) {
		t.Errorf("checkout-api row\n %s\nwant it to start\n %s", checkout, want)
	}
	if got := m.Tables[0].CSVJSONColumns; strings.Join(got, ",") != "paths,depends_on,release_managers,rollback_authority,allowed_deployers" {
		t.Errorf("csv_json_columns %v", got)
	}
	// Times: a deployment worked out from the demo data.
	var finished string
	if err := db.QueryRow(`SELECT finished_at FROM read_csv(?, header = true, all_varchar = true) WHERE id = 'deploy-checkout-api-0150'`,
		filepath.Join(out, "deployments", "month=2026-07", "*.csv")).Scan(&finished); err != nil {
		t.Fatal(err)
	}
	if finished != "2026-07-01 07:30:04+00" {
		t.Errorf("finished_at written as %q, want 2026-07-01 07:30:04+00", finished)
	}
	for _, e := range m.Tables {
		var casts []string
		for _, c := range e.Columns {
			q := warehouse.QuoteIdent(c.Name)
			if nested(c.Type) {
				casts = append(casts, fmt.Sprintf("CAST(%s::JSON AS %s) AS %s", q, c.Type, q))
			} else {
				casts = append(casts, fmt.Sprintf("CAST(%s AS %s) AS %s", q, c.Type, q))
			}
		}
		src := fmt.Sprintf("(SELECT %s FROM %s)", strings.Join(casts, ", "), reader(out, e, "csv"))
		tbl := "main." + warehouse.QuoteIdent(e.Name)
		missing := count(t, db, fmt.Sprintf("SELECT count(*) FROM (SELECT * FROM %s EXCEPT ALL SELECT * FROM %s)", tbl, src))
		extra := count(t, db, fmt.Sprintf("SELECT count(*) FROM (SELECT * FROM %s EXCEPT ALL SELECT * FROM %s)", src, tbl))
		if missing != 0 || extra != 0 || count(t, db, "SELECT count(*) FROM "+tbl) != e.Rows {
			t.Errorf("%s: %d rows missing from the CSV, %d extra", e.Name, missing, extra)
		}
	}
}

// --tables writes only the named tables; the folder then holds nothing
// else. Unknown names are a usage error listing the known ones.
func TestTables(t *testing.T) {
	db, _ := demoWarehouse(t)
	out := filepath.Join(t.TempDir(), "lake")
	runExport(t, db, Options{Out: out})
	res := runExport(t, db, Options{Out: out, Tables: []string{"FCT_DEPLOYMENTS", " teams"}, Since: "last"})
	var names []string
	for _, e := range res.Manifest.Tables {
		names = append(names, e.Name)
	}
	if strings.Join(names, ",") != "teams,fct_deployments" {
		t.Errorf("tables %v, want teams,fct_deployments (in export order)", names)
	}
	if res.Written != 0 {
		t.Errorf("%d partitions written, want all kept", res.Written)
	}
	entries, err := os.ReadDir(out)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, e := range entries {
		got = append(got, e.Name())
	}
	if strings.Join(got, ",") != "_manifest.json,fct_deployments,teams" {
		t.Errorf("folder holds %v", got)
	}

	_, err = tryExport(t, db, Options{Out: out, Tables: []string{"fct_deploymnts"}})
	var ue *UsageError
	if !errors.As(err, &ue) || !strings.Contains(err.Error(), "no table fct_deploymnts") || !strings.Contains(err.Error(), "fct_deployments") {
		t.Errorf("unknown table: %v", err)
	}
}

// An export never replaces a folder that is not an export.
func TestRefusesAForeignFolder(t *testing.T) {
	db, _ := demoWarehouse(t)
	out := t.TempDir()
	precious := filepath.Join(out, "notes.txt")
	if err := os.WriteFile(precious, []byte("keep me"), 0o644); err != nil {
		t.Fatal(err)
	}
	_, err := tryExport(t, db, Options{Out: out})
	var ue *UsageError
	if !errors.As(err, &ue) || !strings.Contains(err.Error(), "not empty") {
		t.Errorf("err = %v", err)
	}
	if b, err := os.ReadFile(precious); err != nil || string(b) != "keep me" {
		t.Errorf("the folder was touched: %v", err)
	}
	if n := count(t, db, "SELECT count(*) FROM export_runs"); n != 0 {
		t.Errorf("%d runs recorded for a refused export", n)
	}
	// an empty folder is fine
	empty := t.TempDir()
	runExport(t, db, Options{Out: empty, Tables: []string{"teams"}})
}

func TestSinceErrors(t *testing.T) {
	db, _ := demoWarehouse(t)
	out := filepath.Join(t.TempDir(), "lake")
	for _, tc := range []struct {
		since, want string
		usage       bool
	}{
		{"yesterday", "--since must be last or an export id", true},
		{"0", "--since must be last or an export id", true},
		{"3", "holds no export", false},
	} {
		_, err := tryExport(t, db, Options{Out: out, Since: tc.since, Tables: []string{"teams"}})
		var ue *UsageError
		if err == nil || !strings.Contains(err.Error(), tc.want) || errors.As(err, &ue) != tc.usage {
			t.Errorf("--since %s: %v", tc.since, err)
		}
	}
	first := runExport(t, db, Options{Out: out, Tables: []string{"teams"}})
	_, err := tryExport(t, db, Options{Out: out, Since: "99", Tables: []string{"teams"}})
	if want := fmt.Sprintf("holds export %d, not 99", first.Manifest.ExportID); err == nil || !strings.Contains(err.Error(), want) {
		t.Errorf("--since 99: %v, want %q", err, want)
	}
	res := runExport(t, db, Options{Out: out, Since: fmt.Sprint(first.Manifest.ExportID), Tables: []string{"teams"}})
	if res.Kept != 1 || res.Written != 0 {
		t.Errorf("--since %d: %d written, %d kept", first.Manifest.ExportID, res.Written, res.Kept)
	}
	// A DuckDB of another version may hash differently: write everything.
	v := testVersion(t)
	v.DuckDB = "v0.0.1"
	res = runExport(t, db, Options{Out: out, Since: "last", Tables: []string{"teams"}, Version: v})
	if res.Written != 1 || len(res.Notes) != 1 || !strings.Contains(res.Notes[0], "hashed by DuckDB") {
		t.Errorf("after a DuckDB change: %d written, notes %v", res.Written, res.Notes)
	}
	// CSV after Parquet: write everything
	res = runExport(t, db, Options{Out: out, Since: "last", Tables: []string{"teams"}, Format: "csv"})
	if res.Written != 1 || len(res.Notes) != 1 || !strings.Contains(res.Notes[0], "is parquet, this one csv") {
		t.Errorf("format change: %d written, notes %v", res.Written, res.Notes)
	}
}

// A kept partition whose file was damaged in the folder is rewritten.
func TestSinceRewritesDamagedPartitions(t *testing.T) {
	db, _ := demoWarehouse(t)
	out := filepath.Join(t.TempDir(), "lake")
	first := runExport(t, db, Options{Out: out, Tables: []string{"incidents"}})
	victim := first.Manifest.Tables[0].Partitions[1]
	f := filepath.Join(out, filepath.FromSlash(victim.Files[0].Path))
	if err := os.Truncate(f, 10); err != nil {
		t.Fatal(err)
	}
	res := runExport(t, db, Options{Out: out, Tables: []string{"incidents"}, Since: "last"})
	if res.Written != 1 || len(res.Notes) != 1 || !strings.Contains(res.Notes[0], victim.Path) {
		t.Errorf("%d written, notes %v; want %s rewritten", res.Written, res.Notes, victim.Path)
	}
	if n := count(t, db, "SELECT count(*) FROM read_parquet(?, hive_partitioning = true)", filepath.Join(out, "incidents", "*", "*.parquet")); n != first.Manifest.Tables[0].Rows {
		t.Errorf("%d rows read back, want %d", n, first.Manifest.Tables[0].Rows)
	}
}

// --out naming a symbolic link exports into the folder it points at and
// leaves the link in place.
func TestOutThroughASymlink(t *testing.T) {
	db, _ := demoWarehouse(t)
	dir := t.TempDir()
	real := filepath.Join(dir, "real")
	link := filepath.Join(dir, "link")
	if err := os.Mkdir(real, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(real, link); err != nil {
		t.Skip("no symbolic links here")
	}
	for i := 0; i < 2; i++ {
		runExport(t, db, Options{Out: link, Tables: []string{"teams"}, Since: "last"})
		if st, err := os.Lstat(link); err != nil || st.Mode()&os.ModeSymlink == 0 {
			t.Fatalf("run %d: %s is no longer a link", i+1, link)
		}
		if _, err := ReadManifest(real); err != nil {
			t.Errorf("run %d: no export in the link's target: %v", i+1, err)
		}
	}
}

// A mart the registry names but the warehouse lacks (never transformed, or
// transformed by an older shiplog) stops the export before anything is
// written, naming it.
func TestMissingMart(t *testing.T) {
	db, _ := demoWarehouse(t)
	if _, err := db.Exec("DROP VIEW fct_deployment_changes"); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(t.TempDir(), "lake")
	_, err := tryExport(t, db, Options{Out: out})
	if err == nil || !strings.Contains(err.Error(), "has no fct_deployment_changes: run `shiplog transform` first") {
		t.Errorf("err = %v", err)
	}
	if _, serr := os.Stat(out); !os.IsNotExist(serr) {
		t.Errorf("something was written: %v", serr)
	}
}
