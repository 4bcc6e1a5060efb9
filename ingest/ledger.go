package ingest

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/shiplog/shiplog/internal/warehouse"
)

// Statuses of a row of ingest_runs.
const (
	StatusRunning     = "running"     // started, not finished yet
	StatusSuccess     = "success"     // finished
	StatusPartial     = "partial"     // stopped early by request (--no-wait) with its cursor saved
	StatusCancelled   = "cancelled"   // its context was cancelled (a signal, serve shutting down)
	StatusFailed      = "failed"      // an error; error holds its text
	StatusInterrupted = "interrupted" // its process died while it ran (MarkInterrupted)
)

// RunRecord is one row of ingest_runs in progress. Counters are updated by
// the source; Finish writes them with the outcome.
type RunRecord struct {
	ID       int64
	Source   string
	Target   string
	Started  time.Time
	Read     int64
	Written  int64
	Rejected int64
	Cursor   string
	// Partial is set by a source that stopped early by request with its
	// cursor saved, so that the run is recorded as partial.
	Partial bool
	// Status is the outcome Finish recorded.
	Status string
}

// StartRun records that a run of source began. It commits at once, outside
// any batch, so that a failed run still leaves its row.
func StartRun(ctx context.Context, db *warehouse.DB, source, target string, now time.Time) (*RunRecord, error) {
	r := &RunRecord{Source: source, Target: target, Started: now.UTC(), Status: StatusRunning}
	err := db.QueryRowContext(ctx,
		`INSERT INTO ingest_runs (source, target, started_at, status) VALUES (?, ?, ?, ?) RETURNING id`,
		source, target, r.Started, StatusRunning).Scan(&r.ID)
	return r, err
}

// FinishedRunSQL inserts the ingest_runs row of a run that succeeded, in
// the transaction that commits its rows, and returns its id. Its
// parameters are source, target, started_at, finished_at, rows_read,
// rows_written and rows_rejected. It is for writers that commit a whole
// run at once and often (group-committed pushes): the row is written with
// the records or not at all, so a killed process leaves no row running,
// and the run costs one statement, not the two commits of StartRun and
// Finish.
const FinishedRunSQL = `INSERT INTO ingest_runs (source, target, started_at, finished_at, rows_read, rows_written, rows_rejected, status)
	VALUES (?, ?, ?, ?, ?, ?, ?, '` + StatusSuccess + `') RETURNING id`

// Finish records the outcome: success; failed with the error's text;
// cancelled (with the error's text) when runErr is the cancellation of the
// run's context. A partial status is for runs that stopped early by
// request (--no-wait) with their cursor saved.
func (r *RunRecord) Finish(ctx context.Context, db *warehouse.DB, runErr error, partial bool, now time.Time) error {
	status := StatusSuccess
	var msg sql.NullString
	switch {
	case runErr != nil && cancelled(runErr):
		status = StatusCancelled
		msg = sql.NullString{String: runErr.Error(), Valid: true}
	case runErr != nil:
		status = StatusFailed
		msg = sql.NullString{String: runErr.Error(), Valid: true}
	case partial:
		status = StatusPartial
	}
	r.Status = status
	var cursor sql.NullString
	if r.Cursor != "" {
		cursor = sql.NullString{String: r.Cursor, Valid: true}
	}
	_, err := db.ExecContext(ctx, `UPDATE ingest_runs SET finished_at = ?, rows_read = ?, rows_written = ?,
		rows_rejected = ?, cursor = ?, status = ?, error = ? WHERE id = ?`,
		now.UTC(), r.Read, r.Written, r.Rejected, cursor, status, msg, r.ID)
	return err
}

// Interrupted is a run MarkInterrupted found left running.
type Interrupted struct {
	ID     int64
	Source string
	Target string
}

// MarkInterrupted marks every run still `running` as interrupted, with
// interrupted_at = now (when it was found) and an error saying so, and
// returns them. It is for the process that has just opened the warehouse
// for writing: DuckDB lets one process write a file at a time, so a run
// still running then was left by a process that was killed or crashed.
// Its committed rows and cursors stay; the next run of its source
// continues from them.
func MarkInterrupted(ctx context.Context, db *warehouse.DB, now time.Time) ([]Interrupted, error) {
	rows, err := db.QueryContext(ctx, `UPDATE ingest_runs SET status = ?, interrupted_at = ?,
		error = 'interrupted: the process running it stopped before it finished'
		WHERE status = ? RETURNING id, source, coalesce(target, '')`, StatusInterrupted, now.UTC(), StatusRunning)
	if err != nil {
		return nil, fmt.Errorf("ingest_runs: mark interrupted runs: %w", err)
	}
	defer rows.Close()
	var out []Interrupted
	for rows.Next() {
		var r Interrupted
		if err := rows.Scan(&r.ID, &r.Source, &r.Target); err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	return out, rows.Err()
}
