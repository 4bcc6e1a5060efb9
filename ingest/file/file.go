// Package file loads canonical records from JSON Lines and CSV files into
// the canonical tables.
//
// DuckDB reads the files itself, on one of two paths. The quick path reads
// JSON Lines with DuckDB's JSON reader straight into typed columns and CSV
// files with its CSV reader, checks every record in bulk with the same
// expressions as the precise path, and, for kinds of which the warehouse
// holds no row of the source yet, writes the rows straight into their
// tables. It cannot say where a bad record is, so on the first sign of one
// (or of anything it cannot vouch for) it gives the batch up and the precise
// path loads it again: JSON Lines are read as text, one row per line with
// its line number, and each kind is validated and typed in bulk into a
// staging table; CSV rows likewise. Only when a batch has a bad record does
// Go look at the first one to say what is wrong with it.
//
// A call is one batch: either every record of every file is committed, or
// (on any bad record, unless SkipInvalid) none is. Records replace earlier
// ones with the same (source, natural key); within a batch the last record
// of a key wins, files counted in the order given and lines in file order.
package file

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"time"

	"github.com/shiplog/shiplog/ingest"
	"github.com/shiplog/shiplog/internal/canonical"
	"github.com/shiplog/shiplog/internal/warehouse"
)

// Options tune a load.
type Options struct {
	// Kind is the kind of every CSV file (default: from each file's name,
	// deployments.csv or deployment.csv) and of JSON Lines records that have
	// no "kind" field.
	Kind string
	// SkipInvalid keeps the good records of a batch with bad ones, and
	// writes each bad one to the rejects table.
	SkipInvalid bool
	// Source is the value of the source column of the rows written, and the
	// source of the ingest_runs row. Default "file".
	Source string
	// Progress receives one line per file and a summary per kind; nil is
	// silent.
	Progress io.Writer
	// Now is the clock for ingest_runs; default time.Now.
	Now func() time.Time
	// InTx, when set, runs inside the batch's transaction, on its
	// connection, after the records are written and just before the
	// commit, so that what it writes (a push's delivery ids) is committed
	// with the records or not at all. An error from it rolls the batch
	// back and is returned.
	InTx func(ctx context.Context, conn *sql.Conn) error
}

// Result says what a load did.
type Result struct {
	// Rows is the number of rows written per kind name.
	Rows map[string]int64
	// Read counts records read (blank lines are not records); Written rows
	// written (after later records replaced earlier ones of the same key);
	// Rejected records refused under SkipInvalid.
	Read, Written, Rejected int64
	// RunID is the ingest_runs row of this load.
	RunID int64
}

// UsageError is a mistake in how the load was asked for (an unknown kind, a
// file type that is not supported), as opposed to bad data.
type UsageError struct{ Err error }

func (e *UsageError) Error() string { return e.Err.Error() }
func (e *UsageError) Unwrap() error { return e.Err }

// DataError is a bad record that failed the batch.
type DataError struct {
	File  string // the file as given
	Line  int64  // line (JSON Lines) or row (CSV, header = row 1)
	CSV   bool
	Kind  string // may be empty when the record's kind is unknown
	Field string // may be empty (malformed JSON)
	// Reason says what is wrong.
	Reason string
	// More counts the other bad records of the batch.
	More int64
}

func (e *DataError) Error() string {
	var b strings.Builder
	b.WriteString(location(e.File, e.CSV, e.Line))
	b.WriteString(": ")
	switch {
	case e.Kind != "" && e.Field != "":
		fmt.Fprintf(&b, "%s field %q: ", e.Kind, e.Field)
	case e.Kind != "":
		b.WriteString(e.Kind + " record: ")
	case e.Field != "":
		fmt.Fprintf(&b, "field %q: ", e.Field)
	}
	b.WriteString(e.Reason)
	if e.More > 0 {
		fmt.Fprintf(&b, " (and %d more bad record%s; nothing was loaded; --skip-invalid keeps the good ones)", e.More, plural(e.More))
	} else {
		b.WriteString(" (nothing was loaded)")
	}
	return b.String()
}

func location(file string, csv bool, n int64) string {
	if csv {
		return fmt.Sprintf("%s: row %d", file, n)
	}
	return fmt.Sprintf("%s: line %d", file, n)
}

func plural(n int64) string {
	if n == 1 {
		return ""
	}
	return "s"
}

// input is one file of a batch.
type input struct {
	name string // as given (for messages)
	path string // to read: the file, or a copy in the spool folder
	csv  bool
	kind *canonical.Kind // CSV: the file's kind
	gz   bool            // the file is gzip-compressed (path is then the plain copy)
	// sanitized marks a copy in which sanitize replaced the records
	// DuckDB's reader cannot take by ones that say what is wrong.
	sanitized bool
}

// Source is one batch of canonical files as an ingest.Source: ingest.Run
// records the run, Sync loads the batch (all of it, or nothing).
type Source struct {
	ins    []input
	opts   Options
	result *Result
}

var _ ingest.Source = (*Source)(nil)

// NewSource checks the files of a batch (type, kind, that each exists) and
// returns the batch, ready to load.
func NewSource(paths []string, opts Options) (*Source, error) {
	ins := make([]input, 0, len(paths))
	for _, p := range paths {
		in, err := resolve(p, p, opts.Kind)
		if err != nil {
			return nil, err
		}
		ins = append(ins, in)
	}
	return &Source{ins: ins, opts: opts}, nil
}

// Name is the source column of the rows written (Options.Source, default
// "file").
func (s *Source) Name() string {
	if s.opts.Source == "" {
		return "file"
	}
	return s.opts.Source
}

// Target is the files' names, for ingest_runs.target.
func (s *Source) Target() string {
	names := make([]string, len(s.ins))
	for i, in := range s.ins {
		names[i] = in.name
	}
	return strings.Join(names, " ")
}

// Result is what the last Sync wrote (nil before one).
func (s *Source) Result() *Result { return s.result }

// Sync loads the batch into env.DB, counting on env.Run.
func (s *Source) Sync(ctx context.Context, env *ingest.Env) error {
	opts := s.opts
	if opts.Now == nil {
		opts.Now = env.Now
	}
	if opts.Progress == nil {
		opts.Progress = env.Progress
	}
	res, err := load(ctx, env.DB, s.ins, opts, env.Run)
	s.result = res
	return err
}

// run loads s through ingest.Run and returns its result.
func (s *Source) run(ctx context.Context, db *warehouse.DB) (*Result, error) {
	_, err := ingest.Run(ctx, s, &ingest.Env{DB: db, Now: s.opts.Now, Progress: s.opts.Progress})
	return s.result, err
}

// Load reads the files as one batch into the canonical tables.
func Load(ctx context.Context, db *warehouse.DB, paths []string, opts Options) (*Result, error) {
	s, err := NewSource(paths, opts)
	if err != nil {
		return nil, err
	}
	return s.run(ctx, db)
}

// LoadReader loads JSON Lines read from r as one batch; name stands for the
// stream in messages and in ingest_runs (a webhook delivery id, "stdin").
func LoadReader(ctx context.Context, db *warehouse.DB, name string, r io.Reader, opts Options) (*Result, error) {
	if opts.Kind != "" {
		if _, ok := canonical.LookupTable(opts.Kind); !ok {
			return nil, unknownKind(opts.Kind)
		}
	}
	dir, err := os.MkdirTemp(db.SpoolDir(), "shiplog-load-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	tmp := filepath.Join(dir, "stream.jsonl")
	f, err := os.Create(tmp)
	if err != nil {
		return nil, err
	}
	if _, err := io.Copy(f, r); err != nil {
		f.Close()
		return nil, fmt.Errorf("read %s: %w", name, err)
	}
	if err := f.Close(); err != nil {
		return nil, err
	}
	s := &Source{ins: []input{{name: name, path: tmp}}, opts: opts}
	return s.run(ctx, db)
}

func unknownKind(k string) error {
	return &UsageError{fmt.Errorf("unknown kind %q (want one of %s)", k, strings.Join(canonical.Names(), ", "))}
}

// resolve works out a file's format and, for CSV, its kind.
func resolve(name, path, kind string) (input, error) {
	in := input{name: name, path: path}
	base := strings.ToLower(filepath.Base(path))
	in.gz = strings.HasSuffix(base, ".gz")
	base = strings.TrimSuffix(base, ".gz")
	ext := filepath.Ext(base)
	stem := strings.TrimSuffix(base, ext)
	if kind != "" {
		k, ok := canonical.LookupTable(kind)
		if !ok {
			return in, unknownKind(kind)
		}
		in.kind = k
	}
	switch ext {
	case ".jsonl", ".ndjson", ".json":
	case ".csv":
		in.csv = true
		if in.kind == nil {
			k, ok := canonical.LookupTable(stem)
			if !ok {
				return in, &UsageError{fmt.Errorf("%s: cannot tell the kind of a CSV file from its name: name it after a kind (deployments.csv) or pass --kind", name)}
			}
			in.kind = k
		}
	default:
		return in, &UsageError{fmt.Errorf("%s: unsupported file type %q (want .jsonl, .ndjson, .json or .csv, optionally .gz)", name, ext)}
	}
	st, err := os.Stat(path)
	if err != nil {
		return in, err
	}
	if st.IsDir() {
		return in, fmt.Errorf("%s is a folder, not a file", name)
	}
	return in, nil
}

// load loads the batch, counting on run (which ingest.Run started and
// finishes).
func load(ctx context.Context, db *warehouse.DB, ins []input, opts Options, run *ingest.RunRecord) (*Result, error) {
	if opts.Source == "" {
		opts.Source = "file"
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	res := &Result{Rows: map[string]int64{}, RunID: run.ID}
	// Compressed files are read to their end before anything is loaded,
	// into copies in a spool folder (on a copy of ins: the caller's batch
	// keeps naming the files themselves).
	ins = append([]input(nil), ins...)
	spool, err := os.MkdirTemp(db.SpoolDir(), "shiplog-load-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(spool)
	for i, in := range ins {
		if in.gz && err == nil {
			ins[i], err = gunzip(in, spool)
		}
	}
	if err == nil {
		err = errSlowPath
	}
	if !forceSlow && errors.Is(err, errSlowPath) {
		lastPath.Store("quick")
		err = loadBatch(ctx, db, ins, opts, run, res, true, true)
		if errors.Is(err, errRepeatedKey) {
			lastPath.Store("quick-staged")
			if opts.Progress != nil {
				fmt.Fprintln(opts.Progress, "the batch repeats a key: loading it again so that the last record of each key wins")
			}
			*res = Result{Rows: map[string]int64{}, RunID: run.ID}
			err = loadBatch(ctx, db, ins, opts, run, res, true, false)
		}
	}
	if errors.Is(err, errSlowPath) {
		lastPath.Store("precise")
		if !forceSlow && opts.Progress != nil {
			fmt.Fprintln(opts.Progress, "the batch needs a closer look: reading it again line by line")
		}
		// The quick path found something to say about the batch (or could
		// not read it): start again on the precise one, which finds the
		// first problem and its line, or writes the rejects.
		*res = Result{Rows: map[string]int64{}, RunID: run.ID}
		err = loadBatch(ctx, db, ins, opts, run, res, false, false)
	}
	var ite *inTxError
	if errors.As(err, &ite) {
		err = ite.err // the caller's own error: the records were fine
	} else if err != nil && ctx.Err() == nil && !IsDataError(err) && !errors.Is(err, errSlowPath) {
		// DuckDB's reader refused a file: find the records it cannot take,
		// and load the batch again with each replaced by a record that says
		// what is wrong at its own line, as any bad record.
		err = retrySanitized(ctx, db, ins, opts, run, res, spool, err)
	}
	if err != nil {
		res.Written, res.Rejected, res.Rows = 0, 0, map[string]int64{}
	}
	run.Read, run.Written, run.Rejected = res.Read, res.Written, res.Rejected
	if err != nil {
		return res, err
	}
	if opts.Progress != nil {
		for _, k := range canonical.Kinds {
			if n, ok := res.Rows[k.Name]; ok {
				fmt.Fprintf(opts.Progress, "%-15s %d rows written to %s\n", k.Name, n, k.Table)
			}
		}
		if res.Rejected > 0 {
			fmt.Fprintf(opts.Progress, "rejected %d bad record%s: see the rejects table (ingest run %d)\n", res.Rejected, plural(res.Rejected), res.RunID)
		}
	}
	return res, nil
}

// retrySanitized handles a batch DuckDB's reader failed on (readErr): it
// copies each file with the records the reader cannot take replaced
// (sanitize), and loads the copies on the precise path. When no file has
// such a record, the reader's own error is returned, cut to its first line.
func retrySanitized(ctx context.Context, db *warehouse.DB, ins []input, opts Options, run *ingest.RunRecord, res *Result, spool string, readErr error) error {
	clean := make([]input, len(ins))
	any := false
	for i, in := range ins {
		c, found, err := sanitize(in, spool)
		if err != nil {
			return err
		}
		clean[i] = c
		any = any || found
	}
	if !any {
		return readerError(readErr)
	}
	if opts.Progress != nil {
		fmt.Fprintln(opts.Progress, "some records cannot be read as they are: reading the batch again with them set aside")
	}
	*res = Result{Rows: map[string]int64{}, RunID: run.ID}
	return loadBatch(ctx, db, clean, opts, run, res, false, false)
}

// inTxError carries an error of Options.InTx through the loader's retries
// (none applies: the batch was read and written without fault).
type inTxError struct{ err error }

func (e *inTxError) Error() string { return e.err.Error() }

// linesTable holds the JSON Lines that are not records of a known kind
// (malformed, not an object, no or unknown kind), for messages and rejects.
const linesTable = "_shiplog_load_lines"

// errSlowPath says that the quick path cannot vouch for the batch: its
// transaction is rolled back and the batch is loaded again on the precise
// path.
var errSlowPath = errors.New("file: batch needs the precise path")

// errRepeatedKey says that a batch written directly repeats a key: it is
// loaded again through the staging tables, which let the last record win.
var errRepeatedKey = errors.New("file: batch repeats a key")

// forceSlow makes every load take the precise path, and lastPath says
// which path the last load took: tests compare the two. lastPath is atomic
// because loads may run concurrently (webhook deliveries).
var (
	forceSlow = false
	lastPath  atomic.Value // string
)

// loadBatch stages, validates and writes every file in one transaction on
// one connection (temporary tables live per connection).
//
// With quick set, JSON Lines files are read by DuckDB's JSON reader straight
// into typed columns (see stageJSONQuick), which cannot give line numbers or
// the text of a record; so on the first sign of a bad record the batch is
// abandoned with errSlowPath, and the caller loads it again with quick unset,
// reading each line as text to say exactly what is wrong and where.
func loadBatch(ctx context.Context, db *warehouse.DB, ins []input, opts Options, run *ingest.RunRecord, res *Result, quick, directOK bool) (err error) {
	conn, err := db.Conn(ctx)
	if err != nil {
		return err
	}
	defer conn.Close()
	exec := func(query string, args ...any) error {
		_, err := conn.ExecContext(ctx, query, args...)
		return err
	}
	if err := exec("SET TimeZone = 'UTC'"); err != nil {
		return err
	}
	// After the rollback of a failed direct write (execWrite), leave the
	// connection as it was found.
	defer conn.ExecContext(context.WithoutCancel(ctx), "RESET preserve_insertion_order")

	if err := exec("BEGIN TRANSACTION"); err != nil {
		return err
	}
	committed := false
	defer func() {
		if !committed {
			_, _ = conn.ExecContext(context.WithoutCancel(ctx), "ROLLBACK")
		}
	}()

	if err := exec(`CREATE TEMP TABLE ` + linesTable + ` (file INTEGER, line BIGINT, text VARCHAR, kind VARCHAR, err VARCHAR)`); err != nil {
		return err
	}
	// A kind is staged (typed into a temporary table, then checked and
	// written) or, on the quick path when the target holds no row of the
	// source yet, written directly: then there is nothing to replace, and a
	// bad record stops the write (errBadRecord).
	staged := map[string]bool{}
	direct := map[string]bool{}
	stage := func(k *canonical.Kind) (bool, error) {
		if staged[k.Name] || direct[k.Name] {
			return direct[k.Name], nil
		}
		if quick && directOK {
			var exists bool
			err := conn.QueryRowContext(ctx, fmt.Sprintf(`SELECT EXISTS (SELECT 1 FROM %s WHERE source = $1)`, warehouse.QuoteIdent(k.Table)), opts.Source).Scan(&exists)
			if err != nil {
				return false, err
			}
			if !exists {
				direct[k.Name] = true
				return true, nil
			}
		}
		staged[k.Name] = true
		return false, exec(createStageSQL(k))
	}
	defaultKind := ""
	if opts.Kind != "" {
		k, _ := canonical.LookupTable(opts.Kind)
		defaultKind = k.Name
	}

	// Stage every file.
	for i, in := range ins {
		start := time.Now()
		var n int64
		if in.csv {
			var d bool
			if d, err = stage(in.kind); err != nil {
				return err
			}
			n, err = stageCSV(ctx, conn, i, in, d, opts.Source)
			if err != nil && quick && strings.Contains(err.Error(), errBadRecord) {
				return errSlowPath
			}
		} else if quick {
			n, err = stageJSONQuick(ctx, conn, i, in, defaultKind, opts.Source, stage)
		} else {
			n, err = stageJSON(ctx, conn, i, in, defaultKind, func(k *canonical.Kind) error { _, err := stage(k); return err })
		}
		if err != nil {
			return err
		}
		res.Read += n
		if opts.Progress != nil {
			secs := time.Since(start).Seconds()
			fmt.Fprintf(opts.Progress, "%s: %d records in %.1fs (%.0f/s)\n", in.name, n, secs, float64(n)/max(secs, 1e-9))
		}
	}

	// Every bad record, in batch order.
	var parts []string
	parts = append(parts, `SELECT file, line, NULL AS kind, err, text FROM `+linesTable+` WHERE err IS NOT NULL`)
	for _, k := range canonical.Kinds {
		if staged[k.Name] {
			parts = append(parts, fmt.Sprintf(`SELECT file, line, %s, err, text FROM %s WHERE err IS NOT NULL`, warehouse.QuoteString(k.Name), stageTable(&k)))
		}
	}
	bad := strings.Join(parts, " UNION ALL ")
	var nbad int64
	if err := conn.QueryRowContext(ctx, `SELECT count(*) FROM (`+bad+`)`).Scan(&nbad); err != nil {
		return err
	}
	if nbad > 0 && quick {
		return errSlowPath
	}
	if nbad > 0 && !opts.SkipInvalid {
		return firstError(ctx, conn, ins, bad, nbad)
	}
	if nbad > 0 {
		if err := exec(`CREATE TEMP TABLE _shiplog_load_files (file INTEGER, name VARCHAR, csv BOOLEAN)`); err != nil {
			return err
		}
		for i, in := range ins {
			if err := exec(`INSERT INTO _shiplog_load_files VALUES (?, ?, ?)`, i, in.name, in.csv); err != nil {
				return err
			}
		}
		// A record of unknown kind has the kind it claimed, if any.
		err := exec(`INSERT INTO rejects (ingest_run, source, location, kind, field, reason, record)
			SELECT ?, ?, f.name || CASE WHEN f.csv THEN ': row ' ELSE ': line ' END || b.line,
				coalesce(b.kind, CASE WHEN json_valid(b.text) AND json_type(b.text) = 'OBJECT' THEN b.text->>'kind' END),
				nullif(split_part(b.err, chr(9), 1), ''), split_part(b.err, chr(9), 2), b.text
			FROM (`+bad+`) AS b JOIN _shiplog_load_files AS f USING (file) ORDER BY b.file, b.line`, run.ID, opts.Source)
		if err != nil {
			return fmt.Errorf("write rejects: %w", err)
		}
		res.Rejected = nbad
	}

	// Kinds written directly: the batch must not repeat a key (else the
	// last record of each must win: load again, staged).
	for _, k := range canonical.Kinds {
		if !direct[k.Name] {
			continue
		}
		var dups bool
		var n int64
		err := conn.QueryRowContext(ctx, fmt.Sprintf(`SELECT count(*), count(*) > count(DISTINCT (%s)) FROM %s WHERE source = $1`,
			keyList(&k), warehouse.QuoteIdent(k.Table)), opts.Source).Scan(&n, &dups)
		if err != nil {
			return fmt.Errorf("check %s keys: %w", k.Table, err)
		}
		if dups {
			return errRepeatedKey
		}
		if n > 0 {
			// the table held no row of the source: all of them are new
			if err := canonical.LogDelta(ctx, conn, k.Table, 1, "WHERE t.source = ?", opts.Source); err != nil {
				return err
			}
		}
		res.Rows[k.Name] = n
		res.Written += n
	}

	// Write: replace the keys of the batch, then insert its last records.
	for _, k := range canonical.Kinds {
		if !staged[k.Name] {
			continue
		}
		var good int64
		var dups bool
		if err := conn.QueryRowContext(ctx, goodSQL(&k)).Scan(&good, &dups); err != nil {
			return fmt.Errorf("check %s keys: %w", k.Table, err)
		}
		var n int64
		if good <= returningMax {
			n, err = replaceReturning(ctx, conn, &k, dups, opts.Source)
		} else {
			n, err = replaceScanning(ctx, conn, &k, dups, opts.Source)
		}
		if err != nil {
			return err
		}
		res.Rows[k.Name] = n
		res.Written += n
	}
	for _, k := range canonical.Kinds {
		if staged[k.Name] {
			if err := exec(`DROP TABLE ` + stageTable(&k)); err != nil {
				return err
			}
		}
	}
	if err := exec(`DROP TABLE ` + linesTable); err != nil {
		return err
	}
	if nbad > 0 {
		if err := exec(`DROP TABLE _shiplog_load_files`); err != nil {
			return err
		}
	}
	if opts.InTx != nil {
		if err := opts.InTx(ctx, conn); err != nil {
			return &inTxError{err}
		}
	}
	if err := exec("COMMIT"); err != nil {
		return fmt.Errorf("commit: %w", err)
	}
	committed = true
	return nil
}

// returningMax is the most good records of a kind for which the loader
// takes the change to the digests (the log of canonical writes) from its
// DELETE and INSERT themselves (RETURNING each row's partition and hash,
// summed in Go: replaceReturning) rather than from two more reads of the
// table (replaceScanning). The reads cost per row of the table; RETURNING
// costs per row written, and much more than linearly in DuckDB once the
// batch is large. Measured (BenchmarkDeltaCrossover: batches of changes,
// half replacing, into a warehouse of 1 M or 4 M changes; median of 3
// seconds scanning / returning, alternating, load 5-8 on two cores; three
// runs, the rows marked * from the others):
//
//	batch       1 M rows       4 M rows
//	300         0.50 / 0.29    3.92 / 0.54
//	1,000       0.63 / 0.19    3.22 / 0.51
//	3,000       0.60 / 0.57    2.18 / 0.69
//	10,000      0.85 / 0.73    2.28 / 1.19
//	10,000 *    0.23 / 0.27
//	30,000 *    0.41 / 0.69    2.46 / 3.77
//	100,000 *   2.86 / 19.6
//	1,000,000 * 29.5 / 120
//
// So RETURNING up to 10,000 records, where the two are even on a table
// of a million rows and RETURNING twice as fast on one of four; at 30,000
// the reads win on both.
var returningMax int64 = 10_000

// replaceReturning replaces the rows of source with the keys of kind k's
// good records by those records, and logs the change to the digests from
// what the DELETE removed and the INSERT wrote, as they return them: no
// statement reads the table again. It returns the rows written.
func replaceReturning(ctx context.Context, conn *sql.Conn, k *canonical.Kind, dups bool, source string) (int64, error) {
	deltas := canonical.NewDeltas(k.Table, source)
	rows, err := conn.QueryContext(ctx, deleteSQL(k)+" RETURNING "+canonical.ReturningSQL(k.Table, "t"), source)
	if err == nil {
		_, err = deltas.Add(-1, rows)
	}
	if err != nil {
		return 0, fmt.Errorf("replace %s: %w", k.Table, err)
	}
	rows, err = conn.QueryContext(ctx, insertSQL(k, dups)+" RETURNING "+canonical.ReturningSQL(k.Table, warehouse.QuoteIdent(k.Table)), source)
	var n int64
	if err == nil {
		n, err = deltas.Add(1, rows)
	}
	if err != nil {
		return 0, fmt.Errorf("write %s: %w", k.Table, err)
	}
	if err := deltas.Log(ctx, conn); err != nil {
		return 0, err
	}
	return n, nil
}

// replaceScanning does what replaceReturning does, but logs the change to
// the digests by reading the rows of the batch's keys before the DELETE
// and after the INSERT (deltaSQL): two more reads of the table, whose
// cost does not grow with the batch.
func replaceScanning(ctx context.Context, conn *sql.Conn, k *canonical.Kind, dups bool, source string) (int64, error) {
	if _, err := conn.ExecContext(ctx, deltaSQL(k, -1), source); err != nil {
		return 0, fmt.Errorf("log %s writes: %w", k.Table, err)
	}
	if _, err := conn.ExecContext(ctx, deleteSQL(k), source); err != nil {
		return 0, fmt.Errorf("replace %s: %w", k.Table, err)
	}
	r, err := conn.ExecContext(ctx, insertSQL(k, dups), source)
	if err != nil {
		return 0, fmt.Errorf("write %s: %w", k.Table, err)
	}
	if _, err := conn.ExecContext(ctx, deltaSQL(k, 1), source); err != nil {
		return 0, fmt.Errorf("log %s writes: %w", k.Table, err)
	}
	return r.RowsAffected()
}

// stageJSON reads a JSON Lines file. A first pass classifies every
// non-blank line by kind, or by what makes it unreadable, and keeps only the
// unreadable lines (in the lines table); then one pass per kind present reads
// the file again and types that kind's records into its staging table. The
// file's text is never copied whole into the database.
func stageJSON(ctx context.Context, conn *sql.Conn, i int, in input, defaultKind string, stage func(*canonical.Kind) error) (int64, error) {
	classify := classifySQL(i, in.path, defaultKind, in.sanitized)
	rows, err := conn.QueryContext(ctx, `SELECT kind, count(*), count(err) FROM (`+classify+`) GROUP BY ALL ORDER BY ALL`)
	if err != nil {
		return 0, fmt.Errorf("%s: %w", in.name, err)
	}
	var (
		total, bad int64
		kinds      []*canonical.Kind
	)
	for rows.Next() {
		var (
			kind    sql.NullString
			n, nbad int64
		)
		if err := rows.Scan(&kind, &n, &nbad); err != nil {
			rows.Close()
			return 0, err
		}
		total += n
		bad += nbad
		if kind.Valid {
			k, _ := canonical.Lookup(kind.String)
			kinds = append(kinds, k)
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return 0, fmt.Errorf("%s: %w", in.name, err)
	}
	if bad > 0 {
		if _, err := conn.ExecContext(ctx, `INSERT INTO `+linesTable+` SELECT * FROM (`+classify+`) WHERE err IS NOT NULL`); err != nil {
			return 0, fmt.Errorf("%s: %w", in.name, err)
		}
	}
	for _, k := range kinds {
		if err := stage(k); err != nil {
			return 0, err
		}
		src := fmt.Sprintf(`SELECT file, line, text FROM (%s) WHERE err IS NULL AND kind = %s`, classify, warehouse.QuoteString(k.Name))
		if _, err := conn.ExecContext(ctx, jsonStageSQL(k, src)); err != nil {
			return 0, fmt.Errorf("%s: validate %s records: %w", in.name, k.Name, err)
		}
	}
	return total, nil
}

// classifySQL reads a JSON Lines file as text, one row per non-blank line
// with its number, and says each line's kind or what makes it unreadable:
// columns file, line, text, kind, err. In a sanitized copy, a line starting
// with marker stands for one the reader could not take, and carries its
// error and an excerpt.
func classifySQL(i int, path, defaultKind string, sanitized bool) string {
	markerTest := "false"
	if sanitized {
		markerTest = "starts_with(line, chr(1))"
	}
	kinds := make([]string, len(canonical.Kinds))
	for j, k := range canonical.Kinds {
		kinds[j] = warehouse.QuoteString(k.Name)
	}
	kind := "CASE WHEN starts_with(kj, '\"') THEN kj->>'$' END"
	if defaultKind != "" {
		kind = fmt.Sprintf("CASE WHEN starts_with(kj, '\"') THEN kj->>'$' WHEN kj IS NULL OR kj = 'null' THEN %s END", warehouse.QuoteString(defaultKind))
	}
	// delim: a NUL byte, which a text file does not hold, so each line is
	// one column; quote and escape off so the line arrives untouched.
	return fmt.Sprintf(`SELECT %[1]d AS file, line_no AS line, CASE WHEN marked THEN split_part(line, chr(9), 3) ELSE line END AS text,
			CASE WHEN err IS NULL THEN k END AS kind, err FROM (
			SELECT line_no, line, marked, k, CASE
				WHEN marked THEN substr(split_part(line, chr(9), 1), 2) || chr(9) || split_part(line, chr(9), 2)
				WHEN NOT ok THEN chr(9) || 'malformed JSON'
				WHEN NOT is_object THEN chr(9) || 'a record must be a JSON object'
				WHEN kj IS NOT NULL AND kj <> 'null' AND NOT starts_with(kj, '"') THEN 'kind' || chr(9) || 'wrong type: want text, got ' || kj
				WHEN k IS NULL THEN 'kind' || chr(9) || 'required field is missing'
				WHEN k NOT IN (%[3]s) THEN 'kind' || chr(9) || 'unknown kind "' || k || '" (want one of %[4]s)'
			END AS err FROM (
				SELECT line_no, line, marked, ok, is_object, kj, %[5]s AS k FROM (
					-- valid JSON whose first character is { is an object
					SELECT line_no, line, marked, ok, ok AND starts_with(ltrim(line), '{') AS is_object,
						CASE WHEN ok AND starts_with(ltrim(line), '{') THEN json_extract(line, '$.kind') END AS kj FROM (
						SELECT ordinality AS line_no, line, %[6]s AS marked, NOT %[6]s AND json_valid(line) AS ok
						FROM read_csv(%[2]s, columns = {'line': 'VARCHAR'}, delim = '\0', quote = '', escape = '',
							header = false, auto_detect = false, strict_mode = false, max_line_size = 8388608)
							WITH ORDINALITY
						WHERE trim(line) <> ''
					)
				)
			)
		)`, i, warehouse.QuoteString(path), strings.Join(kinds, ", "), strings.Join(canonical.Names(), ", "), kind, markerTest)
}

// stageCSV reads a CSV file with DuckDB's reader, every column as text,
// and types its rows as the file's kind. The columns are named from the
// header as Go's CSV reader reads it (csvHeader), and the reader is strict,
// so a row with a field too many or too few fails the read, which the
// loader then pins to its row (sanitize).
func stageCSV(ctx context.Context, conn *sql.Conn, i int, in input, direct bool, source string) (int64, error) {
	st, err := os.Stat(in.path)
	if err != nil {
		return 0, err
	}
	if st.Size() == 0 {
		return 0, nil
	}
	header, err := csvHeader(in)
	if err != nil || header == nil {
		return 0, err
	}
	cols := make([]string, len(header))
	for j, h := range header {
		cols[j] = warehouse.QuoteString(h) + ": 'VARCHAR'"
	}
	src := fmt.Sprintf(`read_csv(%s, header = true, auto_detect = false, strict_mode = true, columns = {%s},
		delim = ',', quote = '"', escape = '"', max_line_size = 8388608)`, warehouse.QuoteString(in.path), strings.Join(cols, ", "))
	if direct {
		// Only the staging table needs row numbers.
		src = "(SELECT *, NULL AS ordinality FROM " + src + ")"
	} else {
		src += " WITH ORDINALITY"
	}
	seen := map[string]bool{}
	for _, h := range header {
		seen[h] = true
	}
	for _, f := range in.kind.Fields {
		if f.Required && !seen[f.Name] {
			return 0, &DataError{File: in.name, Line: 1, CSV: true, Kind: in.kind.Name, Field: f.Name, Reason: "required column is missing from the header"}
		}
	}
	r, err := execWrite(ctx, conn, direct, csvStageSQL(in.kind, src, i, header, direct, source))
	if err != nil {
		return 0, fmt.Errorf("%s: %w", in.name, err)
	}
	return r.RowsAffected()
}

// firstError builds the error for the first bad record of the batch.
func firstError(ctx context.Context, conn *sql.Conn, ins []input, bad string, n int64) error {
	var (
		file int
		line int64
		kind sql.NullString
		msg  string
		text sql.NullString
	)
	err := conn.QueryRowContext(ctx, `SELECT file, line, kind, err, text FROM (`+bad+`) ORDER BY file, line LIMIT 1`).Scan(&file, &line, &kind, &msg, &text)
	if err != nil {
		return err
	}
	field, reason, _ := strings.Cut(msg, "\t")
	if reason == "malformed JSON" {
		var v any
		if jerr := json.Unmarshal([]byte(text.String), &v); jerr != nil {
			reason += ": " + jerr.Error()
		}
		if t := strings.TrimSpace(text.String); line == 1 && (t == "[" || t == "{") {
			reason += " (a JSON document spread over lines? shiplog reads JSON Lines: one complete object per line)"
		}
	}
	return &DataError{File: ins[file].name, Line: line, CSV: ins[file].csv, Kind: kind.String, Field: field, Reason: reason, More: n - 1}
}

func queryStrings(ctx context.Context, conn *sql.Conn, query string) ([]string, error) {
	rows, err := conn.QueryContext(ctx, query)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			return nil, err
		}
		out = append(out, s)
	}
	return out, rows.Err()
}

// IsDataError reports whether err is bad data, a bad record or a file that
// cannot be read as a whole (exit 1; answered 400 to a push), rather than a
// usage mistake.
func IsDataError(err error) bool {
	var de *DataError
	var fe *FileError
	return errors.As(err, &de) || errors.As(err, &fe)
}
