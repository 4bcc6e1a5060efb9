package github

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"path/filepath"
	"sort"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/shiplog/shiplog/ingest"
	"github.com/shiplog/shiplog/internal/config"
	"github.com/shiplog/shiplog/internal/warehouse"
	"github.com/shiplog/shiplog/transform"
)

// orgRoutes builds a simulated organisation: repos repositories, each with
// pulls pull requests (2 commits, 2 reviews each) and deploys deployments
// (2 statuses each, the last one finished), in the shapes of the fixtures.
func orgRoutes(repos, pulls, deploys int) map[string][]byte {
	routes := map[string][]byte{}
	put := func(p string, v any) {
		b, _ := json.Marshal(v)
		routes[p] = b
	}
	base := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	at := func(h int) string { return base.Add(time.Duration(h) * time.Hour).Format(time.RFC3339) }
	user := func(login string) map[string]any {
		return map[string]any{"login": login, "id": len(login), "type": "User", "site_admin": false}
	}
	for r := 0; r < repos; r++ {
		full := fmt.Sprintf("acme/svc%02d", r)
		var list []any
		for n := pulls; n >= 1; n-- { // newest updated first
			var merged any
			if n%4 != 0 {
				merged = at(n*3 + 2)
			}
			list = append(list, map[string]any{
				"number": n, "state": "closed", "title": fmt.Sprintf("Change %d", n), "user": user("dev"),
				"created_at": at(n * 3), "updated_at": at(n*3 + 2), "merged_at": merged,
				"merge_commit_sha": fmt.Sprintf("%040x", r*100000+n), "labels": []any{}, "draft": false,
				"head": map[string]any{"ref": "feature"}, "base": map[string]any{"ref": "main"},
			})
			var commits, reviews []any
			for c := 0; c < 2; c++ {
				commits = append(commits, map[string]any{
					"sha":     fmt.Sprintf("%040x", (r*100000+n)*10+c),
					"commit":  map[string]any{"author": map[string]any{"name": "Dev", "date": at(n*3 - 2 + c)}, "committer": map[string]any{"name": "Dev", "date": at(n*3 - 2 + c)}, "message": "work"},
					"author":  user("dev"),
					"parents": []any{map[string]any{"sha": fmt.Sprintf("%040x", (r*100000+n)*10+c-1)}},
				})
				reviews = append(reviews, map[string]any{"id": n*10 + c, "user": user(fmt.Sprintf("rev%d", c)), "state": "APPROVED", "submitted_at": at(n*3 + 1)})
			}
			put(fmt.Sprintf("/repos/%s/pulls/%d/commits", full, n), commits)
			put(fmt.Sprintf("/repos/%s/pulls/%d/reviews", full, n), reviews)
		}
		put("/repos/"+full+"/pulls", list)
		var deps []any
		for d := deploys; d >= 1; d-- {
			id := r*1000 + d
			deps = append(deps, map[string]any{"id": id, "sha": fmt.Sprintf("%040x", id), "ref": "main", "environment": "production",
				"creator": user("bot"), "created_at": at(d * 10), "updated_at": at(d * 10), "payload": map[string]any{}})
			put(fmt.Sprintf("/repos/%s/deployments/%d/statuses", full, id), []any{
				map[string]any{"id": id*10 + 1, "state": "success", "created_at": at(d*10 + 1), "log_url": ""},
				map[string]any{"id": id * 10, "state": "in_progress", "created_at": at(d * 10), "log_url": ""},
			})
		}
		put("/repos/"+full+"/deployments", deps)
	}
	return routes
}

// BenchmarkOrgSync syncs a 50-repository organisation (3,000 pull requests,
// 1,000 deployments) from the test server, then syncs again with nothing new.
func BenchmarkOrgSync(b *testing.B) {
	const repos, pulls, deploys = 50, 60, 20
	ctx := context.Background()
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		fake := newFake(b, orgRoutes(repos, pulls, deploys))
		db, err := warehouse.OpenMemory(ctx)
		if err != nil {
			b.Fatal(err)
		}
		cfg := &config.GitHub{APIURL: fake.srv.URL}
		for r := 0; r < repos; r++ {
			cfg.Repos = append(cfg.Repos, fmt.Sprintf("acme/svc%02d", r))
		}
		now := func() time.Time { return time.Date(2024, 6, 1, 0, 0, 0, 0, time.UTC) }
		env := &ingest.Env{DB: db, State: &ingest.State{DB: db, Source: Name, Now: now}, Now: now}
		sync := func() (Stats, time.Duration, time.Duration) {
			cpu0 := cpuTime()
			s, err := New(cfg, func(string) string { return "t" }, WithClock(now))
			if err != nil {
				b.Fatal(err)
			}
			start := time.Now()
			if err := s.Sync(ctx, env); err != nil {
				b.Fatal(err)
			}
			return s.Stats(), time.Since(start), cpuTime() - cpu0
		}
		b.StartTimer()
		first, firstTook, firstCPU := sync()
		again, againTook, againCPU := sync()
		b.StopTimer()
		var changes int
		db.QueryRow(`SELECT count(*) FROM changes WHERE source = 'github'`).Scan(&changes)
		if changes != repos*pulls {
			b.Fatalf("%d changes, want %d", changes, repos*pulls)
		}
		b.ReportMetric(float64(first.Requests)/repos, "first-requests/repo")
		b.ReportMetric(float64(again.Requests)/repos, "resync-requests/repo")
		b.ReportMetric(float64(again.Requests-again.NotModified), "resync-counted-requests")
		b.ReportMetric(firstTook.Seconds(), "first-s")
		b.ReportMetric(againTook.Seconds(), "resync-s")
		b.ReportMetric(firstCPU.Seconds(), "first-cpu-s")
		b.ReportMetric(againCPU.Seconds(), "resync-cpu-s")
		db.Close()
	}
}

// cpuTime is the process's user + system CPU time (the server and the
// source share the process), a steadier figure than wall time on a busy
// machine.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// BenchmarkTransformAfterResync measures what a scheduled run's transform
// costs after a sync that found nothing new, on the organisation of
// BenchmarkOrgSync (3,000 pull requests, 6,000 commits, 1,000
// deployments): "remap" is the mapping as every transform ran it before
// the skip (forced, the source's canonical rows rewritten and logged) and
// then the transform; "skip" the transform with the mapper deciding to
// skip; "decide" the skip decision alone (settings written, raw and
// canonical tables digested). The three are interleaved, three runs each,
// and the medians reported, so they share the machine's load.
func BenchmarkTransformAfterResync(b *testing.B) {
	const repos, pulls, deploys = 50, 60, 20
	ctx := context.Background()
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		fake := newFake(b, orgRoutes(repos, pulls, deploys))
		db, err := warehouse.Open(ctx, filepath.Join(b.TempDir(), "shiplog.duckdb"), warehouse.Options{})
		if err != nil {
			b.Fatal(err)
		}
		gh := &config.GitHub{APIURL: fake.srv.URL}
		for r := 0; r < repos; r++ {
			gh.Repos = append(gh.Repos, fmt.Sprintf("acme/svc%02d", r))
		}
		now := func() time.Time { return time.Date(2024, 6, 1, 0, 0, 0, 0, time.UTC) }
		env := &ingest.Env{DB: db, State: &ingest.State{DB: db, Source: Name, Now: now}, Now: now}
		source := func() *Source {
			s, err := New(gh, func(string) string { return "t" }, WithClock(now))
			if err != nil {
				b.Fatal(err)
			}
			return s
		}
		cfg := config.Default()
		for _, step := range []func() error{
			func() error { return source().Sync(ctx, env) },
			func() error { return transform.Run(ctx, db, cfg, transform.Options{}) },
			func() error { return source().Sync(ctx, env) }, // nothing new
		} {
			if err := step(); err != nil {
				b.Fatal(err)
			}
		}
		modes := map[string]func(*bytes.Buffer) error{
			"remap": func(progress *bytes.Buffer) error {
				if res, err := source().MapIfChanged(ctx, db, ingest.MapOptions{Force: true}); err != nil || !res.Mapped {
					return fmt.Errorf("forced mapping: %v %v", res, err)
				}
				return transform.Run(ctx, db, cfg, transform.Options{Progress: progress})
			},
			"skip": func(progress *bytes.Buffer) error {
				return transform.Run(ctx, db, cfg, transform.Options{Progress: progress, Mappers: []ingest.Mapper{source()}})
			},
			"decide": func(*bytes.Buffer) error {
				if res, err := source().MapIfChanged(ctx, db, ingest.MapOptions{}); err != nil || res.Mapped {
					return fmt.Errorf("mapped %v (%s), %v", res.Mapped, res.Reason, err)
				}
				return nil
			},
		}
		took := map[string][]float64{}
		b.StartTimer()
		for run := 0; run < 3; run++ {
			for _, name := range []string{"remap", "skip", "decide"} {
				var progress bytes.Buffer
				start := time.Now()
				if err := modes[name](&progress); err != nil {
					b.Fatalf("%s: %v\n%s", name, err, progress.String())
				}
				took[name] = append(took[name], time.Since(start).Seconds())
				if name != "decide" && !strings.Contains(progress.String(), "nothing changed since the last build") {
					b.Fatalf("%s: the transform found changes:\n%s", name, progress.String())
				}
			}
		}
		b.StopTimer()
		for name, s := range took {
			sort.Float64s(s)
			b.ReportMetric(s[1], name+"-s")
		}
		db.Close()
	}
}
