package ingest

import (
	"context"
	"database/sql"
	"time"

	"github.com/shiplog/shiplog/internal/warehouse"
)

// Run is one row of ingest_runs in progress. Counters are updated by the
// source; Finish writes them with the outcome.
type Run struct {
	ID       int64
	Source   string
	Target   string
	Started  time.Time
	Read     int64
	Written  int64
	Rejected int64
	Cursor   string
}

// StartRun records that a run of source began. It commits at once, outside
// any batch, so that a failed run still leaves its row.
func StartRun(ctx context.Context, db *warehouse.DB, source, target string, now time.Time) (*Run, error) {
	r := &Run{Source: source, Target: target, Started: now.UTC()}
	err := db.QueryRowContext(ctx,
		`INSERT INTO ingest_runs (source, target, started_at, status) VALUES (?, ?, ?, 'running') RETURNING id`,
		source, target, r.Started).Scan(&r.ID)
	return r, err
}

// Finish records the outcome: success, or failed with the error's text.
// A partial status is for runs that stopped early by request (--no-wait)
// with their cursor saved.
func (r *Run) Finish(ctx context.Context, db *warehouse.DB, runErr error, partial bool, now time.Time) error {
	status := "success"
	var msg sql.NullString
	switch {
	case runErr != nil:
		status = "failed"
		msg = sql.NullString{String: runErr.Error(), Valid: true}
	case partial:
		status = "partial"
	}
	var cursor sql.NullString
	if r.Cursor != "" {
		cursor = sql.NullString{String: r.Cursor, Valid: true}
	}
	_, err := db.ExecContext(ctx, `UPDATE ingest_runs SET finished_at = ?, rows_read = ?, rows_written = ?,
		rows_rejected = ?, cursor = ?, status = ?, error = ? WHERE id = ?`,
		now.UTC(), r.Read, r.Written, r.Rejected, cursor, status, msg, r.ID)
	return err
}
