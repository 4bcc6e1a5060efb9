package transform

import (
	"context"
	"database/sql"
	"fmt"
	"regexp"

	"github.com/shiplog/shiplog/internal/canonical"
	"github.com/shiplog/shiplog/internal/warehouse"
)

var stmtTable = regexp.MustCompile(`^\s*(?:INSERT INTO|UPDATE|DELETE FROM)\s+(\w+)`)

// execLogged runs one statement of the tests' generators as a writer of
// shiplog does: in a transaction that also records in the log of
// canonical writes the partitions of the rows it inserted, changed or
// deleted (RETURNING their partition column). The generators never move
// a row to another partition, so the values after an UPDATE are the
// values before it. A statement on a table outside the log runs as is.
func execLogged(ctx context.Context, db *warehouse.DB, stmt string) error {
	m := stmtTable.FindStringSubmatch(stmt)
	if m == nil {
		_, err := db.ExecContext(ctx, stmt)
		return err
	}
	col, ok := canonical.PartColumn(m[1])
	if !ok {
		_, err := db.ExecContext(ctx, stmt)
		return err
	}
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	if col == "" {
		if _, err := tx.ExecContext(ctx, stmt); err != nil {
			return err
		}
		if err := canonical.LogSources(ctx, tx, "gen", m[1]); err != nil {
			return err
		}
		return tx.Commit()
	}
	rows, err := tx.QueryContext(ctx, stmt+" RETURNING source, "+warehouse.QuoteIdent(col))
	if err != nil {
		return err
	}
	type key struct {
		source string
		part   sql.NullString
	}
	var touched []key
	for rows.Next() {
		var k key
		if err := rows.Scan(&k.source, &k.part); err != nil {
			rows.Close()
			return err
		}
		touched = append(touched, k)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}
	for _, k := range touched {
		if _, err := tx.ExecContext(ctx, fmt.Sprintf(`INSERT INTO %s ("table", source, part) VALUES (?, ?, ?)`, canonical.WritesTable), m[1], k.source, k.part); err != nil {
			return err
		}
	}
	return tx.Commit()
}
