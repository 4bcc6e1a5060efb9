// Package warehouse opens the shiplog DuckDB file, keeps its schema current
// and hands out connections. It is the only package that imports the DuckDB
// driver; everything else talks database/sql through it.
package warehouse

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"

	"github.com/duckdb/duckdb-go/v2"
)

// DefaultPath is the warehouse file used when neither --db nor SHIPLOG_DB is set.
const DefaultPath = "shiplog.duckdb"

// Options tune how a warehouse is opened.
type Options struct {
	// ReadOnly opens the file so that no statement can change it. A read-only
	// open never migrates and fails if the file does not exist.
	ReadOnly bool
	// MemoryLimit caps DuckDB's memory ("2GB"); empty keeps DuckDB's default
	// (80% of RAM) unless SHIPLOG_MEMORY_LIMIT is set.
	MemoryLimit string
	// Threads caps DuckDB's worker threads; 0 keeps the default (all cores).
	Threads int
}

// DB is an open warehouse.
type DB struct {
	*sql.DB
	connector *duckdb.Connector
	path      string
	readOnly  bool
}

// Open opens (creating if needed) the warehouse at path and, unless read-only,
// brings its schema up to date. A file written by a newer shiplog is refused.
func Open(ctx context.Context, path string, opts Options) (*DB, error) {
	if path == "" {
		path = DefaultPath
	}
	if opts.ReadOnly {
		if _, err := os.Stat(path); err != nil {
			if errors.Is(err, os.ErrNotExist) {
				return nil, fmt.Errorf("warehouse %s does not exist: load data first (shiplog ingest file, or shiplog demo)", path)
			}
			return nil, err
		}
	} else if dir := filepath.Dir(path); dir != "." {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return nil, fmt.Errorf("create warehouse folder: %w", err)
		}
	}
	params := url.Values{}
	if opts.ReadOnly {
		params.Set("access_mode", "READ_ONLY")
	}
	limit := opts.MemoryLimit
	if limit == "" {
		limit = os.Getenv("SHIPLOG_MEMORY_LIMIT")
	}
	if limit != "" {
		params.Set("memory_limit", limit)
	}
	if opts.Threads > 0 {
		params.Set("threads", fmt.Sprint(opts.Threads))
	}
	dsn := path
	if len(params) > 0 {
		dsn += "?" + params.Encode()
	}
	connector, err := duckdb.NewConnector(dsn, nil)
	if err != nil {
		return nil, openError(path, err)
	}
	db := &DB{DB: sql.OpenDB(connector), connector: connector, path: path, readOnly: opts.ReadOnly}
	if err := db.PingContext(ctx); err != nil {
		db.Close()
		return nil, openError(path, err)
	}
	if err := db.migrate(ctx); err != nil {
		db.Close()
		return nil, err
	}
	return db, nil
}

// OpenMemory opens a throw-away in-memory warehouse with the current schema.
// Tests and benchmarks use it.
func OpenMemory(ctx context.Context) (*DB, error) {
	connector, err := duckdb.NewConnector("", nil)
	if err != nil {
		return nil, err
	}
	db := &DB{DB: sql.OpenDB(connector), connector: connector, path: ":memory:"}
	// An in-memory database exists once per connection: keep exactly one.
	db.SetMaxOpenConns(1)
	if err := db.migrate(ctx); err != nil {
		db.Close()
		return nil, err
	}
	return db, nil
}

func openError(path string, err error) error {
	msg := err.Error()
	if strings.Contains(msg, "Could not set lock") || strings.Contains(msg, "Conflicting lock") {
		return fmt.Errorf("warehouse %s is in use by another process (is `shiplog serve` running? ask it with --server instead): %w", path, err)
	}
	return fmt.Errorf("open warehouse %s: %w", path, err)
}

// Path returns the file the warehouse lives in.
func (db *DB) Path() string { return db.path }

// ReadOnly reports whether the warehouse was opened read-only.
func (db *DB) ReadOnly() bool { return db.readOnly }

// Close closes the warehouse, checkpointing the write-ahead log into the file.
func (db *DB) Close() error {
	if !db.readOnly && db.path != ":memory:" {
		_, _ = db.Exec("CHECKPOINT")
	}
	err := db.DB.Close()
	if cerr := db.connector.Close(); err == nil {
		err = cerr
	}
	return err
}

// Raw runs fn with the DuckDB driver connection behind conn, for the
// appender and other driver-level APIs.
func Raw(conn *sql.Conn, fn func(driverConn driver.Conn) error) error {
	return conn.Raw(func(c any) error {
		dc, ok := c.(driver.Conn)
		if !ok {
			return fmt.Errorf("warehouse: unexpected driver connection %T", c)
		}
		return fn(dc)
	})
}

// NewAppender returns a DuckDB appender on table, bound to the driver
// connection dc (from Raw). Rows appended become visible when it is closed.
func NewAppender(dc driver.Conn, table string) (*duckdb.Appender, error) {
	return duckdb.NewAppenderFromConn(dc, "", table)
}

// QuoteIdent quotes an SQL identifier.
func QuoteIdent(s string) string {
	return `"` + strings.ReplaceAll(s, `"`, `""`) + `"`
}

// QuoteString quotes an SQL string literal.
func QuoteString(s string) string {
	return "'" + strings.ReplaceAll(s, "'", "''") + "'"
}

// openRaw opens a file without migrating it (tests of the migration runner).
func openRaw(ctx context.Context, path string) (*DB, error) {
	connector, err := duckdb.NewConnector(path, nil)
	if err != nil {
		return nil, err
	}
	db := &DB{DB: sql.OpenDB(connector), connector: connector, path: path}
	return db, db.PingContext(ctx)
}
