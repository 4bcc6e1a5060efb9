package canonical

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
)

// WritesTable is the log of canonical writes (migrations 0210, 0270):
// every writer of a canonical table records there, in the transaction
// that writes the rows, the change it made to the digest of each
// partition (DeltaSQL), so that an incremental transform adds the changes
// to the digests it stored and reads no canonical row. A writer that
// forgets leaves marts stale; the list of writers is in the migration and
// a transform test runs each one.
const WritesTable = "canonical_writes"

// Partition says how the rows of a table the transform reads are split for
// change detection: by the value of Column as stored ("" when the table is
// one partition) within each source (SourceExpr, an SQL expression over
// the row: its source column, or a constant for gate_decisions, which has
// none).
type Partition struct {
	Table, Column, SourceExpr string
}

// Partitions lists every table the transform's change detection reads.
// The column is one the staging models key the marts by: the service, a
// commit's repository, a change request's id.
var Partitions = []Partition{
	{"teams", "", "source"},
	{"services", "", "source"},
	{"deployments", "service", "source"},
	{"changes", "service", "source"},
	{"commits", "repo", "source"},
	{"incidents", "service", "source"},
	{"change_requests", "id", "source"},
	{"approvals", "change_request", "source"},
	{"support_tickets", "service", "source"},
	{"test_runs", "", "source"},
	{"adoption", "service", "source"},
	{"release_plans", "service", "source"},
	{"gate_decisions", "", "'gate'"},
}

// GateSource is the source gate_decisions' rows are logged and digested
// under.
const GateSource = "gate"

// PartColumn returns the partition column of table ("" for a table that is
// one partition); ok is false for a table the transform does not read.
func PartColumn(table string) (col string, ok bool) {
	for _, p := range Partitions {
		if p.Table == table {
			return p.Column, true
		}
	}
	return "", false
}

// Execer is a connection or a transaction.
type Execer interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
}

// DeltaSQL returns a statement that records in the log of canonical
// writes the change to the digests of table made by sign (-1: rows about
// to be deleted, +1: rows just inserted) times the rows that rows selects:
// the text after "FROM table AS t" (joins, a WHERE clause, over alias t),
// which may use parameters. One log row per (source, partition value) the
// rows hold: their count and the sum of hash(t) of the rows as stored,
// which the transform adds to the digests it stored. A writer runs it,
// in the transaction that writes, with sign -1 over exactly the rows a
// DELETE is about to remove and with sign +1 over exactly the rows an
// INSERT wrote (found by the same keys afterwards): the hashes are then
// those of the stored rows whatever the types of what was staged.
func DeltaSQL(table string, sign int, rows string) string {
	var p *Partition
	for i := range Partitions {
		if Partitions[i].Table == table {
			p = &Partitions[i]
		}
	}
	if p == nil || (sign != 1 && sign != -1) {
		panic("canonical: DeltaSQL: " + table + " is not a canonical table, or a bad sign")
	}
	col, src := "NULL::VARCHAR", p.SourceExpr
	if p.Column != "" {
		col = "t." + quoteIdent(p.Column)
	}
	if src == "source" {
		src = "t.source"
	}
	neg := ""
	if sign < 0 {
		neg = "-"
	}
	return fmt.Sprintf(`INSERT INTO %s ("table", source, part, "rows", digest)
	SELECT '%s', %s, %s, %scount(*)::BIGINT, %scoalesce(sum(hash(t)::HUGEINT), 0)::HUGEINT
	FROM %s AS t %s GROUP BY ALL`, WritesTable, table, src, col, neg, neg, quoteIdent(table), rows)
}

// LogDelta runs DeltaSQL(table, sign, rows) with args.
func LogDelta(ctx context.Context, ex Execer, table string, sign int, rows string, args ...any) error {
	if _, err := ex.ExecContext(ctx, DeltaSQL(table, sign, rows), args...); err != nil {
		return fmt.Errorf("canonical: log writes to %s: %w", table, err)
	}
	return nil
}

// RewriteSource runs rewrite, which replaces every row of source in tables
// (a mapper), between logging the deltas of the source's rows before (as
// deleted) and after (as inserted): its cost is that of reading the
// source's rows twice, as the rewrite itself writes them.
func RewriteSource(ctx context.Context, ex Execer, source string, tables []string, rewrite func() error) error {
	for _, t := range tables {
		if err := LogDelta(ctx, ex, t, -1, "WHERE t.source = ?", source); err != nil {
			return err
		}
	}
	if err := rewrite(); err != nil {
		return err
	}
	for _, t := range tables {
		if err := LogDelta(ctx, ex, t, 1, "WHERE t.source = ?", source); err != nil {
			return err
		}
	}
	return nil
}

func quoteIdent(s string) string { return `"` + strings.ReplaceAll(s, `"`, `""`) + `"` }
