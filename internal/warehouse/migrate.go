package warehouse

import (
	"context"
	"fmt"
	"io/fs"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/shiplog/shiplog/internal/warehouse/migrations"
)

// Migration is one embedded schema version.
type Migration struct {
	Version     int
	Description string
	SQL         string
}

// Migrations returns the embedded migrations in version order.
func Migrations() ([]Migration, error) {
	return loadMigrations(migrations.FS)
}

func loadMigrations(fsys fs.FS) ([]Migration, error) {
	names, err := fs.Glob(fsys, "*.sql")
	if err != nil {
		return nil, err
	}
	var out []Migration
	seen := map[int]string{}
	for _, name := range names {
		num, desc, ok := strings.Cut(strings.TrimSuffix(name, ".sql"), "_")
		v, err := strconv.Atoi(num)
		if !ok || err != nil || v <= 0 {
			return nil, fmt.Errorf("migration %s: name must be NNNN_description.sql", name)
		}
		if prev, dup := seen[v]; dup {
			return nil, fmt.Errorf("migrations %s and %s share version %d", prev, name, v)
		}
		seen[v] = name
		body, err := fs.ReadFile(fsys, name)
		if err != nil {
			return nil, err
		}
		out = append(out, Migration{Version: v, Description: strings.ReplaceAll(desc, "_", " "), SQL: string(body)})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Version < out[j].Version })
	return out, nil
}

// SchemaVersion returns the version recorded in the file (0 for a new file).
func (db *DB) SchemaVersion(ctx context.Context) (int, error) {
	var exists bool
	err := db.QueryRowContext(ctx,
		`SELECT count(*) > 0 FROM duckdb_tables() WHERE schema_name = 'main' AND table_name = 'shiplog_schema'`).Scan(&exists)
	if err != nil || !exists {
		return 0, err
	}
	var v int
	err = db.QueryRowContext(ctx, `SELECT coalesce(max(version), 0) FROM shiplog_schema`).Scan(&v)
	return v, err
}

func (db *DB) migrate(ctx context.Context) error {
	ms, err := Migrations()
	if err != nil {
		return err
	}
	return db.migrateTo(ctx, ms)
}

// migrateTo applies every migration newer than the file's version, each in
// its own transaction, so that a failure leaves the file at the last good
// version.
func (db *DB) migrateTo(ctx context.Context, ms []Migration) error {
	current, err := db.SchemaVersion(ctx)
	if err != nil {
		return fmt.Errorf("read schema version of %s: %w", db.path, err)
	}
	latest := 0
	if len(ms) > 0 {
		latest = ms[len(ms)-1].Version
	}
	if current > latest {
		return fmt.Errorf("warehouse %s has schema version %d, newer than this shiplog understands (%d): upgrade shiplog", db.path, current, latest)
	}
	if current == latest {
		return nil
	}
	if db.readOnly {
		return fmt.Errorf("warehouse %s has schema version %d and this shiplog needs %d: run any write command (for example `shiplog transform`) to upgrade it", db.path, current, latest)
	}
	if current == 0 {
		if _, err := db.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS shiplog_schema (
			version INTEGER PRIMARY KEY, description VARCHAR NOT NULL, applied_at TIMESTAMPTZ NOT NULL)`); err != nil {
			return fmt.Errorf("create schema table: %w", err)
		}
	}
	for _, m := range ms {
		if m.Version <= current {
			continue
		}
		tx, err := db.BeginTx(ctx, nil)
		if err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, m.SQL); err != nil {
			tx.Rollback()
			return fmt.Errorf("migration %04d (%s): %w", m.Version, m.Description, err)
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO shiplog_schema VALUES (?, ?, ?)`, m.Version, m.Description, time.Now().UTC()); err != nil {
			tx.Rollback()
			return err
		}
		if err := tx.Commit(); err != nil {
			return fmt.Errorf("migration %04d (%s): %w", m.Version, m.Description, err)
		}
	}
	return nil
}
