package warehouse

import (
	"context"
	"errors"
	"strings"
	"testing"
)

// counting yields the rows (i, i mod 7) for i = 1..n, at most step rows
// per Fill, so that DuckDB's chunks are filled in several pieces.
type counting struct {
	n, i, step int
	fail       error // returned once i passes fail's row, if set
}

func (c *counting) Columns() []string { return []string{"i", "m"} }

func (c *counting) Fill(cols [][]int32) (int, error) {
	k := 0
	for k < len(cols[0]) && k < c.step && c.i < c.n {
		c.i++
		if c.fail != nil && c.i > 2500 {
			return 0, c.fail
		}
		cols[0][k], cols[1][k] = int32(c.i), int32(c.i%7)
		k++
	}
	return k, nil
}

func TestTempTableFromRows(t *testing.T) {
	ctx := context.Background()
	db, err := OpenMemory(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	conn, err := db.Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()

	// 5,000 rows: sum(i) = 5000·5001/2 = 12,502,500; i mod 7 over
	// 714 full weeks is 714·21 = 14,994, and 4,999 and 5,000 add 1 and 2:
	// 14,997. 1,000 rows a Fill: two Fills to a chunk of 2,048 and one over.
	stmt, done := tempTableFrom("counted", &counting{n: 5000, step: 1000})
	_, err = conn.ExecContext(ctx, stmt)
	done()
	if err != nil {
		t.Fatal(err)
	}
	var n, sumI, sumM, last int64
	var typ string
	if err := conn.QueryRowContext(ctx, `SELECT count(*), sum(i), sum(m), max(i), any_value(typeof(i)) FROM temp.counted`).Scan(&n, &sumI, &sumM, &last, &typ); err != nil {
		t.Fatal(err)
	}
	if n != 5000 || sumI != 12502500 || sumM != 14997 || last != 5000 || typ != "INTEGER" {
		t.Errorf("counted: %d rows, sum(i) %d, sum(m) %d, max(i) %d, %s; want 5000, 12502500, 14997, 5000, INTEGER", n, sumI, sumM, last, typ)
	}

	// A stream is read by the statement it was made for, and only then.
	if _, err := conn.ExecContext(ctx, stmt); err == nil || !strings.Contains(err.Error(), "no such stream") {
		t.Errorf("the statement run again: %v, want no such stream", err)
	}
	if _, err := conn.ExecContext(ctx, "SELECT * FROM "+rowsFunction+"(0)"); err == nil || !strings.Contains(err.Error(), "no such stream") {
		t.Errorf("a made-up token: %v, want no such stream", err)
	}

	// A stream's error fails the statement and leaves no table.
	stmt, done = tempTableFrom("broken", &counting{n: 5000, step: 1000, fail: errors.New("the walk broke")})
	_, err = conn.ExecContext(ctx, stmt)
	done()
	if err == nil || !strings.Contains(err.Error(), "the walk broke") {
		t.Errorf("a failing stream: %v, want its error", err)
	}
	if err := conn.QueryRowContext(ctx, `SELECT count(*) FROM duckdb_tables() WHERE table_name = 'broken'`).Scan(&n); err != nil || n != 0 {
		t.Errorf("a failing stream left %d tables (%v)", n, err)
	}
}
