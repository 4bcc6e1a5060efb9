//go:build duckdb_arrow

package transform

import (
	"context"
	"database/sql"
	"fmt"
	"math"
	"runtime"
	"runtime/debug"

	"github.com/apache/arrow-go/v18/arrow/array"

	"github.com/shiplog/shiplog/internal/warehouse"
)

func init() { natives["int_commit_walk"] = commitWalk }

// commitWalk builds int_commit_walk as int_commit_walk.sql defines it, but
// walks the commit graph in memory: the edges of int_commit_parents are read
// as Arrow batches into adjacency arrays sized exactly (a count, then the
// edges per commit, then the edges), each walk of int_walk_starts is a
// depth-first search that marks the commits it reached, and the (walk,
// commit) pairs go back to DuckDB through a table function that walks as
// DuckDB reads it (ArrowConn.CreateTempTable). The recursive query instead joins its whole frontier with every
// edge on each step and deduplicates all rows reached so far, which at
// millions of deployments was most of the transform's time.
//
// The arrays live in Go, beside DuckDB's buffer pool, which does not shrink
// by itself: at 3× size (25 M commits, 5 M walks) they are about 0.6 GB,
// and they pushed a transform over a 4 GiB container's memory. So their
// size is worked out before they are made, DuckDB's memory_limit is
// lowered by it while they live (DuckDB evicts or spills to make room) and
// set back to the exact configured value afterwards, and Go's own memory
// limit holds the walk's garbage (the Arrow batches of the graph DuckDB
// hands over) to a small margin above the arrays, where GOGC alone would let the heap grow
// to twice them before collecting. Walking in chunks of commits was the
// other way considered: a walk crosses any chunk boundary, so each chunk
// would need the walks' frontiers carried between passes over the edges,
// several reads of int_commit_parents instead of one, for memory that
// lowering the limit already accounts for.
func commitWalk(ctx context.Context, db *warehouse.DB, conn *sql.Conn) error {
	err := warehouse.WithArrow(conn, func(a *warehouse.ArrowConn) (err error) {
		sz, err := readWalkSizes(ctx, a)
		if err != nil {
			return fmt.Errorf("int_commit_walk: %w", err)
		}
		need := sz.bytes() + walkSlack
		restore, _, lerr := db.LowerMemoryLimit(ctx, a.Exec, need)
		if lerr != nil {
			// DuckDB could not evict enough to lower its limit: walk
			// anyway, as before, with the limit as it was.
			restore = func() error { return nil }
		}
		defer func() {
			if rerr := restore(); rerr != nil && err == nil {
				err = fmt.Errorf("int_commit_walk: %w", rerr)
			}
		}()
		var ms runtime.MemStats
		runtime.ReadMemStats(&ms)
		goLimit := debug.SetMemoryLimit(int64(ms.Sys-ms.HeapReleased) + need)
		defer debug.SetMemoryLimit(goLimit)
		return walkInto(ctx, a, sz)
	})
	// The graph is garbage now; hand its memory back before the big joins
	// that follow, so that it does not add to their peak. (The deferred
	// restore above ran first: DuckDB may grow back only into memory the
	// walk has given up, which FreeOSMemory returns at once.)
	debug.FreeOSMemory()
	return err
}

// walkSlack is the room, above the arrays, for what the walk allocates as
// it goes: the pairs of the walk being handed over, the search's stack,
// the batches DuckDB hands over while the graph is read.
const walkSlack = 64 << 20

// walkSizes are the counts the walk's arrays are sized by.
type walkSizes struct {
	edges    int64 // edges of int_commit_parents with both ends
	maxID    int32 // largest commit id among them
	walks    int64 // rows of int_walk_starts
	maxStart int32 // largest commit id a walk starts at
}

// bytes is what the walk holds in Go: the graph's arrays (start, parent,
// parentAt), the walks and the walk reader's marks (seen).
func (s walkSizes) bytes() int64 {
	commits := int64(max(s.maxID, s.maxStart)) + 2
	return 4*commits + 12*s.edges + 16*s.walks + 4*commits
}

func readWalkSizes(ctx context.Context, a *warehouse.ArrowConn) (walkSizes, error) {
	var s walkSizes
	err := scanInt32s(ctx, a, `SELECT count(*)::INTEGER, coalesce(max(greatest(commit_id, parent_id)), 0)::INTEGER
		FROM int_commit_parents WHERE commit_id IS NOT NULL AND parent_id IS NOT NULL`, func(v []int32) {
		s.edges, s.maxID = int64(v[0]), v[1]
	})
	if err != nil {
		return s, err
	}
	err = scanInt32s(ctx, a, `SELECT count(*)::INTEGER, coalesce(max(commit_id), 0)::INTEGER FROM int_walk_starts`, func(v []int32) {
		s.walks, s.maxStart = int64(v[0]), v[1]
	})
	return s, err
}

// walkHeld, when a test sets it, is called while the walk holds its
// arrays (to read DuckDB's limit then).
var walkHeld func(a *warehouse.ArrowConn)

// walkInto reads the graph and the walks and writes int_commit_walk.
func walkInto(ctx context.Context, a *warehouse.ArrowConn, sz walkSizes) error {
	g, err := readCommitGraph(ctx, a, sz)
	if err != nil {
		return fmt.Errorf("int_commit_walk: %w", err)
	}
	walks, err := readWalkStarts(ctx, a, sz.walks)
	if err != nil {
		return fmt.Errorf("int_commit_walk: %w", err)
	}
	if walkHeld != nil {
		walkHeld(a)
	}
	if err := a.CreateTempTable(ctx, "int_commit_walk", newWalkReader(g, walks)); err != nil {
		return fmt.Errorf("int_commit_walk: %w", err)
	}
	return nil
}

// noTime stands for a NULL commit time: it passes no time bound.
const noTime = math.MinInt64

// commitGraph holds parent edges in compressed rows: the parents of commit c
// are parent[start[c]:start[c+1]], with the parent's commit time (µs) in
// parentAt.
type commitGraph struct {
	start    []int32
	parent   []int32
	parentAt []int64
}

type walkStart struct {
	id, commit, stop int32 // stop 0: none
	bound            int64 // noTime: none
}

func readCommitGraph(ctx context.Context, a *warehouse.ArrowConn, sz walkSizes) (*commitGraph, error) {
	// sized by the counts, so that the arrays are allocated once and exactly
	edges, maxID := sz.edges, sz.maxID
	g := &commitGraph{start: make([]int32, int(maxID)+2), parent: make([]int32, edges), parentAt: make([]int64, edges)}
	// pass 1: edges per child into start[c+1], summed so that start[c] is
	// where c's edges begin; pass 2 fills c's slots using start[c] as the
	// cursor, which leaves it at c's end (c+1's beginning), so one shift
	// back restores the beginnings: no second array of cursors.
	if err := scanInt32s(ctx, a, `SELECT commit_id::INTEGER FROM int_commit_parents
		WHERE commit_id IS NOT NULL AND parent_id IS NOT NULL`, func(v []int32) {
		if v[0] > 0 && v[0] <= maxID {
			g.start[v[0]+1]++
		}
	}); err != nil {
		return nil, err
	}
	for i := 1; i < len(g.start); i++ {
		g.start[i] += g.start[i-1]
	}
	rdr, err := a.Query(ctx, `SELECT commit_id::INTEGER, parent_id::INTEGER, epoch_us(parent_committed_at)::BIGINT
		FROM int_commit_parents WHERE commit_id IS NOT NULL AND parent_id IS NOT NULL`)
	if err != nil {
		return nil, err
	}
	defer rdr.Release()
	var seen int64
	for rdr.Next() {
		rec := rdr.RecordBatch()
		c, ok1 := rec.Column(0).(*array.Int32)
		p, ok2 := rec.Column(1).(*array.Int32)
		t, ok3 := rec.Column(2).(*array.Int64)
		if !ok1 || !ok2 || !ok3 {
			return nil, fmt.Errorf("int_commit_parents: unexpected column types %s", rec.Schema())
		}
		for i := 0; i < int(rec.NumRows()); i++ {
			ci, pi := c.Value(i), p.Value(i)
			if ci <= 0 || pi <= 0 || ci > maxID || pi > maxID || seen == edges {
				return nil, fmt.Errorf("int_commit_parents changed while it was read, or holds commit id %d/%d", ci, pi)
			}
			j := g.start[ci]
			g.start[ci]++
			g.parent[j] = pi
			if t.IsNull(i) {
				g.parentAt[j] = noTime
			} else {
				g.parentAt[j] = t.Value(i)
			}
			seen++
		}
	}
	if err := rdr.Err(); err != nil {
		return nil, err
	}
	if seen != edges {
		return nil, fmt.Errorf("int_commit_parents: read %d edges, counted %d", seen, edges)
	}
	copy(g.start[1:], g.start[:len(g.start)-1])
	g.start[0] = 0
	return g, nil
}

// scanInt32s calls f with each row of an all-INTEGER (never NULL) result.
func scanInt32s(ctx context.Context, a *warehouse.ArrowConn, query string, f func([]int32)) error {
	rdr, err := a.Query(ctx, query)
	if err != nil {
		return err
	}
	defer rdr.Release()
	var row []int32
	for rdr.Next() {
		rec := rdr.RecordBatch()
		cols := make([]*array.Int32, rec.NumCols())
		for k := range cols {
			c, ok := rec.Column(k).(*array.Int32)
			if !ok {
				return fmt.Errorf("unexpected column types %s", rec.Schema())
			}
			cols[k] = c
		}
		for i := 0; i < int(rec.NumRows()); i++ {
			row = row[:0]
			for _, c := range cols {
				row = append(row, c.Value(i))
			}
			f(row)
		}
	}
	return rdr.Err()
}

func readWalkStarts(ctx context.Context, a *warehouse.ArrowConn, n int64) ([]walkStart, error) {
	rdr, err := a.Query(ctx, `SELECT walk_id::INTEGER, commit_id::INTEGER, stop_id::INTEGER, epoch_us(bound)::BIGINT
		FROM int_walk_starts`)
	if err != nil {
		return nil, err
	}
	defer rdr.Release()
	walks := make([]walkStart, 0, n)
	for rdr.Next() {
		rec := rdr.RecordBatch()
		w, ok1 := rec.Column(0).(*array.Int32)
		c, ok2 := rec.Column(1).(*array.Int32)
		s, ok3 := rec.Column(2).(*array.Int32)
		b, ok4 := rec.Column(3).(*array.Int64)
		if !ok1 || !ok2 || !ok3 || !ok4 {
			return nil, fmt.Errorf("int_walk_starts: unexpected column types %s", rec.Schema())
		}
		for i := 0; i < int(rec.NumRows()); i++ {
			if w.IsNull(i) || c.IsNull(i) {
				continue // never the case: every commit_graph deployment has both
			}
			ws := walkStart{id: w.Value(i), commit: c.Value(i), bound: noTime}
			if ws.commit <= 0 {
				return nil, fmt.Errorf("int_walk_starts: walk %d starts at commit id %d", ws.id, ws.commit)
			}
			if !s.IsNull(i) {
				ws.stop = s.Value(i)
			}
			if !b.IsNull(i) {
				ws.bound = b.Value(i)
			}
			walks = append(walks, ws)
		}
	}
	return walks, rdr.Err()
}

// walkReader runs the walks as DuckDB reads the rows, so that the reached
// pairs never sit in memory all at once: each Fill runs the next walks
// until the chunk DuckDB asked for is full, and keeps the rest of the last
// walk for the next one. A commit is marked with the number of the walk
// that reached it (seen), so no walk clears anything.
type walkReader struct {
	g     *commitGraph
	walks []walkStart
	next  int
	seen  []int32
	stack []int32
	id    int32   // the last walk's id
	pc    []int32 // its commits not yet handed over, from pos
	pos   int
}

var _ warehouse.Int32Rows = (*walkReader)(nil)

func newWalkReader(g *commitGraph, walks []walkStart) *walkReader {
	n := len(g.start)
	for _, w := range walks {
		n = max(n, int(w.commit)+1)
	}
	return &walkReader{g: g, walks: walks, seen: make([]int32, n)}
}

// Columns are int_commit_walk's.
func (r *walkReader) Columns() []string { return []string{"dep_idx", "commit_id"} }

// Fill hands over the pairs of the next walks: the walk's id, the commit.
func (r *walkReader) Fill(cols [][]int32) (int, error) {
	w, c := cols[0], cols[1]
	k := 0
	for k < len(w) {
		if r.pos == len(r.pc) {
			if r.next == len(r.walks) {
				break
			}
			r.pc, r.pos = r.pc[:0], 0
			r.walk(r.next)
			r.next++
			continue
		}
		n := copy(c[k:], r.pc[r.pos:])
		for j := k; j < k+n; j++ {
			w[j] = r.id
		}
		r.pos += n
		k += n
	}
	return k, nil
}

// walk appends the commits walk i reaches, its start included, each once.
func (r *walkReader) walk(i int) {
	g, w := r.g, r.walks[i]
	stamp := int32(i + 1)
	r.id = w.id
	r.stack = append(r.stack[:0], w.commit)
	r.seen[w.commit] = stamp
	for len(r.stack) > 0 {
		c := r.stack[len(r.stack)-1]
		r.stack = r.stack[:len(r.stack)-1]
		r.pc = append(r.pc, c)
		if int(c)+1 >= len(g.start) {
			continue // no edges known for c
		}
		for j := g.start[c]; j < g.start[c+1]; j++ {
			par := g.parent[j]
			if par == w.stop || r.seen[par] == stamp {
				continue
			}
			if w.bound != noTime && g.parentAt[j] < w.bound {
				continue // older than the bound, or no time (noTime)
			}
			r.seen[par] = stamp
			r.stack = append(r.stack, par)
		}
	}
}
