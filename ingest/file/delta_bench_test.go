package file

import (
	"bufio"
	"context"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/shiplog/shiplog/internal/warehouse"
)

// BenchmarkDeltaCrossover measures the two ways the loader logs its
// change to the digests (returningMax): on a warehouse holding N changes
// of the source, it loads batches of B changes (half replacing rows of
// the warehouse, half new, loaded once untimed first so that every timed
// load replaces B rows), three times each way, alternating, and reports
// the median seconds of each.
//
//	go test -tags duckdb_arrow -run '^$' -bench 'DeltaCrossover/rows=1000000/batch=(300|1000|10000)$' -benchtime 1x ./ingest/file
//
// (every size on the 1 M row warehouse alone took 15 minutes at load 5:
// the large batches summed in Go are slow, which is the point).
func BenchmarkDeltaCrossover(b *testing.B) {
	for _, n := range []int{1_000_000, 4_000_000} {
		b.Run(fmt.Sprintf("rows=%d", n), func(b *testing.B) { benchCrossover(b, n) })
	}
}

func benchCrossover(b *testing.B, existing int) {
	ctx := context.Background()
	dir := b.TempDir()
	db, err := warehouse.Open(ctx, filepath.Join(dir, "w.duckdb"), warehouse.Options{MemoryLimit: "2GB"})
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	_, err = db.ExecContext(ctx, fmt.Sprintf(`INSERT INTO changes (id, service, repo, title, author, commit_shas, first_commit_at, opened_at, merged_at, approvals, source)
		SELECT 'c-' || i, 'svc-' || (i %% 500), 'org/svc-' || (i %% 500), 'change ' || i, 'dev-' || (i %% 300), ['a' || i, 'b' || i],
			TIMESTAMPTZ '2025-01-01 00:00:00Z' + to_seconds(i), TIMESTAMPTZ '2025-01-01 01:00:00Z' + to_seconds(i),
			TIMESTAMPTZ '2025-01-02 00:00:00Z' + to_seconds(i), 1, 'file'
		FROM range(%d) r(i)`, existing))
	if err != nil {
		b.Fatal(err)
	}
	for _, size := range []int{300, 1_000, 3_000, 10_000, 30_000, 100_000, 1_000_000} {
		b.Run(fmt.Sprintf("batch=%d", size), func(b *testing.B) { benchBatch(b, db, dir, existing, size) })
	}
}

// benchBatch loads one size of batch both ways (see BenchmarkDeltaCrossover).
func benchBatch(b *testing.B, db *warehouse.DB, dir string, existing, size int) {
	ctx := context.Background()
	saved := returningMax
	defer func() { returningMax = saved }()
	{
		path := filepath.Join(dir, fmt.Sprintf("b%d.jsonl", size))
		f, err := os.Create(path)
		if err != nil {
			b.Fatal(err)
		}
		w := bufio.NewWriterSize(f, 1<<20)
		for i := 0; i < size; i++ {
			// even records replace a row of the warehouse (moved to
			// another service), odd ones are new
			id := fmt.Sprintf("c-%d", i*existing/size/2*2)
			if i%2 == 1 {
				id = fmt.Sprintf("n-%d-%d", size, i)
			}
			at := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC).Add(time.Duration(i) * time.Second).Format(time.RFC3339)
			fmt.Fprintf(w, `{"kind":"change","id":%q,"service":"svc-%d","repo":"org/svc-%d","title":"change %d","author":"dev-%d","commit_shas":["x%d"],"first_commit_at":%q,"opened_at":%q,"merged_at":%q,"approvals":2}`+"\n",
				id, (i+7)%500, (i+7)%500, i, i%300, i, at, at, at)
		}
		if err := w.Flush(); err != nil {
			b.Fatal(err)
		}
		f.Close()
		load := func(max int64) float64 {
			returningMax = max
			start := time.Now()
			res, err := Load(ctx, db, []string{path}, Options{})
			if err != nil {
				b.Fatal(err)
			}
			if res.Written != int64(size) {
				b.Fatalf("wrote %d, want %d", res.Written, size)
			}
			return time.Since(start).Seconds()
		}
		load(math.MaxInt64) // the new rows, once
		var scan, ret []float64
		for range 3 {
			scan = append(scan, load(0))
			ret = append(ret, load(math.MaxInt64))
		}
		slices.Sort(scan)
		slices.Sort(ret)
		b.Logf("rows=%d batch=%d: scanning %.3fs, returning %.3fs (medians of 3; scanning %v, returning %v)", existing, size, scan[1], ret[1], scan, ret)
		b.ReportMetric(scan[1], "scan_s")
		b.ReportMetric(ret[1], "returning_s")
	}
}
