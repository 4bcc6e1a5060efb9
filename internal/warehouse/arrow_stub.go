//go:build !duckdb_arrow

package warehouse

import (
	"context"
	"errors"

	"github.com/apache/arrow-go/v18/arrow/array"
)

// QueryArrow needs the duckdb_arrow build tag; `make build` sets it.
func (db *DB) QueryArrow(ctx context.Context, query string) (array.RecordReader, func(), error) {
	return nil, nil, errors.New("this shiplog was built without the duckdb_arrow tag, so it cannot serve Arrow Flight SQL; build it with `make build`")
}
