package metrics_test

import (
	"context"
	"testing"
	"time"

	"github.com/shiplog/shiplog/internal/config"
	"github.com/shiplog/shiplog/internal/fixture"
	"github.com/shiplog/shiplog/metrics"
)

// leadershipFilters are the tables the leadership report asks for when
// it covers the last quarter of the generated organisation (2025-10-01 to
// 2026-01-01): teams, organisation and services for the quarter and the
// one before, and the twelve months to 2026-01-01 by month for the
// organisation and the teams.
func leadershipFilters() []metrics.Filter {
	d := func(y int, m time.Month) time.Time { return time.Date(y, m, 1, 0, 0, 0, 0, time.UTC) }
	q, next, prev, year := d(2025, 10), d(2026, 1), d(2025, 7), d(2025, 1)
	return []metrics.Filter{
		{Level: "team", From: q, To: next},
		{Level: "org", From: q, To: next},
		{Level: "service", From: q, To: next},
		{Level: "team", From: prev, To: q},
		{Level: "org", From: prev, To: q},
		{Level: "service", From: prev, To: q},
		{Level: "org", From: year, To: next, By: "month"},
		{Level: "team", From: year, To: next, By: "month"},
	}
}

// BenchmarkLeadershipMetrics answers the leadership report's metrics from
// the warehouse named by SHIPLOG_BENCH_DB (one that BenchmarkTransform in
// package transform kept), in one ComputeMany call and filter by filter.
// Without SHIPLOG_BENCH_DB it is skipped.
func BenchmarkLeadershipMetrics(b *testing.B) {
	db := fixture.BenchWarehouse(b)
	ctx := context.Background()
	cfg := config.Default()
	fs := leadershipFilters()
	b.Run("batch", func(b *testing.B) {
		for i := 0; i < b.N; i++ {
			ts, err := metrics.ComputeMany(ctx, db, cfg, fs)
			if err != nil {
				b.Fatal(err)
			}
			if len(ts[2].Rows) == 0 {
				b.Fatal("no service rows for the quarter")
			}
		}
	})
	b.Run("one-by-one", func(b *testing.B) {
		for i := 0; i < b.N; i++ {
			for _, f := range fs {
				if _, err := metrics.Compute(ctx, db, cfg, f); err != nil {
					b.Fatal(err)
				}
			}
		}
	})
}
