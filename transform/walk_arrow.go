//go:build duckdb_arrow

package transform

import (
	"context"
	"database/sql"
	"fmt"
	"math"
	"sync"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/shiplog/shiplog/internal/warehouse"
)

func init() { natives["int_commit_walk"] = commitWalk }

// commitWalk builds int_commit_walk as int_commit_walk.sql defines it, but
// walks the commit graph in memory: the edges of int_commit_parents are read
// once as Arrow batches into adjacency arrays, each walk of int_walk_starts
// is a depth-first search that marks the commits it reached, and the
// (walk, commit) pairs go back to DuckDB as Arrow batches. The recursive
// query instead joins its whole frontier with every edge on each step and
// deduplicates all rows reached so far, which at millions of deployments is
// most of the transform's time.
func commitWalk(ctx context.Context, conn *sql.Conn) error {
	return warehouse.WithArrow(conn, func(a *warehouse.ArrowConn) error {
		g, err := readCommitGraph(ctx, a)
		if err != nil {
			return fmt.Errorf("int_commit_walk: %w", err)
		}
		walks, err := readWalkStarts(ctx, a)
		if err != nil {
			return fmt.Errorf("int_commit_walk: %w", err)
		}
		walkIDs, commitIDs := g.walkAll(walks, 2)
		rdr, err := int32PairReader("walk_id", "commit_id", walkIDs, commitIDs)
		if err != nil {
			return err
		}
		defer rdr.Release()
		const view = "int_commit_walk_reached"
		release, err := a.RegisterView(rdr, view)
		if err != nil {
			return fmt.Errorf("int_commit_walk: %w", err)
		}
		defer release()
		if err := a.Exec(ctx, `CREATE OR REPLACE TEMP TABLE int_commit_walk AS
			SELECT walk_id AS dep_idx, commit_id FROM `+view); err != nil {
			return fmt.Errorf("int_commit_walk: %w", err)
		}
		return a.Exec(ctx, "DROP VIEW IF EXISTS "+view)
	})
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

func readCommitGraph(ctx context.Context, a *warehouse.ArrowConn) (*commitGraph, error) {
	rdr, err := a.Query(ctx, `SELECT commit_id::INTEGER, parent_id::INTEGER, epoch_us(parent_committed_at)::BIGINT
		FROM int_commit_parents`)
	if err != nil {
		return nil, err
	}
	defer rdr.Release()
	var child, parent []int32
	var at []int64
	maxID := int32(0)
	for rdr.Next() {
		rec := rdr.RecordBatch()
		c, ok1 := rec.Column(0).(*array.Int32)
		p, ok2 := rec.Column(1).(*array.Int32)
		t, ok3 := rec.Column(2).(*array.Int64)
		if !ok1 || !ok2 || !ok3 {
			return nil, fmt.Errorf("int_commit_parents: unexpected column types %s", rec.Schema())
		}
		for i := 0; i < int(rec.NumRows()); i++ {
			if c.IsNull(i) || p.IsNull(i) {
				continue // the SQL join never matches a NULL id
			}
			ci, pi := c.Value(i), p.Value(i)
			if ci <= 0 || pi <= 0 {
				return nil, fmt.Errorf("int_commit_parents: commit id %d/%d is not positive", ci, pi)
			}
			child = append(child, ci)
			parent = append(parent, pi)
			if t.IsNull(i) {
				at = append(at, noTime)
			} else {
				at = append(at, t.Value(i))
			}
			maxID = max(maxID, ci, pi)
		}
	}
	if err := rdr.Err(); err != nil {
		return nil, err
	}
	// counting sort of the edges by child
	g := &commitGraph{start: make([]int32, int(maxID)+2), parent: make([]int32, len(child)), parentAt: make([]int64, len(child))}
	for _, c := range child {
		g.start[c+1]++
	}
	for i := 1; i < len(g.start); i++ {
		g.start[i] += g.start[i-1]
	}
	next := append([]int32(nil), g.start[:len(g.start)-1]...)
	for i, c := range child {
		j := next[c]
		next[c]++
		g.parent[j] = parent[i]
		g.parentAt[j] = at[i]
	}
	return g, nil
}

func readWalkStarts(ctx context.Context, a *warehouse.ArrowConn) ([]walkStart, error) {
	rdr, err := a.Query(ctx, `SELECT walk_id::INTEGER, commit_id::INTEGER, stop_id::INTEGER, epoch_us(bound)::BIGINT
		FROM int_walk_starts`)
	if err != nil {
		return nil, err
	}
	defer rdr.Release()
	var walks []walkStart
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
				continue // no walk without an id and a start (the SQL join drops it)
			}
			ws := walkStart{id: w.Value(i), commit: c.Value(i), bound: noTime}
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

// walkAll runs every walk, split over workers, and returns the reached
// (walk, commit) pairs, each once, starts included.
func (g *commitGraph) walkAll(walks []walkStart, workers int) (walkIDs, commitIDs []int32) {
	type part struct{ w, c []int32 }
	parts := make([]part, workers)
	var wg sync.WaitGroup
	per := (len(walks) + workers - 1) / workers
	for k := 0; k < workers; k++ {
		lo, hi := min(k*per, len(walks)), min((k+1)*per, len(walks))
		wg.Add(1)
		go func(k int, walks []walkStart) {
			defer wg.Done()
			seen := make([]int32, len(g.start)) // walk stamp per commit
			var stack []int32
			var p part
			for i, w := range walks {
				stamp := int32(i + 1)
				stack = append(stack[:0], w.commit)
				if int(w.commit) < len(seen) {
					seen[w.commit] = stamp
				}
				for len(stack) > 0 {
					c := stack[len(stack)-1]
					stack = stack[:len(stack)-1]
					p.w = append(p.w, w.id)
					p.c = append(p.c, c)
					if int(c)+1 >= len(g.start) {
						continue // no edges known for c
					}
					for j := g.start[c]; j < g.start[c+1]; j++ {
						par := g.parent[j]
						if par == w.stop || seen[par] == stamp {
							continue
						}
						if w.bound != noTime && (g.parentAt[j] == noTime || g.parentAt[j] < w.bound) {
							continue
						}
						seen[par] = stamp
						stack = append(stack, par)
					}
				}
			}
			parts[k] = p
		}(k, walks[lo:hi])
	}
	wg.Wait()
	for _, p := range parts {
		walkIDs = append(walkIDs, p.w...)
		commitIDs = append(commitIDs, p.c...)
	}
	return walkIDs, commitIDs
}

// int32PairReader serves two int32 columns as Arrow batches.
func int32PairReader(a, b string, x, y []int32) (array.RecordReader, error) {
	schema := arrow.NewSchema([]arrow.Field{
		{Name: a, Type: arrow.PrimitiveTypes.Int32},
		{Name: b, Type: arrow.PrimitiveTypes.Int32},
	}, nil)
	const batch = 1 << 17
	var recs []arrow.RecordBatch
	mem := memory.DefaultAllocator
	for lo := 0; lo < len(x); lo += batch {
		hi := min(lo+batch, len(x))
		bx, by := array.NewInt32Builder(mem), array.NewInt32Builder(mem)
		bx.AppendValues(x[lo:hi], nil)
		by.AppendValues(y[lo:hi], nil)
		ax, ay := bx.NewInt32Array(), by.NewInt32Array()
		recs = append(recs, array.NewRecordBatch(schema, []arrow.Array{ax, ay}, int64(hi-lo)))
		ax.Release()
		ay.Release()
		bx.Release()
		by.Release()
	}
	rdr, err := array.NewRecordReader(schema, recs)
	for _, r := range recs {
		r.Release()
	}
	return rdr, err
}
