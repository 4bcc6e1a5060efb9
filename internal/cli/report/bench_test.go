package report

import (
	"context"
	"testing"
	"time"

	"github.com/shiplog/shiplog/internal/config"
	"github.com/shiplog/shiplog/internal/fixture"
	"github.com/shiplog/shiplog/reports"
)

// BenchmarkReportAll writes every report (leadership with a page per team,
// retrospective, audit, index) for the last quarter of the warehouse named
// by SHIPLOG_BENCH_DB (one that BenchmarkTransform in package transform
// kept: 2025-10-01 to 2026-01-01), as `shiplog report all` does, minus
// opening the file once. Without SHIPLOG_BENCH_DB it is skipped.
func BenchmarkReportAll(b *testing.B) {
	db := fixture.BenchWarehouse(b)
	ctx := context.Background()
	now := time.Date(2026, 1, 2, 0, 0, 0, 0, time.UTC)
	data := WarehouseData(db, config.Default(), func() time.Time { return now })
	opts := reports.Options{
		From: time.Date(2025, 10, 1, 0, 0, 0, 0, time.UTC),
		To:   time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC),
		Now:  now,
	}
	for i := 0; i < b.N; i++ {
		opts.Out = b.TempDir()
		res, err := reports.Write(ctx, data, opts, reports.Kinds...)
		if err != nil {
			b.Fatal(err)
		}
		if len(res.Files) < 5 {
			b.Fatalf("only %d files", len(res.Files))
		}
	}
}
