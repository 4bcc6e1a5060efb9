package transform

import (
	"context"
	"fmt"
	"regexp"
	"testing"

	"github.com/shiplog/shiplog/internal/canonical"
	"github.com/shiplog/shiplog/internal/warehouse"
)

var stmtTable = regexp.MustCompile(`^\s*(?:INSERT INTO|UPDATE|DELETE FROM)\s+(\w+)`)

// execLogged runs one statement of the tests' generators as a writer of
// shiplog does: in a transaction that also records in the log of
// canonical writes the change the statement made to the digests of the
// table's partitions (the table's rows as deleted before it, as inserted
// after it, netted per partition, the unchanged ones dropped). A
// statement on a table outside the log runs as is.
func execLogged(ctx context.Context, db *warehouse.DB, stmt string) error {
	m := stmtTable.FindStringSubmatch(stmt)
	if m == nil {
		_, err := db.ExecContext(ctx, stmt)
		return err
	}
	if _, ok := canonical.PartColumn(m[1]); !ok {
		_, err := db.ExecContext(ctx, stmt)
		return err
	}
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	var seq int64
	if err := tx.QueryRowContext(ctx, `SELECT coalesce(max(seq), 0) FROM `+canonical.WritesTable).Scan(&seq); err != nil {
		return err
	}
	if err := canonical.LogDelta(ctx, tx, m[1], -1, ""); err != nil {
		return err
	}
	if _, err := tx.ExecContext(ctx, stmt); err != nil {
		return err
	}
	if err := canonical.LogDelta(ctx, tx, m[1], 1, ""); err != nil {
		return err
	}
	if _, err := tx.ExecContext(ctx, fmt.Sprintf(`DELETE FROM %[1]s w WHERE seq > %[2]d AND EXISTS (
		SELECT 1 FROM %[1]s n WHERE n.seq > %[2]d AND n."table" = w."table" AND n.source = w.source AND n.part IS NOT DISTINCT FROM w.part
		GROUP BY ALL HAVING sum(n."rows") = 0 AND sum(n.digest) = 0)`, canonical.WritesTable, seq)); err != nil {
		return err
	}
	return tx.Commit()
}

// execAllLogged runs stmts with execLogged, failing t at the first error.
func execAllLogged(t *testing.T, db *warehouse.DB, stmts []string) {
	t.Helper()
	for _, s := range stmts {
		if err := execLogged(context.Background(), db, s); err != nil {
			t.Fatalf("%v\n%s", err, s)
		}
	}
}
