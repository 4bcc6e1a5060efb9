package transform

import (
	"context"
	"database/sql"

	"github.com/shiplog/shiplog/internal/warehouse"
)

// natives are Go implementations of models, used in place of the model's
// SQL when this build can exchange Arrow data with DuckDB (the duckdb_arrow
// build tag). Each builds exactly the temporary table its model's SQL
// defines, and a test holds the two to the same rows; the SQL stays the
// definition and runs in builds without Arrow.
// They get the warehouse, whose configured memory limit they may lower
// while they hold memory of their own (DB.LowerMemoryLimit).
var natives = map[string]func(ctx context.Context, db *warehouse.DB, conn *sql.Conn) error{}
