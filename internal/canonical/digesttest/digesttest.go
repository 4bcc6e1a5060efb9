// Package digesttest holds writers of canonical rows to the changes they
// log: the digests of every partition before a write, plus what the write
// logged in the log of canonical writes, must be the digests summed from
// scratch after it. A writer that forgets a partition or logs a wrong
// change would leave the marts of an incremental transform stale.
package digesttest

import (
	"fmt"
	"math/big"
	"sort"
	"testing"

	"github.com/shiplog/shiplog/internal/canonical"
	"github.com/shiplog/shiplog/internal/warehouse"
)

// Digest is a partition's row count and sum of the rows' hashes.
type Digest struct {
	Rows int64
	Sum  *big.Int
}

func (d Digest) String() string { return fmt.Sprintf("%d:%s", d.Rows, d.Sum) }

// Scan adds the rows of query, (table, source, part, rows, sum as text),
// into into, keyed "table/source/part" (part empty when NULL).
func Scan(t testing.TB, db *warehouse.DB, query string, into map[string]Digest) {
	t.Helper()
	rows, err := db.Query(query)
	if err != nil {
		t.Fatalf("%s: %v", query, err)
	}
	defer rows.Close()
	for rows.Next() {
		var tb, src, sum string
		var part *string
		var n int64
		if err := rows.Scan(&tb, &src, &part, &n, &sum); err != nil {
			t.Fatal(err)
		}
		k := tb + "/" + src + "/"
		if part != nil {
			k += *part
		}
		v, ok := new(big.Int).SetString(sum, 10)
		if !ok {
			t.Fatalf("digest %q", sum)
		}
		d := into[k]
		if d.Sum == nil {
			d.Sum = new(big.Int)
		}
		d.Rows += n
		d.Sum.Add(d.Sum, v)
		into[k] = d
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
}

// FromScratch sums the rows of every partitioned canonical table per
// (table, source, partition value), as the transform's full build does.
func FromScratch(t testing.TB, db *warehouse.DB) map[string]Digest {
	t.Helper()
	out := map[string]Digest{}
	for _, p := range canonical.Partitions {
		col := "NULL::VARCHAR"
		if p.Column != "" {
			col = warehouse.QuoteIdent(p.Column)
		}
		Scan(t, db, fmt.Sprintf(`SELECT '%s', %s, %s, count(*), coalesce(sum(hash(t)::HUGEINT), 0)::VARCHAR FROM %s t GROUP BY ALL HAVING count(*) > 0`,
			p.Table, p.SourceExpr, col, warehouse.QuoteIdent(p.Table)), out)
	}
	return out
}

// Logged sums the log of canonical writes per partition.
func Logged(t testing.TB, db *warehouse.DB) map[string]Digest {
	t.Helper()
	out := map[string]Digest{}
	Scan(t, db, `SELECT "table", source, part, "rows", digest::VARCHAR FROM `+canonical.WritesTable, out)
	return out
}

// Misdigested returns the partitions whose digest now is not before plus
// the changes the log holds for them, each with both figures.
func Misdigested(t testing.TB, db *warehouse.DB, before map[string]Digest) []string {
	t.Helper()
	now := FromScratch(t, db)
	sum := map[string]Digest{}
	for k, d := range before {
		sum[k] = Digest{d.Rows, new(big.Int).Set(d.Sum)}
	}
	for k, d := range Logged(t, db) {
		s := sum[k]
		if s.Sum == nil {
			s.Sum = new(big.Int)
		}
		s.Rows += d.Rows
		s.Sum.Add(s.Sum, d.Sum)
		sum[k] = s
	}
	for k, d := range sum {
		if d.Rows == 0 && d.Sum.Sign() == 0 {
			delete(sum, k) // a partition left empty
		}
	}
	var bad []string
	for k, d := range now {
		if s, ok := sum[k]; !ok || s.String() != d.String() {
			bad = append(bad, fmt.Sprintf("%s (%s, expected from the log %s)", k, d, s))
		}
	}
	for k, s := range sum {
		if _, ok := now[k]; !ok {
			bad = append(bad, fmt.Sprintf("%s (empty, expected from the log %s)", k, s))
		}
	}
	sort.Strings(bad)
	return bad
}
