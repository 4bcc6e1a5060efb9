package export

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"time"
)

// conn is what the export needs of a database connection.
type conn interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

// settleRuns brings the records of earlier runs into this folder up to
// date with what the folder holds: a run that stopped while writing
// failed; a run that stopped after recording its partitions is done if its
// export is the one in the folder (the swap happened) and failed if not.
func settleRuns(ctx context.Context, c conn, out string, now time.Time) error {
	inFolder := int64(-1)
	if m, err := ReadManifest(out); err == nil {
		inFolder = m.ExportID
	}
	_, err := c.ExecContext(ctx, `
		UPDATE export_runs SET
			status = CASE WHEN status = 'staged' AND id = $1 THEN 'done' ELSE 'failed' END,
			error = CASE WHEN status = 'staged' AND id = $1 THEN error ELSE 'interrupted: the process stopped before the export was complete; the folder kept the previous export' END,
			finished_at = coalesce(finished_at, $2)
		WHERE out_dir = $3 AND status IN ('running', 'staged')`, inFolder, now, out)
	if err != nil {
		return fmt.Errorf("export: settle earlier runs: %w", err)
	}
	return nil
}

func startRun(ctx context.Context, c conn, opts *Options, out string, tables []Table, since *int64, now time.Time) (int64, error) {
	names := make([]string, len(tables))
	for i, t := range tables {
		names[i] = t.Name
	}
	var id int64
	err := c.QueryRowContext(ctx, `
		INSERT INTO export_runs (out_dir, format, tables, since_run, started_at, status, shiplog_version, duckdb_version)
		VALUES ($1, $2, $3::VARCHAR[], $4, $5, 'running', $6, $7) RETURNING id`,
		out, opts.Format, listLiteral(names), since, now, opts.Version.Version, opts.Version.DuckDB).Scan(&id)
	if err != nil {
		return 0, fmt.Errorf("export: record the run: %w", err)
	}
	return id, nil
}

// listLiteral renders names as a DuckDB list literal for a VARCHAR[] cast.
func listLiteral(names []string) string {
	s := "["
	for i, n := range names {
		if i > 0 {
			s += ", "
		}
		s += strconv.Quote(n)
	}
	return s + "]"
}

// stageRun records the partitions of the export about to be swapped in.
func stageRun(ctx context.Context, c conn, id int64, m *Manifest, written, kept int) (err error) {
	if _, err = c.ExecContext(ctx, "BEGIN TRANSACTION"); err != nil {
		return err
	}
	defer func() {
		if err != nil {
			_, _ = c.ExecContext(context.WithoutCancel(ctx), "ROLLBACK")
		}
	}()
	for _, t := range m.Tables {
		for _, p := range t.Partitions {
			if _, err = c.ExecContext(ctx, `INSERT INTO export_partitions VALUES ($1, $2, $3, $4, $5, $6, $7)`,
				id, t.Name, p.Value, p.Rows, p.ContentHash, t.SchemaHash, p.WrittenBy); err != nil {
				return fmt.Errorf("export: record partitions: %w", err)
			}
		}
	}
	if _, err = c.ExecContext(ctx, `UPDATE export_runs SET status = 'staged', rows = $2, bytes = $3,
		partitions_written = $4, partitions_kept = $5 WHERE id = $1`, id, m.Rows, m.Bytes, written, kept); err != nil {
		return fmt.Errorf("export: record the run: %w", err)
	}
	_, err = c.ExecContext(ctx, "COMMIT")
	return err
}

// finishRun marks the run done and forgets the partitions of earlier runs
// into the same folder (their files are gone; the runs stay listed).
func finishRun(ctx context.Context, c conn, id int64, out string, now time.Time) error {
	if _, err := c.ExecContext(ctx, `UPDATE export_runs SET status = 'done', finished_at = $2 WHERE id = $1`, id, now); err != nil {
		return fmt.Errorf("export: record the run: %w", err)
	}
	if _, err := c.ExecContext(ctx, `DELETE FROM export_partitions WHERE export_run IN
		(SELECT id FROM export_runs WHERE out_dir = $1 AND id <> $2)`, out, id); err != nil {
		return fmt.Errorf("export: prune old partition records: %w", err)
	}
	return nil
}

func failRun(ctx context.Context, c conn, id int64, cause error, now time.Time) {
	_, _ = c.ExecContext(context.WithoutCancel(ctx), `UPDATE export_runs SET status = 'failed', error = $2, finished_at = $3 WHERE id = $1`,
		id, cause.Error(), now)
}

// previous is what an incremental run may keep of the export in the folder.
type previous struct {
	manifest *Manifest
	// tables maps a table to its schema hash and kept-able partitions.
	tables map[string]prevTable
}

type prevTable struct {
	schemaHash string
	parts      map[string]Partition
}

// loadPrevious reads the export in out for --since and returns the
// partitions that may be kept: those the warehouse recorded for that run
// with the same hash and row count as its manifest, whose files are all
// present with the sizes the manifest gives. It returns nil (every
// partition written) with a note when nothing can be kept.
func loadPrevious(ctx context.Context, c conn, out, since, format, duckdb string) (*previous, []string, error) {
	if since == "" {
		return nil, nil, nil
	}
	var want int64 = -1
	if since != "last" {
		n, err := strconv.ParseInt(since, 10, 64)
		if err != nil || n <= 0 {
			return nil, nil, &UsageError{fmt.Sprintf("--since must be last or an export id (a positive number), not %q", since)}
		}
		want = n
	}
	m, err := ReadManifest(out)
	if err != nil {
		if !isNotExist(err) {
			return nil, nil, fmt.Errorf("export: --since: %w", err)
		}
		if want > 0 {
			return nil, nil, fmt.Errorf("export: --since %d: %s holds no export (no %s)", want, out, ManifestName)
		}
		return nil, []string{"no previous export in " + out + ": writing every partition"}, nil
	}
	if want > 0 && m.ExportID != want {
		return nil, nil, fmt.Errorf("export: --since %d: %s holds export %d, not %d (use --since last or --since %d)", want, out, m.ExportID, want, m.ExportID)
	}
	var status string
	err = c.QueryRowContext(ctx, `SELECT status FROM export_runs WHERE id = $1`, m.ExportID).Scan(&status)
	if errors.Is(err, sql.ErrNoRows) || (err == nil && status != "done") {
		return nil, []string{fmt.Sprintf("export %d in %s is not recorded as complete in this warehouse: writing every partition", m.ExportID, out)}, nil
	}
	if err != nil {
		return nil, nil, fmt.Errorf("export: --since: %w", err)
	}
	if m.Format != format {
		return nil, []string{fmt.Sprintf("export %d is %s, this one %s: writing every partition", m.ExportID, m.Format, format)}, nil
	}
	if m.Shiplog.DuckDB != duckdb {
		// DuckDB's hash function may change between versions
		return nil, []string{fmt.Sprintf("export %d was hashed by DuckDB %s, this is %s: writing every partition", m.ExportID, m.Shiplog.DuckDB, duckdb)}, nil
	}
	type key struct{ table, part string }
	recorded := map[key][3]string{}
	rows, err := c.QueryContext(ctx, `SELECT table_name, part, rows::VARCHAR, content_hash, schema_hash FROM export_partitions WHERE export_run = $1`, m.ExportID)
	if err != nil {
		return nil, nil, fmt.Errorf("export: --since: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var k key
		var v [3]string
		if err := rows.Scan(&k.table, &k.part, &v[0], &v[1], &v[2]); err != nil {
			return nil, nil, err
		}
		recorded[k] = v
	}
	if err := rows.Err(); err != nil {
		return nil, nil, err
	}
	prev := &previous{manifest: m, tables: map[string]prevTable{}}
	var notes []string
	for _, t := range m.Tables {
		pt := prevTable{schemaHash: t.SchemaHash, parts: map[string]Partition{}}
		for _, p := range t.Partitions {
			r, ok := recorded[key{t.Name, p.Value}]
			if !ok || r[0] != strconv.FormatInt(p.Rows, 10) || r[1] != p.ContentHash || r[2] != t.SchemaHash {
				notes = append(notes, fmt.Sprintf("%s %s: the manifest disagrees with the warehouse's record; rewriting it", t.Name, p.Path))
				continue
			}
			if !filesPresent(out, p.Files) {
				notes = append(notes, fmt.Sprintf("%s %s: files missing or changed in %s; rewriting it", t.Name, p.Path, out))
				continue
			}
			pt.parts[p.Value] = p
		}
		prev.tables[t.Name] = pt
	}
	return prev, notes, nil
}

// filesPresent checks that every file is there with its recorded size
// (reading them all back for their hashes would cost as much as writing).
func filesPresent(out string, files []FileInfo) bool {
	for _, f := range files {
		if !filepath.IsLocal(filepath.FromSlash(f.Path)) {
			return false
		}
		st, err := os.Stat(filepath.Join(out, filepath.FromSlash(f.Path)))
		if err != nil || !st.Mode().IsRegular() || st.Size() != f.Bytes {
			return false
		}
	}
	return true
}
