package transform

import (
	"context"
	"database/sql"
)

// natives are Go implementations of models, used in place of the model's
// SQL when this build can exchange Arrow data with DuckDB (the duckdb_arrow
// build tag). Each builds exactly the temporary table its model's SQL
// defines, and a test holds the two to the same rows; the SQL stays the
// definition and runs in builds without Arrow.
var natives = map[string]func(ctx context.Context, conn *sql.Conn) error{}
