//go:build duckdb_arrow

package warehouse

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"fmt"

	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/duckdb/duckdb-go/v2"
)

// QueryArrow checks query with Guard and runs it on a ReadConn (a READ
// ONLY transaction of its own), returning its result as an Arrow record
// reader. The caller must call release once done with the reader, which
// ends the transaction and returns the connection to the pool.
func (db *DB) QueryArrow(ctx context.Context, query string) (array.RecordReader, func(), error) {
	conn, err := db.ReadOnlyConn(ctx)
	if err != nil {
		return nil, nil, err
	}
	run, err := Guard(ctx, conn.Conn, query, Policy{})
	if err != nil {
		conn.Close()
		return nil, nil, err
	}
	var rdr array.RecordReader
	err = WithArrow(conn.Conn, func(a *ArrowConn) error {
		var err error
		rdr, err = a.Query(ctx, run)
		return err
	})
	if err != nil {
		conn.Close()
		return nil, nil, err
	}
	return rdr, func() { rdr.Release(); conn.Close() }, nil
}

// ArrowConn exposes one connection's Arrow interface (and plain statements on
// that connection) for the duration of WithArrow, so that Go code can read
// and write tables inside the connection's open transaction, temporary tables
// included.
type ArrowConn struct {
	ar   *duckdb.Arrow
	exec driver.ExecerContext
}

// ArrowAvailable reports whether this build can exchange Arrow data with
// DuckDB (the duckdb_arrow build tag).
const ArrowAvailable = true

// WithArrow calls f with conn's Arrow interface. Statements on conn (or a
// transaction on it) must not be issued from inside f: use the ArrowConn.
func WithArrow(conn *sql.Conn, f func(*ArrowConn) error) error {
	return conn.Raw(func(c any) error {
		dc, ok := c.(driver.Conn)
		if !ok {
			return fmt.Errorf("warehouse: unexpected driver connection %T", c)
		}
		ex, ok := c.(driver.ExecerContext)
		if !ok {
			return fmt.Errorf("warehouse: driver connection %T cannot execute statements", c)
		}
		ar, err := duckdb.NewArrowFromConn(dc)
		if err != nil {
			return err
		}
		return f(&ArrowConn{ar: ar, exec: ex})
	})
}

// Query runs query and returns its result as Arrow record batches; the
// caller releases the reader.
func (a *ArrowConn) Query(ctx context.Context, query string) (array.RecordReader, error) {
	return a.ar.QueryContext(ctx, query)
}

// RegisterView makes the batches of r readable as the view name until
// release is called; DuckDB reads r once.
func (a *ArrowConn) RegisterView(r array.RecordReader, name string) (release func(), err error) {
	return a.ar.RegisterView(r, name)
}

// CreateTempTable creates (or replaces) the temporary table name on this
// connection, inside its open transaction, with the rows of src, which
// DuckDB reads as it fills the table.
func (a *ArrowConn) CreateTempTable(ctx context.Context, name string, src Int32Rows) error {
	stmt, done := tempTableFrom(name, src)
	defer done()
	return a.Exec(ctx, stmt)
}

// Exec runs a statement that returns no rows.
func (a *ArrowConn) Exec(ctx context.Context, query string) error {
	_, err := a.exec.ExecContext(ctx, query, nil)
	return err
}
