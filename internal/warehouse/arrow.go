//go:build duckdb_arrow

package warehouse

import (
	"context"
	"database/sql/driver"
	"fmt"

	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/duckdb/duckdb-go/v2"
)

// QueryArrow runs a read-only query on its own connection and returns its
// result as an Arrow record reader. The caller must call release once done
// with the reader, which returns the connection to the pool.
func (db *DB) QueryArrow(ctx context.Context, query string) (array.RecordReader, func(), error) {
	conn, err := db.Conn(ctx)
	if err != nil {
		return nil, nil, err
	}
	if err := CheckReadOnly(ctx, conn, query); err != nil {
		conn.Close()
		return nil, nil, err
	}
	var rdr array.RecordReader
	err = conn.Raw(func(c any) error {
		dc, ok := c.(driver.Conn)
		if !ok {
			return fmt.Errorf("warehouse: unexpected driver connection %T", c)
		}
		ar, err := duckdb.NewArrowFromConn(dc)
		if err != nil {
			return err
		}
		rdr, err = ar.QueryContext(ctx, query)
		return err
	})
	if err != nil {
		conn.Close()
		return nil, nil, err
	}
	return rdr, func() { rdr.Release(); conn.Close() }, nil
}
