package export

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/shiplog/shiplog/internal/warehouse"
)

// BenchmarkExport exports the organisation BenchmarkTransform generates
// (docs/benchmarks/metrics.md), from a copy of the warehouse it kept:
//
//	SHIPLOG_BENCH_SCALE=0.1 SHIPLOG_BENCH_DB=/tmp/bench.duckdb \
//	  go test -tags duckdb_arrow -run '^$' -bench BenchmarkTransform -benchtime 1x ./transform/
//	SHIPLOG_BENCH_DB=/tmp/bench.duckdb \
//	  go test -tags duckdb_arrow -run '^$' -bench BenchmarkExport -benchtime 1x ./export/
//
// Each run is a full Parquet export into a new folder, then (logged) an
// incremental run with nothing changed, a full CSV export, and the sizes
// against the warehouse file. SHIPLOG_BENCH_PROGRESS=1 prints each table's
// line. Without SHIPLOG_BENCH_DB the benchmark is skipped.
func BenchmarkExport(b *testing.B) {
	src := os.Getenv("SHIPLOG_BENCH_DB")
	if src == "" {
		b.Skip("SHIPLOG_BENCH_DB names no warehouse (see the comment)")
	}
	ctx := context.Background()
	dir := b.TempDir()
	path := filepath.Join(dir, "bench.duckdb")
	copyFile(b, src, path)
	st, err := os.Stat(src)
	if err != nil {
		b.Fatal(err)
	}
	dbBytes := st.Size()
	limit := "3GB"
	if v := os.Getenv("SHIPLOG_MEMORY_LIMIT"); v != "" {
		limit = v
	}
	db, err := warehouse.Open(ctx, path, warehouse.Options{MemoryLimit: limit})
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	var progress io.Writer
	if os.Getenv("SHIPLOG_BENCH_PROGRESS") != "" {
		progress = os.Stderr
	}
	load, _ := os.ReadFile("/proc/loadavg")
	b.Logf("load average before: %s", strings.TrimSpace(string(load)))
	v := testVersion(b)

	// The anchor: DuckDB writing each table to one zstd Parquet file, with
	// no partitions, hashes or manifest, in the same process and under the
	// same load, before and after the export.
	tables, err := Discover(ctx, db)
	if err != nil {
		b.Fatal(err)
	}
	anchor := func(n int) (time.Duration, time.Duration) {
		adir := filepath.Join(dir, fmt.Sprintf("anchor-%d", n))
		if err := os.Mkdir(adir, 0o755); err != nil {
			b.Fatal(err)
		}
		start, cpu := time.Now(), cpuTime()
		for _, t := range tables {
			if _, err := db.ExecContext(ctx, fmt.Sprintf("COPY (SELECT * FROM main.%s) TO %s (FORMAT parquet, COMPRESSION zstd)",
				warehouse.QuoteIdent(t.Name), warehouse.QuoteString(filepath.Join(adir, t.Name+".parquet")))); err != nil {
				b.Fatal(err)
			}
		}
		return time.Since(start), cpuTime() - cpu
	}
	b.StopTimer()
	before, beforeCPU := anchor(0)
	b.StartTimer()

	var m *Manifest
	cpu0 := cpuTime()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		res, err := Run(ctx, db, Options{Out: filepath.Join(dir, fmt.Sprintf("parquet-%d", i)), Progress: progress, Version: v})
		if err != nil {
			b.Fatal(err)
		}
		m = res.Manifest
	}
	b.StopTimer()
	elapsed := b.Elapsed() / time.Duration(b.N)
	cpuRun := (cpuTime() - cpu0) / time.Duration(b.N)
	after, afterCPU := anchor(1)
	b.Logf("anchor (one plain COPY per table: no partitions, hashes or manifest): %s before, %s after (CPU %s, %s)",
		before.Round(time.Millisecond), after.Round(time.Millisecond), beforeCPU.Round(time.Millisecond), afterCPU.Round(time.Millisecond))
	b.Logf("export/anchor: wall %.2f, CPU %.2f", float64(elapsed)/float64((before+after)/2), float64(cpuRun)/float64((beforeCPU+afterCPU)/2))
	b.ReportMetric(float64(m.Bytes)/1e6, "MB")
	b.ReportMetric(float64(m.Bytes)/float64(dbBytes), "size/db")
	b.Logf("parquet: %d tables, %d rows, %s of files against a %s warehouse file (%.2f×); CPU per run %s; peak RSS %s",
		len(m.Tables), m.Rows, humanBytes(m.Bytes), humanBytes(dbBytes), float64(m.Bytes)/float64(dbBytes),
		cpuRun.Round(time.Millisecond), vmHWM())
	// per table on stderr: the benchmark log keeps ten lines only
	for _, t := range m.Tables {
		fmt.Fprintf(os.Stderr, "  %-24s %10d rows %4d partitions %10s\n", t.Name, t.Rows, len(t.Partitions), humanBytes(t.Bytes))
	}

	start, cpu := time.Now(), cpuTime()
	res, err := Run(ctx, db, Options{Out: filepath.Join(dir, fmt.Sprintf("parquet-%d", b.N-1)), Since: "last", Version: v})
	if err != nil {
		b.Fatal(err)
	}
	b.Logf("incremental, nothing changed: %s, CPU %s (%d partitions kept, %d written)",
		time.Since(start).Round(time.Millisecond), (cpuTime() - cpu).Round(time.Millisecond), res.Kept, res.Written)

	start, cpu = time.Now(), cpuTime()
	res, err = Run(ctx, db, Options{Out: filepath.Join(dir, "csv"), Format: "csv", Version: v})
	if err != nil {
		b.Fatal(err)
	}
	b.Logf("csv: %s, CPU %s, %s of files (%.2f× the warehouse file)", time.Since(start).Round(time.Millisecond),
		(cpuTime() - cpu).Round(time.Millisecond), humanBytes(res.Manifest.Bytes), float64(res.Manifest.Bytes)/float64(dbBytes))
	load, _ = os.ReadFile("/proc/loadavg")
	b.Logf("load average after: %s", strings.TrimSpace(string(load)))
}

func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func vmHWM() string {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return "?"
	}
	for _, line := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(line, "VmHWM:") {
			return strings.TrimSpace(strings.TrimPrefix(line, "VmHWM:"))
		}
	}
	return "?"
}
