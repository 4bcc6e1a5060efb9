package pagerduty_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/shiplog/shiplog/ingest"
	"github.com/shiplog/shiplog/ingest/pagerduty"
	"github.com/shiplog/shiplog/internal/warehouse"
)

// benchFake serves n resolved incidents shaped like PT4KHLK (priority
// object, six overview log entries each), created one minute apart from
// 1 January 2026.
func benchFake(b *testing.B, n int) *fakePagerDuty {
	f := newFake(b)
	tmpl := string(f.incidents["PT4KHLK"])
	var logs []map[string]any
	for _, e := range f.logs["PT4KHLK"] {
		var m map[string]any
		json.Unmarshal(e, &m)
		logs = append(logs, m)
	}
	f.incidents, f.logs = map[string]json.RawMessage{}, map[string][]json.RawMessage{}
	base := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	for i := range n {
		id := fmt.Sprintf("PB%05d", i)
		at := base.Add(time.Duration(i) * time.Minute)
		s := strings.ReplaceAll(tmpl, "PT4KHLK", id)
		s = strings.ReplaceAll(s, "2026-03-02T09:00:00Z", at.Format(time.RFC3339))
		s = strings.ReplaceAll(s, "2026-03-02T10:15:00Z", at.Add(75*time.Minute).Format(time.RFC3339))
		f.incidents[id] = json.RawMessage(s)
		for j, m := range logs {
			m["id"], m["created_at"] = fmt.Sprintf("R%s%d", id, j), at.Add(time.Duration(j)*time.Minute).Format(time.RFC3339)
			bb, _ := json.Marshal(m)
			f.logs[id] = append(f.logs[id], bb)
		}
	}
	return f
}

// BenchmarkSync5k measures a first sync of 5,000 incidents (50 pages and
// 5,000 log entry requests, 4 at a time) into an empty warehouse, mapping
// included, and a re-sync that finds nothing changed. See
// docs/benchmarks/pagerduty.md.
func BenchmarkSync5k(b *testing.B) {
	const n = 5000
	f := benchFake(b, n)
	cfg := &pagerduty.Config{APIURL: f.srv.URL, Since: "2026-01-01"}
	now := func() time.Time { return time.Date(2026, 3, 10, 0, 0, 0, 0, time.UTC) }
	getenv := func(string) string { return testToken }
	ctx := context.Background()
	env := func(db *warehouse.DB) *ingest.Env {
		return &ingest.Env{DB: db, Run: &ingest.RunRecord{}, Progress: io.Discard, Now: now, State: &ingest.State{DB: db, Source: pagerduty.Name, Now: now}}
	}
	check := func(db *warehouse.DB) {
		var got int
		if err := db.QueryRow(`SELECT count(*) FROM incidents WHERE source = 'pagerduty' AND acknowledged_at IS NOT NULL`).Scan(&got); err != nil || got != n {
			b.Fatalf("incidents = %d (%v), want %d", got, err, n)
		}
	}
	b.Run("first", func(b *testing.B) {
		var reqs int64
		for b.Loop() {
			b.StopTimer()
			db, err := warehouse.OpenMemory(ctx)
			if err != nil {
				b.Fatal(err)
			}
			src, _ := pagerduty.New(cfg, getenv, pagerduty.WithClock(now))
			b.StartTimer()
			if err := src.Sync(ctx, env(db)); err != nil {
				b.Fatal(err)
			}
			b.StopTimer()
			reqs = src.Stats().Requests
			check(db)
			db.Close()
			b.StartTimer()
		}
		b.ReportMetric(float64(reqs), "requests/op")
	})
	b.Run("resync", func(b *testing.B) {
		db, err := warehouse.OpenMemory(ctx)
		if err != nil {
			b.Fatal(err)
		}
		defer db.Close()
		src, _ := pagerduty.New(cfg, getenv, pagerduty.WithClock(now))
		if err := src.Sync(ctx, env(db)); err != nil {
			b.Fatal(err)
		}
		var reqs int64
		for b.Loop() {
			src, _ := pagerduty.New(cfg, getenv, pagerduty.WithClock(now))
			if err := src.Sync(ctx, env(db)); err != nil {
				b.Fatal(err)
			}
			reqs = src.Stats().Requests
		}
		check(db)
		b.ReportMetric(float64(reqs), "requests/op")
	})
}
