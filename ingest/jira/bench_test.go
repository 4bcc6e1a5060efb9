package jira

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/shiplog/shiplog/ingest"
	"github.com/shiplog/shiplog/internal/config"
	"github.com/shiplog/shiplog/internal/warehouse"
)

// benchIssues makes n incidents shaped like OPS-1 (fields, custom fields,
// a two-entry changelog), created and updated one minute apart.
func benchIssues(b *testing.B, n int) []json.RawMessage {
	tmpl := string(readArray(b, "incidents.json")[0])
	base := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	out := make([]json.RawMessage, n)
	for i := range n {
		t := base.Add(time.Duration(i) * time.Minute).Format(jiraTime)
		s := strings.Replace(tmpl, `"key": "OPS-1"`, fmt.Sprintf(`"key": "OPS-%d"`, i+1), 1)
		s = strings.Replace(s, `"id": "10001"`, fmt.Sprintf(`"id": "%d"`, 100000+i), 1)
		s = strings.Replace(s, `"created": "2024-03-04T10:00:00.000+0100"`, `"created": "`+t+`"`, 1)
		s = strings.Replace(s, `"updated": "2024-03-04T11:31:00.000+0100"`, `"updated": "`+t+`"`, 1)
		out[i] = json.RawMessage(s)
	}
	return out
}

// BenchmarkSync10k measures a first sync of 10,000 issues (100 pages of
// 100) into an empty warehouse, mapping included, and a re-sync that
// finds only the issues inside the overlap. See docs/benchmarks/jira.md.
func BenchmarkSync10k(b *testing.B) {
	const n = 10000
	fake := newFake(b, "datacenter")
	fake.issues["OPS"] = benchIssues(b, n)
	srv := fake.start()
	cfg := &config.Jira{URL: srv.URL, Flavor: "datacenter",
		Incidents: &config.JiraIncidents{JQL: "project = OPS", SeverityField: "customfield_10020"}}
	now := func() time.Time { return time.Date(2024, 3, 1, 0, 0, 0, 0, time.UTC) }
	ctx := context.Background()
	newEnv := func(db *warehouse.DB) *ingest.Env {
		return &ingest.Env{DB: db, Run: &ingest.RunRecord{}, State: &ingest.State{DB: db, Source: Name, Now: now}, Progress: io.Discard, Now: now}
	}
	check := func(db *warehouse.DB, want int) {
		var got int
		if err := db.QueryRow(`SELECT count(*) FROM incidents WHERE source = 'jira'`).Scan(&got); err != nil || got != want {
			b.Fatalf("incidents = %d (%v), want %d", got, err, want)
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
			src, err := New(cfg, nil)
			if err != nil {
				b.Fatal(err)
			}
			b.StartTimer()
			if err := src.Sync(ctx, newEnv(db)); err != nil {
				b.Fatal(err)
			}
			b.StopTimer()
			reqs = src.Requests()
			check(db, n)
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
		src, err := New(cfg, nil)
		if err != nil {
			b.Fatal(err)
		}
		if err := src.Sync(ctx, newEnv(db)); err != nil {
			b.Fatal(err)
		}
		var reqs, read int64
		for b.Loop() {
			src, _ := New(cfg, nil)
			env := newEnv(db)
			if err := src.Sync(ctx, env); err != nil {
				b.Fatal(err)
			}
			reqs, read = src.Requests(), env.Run.Read
		}
		check(db, n)
		b.ReportMetric(float64(reqs), "requests/op")
		b.ReportMetric(float64(read), "issues/op")
	})
}
