package cdevents_test

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/shiplog/shiplog/ingest"
	"github.com/shiplog/shiplog/ingest/cdevents"
)

// benchLines makes n events from the spec examples: per service and hour a
// deployment, its pipeline run, and every fifth hour an incident detected
// and resolved; 50 services.
func benchLines(b testing.TB, n int) []string {
	base := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	var out []string
	for i := 0; len(out) < n; i++ {
		at := base.Add(time.Duration(i) * time.Hour)
		svc := fmt.Sprintf("service/svc-%02d", i%50)
		chain := fmt.Sprintf("chain-%d", i)
		out = append(out, mustJSON(structured(spec(b, "service_deployed", map[string]any{"context.id": fmt.Sprintf("d-%d", i),
			"context.chainId": chain, "context.timestamp": at.Format(time.RFC3339), "subject.id": svc,
			"subject.content.artifactId": fmt.Sprintf("pkg:golang/example.com/acme/svc@%07xab", i)}))))
		out = append(out, mustJSON(structured(spec(b, "pipelinerun_finished", map[string]any{"context.id": fmt.Sprintf("p-%d", i),
			"context.chainId": chain, "context.timestamp": at.Add(5 * time.Minute).Format(time.RFC3339), "subject.content.outcome": "success"}))))
		if i%5 == 0 {
			out = append(out, mustJSON(structured(spec(b, "incident_detected", map[string]any{"context.id": fmt.Sprintf("i-%d", i),
				"subject.id": fmt.Sprintf("inc-%d", i), "context.timestamp": at.Add(time.Hour).Format(time.RFC3339)}))))
			out = append(out, mustJSON(structured(spec(b, "incident_resolved", map[string]any{"context.id": fmt.Sprintf("r-%d", i),
				"subject.id": fmt.Sprintf("inc-%d", i), "context.timestamp": at.Add(2 * time.Hour).Format(time.RFC3339)}))))
		}
	}
	return out[:n]
}

// BenchmarkIngest10k loads a file of 10,000 events (schema checks, storing
// and mapping) into an empty warehouse, then measures single-event
// deliveries into that warehouse, as `serve` stores one binary-mode
// request (keyed mapping now; BenchmarkDelivery compares it with mapping
// all stored events again, as this figure measured before). See
// docs/benchmarks/cdevents.md.
func BenchmarkIngest10k(b *testing.B) {
	const n = 10000
	lines := benchLines(b, n)
	path := filepath.Join(b.TempDir(), "events.jsonl")
	if err := os.WriteFile(path, []byte(strings.Join(lines, "\n")+"\n"), 0o644); err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	b.Run("file", func(b *testing.B) {
		for b.Loop() {
			b.StopTimer()
			db := openDB(b)
			src, _ := cdevents.New(nil, cdevents.WithFiles(path))
			b.StartTimer()
			if err := src.Sync(ctx, &ingest.Env{DB: db, Run: &ingest.RunRecord{}, Progress: &bytes.Buffer{}}); err != nil {
				b.Fatal(err)
			}
			b.StopTimer()
			if src.Written != n {
				b.Fatalf("wrote %d events, want %d", src.Written, n)
			}
			db.Close()
			b.StartTimer()
		}
		b.ReportMetric(float64(n)/b.Elapsed().Seconds()*float64(b.N), "events/s")
	})
	b.Run("delivery", func(b *testing.B) {
		db := openDB(b)
		src, _ := cdevents.New(nil, cdevents.WithFiles(path))
		if err := src.Sync(ctx, &ingest.Env{DB: db, Run: &ingest.RunRecord{}, Progress: &bytes.Buffer{}}); err != nil {
			b.Fatal(err)
		}
		i := 0
		for b.Loop() {
			i++
			evs, err := cdevents.ReadLines(strings.NewReader(mustJSON(structured(spec(b, "service_deployed", map[string]any{
				"context.id": fmt.Sprintf("x-%d", i), "context.timestamp": "2027-01-01T00:00:00Z"})))), "bench")
			if err != nil {
				b.Fatal(err)
			}
			keep, _, err := src.Validator().Accepted(evs)
			if err != nil {
				b.Fatal(err)
			}
			if k, err := src.StoreEvents(ctx, db, keep); err != nil || k != 1 {
				b.Fatalf("stored %d (%v)", k, err)
			}
		}
	})
}

// BenchmarkDelivery measures one service.deployed delivery into 10,000 and
// 100,000 stored events (benchLines, loaded once per size): "full" maps
// every stored event again, as every delivery did before keyed mapping
// (the anchor, measured on the same warehouse in the same run); "keyed" is
// what StoreEvents does now. Each delivery is timed alone; median-ms is
// the median of the b.N deliveries (run with -benchtime 3x or more). See
// docs/benchmarks/cdevents.md.
func BenchmarkDelivery(b *testing.B) {
	ctx := context.Background()
	for _, n := range []int{10000, 100000} {
		b.Run(fmt.Sprintf("stored=%d", n), func(b *testing.B) {
			path := filepath.Join(b.TempDir(), "events.jsonl")
			if err := os.WriteFile(path, []byte(strings.Join(benchLines(b, n), "\n")+"\n"), 0o644); err != nil {
				b.Fatal(err)
			}
			db := openDB(b)
			load, _ := cdevents.New(nil, cdevents.WithFiles(path))
			if err := load.Sync(ctx, &ingest.Env{DB: db, Run: &ingest.RunRecord{}, Progress: &bytes.Buffer{}}); err != nil {
				b.Fatal(err)
			}
			i := 0
			for _, mode := range []string{"full", "keyed"} {
				b.Run(mode, func(b *testing.B) {
					src, _ := cdevents.New(nil)
					if mode == "full" {
						cdevents.MapFull(src)
					}
					var took []time.Duration
					for b.Loop() {
						i++
						evs, err := cdevents.ReadLines(strings.NewReader(mustJSON(structured(spec(b, "service_deployed", map[string]any{
							"context.id": fmt.Sprintf("x-%d", i), "context.chainId": fmt.Sprintf("x-chain-%d", i),
							"subject.id":        fmt.Sprintf("service/svc-%02d", i%50),
							"context.timestamp": time.Date(2027, 1, 1, i, 0, 0, 0, time.UTC).Format(time.RFC3339)})))), "bench")
						if err != nil {
							b.Fatal(err)
						}
						keep, _, err := src.Validator().Accepted(evs)
						if err != nil {
							b.Fatal(err)
						}
						start := time.Now()
						if k, err := src.StoreEvents(ctx, db, keep); err != nil || k != 1 {
							b.Fatalf("stored %d (%v)", k, err)
						}
						took = append(took, time.Since(start))
					}
					sort.Slice(took, func(i, j int) bool { return took[i] < took[j] })
					b.ReportMetric(float64(took[len(took)/2].Microseconds())/1000, "median-ms")
				})
			}
		})
	}
}
