package warehouse

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"fmt"
)

// Conn is the part of *sql.Conn that CheckReadOnly takes.
type Conn interface {
	Raw(func(any) error) error
}

// CheckReadOnly returns an error unless the guard accepts sqlText (Parse:
// one SELECT, or EXPLAIN of one, reaching no file). It only checks; it
// neither prepares nor runs the text. QueryReadOnly and QueryArrow check
// and run a query in a read-only transaction, and check its tables too.
func CheckReadOnly(_ context.Context, _ Conn, sqlText string) error {
	_, err := Parse(sqlText, Policy{})
	return err
}

// ReadConn is a connection of its own inside a READ ONLY transaction: DuckDB
// refuses every write on it (to the warehouse, a temporary table, a
// sequence, any attached database), whatever statement reaches it.
type ReadConn struct {
	*sql.Conn
}

// ReadOnlyConn takes a connection from the pool and begins a READ ONLY
// transaction on it. Close ends the transaction and returns the connection.
func (db *DB) ReadOnlyConn(ctx context.Context) (*ReadConn, error) {
	conn, err := db.Conn(ctx)
	if err != nil {
		return nil, err
	}
	if _, err := conn.ExecContext(ctx, "BEGIN TRANSACTION READ ONLY"); err != nil {
		conn.Close()
		return nil, fmt.Errorf("query: begin a read-only transaction: %w", err)
	}
	return &ReadConn{Conn: conn}, nil
}

// Close rolls the transaction back and returns the connection to the pool;
// a connection whose rollback fails is discarded rather than reused.
func (c *ReadConn) Close() error {
	if _, err := c.Conn.ExecContext(context.Background(), "ROLLBACK"); err != nil {
		_ = c.Conn.Raw(func(any) error { return driver.ErrBadConn })
	}
	return c.Conn.Close()
}

// QueryReadOnly checks text with Guard and runs it, with args, on a
// ReadConn. The caller reads rows, then calls done (which closes rows and
// the connection).
func (db *DB) QueryReadOnly(ctx context.Context, text string, p Policy, args ...any) (rows *sql.Rows, done func(), err error) {
	conn, err := db.ReadOnlyConn(ctx)
	if err != nil {
		return nil, nil, err
	}
	run, err := Guard(ctx, conn.Conn, text, p)
	if err != nil {
		conn.Close()
		return nil, nil, err
	}
	rows, err = conn.QueryContext(ctx, run, args...)
	if err != nil {
		conn.Close()
		return nil, nil, fmt.Errorf("query: %w", err)
	}
	return rows, func() { rows.Close(); conn.Close() }, nil
}
