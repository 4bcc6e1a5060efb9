package sqlrun_test

import (
	"context"
	"testing"

	"github.com/shiplog/shiplog/internal/sqlrun"
	"github.com/shiplog/shiplog/internal/warehouse"
)

// BenchmarkRegexp compares a regular expression read with getvariable
// (as the models read the hotfix patterns) against the same pattern
// written as a literal, which DuckDB compiles once per query, and against
// the pattern read from a column of a one-row settings table, which it
// compiles for every row. A variable is as fast as the literal. 200,000
// rows.
func BenchmarkRegexp(b *testing.B) {
	ctx := context.Background()
	db, err := warehouse.OpenMemory(ctx)
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	if _, err := db.ExecContext(ctx, `CREATE TABLE v AS SELECT 'v' || range || CASE WHEN range % 97 = 0 THEN '-hotfix' ELSE '' END AS version FROM range(200000);
		CREATE TABLE s AS SELECT '(?:hotfix)|(?:^v9+$)' AS re`); err != nil {
		b.Fatal(err)
	}
	run := func(b *testing.B, src string) {
		s, err := sqlrun.Parse("bench.sql", []byte("-- param: re text '(?:hotfix)|(?:^v9+$)'\n"+src))
		if err != nil {
			b.Fatal(err)
		}
		vals, _ := s.Values(nil)
		conn, err := db.Conn(ctx)
		if err != nil {
			b.Fatal(err)
		}
		defer conn.Close()
		b.ResetTimer()
		for i := 0; i < b.N; i++ {
			rows, err := s.Query(ctx, conn, vals)
			if err != nil {
				b.Fatal(err)
			}
			var n int64
			rows.Next()
			if err := rows.Scan(&n); err != nil {
				b.Fatal(err)
			}
			rows.Close()
			if n != 2062+5 { // multiples of 97 in 0…199999 (0 and 97…199917), and v9, v99 … v99999
				b.Fatalf("n = %d", n)
			}
		}
	}
	b.Run("literal", func(b *testing.B) {
		run(b, `select count(*) from v where regexp_matches(version, '(?:hotfix)|(?:^v9+$)')`)
	})
	b.Run("variable", func(b *testing.B) {
		run(b, `select count(*) from v where regexp_matches(version, getvariable('re'))`)
	})
	b.Run("parameter", func(b *testing.B) {
		run(b, `select count(*) from v where regexp_matches(version, $re)`)
	})
	b.Run("column", func(b *testing.B) {
		run(b, `select count(*) from v cross join s where regexp_matches(version, s.re)`)
	})
}
