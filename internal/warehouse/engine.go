package warehouse

import (
	"context"
	"database/sql"
	"fmt"
	"sync"

	"github.com/duckdb/duckdb-go/v2"
)

// Engine names the DuckDB library linked into this binary.
type Engine struct {
	Version  string // library version, "v1.5.6"
	SourceID string // the DuckDB commit it was built from, "069cc9f9b5"
}

var (
	engineOnce sync.Once
	engine     Engine
	engineErr  error
)

// EngineVersion asks the linked DuckDB library for its version (PRAGMA
// version on a throw-away in-memory database), once per process. It needs
// no warehouse file, so `shiplog version` works anywhere.
func EngineVersion(ctx context.Context) (Engine, error) {
	engineOnce.Do(func() {
		connector, err := duckdb.NewConnector("", nil)
		if err != nil {
			engineErr = fmt.Errorf("duckdb version: %w", err)
			return
		}
		db := sql.OpenDB(connector)
		defer connector.Close()
		defer db.Close()
		if err := db.QueryRowContext(context.WithoutCancel(ctx), `SELECT library_version, source_id FROM pragma_version()`).Scan(&engine.Version, &engine.SourceID); err != nil {
			engineErr = fmt.Errorf("duckdb version: %w", err)
		}
	})
	return engine, engineErr
}
