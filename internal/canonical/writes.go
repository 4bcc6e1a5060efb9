package canonical

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
)

// WritesTable is the log of canonical writes (migration 0210): every
// writer of a canonical table records there, in the transaction that
// writes the rows, which partitions it may have changed, so that an
// incremental transform re-reads those and not every row. A writer that
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

// LogSources records that any row of source in each table may have
// changed (a mapper that rewrites its source, a load into a table that
// held no row of the source).
func LogSources(ctx context.Context, ex Execer, source string, tables ...string) error {
	for _, t := range tables {
		if _, ok := PartColumn(t); !ok {
			return fmt.Errorf("canonical: log writes: %s is not a canonical table", t)
		}
		if _, err := ex.ExecContext(ctx, `INSERT INTO `+WritesTable+` ("table", source, part) VALUES (?, ?, NULL)`, t, source); err != nil {
			return fmt.Errorf("canonical: log writes to %s: %w", t, err)
		}
	}
	return nil
}

// LogPartsSQL returns a statement that records the partitions of table
// named by the rows of each query in selects, a query with one column:
// the partition column's value as it is or was stored. source is an SQL
// expression (a literal or a parameter such as $1). For a table that is
// one partition the statement records the whole source, once, when any
// query has a row. A NULL value is recorded as the whole source.
func LogPartsSQL(table, source string, selects ...string) string {
	col, ok := PartColumn(table)
	if !ok {
		panic("canonical: LogPartsSQL: " + table + " is not a canonical table")
	}
	all := strings.Join(selects, "\nUNION ALL\n")
	if col == "" {
		return fmt.Sprintf(`INSERT INTO %s ("table", source, part) SELECT DISTINCT '%s', %s, NULL FROM (%s)`,
			WritesTable, table, source, all)
	}
	return fmt.Sprintf(`INSERT INTO %s ("table", source, part) SELECT DISTINCT '%s', %s, p FROM (%s) AS w(p)`,
		WritesTable, table, source, all)
}
