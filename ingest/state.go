package ingest

import (
	"context"
	"database/sql"
	"errors"
	"time"

	"github.com/shiplog/shiplog/internal/warehouse"
)

// Execer is satisfied by *sql.DB, *sql.Tx and *sql.Conn, so state can be
// saved inside the transaction that commits the rows it describes.
type Execer interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

// State is a source's cursors, ETags and other small values in source_state.
type State struct {
	DB     *warehouse.DB
	Source string
	Now    func() time.Time
}

// Get returns the value for (scope, key), or "" when none is stored.
func (s *State) Get(ctx context.Context, scope, key string) (string, error) {
	var v sql.NullString
	err := s.DB.QueryRowContext(ctx, `SELECT value FROM source_state WHERE source = ? AND scope = ? AND key = ?`,
		s.Source, scope, key).Scan(&v)
	if errors.Is(err, sql.ErrNoRows) {
		return "", nil
	}
	return v.String, err
}

// Set stores value for (scope, key) through ex (the database or the
// transaction that wrote the rows the value describes).
func (s *State) Set(ctx context.Context, ex Execer, scope, key, value string) error {
	now := time.Now
	if s.Now != nil {
		now = s.Now
	}
	_, err := ex.ExecContext(ctx, `INSERT INTO source_state (source, scope, key, value, updated_at) VALUES (?, ?, ?, ?, ?)
		ON CONFLICT (source, scope, key) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at`,
		s.Source, scope, key, value, now().UTC())
	return err
}
