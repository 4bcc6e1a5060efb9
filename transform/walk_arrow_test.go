//go:build duckdb_arrow

package transform

import (
	"bytes"
	"context"
	"database/sql"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/shiplog/shiplog/internal/warehouse"
)

// walkSQL is the int_commit_walk model's SQL, the definition the native walk
// must match.
func walkSQL(t *testing.T) string {
	t.Helper()
	ms, err := Load(Layers)
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range ms {
		if m.Name == "int_commit_walk" {
			return m.SQL
		}
	}
	t.Fatal("no int_commit_walk model")
	return ""
}

type edge struct {
	child, parent int
	at            *int // parent's commit time, seconds; nil: unknown
}

type start struct {
	walk, commit int
	stop, bound  *int
}

func intp(v int) *int { return &v }

func sqlInt(p *int) string {
	if p == nil {
		return "NULL"
	}
	return fmt.Sprint(*p)
}

func sqlTime(p *int) string {
	if p == nil {
		return "NULL"
	}
	return fmt.Sprintf("to_timestamp(%d)", *p)
}

// loadWalkInputs writes int_commit_parents and int_walk_starts as temporary
// tables on conn.
func loadWalkInputs(t *testing.T, ctx context.Context, conn *sql.Conn, edges []edge, starts []start) {
	t.Helper()
	stmts := []string{
		`CREATE OR REPLACE TEMP TABLE int_commit_parents (commit_id INTEGER, parent_id INTEGER, parent_committed_at TIMESTAMPTZ)`,
		`CREATE OR REPLACE TEMP TABLE int_walk_starts (walk_id INTEGER, deployment_id VARCHAR, dep_idx INTEGER, service VARCHAR,
			finished_at TIMESTAMPTZ, commit_id INTEGER, stop_id INTEGER, bound TIMESTAMPTZ)`,
	}
	for lo := 0; lo < len(edges); lo += 500 {
		var vals []string
		for _, e := range edges[lo:min(lo+500, len(edges))] {
			vals = append(vals, fmt.Sprintf("(%d, %d, %s)", e.child, e.parent, sqlTime(e.at)))
		}
		stmts = append(stmts, "INSERT INTO int_commit_parents VALUES "+strings.Join(vals, ", "))
	}
	for lo := 0; lo < len(starts); lo += 500 {
		var vals []string
		for _, s := range starts[lo:min(lo+500, len(starts))] {
			vals = append(vals, fmt.Sprintf("(%d, 'd-%d', %d, 'svc', to_timestamp(%d), %d, %s, %s)",
				s.walk, s.walk, s.walk, s.walk, s.commit, sqlInt(s.stop), sqlTime(s.bound)))
		}
		stmts = append(stmts, "INSERT INTO int_walk_starts VALUES "+strings.Join(vals, ", "))
	}
	for _, s := range stmts {
		if _, err := conn.ExecContext(ctx, s); err != nil {
			t.Fatalf("%v\n%s", err, s)
		}
	}
}

// reached returns "deployment:commit" pairs of a walk table, sorted.
func reached(t *testing.T, ctx context.Context, conn *sql.Conn, table string) []string {
	t.Helper()
	rows, err := conn.QueryContext(ctx, "SELECT 'd-' || dep_idx, commit_id FROM "+table+" ORDER BY ALL")
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var d string
		var c int
		if err := rows.Scan(&d, &c); err != nil {
			t.Fatal(err)
		}
		out = append(out, fmt.Sprintf("%s:%d", d, c))
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	sort.Strings(out)
	return out
}

func walkConn(t *testing.T) (context.Context, *warehouse.DB, *sql.Conn) {
	t.Helper()
	ctx := context.Background()
	db := memDB(t)
	conn, err := db.Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	return ctx, db, conn
}

// A small graph walked by hand:
//
//	1 ← 2 ← 3 ← 4 ← 5 (merge) → 6 → 2      times: 1:100 2:200 3:300 4:400 5:500 6:250
//
// Walk 1 from 5, stop 3, bound 300: 4 (400 ≥ 300); not 6 (250 < 300); not 3
// (the stop) → {5, 4}. Walk 2 from 5, no stop, no bound: everything
// → {1..6}. Walk 3 from 5, stop 2, no bound: 4, 6, 3; 2 is the stop →
// {3, 4, 5, 6}. Walk 4 from 3, no stop, bound 150: 2 (200 ≥ 150), not 1
// → {2, 3}. Walk 5 from 1 (no parents) → {1}.
func TestCommitWalkByHand(t *testing.T) {
	edges := []edge{
		{2, 1, intp(100)}, {3, 2, intp(200)}, {4, 3, intp(300)},
		{5, 4, intp(400)}, {5, 6, intp(250)}, {6, 2, intp(200)},
	}
	starts := []start{
		{1, 5, intp(3), intp(300)},
		{2, 5, nil, nil},
		{3, 5, intp(2), nil},
		{4, 3, nil, intp(150)},
		{5, 1, nil, nil},
	}
	want := "d-1:4 d-1:5 d-2:1 d-2:2 d-2:3 d-2:4 d-2:5 d-2:6 d-3:3 d-3:4 d-3:5 d-3:6 d-4:2 d-4:3 d-5:1"
	ctx, db, conn := walkConn(t)
	loadWalkInputs(t, ctx, conn, edges, starts)
	if _, err := conn.ExecContext(ctx, "CREATE TEMP TABLE sql_walk AS\n"+walkSQL(t)); err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(reached(t, ctx, conn, "sql_walk"), " "); got != want {
		t.Errorf("SQL walk:\n got %s\nwant %s", got, want)
	}
	if err := commitWalk(ctx, db, conn); err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(reached(t, ctx, conn, "int_commit_walk"), " "); got != want {
		t.Errorf("native walk:\n got %s\nwant %s", got, want)
	}
}

// Random graphs (mostly linear history with merges, some edges to newer
// commits that make cycles, unknown times, duplicate edges) and random
// walks: the native walk reaches exactly what the recursive SQL reaches.
func TestCommitWalkMatchesSQL(t *testing.T) {
	for seed := uint64(1); seed <= 12; seed++ {
		t.Run(fmt.Sprint(seed), func(t *testing.T) {
			rng := rand.New(rand.NewPCG(seed, 7))
			n := 50 + rng.IntN(400)
			at := make([]*int, n+1)
			for i := 1; i <= n; i++ {
				if rng.IntN(20) > 0 {
					at[i] = intp(i*100 + rng.IntN(300) - 150)
				}
			}
			var edges []edge
			for i := 2; i <= n; i++ {
				p := i - 1
				if rng.IntN(8) == 0 {
					p = 1 + rng.IntN(i-1)
				}
				edges = append(edges, edge{i, p, at[p]})
				if rng.IntN(5) == 0 { // merge
					q := 1 + rng.IntN(i-1)
					edges = append(edges, edge{i, q, at[q]})
				}
				if rng.IntN(40) == 0 { // a parent newer than its child: a cycle
					q := 1 + rng.IntN(n)
					edges = append(edges, edge{i, q, at[q]})
				}
				if rng.IntN(50) == 0 { // the same edge twice
					edges = append(edges, edges[len(edges)-1])
				}
			}
			var starts []start
			for w := 1; w <= 30+rng.IntN(60); w++ {
				s := start{walk: w, commit: 1 + rng.IntN(n)}
				if rng.IntN(3) > 0 {
					s.stop = intp(1 + rng.IntN(n))
				}
				if rng.IntN(3) > 0 {
					s.bound = intp(rng.IntN(n * 100))
				}
				starts = append(starts, s)
			}
			ctx, db, conn := walkConn(t)
			loadWalkInputs(t, ctx, conn, edges, starts)
			if _, err := conn.ExecContext(ctx, "CREATE TEMP TABLE sql_walk AS\n"+walkSQL(t)); err != nil {
				t.Fatal(err)
			}
			if err := commitWalk(ctx, db, conn); err != nil {
				t.Fatal(err)
			}
			want, got := reached(t, ctx, conn, "sql_walk"), reached(t, ctx, conn, "int_commit_walk")
			if len(want) <= len(starts) {
				t.Fatalf("the SQL walk reached only %d pairs for %d walks: the graph is too thin to test anything", len(want), len(starts))
			}
			if strings.Join(got, " ") != strings.Join(want, " ") {
				t.Errorf("native walk differs from SQL: %d pairs against %d", len(got), len(want))
			}
		})
	}
}

// The walk takes its arrays' size from DuckDB's limit while it holds them
// and sets the exact limit back. The graph of TestCommitWalkByHand has 6
// edges, commit ids up to 6 and 5 walks starting at ids up to 5: start
// and seen hold 8 int32 each (ids 0..6 and one past), parent 6 int32,
// parentAt 6 int64, the walks 16 bytes each: 32 + 32 + 24 + 48 + 80 = 216
// bytes, and 64 MiB of slack: 67,109,080 bytes. From a 1 GB limit that
// leaves 932,890,920 bytes, which DuckDB shows as 889.6 MiB (889.675…,
// rounded down); 1 GB is 953.6 MiB.
func TestCommitWalkLowersMemoryLimit(t *testing.T) {
	ctx := context.Background()
	db, err := warehouse.Open(ctx, filepath.Join(t.TempDir(), "w.duckdb"), warehouse.Options{MemoryLimit: "1GB"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	conn, err := db.Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	edges := []edge{
		{2, 1, intp(100)}, {3, 2, intp(200)}, {4, 3, intp(300)},
		{5, 4, intp(400)}, {5, 6, intp(250)}, {6, 2, intp(200)},
	}
	starts := []start{{1, 5, intp(3), intp(300)}, {2, 5, nil, nil}, {3, 5, intp(2), nil}, {4, 3, nil, intp(150)}, {5, 1, nil, nil}}
	loadWalkInputs(t, ctx, conn, edges, starts)

	var sizes walkSizes
	var held string
	walkHeld = func(a *warehouse.ArrowConn) {
		var err error
		if sizes, err = readWalkSizes(ctx, a); err != nil {
			t.Error(err)
		}
		rdr, err := a.Query(ctx, "SELECT current_setting('memory_limit')")
		if err != nil {
			t.Error(err)
			return
		}
		defer rdr.Release()
		for rdr.Next() {
			// copied: the string shares the batch's memory, which DuckDB reuses
			held = strings.Clone(rdr.RecordBatch().Column(0).ValueStr(0))
		}
	}
	t.Cleanup(func() { walkHeld = nil })
	if err := commitWalk(ctx, db, conn); err != nil {
		t.Fatal(err)
	}
	if want := (walkSizes{edges: 6, maxID: 6, walks: 5, maxStart: 5}); sizes != want {
		t.Errorf("sizes %+v, want %+v", sizes, want)
	}
	if got := sizes.bytes(); got != 216 {
		t.Errorf("the arrays take %d bytes, want 216", got)
	}
	if held != "889.6 MiB" {
		t.Errorf("memory_limit while the walk held its arrays: %q, want 889.6 MiB", held)
	}
	var after string
	if err := conn.QueryRowContext(ctx, "SELECT current_setting('memory_limit')").Scan(&after); err != nil {
		t.Fatal(err)
	}
	if after != "953.6 MiB" {
		t.Errorf("memory_limit after the walk: %s, want 953.6 MiB", after)
	}
	want := "d-1:4 d-1:5 d-2:1 d-2:2 d-2:3 d-2:4 d-2:5 d-2:6 d-3:3 d-3:4 d-3:5 d-3:6 d-4:2 d-4:3 d-5:1"
	if got := strings.Join(reached(t, ctx, conn, "int_commit_walk"), " "); got != want {
		t.Errorf("walk:\n got %s\nwant %s", got, want)
	}
}

// The walk's rows reach its temporary table without touching anything the
// warehouse file logs: a transform's transaction on a file commits, and
// its write-ahead log never names the walk. (With an Arrow view, which the
// driver creates in the warehouse's schema, DuckDB 1.5 logged the view and
// its drop, and DuckDB 2.0 refused the commit: "Cannot serialize a table
// function with process-local bind input".)
func TestCommitWalkCommitsOnAFile(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "w.duckdb")
	db, err := warehouse.Open(ctx, path, warehouse.Options{})
	if err != nil {
		t.Fatal(err)
	}
	conn, err := db.Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range []string{"SET checkpoint_threshold = '1GB'", "BEGIN"} {
		if _, err := conn.ExecContext(ctx, s); err != nil {
			t.Fatal(err)
		}
	}
	loadWalkInputs(t, ctx, conn, []edge{{2, 1, intp(100)}, {3, 2, intp(200)}}, []start{{1, 3, nil, nil}, {2, 3, intp(2), nil}})
	if _, err := conn.ExecContext(ctx, "INSERT INTO teams (id, source) VALUES ('walkers', 'test')"); err != nil {
		t.Fatal(err)
	}
	if err := commitWalk(ctx, db, conn); err != nil {
		t.Fatal(err)
	}
	// walk 1 from 3 reaches 3, 2, 1; walk 2 from 3 stops at 2
	if got, want := strings.Join(reached(t, ctx, conn, "int_commit_walk"), " "), "d-1:1 d-1:2 d-1:3 d-2:3"; got != want {
		t.Errorf("walk:\n got %s\nwant %s", got, want)
	}
	if _, err := conn.ExecContext(ctx, "COMMIT"); err != nil {
		t.Fatalf("commit: %v", err)
	}
	wal, err := os.ReadFile(path + ".wal")
	if err != nil {
		t.Fatalf("the commit left no log to read (checkpointed?): %v", err)
	}
	if !bytes.Contains(wal, []byte("walkers")) {
		t.Fatal("the log does not hold the transaction's insert: it cannot tell what else was logged")
	}
	if bytes.Contains(wal, []byte("int_commit_walk")) {
		t.Error("the warehouse's log names the walk")
	}
	conn.Close()
	db.Close()
	db, err = warehouse.Open(ctx, path, warehouse.Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var n int
	if err := db.QueryRowContext(ctx, "SELECT count(*) FROM teams WHERE id = 'walkers'").Scan(&n); err != nil || n != 1 {
		t.Errorf("after reopening: %d teams named walkers, %v", n, err)
	}
}

// BenchmarkCommitWalk times the native walk alone on a generated graph of
// the 1/10 organisation's size: 840,000 commits in 50 linear histories
// with a merge every fifth commit, and 168,000 walks, each from a commit
// back to the one five before it (a deployment's commits since the
// previous deployment).
func BenchmarkCommitWalk(b *testing.B) {
	ctx := context.Background()
	db, err := warehouse.Open(ctx, filepath.Join(b.TempDir(), "w.duckdb"), warehouse.Options{MemoryLimit: "2GB"})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { db.Close() })
	conn, err := db.Conn(ctx)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { conn.Close() })
	for _, s := range []string{
		// commit c (1-based) of service s = (c-1) / 16800; its parent is
		// c-1 within the service, and every fifth commit also merges c-3
		`CREATE TEMP TABLE int_commit_parents AS
			SELECT c::INTEGER AS commit_id, p::INTEGER AS parent_id, to_timestamp(p * 60) AS parent_committed_at
			FROM (SELECT c, unnest(CASE WHEN c % 5 = 0 THEN [c - 1, c - 3] ELSE [c - 1] END) AS p
				FROM range(1, 840001) r(c) WHERE (c - 1) % 16800 > 2)`,
		`CREATE TEMP TABLE int_walk_starts AS
			SELECT w::INTEGER AS walk_id, 'd-' || w AS deployment_id, w::INTEGER AS dep_idx, 'svc' AS service,
				to_timestamp(w) AS finished_at, (5 * w)::INTEGER AS commit_id,
				CASE WHEN w % 3360 = 1 THEN NULL ELSE 5 * (w - 1) END::INTEGER AS stop_id, NULL::TIMESTAMPTZ AS bound
			FROM range(1, 168001) r(w)`,
	} {
		if _, err := conn.ExecContext(ctx, s); err != nil {
			b.Fatal(err)
		}
	}
	var rows int64
	for b.Loop() {
		if err := commitWalk(ctx, db, conn); err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	if err := conn.QueryRowContext(ctx, "SELECT count(*) FROM int_commit_walk").Scan(&rows); err != nil {
		b.Fatal(err)
	}
	b.ReportMetric(float64(rows), "pairs")
	b.ReportMetric(float64(rows)*float64(b.N)/b.Elapsed().Seconds(), "pairs/s")
}
