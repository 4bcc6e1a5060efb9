package canonical

import (
	"context"
	"database/sql"
	"fmt"
	"math/big"
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

// ReturningSQL is the RETURNING list that makes a DELETE or an INSERT on
// table give, for each row it removed or wrote, what DeltaSQL sums: the
// row's partition value and hash(alias), the hash of the row as stored.
// alias is how the statement names the table ("t" in DELETE FROM table AS
// t; the table itself in an INSERT). Deltas sums what it returns.
func ReturningSQL(table, alias string) string {
	col, ok := PartColumn(table)
	if !ok {
		panic("canonical: ReturningSQL: " + table + " is not a canonical table")
	}
	part := "NULL::VARCHAR"
	if col != "" {
		part = alias + "." + quoteIdent(col)
	}
	return part + ", hash(" + alias + ")"
}

// Deltas sums, in Go, the changes to the digests of one table and source
// from the rows that a writer's DELETE and INSERT return (ReturningSQL),
// and logs them with one statement (Log): the same log rows as DeltaSQL
// before the delete and after the insert, without reading the table
// again, at the cost of sending every row written through Go (worth it
// for small batches: see the writers).
type Deltas struct {
	table, source string
	parts         map[sql.NullString]*delta
}

// delta is the change of one partition's digest: rows and the sum of
// their hashes (DuckDB's UBIGINT hash, summed as HUGEINT).
type delta struct {
	rows   int64
	digest big.Int
}

// NewDeltas returns empty sums for the rows of source in table.
func NewDeltas(table, source string) *Deltas {
	if _, ok := PartColumn(table); !ok {
		panic("canonical: NewDeltas: " + table + " is not a canonical table")
	}
	return &Deltas{table: table, source: source, parts: map[sql.NullString]*delta{}}
}

// Add adds sign (-1 for rows deleted, +1 for rows inserted) times the
// (partition, hash) rows a statement returned, closing rows, and says how
// many there were. Every row returned counts once: a DELETE returns a row
// once however many keys of the batch matched it.
func (d *Deltas) Add(sign int, rows *sql.Rows) (int64, error) {
	if sign != 1 && sign != -1 {
		panic("canonical: Deltas.Add: bad sign")
	}
	defer rows.Close()
	var n int64
	var h big.Int
	for rows.Next() {
		var p sql.NullString
		var v uint64
		if err := rows.Scan(&p, &v); err != nil {
			return n, err
		}
		x := d.parts[p]
		if x == nil {
			x = &delta{}
			d.parts[p] = x
		}
		x.rows += int64(sign)
		h.SetUint64(v)
		if sign < 0 {
			x.digest.Sub(&x.digest, &h)
		} else {
			x.digest.Add(&x.digest, &h)
		}
		n++
	}
	return n, rows.Err()
}

// Log writes the sums to the log of canonical writes, one row per
// partition a returned row was in (none when no row was), and empties
// them.
func (d *Deltas) Log(ctx context.Context, ex Execer) error {
	if len(d.parts) == 0 {
		return nil
	}
	vals := make([]string, 0, len(d.parts))
	for p, x := range d.parts {
		part := "NULL"
		if p.Valid {
			part = quoteString(p.String)
		}
		vals = append(vals, fmt.Sprintf("(%s, %s, %s, %d, %s::HUGEINT)",
			quoteString(d.table), quoteString(d.source), part, x.rows, x.digest.String()))
	}
	q := `INSERT INTO ` + WritesTable + ` ("table", source, part, "rows", digest) VALUES ` + strings.Join(vals, ", ")
	if _, err := ex.ExecContext(ctx, q); err != nil {
		return fmt.Errorf("canonical: log writes to %s: %w", d.table, err)
	}
	clear(d.parts)
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

func quoteString(s string) string { return `'` + strings.ReplaceAll(s, `'`, `''`) + `'` }
