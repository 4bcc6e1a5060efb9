package gitlab

import (
	"context"
	"encoding/json"
	"fmt"
	"syscall"
	"testing"
	"time"

	"github.com/shiplog/shiplog/ingest"
	"github.com/shiplog/shiplog/internal/warehouse"
)

// benchRoutes builds a simulated instance: projects projects under group
// acme, each with mrs merged merge requests (2 commits, 1 approval, 2 notes
// each) and deploys deployments, in the shapes of the fixtures.
func benchRoutes(projects, mrs, deploys int) map[string][]byte {
	routes := map[string][]byte{}
	put := func(p string, v any) {
		b, _ := json.Marshal(v)
		routes["/api/v4/"+p] = b
	}
	base := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	at := func(m int) string { return base.Add(time.Duration(m) * time.Minute).Format("2006-01-02T15:04:05.000Z") }
	user := func(name string) map[string]any {
		return map[string]any{"id": len(name), "username": name, "name": name, "state": "active", "web_url": "https://gitlab.example.com/" + name}
	}
	for p := 0; p < projects; p++ {
		path := fmt.Sprintf("acme/svc%02d", p)
		pp := "projects/acme%2F" + fmt.Sprintf("svc%02d", p)
		var list []any
		for n := 1; n <= mrs; n++ {
			list = append(list, map[string]any{
				"id": p*100000 + n, "iid": n, "project_id": p, "title": fmt.Sprintf("Change %d", n), "state": "merged",
				"author": user("dev"), "created_at": at(n * 60), "merged_at": at(n*60 + 50), "updated_at": at(n*60 + 55),
				"target_branch": "main", "source_branch": fmt.Sprintf("f%d", n), "labels": []any{}, "draft": false,
				"merge_commit_sha": fmt.Sprintf("%040x", p*100000+n), "squash_commit_sha": nil,
				"web_url": fmt.Sprintf("https://gitlab.example.com/%s/-/merge_requests/%d", path, n),
			})
			var commits []any
			for c := 1; c >= 0; c-- {
				sha := fmt.Sprintf("%040x", (p*100000+n)*10+c)
				commits = append(commits, map[string]any{"id": sha, "short_id": sha[:11], "title": "work", "message": "work\n",
					"author_name": "Dev", "author_email": "dev@example.com", "authored_date": at(n*60 - 30 + c), "committer_name": "Dev",
					"committer_email": "dev@example.com", "committed_date": at(n*60 - 30 + c), "created_at": at(n*60 - 30 + c),
					"parent_ids": []any{fmt.Sprintf("%040x", (p*100000+n)*10+c-1)}})
			}
			put(fmt.Sprintf("%s/merge_requests/%d/commits", pp, n), commits)
			put(fmt.Sprintf("%s/merge_requests/%d/approvals", pp, n), map[string]any{"iid": n, "approved_by": []any{
				map[string]any{"user": user("rev"), "approved_at": at(n*60 + 40)}}})
			put(fmt.Sprintf("%s/merge_requests/%d/notes", pp, n), []any{
				map[string]any{"id": n * 10, "body": "looks good", "author": user("rev"), "created_at": at(n*60 + 20), "system": false},
				map[string]any{"id": n*10 + 1, "body": "approved this merge request", "author": user("rev"), "created_at": at(n*60 + 40), "system": true},
			})
		}
		put(pp+"/merge_requests", list)
		var deps []any
		for d := 1; d <= deploys; d++ {
			deps = append(deps, map[string]any{"id": p*1000 + d, "iid": d, "ref": "main", "sha": fmt.Sprintf("%040x", p*1000+d),
				"status": "success", "created_at": at(d * 600), "updated_at": at(d*600 + 5), "user": user("deployer"),
				"environment": map[string]any{"id": 1, "name": "production"},
				"deployable":  map[string]any{"id": p*1000 + d, "name": "deploy", "status": "success", "started_at": at(d * 600), "finished_at": at(d*600 + 4)}})
		}
		put(pp+"/deployments", deps)
	}
	return routes
}

// BenchmarkProjectsSync syncs 50 projects of 300 merge requests (15,000
// merge requests, 1,500 deployments) from the test server, then syncs
// again with nothing new.
func BenchmarkProjectsSync(b *testing.B) {
	const projects, mrs, deploys = 50, 300, 30
	ctx := context.Background()
	routes := benchRoutes(projects, mrs, deploys)
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		fake := newFake(b, routes)
		db, err := warehouse.OpenMemory(ctx)
		if err != nil {
			b.Fatal(err)
		}
		cfg := &Config{URL: fake.srv.URL}
		for p := 0; p < projects; p++ {
			cfg.Projects = append(cfg.Projects, fmt.Sprintf("acme/svc%02d", p))
		}
		now := func() time.Time { return time.Date(2024, 6, 1, 0, 0, 0, 0, time.UTC) }
		env := &ingest.Env{DB: db, State: &ingest.State{DB: db, Source: Name, Now: now}, Now: now}
		sync := func() (Stats, time.Duration, time.Duration) {
			cpu0 := cpuTime()
			s, err := New(cfg, func(string) string { return "t0ken-bench" }, WithClock(now))
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
		var changes, deps int
		db.QueryRow(`SELECT count(*) FROM changes WHERE source = 'gitlab' AND approvals = 1`).Scan(&changes)
		db.QueryRow(`SELECT count(*) FROM deployments WHERE source = 'gitlab'`).Scan(&deps)
		if changes != projects*mrs || deps != projects*deploys {
			b.Fatalf("%d changes with 1 approval and %d deployments, want %d and %d", changes, deps, projects*mrs, projects*deploys)
		}
		if again.Requests > 2*projects || len(again.Rows) != 0 {
			b.Fatalf("no-change re-sync: %d requests, rows %v; want at most %d requests and no rows", again.Requests, again.Rows, 2*projects)
		}
		b.ReportMetric(float64(first.Requests)/projects, "first-requests/project")
		b.ReportMetric(float64(again.Requests)/projects, "resync-requests/project")
		b.ReportMetric(float64(again.NotModified)/projects, "resync-304/project")
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
