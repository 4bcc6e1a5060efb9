package coverage

import (
	"context"
	"testing"
	"time"

	"github.com/shiplog/shiplog/internal/fixture"
	"github.com/shiplog/shiplog/internal/output"
)

// BenchmarkLoad reads the coverage of the warehouse SHIPLOG_BENCH_DB names
// (skipped without it): one pass over every canonical table, per source,
// kind and day, and the ingest ledger.
func BenchmarkLoad(b *testing.B) {
	db := fixture.BenchWarehouse(b)
	q := output.DB(db)
	now := time.Now()
	for b.Loop() {
		if _, err := Load(context.Background(), q, now, DefaultStaleAfter); err != nil {
			b.Fatal(err)
		}
	}
}
