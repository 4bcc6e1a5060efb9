// Package export writes the canonical tables and the marts out of the
// warehouse as files a data lake can read: Parquet (zstd) or CSV, fact
// tables split Hive-style by month (fct_deployments/month=2026-07/…),
// dimensions whole, and a _manifest.json that lists every table, column,
// partition and file with row counts and hashes, so a loader can check it
// received a complete export.
//
// DuckDB writes the files itself (COPY … TO … (FORMAT parquet, COMPRESSION
// zstd, PARTITION_BY …)). Which tables exist is read from the transform's
// model registry and the canonical format (see Discover), never from a list
// kept here.
//
// An export is all or nothing: a run writes into a staging folder beside
// the target and swaps it in at the end (files.go), so a crash or an error
// leaves the previous export as it was. Incremental runs (Since) keep the
// files of every partition whose rows did not change, judged by a hash of
// the partition's rows computed in DuckDB and recorded in the warehouse
// (export_runs, export_partitions).
package export

import (
	"context"
	"fmt"
	"io"
	"math/big"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/shiplog/shiplog/internal/version"
	"github.com/shiplog/shiplog/internal/warehouse"
)

// Formats are the accepted file formats, the default first.
var Formats = []string{"parquet", "csv"}

// Options describe one export.
type Options struct {
	// Out is the export folder. It must be new, empty, or hold an earlier
	// export (a folder with other contents is refused, since the export
	// replaces it).
	Out string
	// Format is parquet (default) or csv.
	Format string
	// Tables limits the export to these tables; empty means every table.
	// The folder holds exactly the tables of the last run.
	Tables []string
	// Since is "" (write everything), "last" (keep the unchanged
	// partitions of the export in Out) or that export's id.
	Since string
	// Progress receives a line per table (stderr); nil discards it.
	Progress io.Writer
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// Version is the build written into the manifest; zero means
	// version.Get.
	Version version.Info

	// failpoint, when set (tests), is called at each stage; an error it
	// returns aborts the run there.
	failpoint func(stage string) error
}

// Result is what a run did.
type Result struct {
	Manifest *Manifest
	// Written and Kept count partitions whose files this run wrote and
	// those it kept from the previous export.
	Written, Kept int
	// Notes are things the run decided that the user should know.
	Notes []string
}

// UsageError is a mistake in the options (exit 2 in the CLI).
type UsageError struct{ Msg string }

func (e *UsageError) Error() string { return e.Msg }

// Run writes the export described by opts from db.
func Run(ctx context.Context, db *warehouse.DB, opts Options) (res *Result, err error) {
	if opts.Format == "" {
		opts.Format = Formats[0]
	}
	if opts.Format != "parquet" && opts.Format != "csv" {
		return nil, &UsageError{fmt.Sprintf("--format must be parquet or csv, not %q", opts.Format)}
	}
	if opts.Out == "" {
		return nil, &UsageError{"--out is required: the folder to write the export to"}
	}
	progress := opts.Progress
	if progress == nil {
		progress = io.Discard
	}
	now := opts.Now
	if now == nil {
		now = time.Now
	}
	if opts.Version == (version.Info{}) {
		if opts.Version, err = version.Get(ctx); err != nil {
			return nil, err
		}
	}
	fail := func(stage string) error {
		if opts.failpoint != nil {
			return opts.failpoint(stage)
		}
		return nil
	}
	out, err := filepath.Abs(opts.Out)
	if err != nil {
		return nil, err
	}
	// A symbolic link is followed once: the export replaces the folder it
	// names, beside that folder, and the link keeps pointing at it.
	if st, lerr := os.Lstat(out); lerr == nil && st.Mode()&os.ModeSymlink != 0 {
		if out, err = filepath.EvalSymlinks(out); err != nil {
			return nil, fmt.Errorf("export: %w", err)
		}
	}
	if err := os.MkdirAll(filepath.Dir(out), 0o755); err != nil {
		return nil, fmt.Errorf("export: %w", err)
	}
	res = &Result{}
	did, err := recoverOut(out)
	for _, d := range did {
		fmt.Fprintf(progress, "export: %s\n", d)
	}
	if err != nil {
		return nil, fmt.Errorf("export: %w", err)
	}
	if err := checkOut(out); err != nil {
		return nil, err
	}

	c, err := db.Conn(ctx)
	if err != nil {
		return nil, err
	}
	defer c.Close()
	all, err := Discover(ctx, c)
	if err != nil {
		return nil, err
	}
	tables, err := Select(all, opts.Tables)
	if err != nil {
		return nil, err
	}
	if err := settleRuns(ctx, c, out, now().UTC()); err != nil {
		return nil, err
	}
	prev, notes, err := loadPrevious(ctx, c, out, opts.Since, opts.Format, opts.Version.DuckDB)
	if err != nil {
		return nil, err
	}
	res.Notes = append(res.Notes, notes...)
	for _, n := range notes {
		fmt.Fprintf(progress, "export: %s\n", n)
	}
	var since *int64
	if prev != nil {
		since = &prev.manifest.ExportID
	}
	var schemaVersion int
	if err := c.QueryRowContext(ctx, `SELECT coalesce(max(version), 0) FROM shiplog_schema`).Scan(&schemaVersion); err != nil {
		return nil, fmt.Errorf("export: schema version: %w", err)
	}

	started := now().UTC()
	run, err := startRun(ctx, c, &opts, out, tables, since, started)
	if err != nil {
		return nil, err
	}
	staging := stagingDir(out, run)
	defer func() {
		if err != nil {
			_ = os.RemoveAll(staging)
			failRun(ctx, c, run, err, now().UTC())
			res = nil
		}
	}()
	if err = os.Mkdir(staging, 0o755); err != nil {
		return nil, fmt.Errorf("export: %w", err)
	}
	fmt.Fprintf(progress, "export %d: %d tables as %s to %s\n", run, len(tables), opts.Format, out)

	// One snapshot for every table: hashes and files agree, and the tables
	// agree with each other, even if something writes meanwhile.
	// CSV writes times in the session's zone: make it UTC, for this
	// connection only (it goes back to the pool afterwards).
	if _, err = c.ExecContext(ctx, "SET TimeZone = 'UTC'"); err != nil {
		return nil, fmt.Errorf("export: %w", err)
	}
	defer c.ExecContext(context.WithoutCancel(ctx), "RESET TimeZone")
	if _, err = c.ExecContext(ctx, "BEGIN TRANSACTION"); err != nil {
		return nil, fmt.Errorf("export: %w", err)
	}
	m := &Manifest{
		ManifestFormat: ManifestFormat, ExportID: run, Since: since, ExportedAt: started,
		Shiplog: opts.Version, SchemaVersion: schemaVersion, Format: opts.Format, Compression: "none",
		Partitioning: Partitioning{Scheme: "hive", Unit: "month", TimeZone: "UTC", Default: DefaultPartition},
	}
	if opts.Format == "parquet" {
		m.Compression = "zstd"
	}
	w := &writer{c: c, run: run, format: opts.Format, staging: staging, out: out, prev: prev}
	for i, t := range tables {
		start := time.Now()
		var entry *TableEntry
		var written, kept int
		entry, written, kept, err = w.table(ctx, t)
		if err != nil {
			_, _ = c.ExecContext(context.WithoutCancel(ctx), "ROLLBACK")
			return nil, err
		}
		m.Tables = append(m.Tables, *entry)
		m.Rows += entry.Rows
		m.Bytes += entry.Bytes
		m.DataRange = widen(m.DataRange, entry.DataRange)
		res.Written += written
		res.Kept += kept
		fmt.Fprintf(progress, "[%2d/%d] %-24s %10d rows %4d partitions: %d written, %d kept %8s (hash %s)\n",
			i+1, len(tables), t.Name, entry.Rows, len(entry.Partitions), written, kept,
			time.Since(start).Round(time.Millisecond), w.hashTime.Round(time.Millisecond))
		if err = fail("table " + t.Name); err != nil {
			_, _ = c.ExecContext(context.WithoutCancel(ctx), "ROLLBACK")
			return nil, err
		}
	}
	if _, err = c.ExecContext(ctx, "COMMIT"); err != nil {
		return nil, fmt.Errorf("export: %w", err)
	}
	if err = writeManifest(staging, m); err != nil {
		return nil, fmt.Errorf("export: %w", err)
	}
	if err = syncDirs(staging); err != nil {
		return nil, fmt.Errorf("export: %w", err)
	}
	if err = fail("manifest"); err != nil {
		return nil, err
	}
	if err = stageRun(ctx, c, run, m, res.Written, res.Kept); err != nil {
		return nil, err
	}
	if err = fail("swap"); err != nil {
		return nil, err
	}
	if err = swapIn(staging, out); err != nil {
		return nil, fmt.Errorf("export: put the export in place: %w", err)
	}
	// The folder now holds this export; a failure to record that is
	// settled by the next run (settleRuns), so it is not an error.
	if ferr := finishRun(ctx, c, run, out, now().UTC()); ferr != nil {
		fmt.Fprintf(progress, "export: %v\n", ferr)
	}
	res.Manifest = m
	fmt.Fprintf(progress, "export %d done: %d tables, %d rows, %s in %s (%d partitions written, %d kept)\n",
		run, len(m.Tables), m.Rows, humanBytes(m.Bytes), out, res.Written, res.Kept)
	return res, nil
}

// checkOut refuses to replace a folder that is not an export: the swap
// would delete whatever it holds.
func checkOut(out string) error {
	st, err := os.Stat(out)
	if isNotExist(err) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("export: %w", err)
	}
	if !st.IsDir() {
		return &UsageError{fmt.Sprintf("--out %s is a file, not a folder", out)}
	}
	if _, err := os.Stat(filepath.Join(out, ManifestName)); err == nil {
		return nil
	}
	entries, err := os.ReadDir(out)
	if err != nil {
		return fmt.Errorf("export: %w", err)
	}
	if len(entries) > 0 {
		return &UsageError{fmt.Sprintf("--out %s is not empty and holds no export (%s): the export replaces the whole folder, so name a new or empty one", out, ManifestName)}
	}
	return nil
}

// Select returns the tables named, in the order of all; no names means all.
func Select(all []Table, names []string) ([]Table, error) {
	if len(names) == 0 {
		return all, nil
	}
	want := map[string]bool{}
	for _, n := range names {
		n = strings.ToLower(strings.TrimSpace(n))
		if n != "" {
			want[n] = true
		}
	}
	var out []Table
	for _, t := range all {
		if want[t.Name] {
			out = append(out, t)
			delete(want, t.Name)
		}
	}
	if len(want) > 0 {
		var unknown, known []string
		for n := range want {
			unknown = append(unknown, n)
		}
		for _, t := range all {
			known = append(known, t.Name)
		}
		sort.Strings(unknown)
		return nil, &UsageError{fmt.Sprintf("--tables: no table %s; the tables are %s", strings.Join(unknown, ", "), strings.Join(known, ", "))}
	}
	if len(out) == 0 {
		return nil, &UsageError{"--tables names no table"}
	}
	return out, nil
}

// writer writes the tables of one run.
type writer struct {
	c       conn
	run     int64
	format  string
	staging string
	out     string
	prev    *previous
	// hashTime is how long the last table's partition hashes took.
	hashTime time.Duration
}

// stat is one partition as the warehouse holds it now.
type stat struct {
	part     string
	rows     int64
	hash     string
	min, max *string
}

func (w *writer) ext() string { return "." + w.format }

// table writes one table's changed partitions, links its unchanged ones,
// and returns its manifest entry.
func (w *writer) table(ctx context.Context, t Table) (*TableEntry, int, int, error) {
	entry := &TableEntry{Name: t.Name, Kind: t.Kind, Path: t.Name, Columns: t.Columns,
		PartitionColumn: t.PartitionColumn, PartitionKey: t.PartitionKey, SchemaHash: t.schemaHash(), Partitions: []Partition{}}
	start := time.Now()
	stats, err := w.stats(ctx, t)
	if err != nil {
		return nil, 0, 0, err
	}
	w.hashTime = time.Since(start)
	var keep map[string]Partition
	if w.prev != nil {
		if pt, ok := w.prev.tables[t.Name]; ok && pt.schemaHash == entry.SchemaHash {
			keep = pt.parts
		}
	}
	var toWrite []string
	var wantRows int64
	for _, s := range stats {
		if p, ok := keep[s.part]; ok && p.ContentHash == s.hash && p.Rows == s.rows {
			continue
		}
		delete(keep, s.part) // changed: not kept
		toWrite = append(toWrite, s.part)
		wantRows += s.rows
	}
	tableDir := filepath.Join(w.staging, t.Name)
	if err := os.Mkdir(tableDir, 0o755); err != nil {
		return nil, 0, 0, fmt.Errorf("export: %w", err)
	}
	sel, jsonCols := w.selectList(t)
	if w.format == "csv" {
		entry.CSVJSONColumns = jsonCols
	}
	if len(toWrite) > 0 {
		if err := w.copy(ctx, t, sel, toWrite, len(toWrite) == len(stats), wantRows); err != nil {
			return nil, 0, 0, err
		}
	}
	written := map[string]bool{}
	for _, p := range toWrite {
		written[p] = true
	}
	for _, s := range stats {
		p := Partition{Value: s.part, Path: t.Name, Rows: s.rows, ContentHash: s.hash, WrittenBy: w.run}
		if t.Partitioned() {
			p.Path = t.Name + "/" + t.PartitionKey + "=" + s.part
			if s.min != nil && s.max != nil {
				p.DataRange = &Range{Min: *s.min, Max: *s.max}
			}
		}
		dir := filepath.Join(w.staging, filepath.FromSlash(p.Path))
		if written[s.part] {
			names, err := listFiles(dir)
			if err != nil {
				return nil, 0, 0, fmt.Errorf("export: %s: %w", t.Name, err)
			}
			if len(names) == 0 {
				return nil, 0, 0, fmt.Errorf("export: %s: DuckDB wrote no file for partition %s", t.Name, s.part)
			}
			for _, n := range names {
				p.Files = append(p.Files, FileInfo{Path: path.Join(p.Path, n)}) // sized and hashed below
			}
		} else {
			old := keep[s.part]
			p.Files, p.WrittenBy = old.Files, old.WrittenBy
			if err := os.MkdirAll(dir, 0o755); err != nil {
				return nil, 0, 0, fmt.Errorf("export: %w", err)
			}
			for _, f := range old.Files {
				if err := linkOrCopy(filepath.Join(w.out, filepath.FromSlash(f.Path)), filepath.Join(w.staging, filepath.FromSlash(f.Path))); err != nil {
					return nil, 0, 0, fmt.Errorf("export: keep %s: %w", f.Path, err)
				}
			}
		}
		entry.Rows += p.Rows
		entry.DataRange = widen(entry.DataRange, p.DataRange)
		entry.Partitions = append(entry.Partitions, p)
	}
	if err := w.hashNewFiles(entry); err != nil {
		return nil, 0, 0, fmt.Errorf("export: %s: %w", t.Name, err)
	}
	for _, p := range entry.Partitions {
		for _, f := range p.Files {
			entry.Bytes += f.Bytes
		}
	}
	// Nothing but the partitions just listed may be in the table's folder
	// (a reader globbing it would read anything else too).
	if t.Partitioned() {
		entries, err := os.ReadDir(tableDir)
		if err != nil {
			return nil, 0, 0, err
		}
		if len(entries) != len(stats) {
			return nil, 0, 0, fmt.Errorf("export: %s: %d folders written for %d partitions", t.Name, len(entries), len(stats))
		}
	}
	return entry, len(toWrite), len(stats) - len(toWrite), nil
}

// hashNewFiles sizes, syncs and hashes the files this run wrote for entry
// (those without a hash yet), a few at a time: syncing one file after
// another leaves the disk idle between them.
func (w *writer) hashNewFiles(entry *TableEntry) error {
	var pending []*FileInfo
	for i := range entry.Partitions {
		for j := range entry.Partitions[i].Files {
			if f := &entry.Partitions[i].Files[j]; f.SHA256 == "" {
				pending = append(pending, f)
			}
		}
	}
	jobs := make(chan *FileInfo)
	errs := make(chan error, len(pending))
	var wg sync.WaitGroup
	for range min(4, len(pending)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for f := range jobs {
				size, sum, err := hashFile(filepath.Join(w.staging, filepath.FromSlash(f.Path)))
				if err != nil {
					errs <- err
					continue
				}
				f.Bytes, f.SHA256 = size, sum
			}
		}()
	}
	for _, f := range pending {
		jobs <- f
	}
	close(jobs)
	wg.Wait()
	close(errs)
	return <-errs // nil when there was none
}

// stats returns each partition's row count, content hash and time range,
// in partition order. The content hash is the sum, as a 128-bit integer,
// of DuckDB's 64-bit hash of every row (all columns, in order): it does not
// depend on row order, and a changed, added or removed row changes it
// (short of a 64-bit collision). An unpartitioned table is one partition
// named "", present even when the table is empty.
func (w *writer) stats(ctx context.Context, t Table) ([]stat, error) {
	minMax := "NULL::VARCHAR, NULL::VARCHAR"
	if t.Partitioned() {
		minMax = rangeExpr(t, "min") + ", " + rangeExpr(t, "max")
	}
	q := fmt.Sprintf(`SELECT %s AS part, count(*), coalesce(sum(hash(%s)), 0)::VARCHAR, %s
		FROM main.%s AS %s GROUP BY ALL ORDER BY part`,
		t.partExpr(), warehouse.QuoteIdent(rowAlias), minMax, warehouse.QuoteIdent(t.Name), warehouse.QuoteIdent(rowAlias))
	rows, err := w.c.QueryContext(ctx, q)
	if err != nil {
		return nil, fmt.Errorf("export: %s: %w", t.Name, err)
	}
	defer rows.Close()
	var out []stat
	for rows.Next() {
		var s stat
		var sum string
		if err := rows.Scan(&s.part, &s.rows, &sum, &s.min, &s.max); err != nil {
			return nil, fmt.Errorf("export: %s: %w", t.Name, err)
		}
		n, ok := new(big.Int).SetString(sum, 10)
		if !ok {
			return nil, fmt.Errorf("export: %s: unexpected hash sum %q", t.Name, sum)
		}
		s.hash = fmt.Sprintf("%032x", n)
		out = append(out, s)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("export: %s: %w", t.Name, err)
	}
	if !t.Partitioned() && len(out) == 0 {
		out = append(out, stat{part: "", hash: fmt.Sprintf("%032x", 0)})
	}
	return out, nil
}

// rangeExpr formats the min or max of the partition column as RFC 3339 UTC
// (or a date).
func rangeExpr(t Table, agg string) string {
	col := warehouse.QuoteIdent(t.PartitionColumn)
	for _, c := range t.Columns {
		if c.Name != t.PartitionColumn {
			continue
		}
		switch {
		case c.Type == "DATE":
			return fmt.Sprintf("strftime(%s(%s), '%%Y-%%m-%%d')", agg, col)
		case c.Type == "TIMESTAMP WITH TIME ZONE":
			return fmt.Sprintf("strftime(timezone('UTC', %s(%s)), '%%Y-%%m-%%dT%%H:%%M:%%S.%%fZ')", agg, col)
		}
	}
	return fmt.Sprintf("strftime(%s(%s)::TIMESTAMP, '%%Y-%%m-%%dT%%H:%%M:%%S.%%fZ')", agg, col)
}

// selectList returns the columns to write. CSV cannot hold lists, structs
// or maps, so those are written as JSON text (and named, for the manifest).
func (w *writer) selectList(t Table) (string, []string) {
	var cols, jsonCols []string
	for _, c := range t.Columns {
		q := warehouse.QuoteIdent(c.Name)
		if w.format == "csv" && nested(c.Type) {
			cols = append(cols, "to_json("+q+")::VARCHAR AS "+q)
			jsonCols = append(jsonCols, c.Name)
			continue
		}
		cols = append(cols, q)
	}
	return strings.Join(cols, ", "), jsonCols
}

func nested(typ string) bool {
	return strings.HasSuffix(typ, "]") || strings.HasPrefix(typ, "STRUCT") || strings.HasPrefix(typ, "MAP") || strings.HasPrefix(typ, "UNION")
}

// copy has DuckDB write the partitions parts of t (all of them when all is
// set) into the staging folder.
func (w *writer) copy(ctx context.Context, t Table, sel string, parts []string, all bool, wantRows int64) error {
	opts := []string{"FORMAT " + w.format}
	if w.format == "parquet" {
		opts = append(opts, "COMPRESSION zstd")
	} else {
		opts = append(opts, "HEADER true")
	}
	var stmt string
	pattern := fmt.Sprintf("part-%06d-", w.run)
	if t.Partitioned() {
		where := ""
		if !all {
			lits := make([]string, len(parts))
			for i, p := range parts {
				lits[i] = warehouse.QuoteString(p)
			}
			where = fmt.Sprintf(" WHERE %s IN (%s)", t.partExpr(), strings.Join(lits, ", "))
		}
		key := warehouse.QuoteIdent(t.PartitionKey)
		opts = append(opts, "PARTITION_BY ("+key+")", "FILENAME_PATTERN "+warehouse.QuoteString(pattern+"{i}"))
		stmt = fmt.Sprintf("COPY (SELECT %s, %s AS %s FROM main.%s%s) TO %s (%s)",
			sel, t.monthExpr(), key, warehouse.QuoteIdent(t.Name), where,
			warehouse.QuoteString(filepath.Join(w.staging, t.Name)), strings.Join(opts, ", "))
	} else {
		stmt = fmt.Sprintf("COPY (SELECT %s FROM main.%s) TO %s (%s)",
			sel, warehouse.QuoteIdent(t.Name),
			warehouse.QuoteString(filepath.Join(w.staging, t.Name, pattern+"0"+w.ext())), strings.Join(opts, ", "))
	}
	r, err := w.c.ExecContext(ctx, stmt)
	if err != nil {
		return fmt.Errorf("export: %s: %w", t.Name, err)
	}
	if n, err := r.RowsAffected(); err == nil && n != wantRows {
		return fmt.Errorf("export: %s: DuckDB wrote %d rows, the partitions hold %d", t.Name, n, wantRows)
	}
	return nil
}

// widen returns the range covering a and b.
func widen(a, b *Range) *Range {
	if b == nil {
		return a
	}
	if a == nil {
		r := *b
		return &r
	}
	r := *a
	if b.Min < r.Min {
		r.Min = b.Min
	}
	if b.Max > r.Max {
		r.Max = b.Max
	}
	return &r
}

func humanBytes(n int64) string {
	switch {
	case n >= 1<<30:
		return fmt.Sprintf("%.2f GiB", float64(n)/(1<<30))
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%.1f KiB", float64(n)/(1<<10))
	}
	return fmt.Sprintf("%d B", n)
}
