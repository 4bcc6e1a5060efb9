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
	// MemoryLimit caps DuckDB's buffer pool ("2GB", "2.5GiB", "none");
	// empty reads SHIPLOG_MEMORY_LIMIT, and without it the limit is
	// DefaultMemoryShare of the memory available (RAM, or the control
	// group's limit in a container). See resolveMemoryLimit.
	MemoryLimit string
	// Threads caps DuckDB's worker threads; 0 keeps the default (all cores).
	Threads int

	// Sandbox seals the DuckDB instance once the schema is current: external
	// access off (no file outside the warehouse, AllowedDirs and SpoolDir;
	// no network; no extension installed or loaded), and the configuration
	// locked but for SessionSettings. `shiplog query` and `shiplog serve`
	// open their warehouse so; nothing can undo it for the life of the
	// instance. DuckDB shares one instance per file within a process, so the
	// seal holds for every handle on the same file in this process.
	Sandbox bool
	// Locked locks the configuration (as Sandbox does) and turns extension
	// autoloading off, without turning file access off: `shiplog query
	// --allow-files` reads local files but cannot change a setting or
	// fetch an extension (httpfs) to reach the network.
	Locked bool
	// AllowedDirs are folders a sandboxed instance may still read and
	// write: the inputs of the configured file sources.
	AllowedDirs []string
	// SpoolDir is where loaders put streams and decompressed files for
	// DuckDB to read (a sandboxed instance may use it); empty means the
	// system's temporary folder, which a sandboxed instance cannot read.
	SpoolDir string
}

// SessionSettings are the settings shiplog's own writers change on their
// connections (SET … and RESET …, see ingest/file and transform). They stay
// changeable when Options.Sandbox locks the configuration; a writer that
// needs another setting must name it here, or it fails under `serve`.
var SessionSettings = []string{"TimeZone", "preserve_insertion_order", "asof_loop_join_threshold", "disabled_compression_methods", "disabled_optimizers"}

// LambdaSyntax is the DuckDB lambda_syntax setting of every warehouse
// instance: the deprecated arrow form (`x -> x + 1`) is refused and only
// the keyword form (`lambda x: x + 1`) is accepted, which is the only form
// DuckDB 2.0 accepts. Setting it on the 1.5 library too means shiplog's own
// SQL is checked against 2.0's rule by every test, and a user's query
// behaves the same whichever library the binary links (the arrow form
// cannot come back silently while the other still takes it). The JSON
// operators -> and ->> are not lambdas and are unaffected.
const LambdaSyntax = "DISABLE_SINGLE_ARROW"

// DB is an open warehouse.
type DB struct {
	*sql.DB
	connector *duckdb.Connector
	path      string
	readOnly  bool
	sandboxed bool
	locked    bool // configuration locked (Sandbox or Locked)
	spool     string
	memLimit  MemoryLimit
	available int64 // memory available to the process (AvailableMemory), 0 if unknown
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
	available := AvailableMemory(osRoot)
	memLimit, err := resolveMemoryLimit(opts.MemoryLimit, os.Getenv("SHIPLOG_MEMORY_LIMIT"), available)
	if err != nil {
		return nil, fmt.Errorf("open warehouse %s: %w", path, err)
	}
	switch {
	case memLimit.Bytes > 0:
		params.Set("memory_limit", fmt.Sprintf("%dB", memLimit.Bytes))
	case memLimit.Source == "option" || memLimit.Source == "SHIPLOG_MEMORY_LIMIT":
		params.Set("memory_limit", "-1") // configured as "none"
	}
	if opts.Threads > 0 {
		params.Set("threads", fmt.Sprint(opts.Threads))
	}
	params.Set("lambda_syntax", LambdaSyntax)
	dsn := path
	if len(params) > 0 {
		dsn += "?" + params.Encode()
	}
	connector, err := duckdb.NewConnector(dsn, nil)
	if err != nil {
		return nil, openError(path, err)
	}
	db := &DB{DB: sql.OpenDB(connector), connector: connector, path: path, readOnly: opts.ReadOnly, spool: opts.SpoolDir, memLimit: memLimit, available: available}
	if err := db.PingContext(ctx); err != nil {
		db.Close()
		return nil, openError(path, err)
	}
	if err := db.migrate(ctx); err != nil {
		db.Close()
		return nil, err
	}
	if !opts.ReadOnly {
		if err := db.addFunctions(ctx); err != nil {
			db.Close()
			return nil, err
		}
	}
	if opts.Sandbox || opts.Locked {
		if err := db.seal(ctx, opts); err != nil {
			db.Close()
			return nil, err
		}
	}
	return db, nil
}

// seal applies Options.Sandbox and Options.Locked. The order matters: the allowed folders and
// settings can only be set while external access is on and the
// configuration unlocked.
func (db *DB) seal(ctx context.Context, opts Options) error {
	var dirs []string
	for _, d := range append(append([]string{}, opts.AllowedDirs...), opts.SpoolDir) {
		if d == "" {
			continue
		}
		abs, err := filepath.Abs(d)
		if err != nil {
			return fmt.Errorf("warehouse: allowed folder %s: %w", d, err)
		}
		dirs = append(dirs, QuoteString(strings.TrimSuffix(abs, string(filepath.Separator))+string(filepath.Separator)))
	}
	configs := make([]string, len(SessionSettings))
	for i, s := range SessionSettings {
		configs[i] = QuoteString(s)
	}
	stmts := []string{}
	if len(dirs) > 0 {
		stmts = append(stmts, "SET allowed_directories = ["+strings.Join(dirs, ", ")+"]")
	}
	stmts = append(stmts,
		"SET allowed_configs = ["+strings.Join(configs, ", ")+"]",
		"SET autoinstall_known_extensions = false",
		"SET autoload_known_extensions = false",
	)
	if opts.Sandbox {
		stmts = append(stmts, "SET enable_external_access = false")
	}
	stmts = append(stmts, "SET lock_configuration = true")
	conn, err := db.Conn(ctx)
	if err != nil {
		return err
	}
	defer conn.Close()
	for _, s := range stmts {
		if _, err := conn.ExecContext(ctx, s); err != nil {
			return fmt.Errorf("warehouse: seal %s: %s: %w", db.path, s, err)
		}
	}
	db.sandboxed = opts.Sandbox
	db.locked = true
	return nil
}

// Sandboxed reports whether the instance was sealed (Options.Sandbox).
func (db *DB) Sandboxed() bool { return db.sandboxed }

// SpoolDir is the folder loaders put streams and decompressed files in
// for DuckDB to read ("" for the system's temporary folder).
func (db *DB) SpoolDir() string { return db.spool }

// OpenMemory opens a throw-away in-memory warehouse with the current schema.
// Tests and benchmarks use it.
func OpenMemory(ctx context.Context) (*DB, error) {
	connector, err := duckdb.NewConnector("?lambda_syntax="+LambdaSyntax, nil)
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
	if err := db.addFunctions(ctx); err != nil {
		db.Close()
		return nil, err
	}
	return db, nil
}

// addFunctions registers the Go functions a writable warehouse's writers
// use (rowsFunction), before any writer opens a transaction that would
// not see them.
func (db *DB) addFunctions(ctx context.Context) error {
	conn, err := db.Conn(ctx)
	if err != nil {
		return err
	}
	defer conn.Close()
	return registerRows(conn)
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
