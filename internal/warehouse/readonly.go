package warehouse

import (
	"context"
	"database/sql/driver"
	"fmt"
	"strings"

	"github.com/duckdb/duckdb-go/v2"
)

// Conn is the part of *sql.Conn that CheckReadOnly needs.
type Conn interface {
	Raw(func(any) error) error
}

// CheckReadOnly returns an error unless sqlText is a single read-only statement.
func CheckReadOnly(ctx context.Context, conn Conn, sqlText string) error {
	return conn.Raw(func(c any) error {
		dc, ok := c.(driver.ConnPrepareContext)
		if !ok {
			return fmt.Errorf("query: unexpected driver connection %T", c)
		}
		stmt, err := dc.PrepareContext(ctx, sqlText)
		if err != nil {
			return fmt.Errorf("query: %w", err)
		}
		defer stmt.Close()
		ds, ok := stmt.(*duckdb.Stmt)
		if !ok {
			return fmt.Errorf("query: unexpected statement %T", stmt)
		}
		st, err := ds.StatementType()
		if err != nil {
			return fmt.Errorf("query: %w", err)
		}
		switch st {
		case duckdb.STATEMENT_TYPE_SELECT, duckdb.STATEMENT_TYPE_EXPLAIN:
			return nil
		}
		return fmt.Errorf("query: only read-only statements are allowed (this one is %s); shiplog query never changes the warehouse", statementName(st))
	})
}

func statementName(st duckdb.StmtType) string {
	names := map[duckdb.StmtType]string{
		duckdb.STATEMENT_TYPE_INSERT: "INSERT", duckdb.STATEMENT_TYPE_UPDATE: "UPDATE",
		duckdb.STATEMENT_TYPE_DELETE: "DELETE", duckdb.STATEMENT_TYPE_CREATE: "CREATE",
		duckdb.STATEMENT_TYPE_DROP: "DROP", duckdb.STATEMENT_TYPE_ALTER: "ALTER",
		duckdb.STATEMENT_TYPE_COPY: "COPY", duckdb.STATEMENT_TYPE_ATTACH: "ATTACH",
		duckdb.STATEMENT_TYPE_SET: "SET", duckdb.STATEMENT_TYPE_PRAGMA: "PRAGMA",
		duckdb.STATEMENT_TYPE_TRANSACTION: "a transaction statement",
	}
	if n, ok := names[st]; ok {
		return n
	}
	return strings.ToLower(fmt.Sprintf("statement type %d", int(st)))
}
