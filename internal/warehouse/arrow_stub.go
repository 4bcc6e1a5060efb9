//go:build !duckdb_arrow

package warehouse

import (
	"context"
	"database/sql"
	"errors"

	"github.com/apache/arrow-go/v18/arrow/array"
)

// QueryArrow needs the duckdb_arrow build tag; `make build` sets it.
func (db *DB) QueryArrow(ctx context.Context, query string) (array.RecordReader, func(), error) {
	return nil, nil, errors.New("this shiplog was built without the duckdb_arrow tag, so it cannot serve Arrow Flight SQL; build it with `make build`")
}

// ArrowConn needs the duckdb_arrow build tag.
type ArrowConn struct{}

// ArrowAvailable reports whether this build can exchange Arrow data with
// DuckDB (the duckdb_arrow build tag).
const ArrowAvailable = false

// WithArrow needs the duckdb_arrow build tag.
func WithArrow(conn *sql.Conn, f func(*ArrowConn) error) error {
	return errors.New("warehouse: built without the duckdb_arrow tag")
}
