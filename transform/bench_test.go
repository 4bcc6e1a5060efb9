package transform_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/shiplog/shiplog/internal/config"
	"github.com/shiplog/shiplog/internal/warehouse"
	"github.com/shiplog/shiplog/metrics"
	"github.com/shiplog/shiplog/transform"
)

// The benchmark organisation: at scale 1, 500 services in 50 teams over
// three years, 3,000 successful production deployments and 14,000 changes
// per service (1.5 million and 7 million), a linear commit history per
// service with a merged side branch every fifth change, incidents for 2% of
// deployments, a rollback or hotfix for 1%, a support ticket a day per
// service. SHIPLOG_BENCH_SCALE scales the number of services (default 0.1:
// 50 services; 1 for the full size). Everything is generated inside DuckDB
// from range() and hash(), so it is deterministic.
const genSQL = `
CREATE TEMP TABLE gen AS SELECT
    {services}::BIGINT AS services,
    3000::BIGINT AS deploys,
    14000::BIGINT AS changes,
    TIMESTAMPTZ '2023-01-02 00:00:00+00' AS t0,
    INTERVAL 1095 DAY AS span;

INSERT INTO teams
SELECT 'team-' || t, 'Team ' || t, 'dept-' || (t % 10), NULL, 'bench'
FROM range((SELECT services FROM gen) // 10) r(t);

INSERT INTO services (id, name, team, tier, repo, source)
SELECT 'svc-' || s, 'Service ' || s, 'team-' || (s // 10), 1 + s % 3, 'org/svc-' || s, 'bench'
FROM range((SELECT services FROM gen)) r(s);

-- Change j of service s is merged at commit j; commit times advance evenly.
CREATE TEMP TABLE gchanges AS
SELECT s, j,
       printf('%016x', hash(s, j, 'c')) AS sha,
       (SELECT t0 FROM gen) + to_microseconds(((j * 1095 * 86400000000) // 14000)::BIGINT) + to_microseconds((s * 60000000)::BIGINT) AS ts
FROM range((SELECT services FROM gen)) a(s), range((SELECT changes FROM gen)) b(j);

INSERT INTO commits (sha, repo, parents, authored_at, committed_at, source)
SELECT sha, 'org/svc-' || s,
       CASE WHEN j = 0 THEN []
            WHEN j % 5 = 0 THEN [lag(sha) OVER w, printf('%016x', hash(s, j, 'b'))]
            ELSE [lag(sha) OVER w] END,
       ts, ts, 'bench'
FROM gchanges
WINDOW w AS (PARTITION BY s ORDER BY j);

-- side-branch commits: forked three changes earlier, merged at j
INSERT INTO commits (sha, repo, parents, authored_at, committed_at, source)
SELECT printf('%016x', hash(s, j, 'b')), 'org/svc-' || s,
       [printf('%016x', hash(s, j - 3, 'c'))], ts - INTERVAL 30 MINUTE, ts - INTERVAL 30 MINUTE, 'bench'
FROM gchanges WHERE j % 5 = 0 AND j > 0;

INSERT INTO changes (id, service, repo, title, author, commit_shas, merge_commit_sha,
                     first_commit_at, opened_at, first_review_at, approved_at, merged_at, approvals, source)
SELECT 'svc-' || s || '#' || j, 'svc-' || s, 'org/svc-' || s, 'change ' || j, 'dev-' || (hash(s, j) % 40),
       CASE WHEN j % 5 = 0 AND j > 0 THEN [printf('%016x', hash(s, j, 'b'))] ELSE [] END,
       sha,
       ts - to_microseconds((3600000000 * (2 + hash(s, j, 'f') % 70))::BIGINT),
       ts - to_microseconds((3600000000 * (1 + hash(s, j, 'f') % 2))::BIGINT),
       ts - INTERVAL 50 MINUTE, ts - INTERVAL 20 MINUTE, ts, 1, 'bench'
FROM gchanges;

-- Deployment k of service s ships changes j with j*3000//14000 = k and
-- finishes an hour after its last commit. 70% name their commit (commit
-- graph), 20% list their changes (explicit), 10% neither (time).
CREATE TEMP TABLE gdeploys AS
SELECT s, k,
       ((k * 14000 + 2999) // 3000) AS j_first,
       (((k + 1) * 14000 + 2999) // 3000) - 1 AS j_last,
       hash(s, k, 'r') % 10 AS rule,
       hash(s, k, 'x') % 100 AS x
FROM range((SELECT services FROM gen)) a(s), range((SELECT deploys FROM gen)) b(k);

INSERT INTO deployments (id, service, environment, finished_at, started_at, status, version, commit_sha,
                         changes, is_rollback, rollback_of, is_hotfix, hotfix_of, source)
SELECT 'd-' || g.s || '-' || g.k, 'svc-' || g.s, 'production',
       c.ts + INTERVAL 1 HOUR, c.ts + INTERVAL 40 MINUTE, 'success', 'v' || g.k,
       CASE WHEN g.rule < 7 THEN c.sha END,
       CASE WHEN g.rule >= 7 AND g.rule < 9 THEN list_transform(range(g.j_first, g.j_last + 1), j -> 'svc-' || g.s || '#' || j) END,
       g.x = 0, CASE WHEN g.x = 0 AND g.k > 0 THEN 'd-' || g.s || '-' || (g.k - 1) END,
       g.x = 1, CASE WHEN g.x = 1 AND g.k > 0 THEN 'd-' || g.s || '-' || (g.k - 1) END,
       'bench'
FROM gdeploys g
JOIN gchanges c ON c.s = g.s AND c.j = g.j_last;

-- a staging deployment beside every tenth production one
INSERT INTO deployments (id, service, environment, finished_at, started_at, status, source)
SELECT 'st-' || s || '-' || k, 'svc-' || s, 'staging', TIMESTAMPTZ '2023-01-02 00:00:00+00' + to_days(k::INTEGER), NULL, 'success', 'bench'
FROM gdeploys WHERE x % 10 = 5;

INSERT INTO incidents (id, service, severity, title, opened_at, acknowledged_at, resolved_at,
                       caused_by_deployment, root_cause_sha, is_false_positive, source)
SELECT 'inc-' || g.s || '-' || g.k, 'svc-' || g.s, 'sev' || (1 + hash(g.s, g.k, 'v') % 4), 'incident',
       c.ts + to_microseconds((60000000 * (70 + hash(g.s, g.k, 'o') % 1800))::BIGINT),
       c.ts + to_microseconds((60000000 * (80 + hash(g.s, g.k, 'o') % 1800))::BIGINT),
       c.ts + to_microseconds((60000000 * (200 + hash(g.s, g.k, 'o') % 1800 + hash(g.s, g.k, 'd') % 600))::BIGINT),
       CASE WHEN g.x = 2 THEN 'd-' || g.s || '-' || g.k END,
       CASE WHEN g.x = 3 THEN c.sha END,
       g.x = 4, 'bench'
FROM gdeploys g
JOIN gchanges c ON c.s = g.s AND c.j = g.j_last
WHERE g.x BETWEEN 2 AND 4;

INSERT INTO support_tickets (id, service, created_at, source)
SELECT 't-' || s || '-' || d, 'svc-' || s, (SELECT t0 FROM gen) + to_days(d::INTEGER) + to_microseconds((hash(s, d) % 86400000000)::BIGINT), 'bench'
FROM range((SELECT services FROM gen)) a(s), range(1095) b(d);

DROP TABLE gchanges;
DROP TABLE gdeploys;
`

func benchScale(b *testing.B) float64 {
	scale := 0.1
	if v := os.Getenv("SHIPLOG_BENCH_SCALE"); v != "" {
		f, err := strconv.ParseFloat(v, 64)
		if err != nil || f <= 0 {
			b.Fatalf("SHIPLOG_BENCH_SCALE=%q: want a positive number", v)
		}
		scale = f
	}
	return scale
}

// benchWarehouse generates the organisation into a file-backed warehouse in a
// temporary folder (memory capped at 3 GB, or SHIPLOG_MEMORY_LIMIT) and
// returns it.
func benchWarehouse(b *testing.B) *warehouse.DB {
	b.Helper()
	ctx := context.Background()
	services := int(500 * benchScale(b))
	path := filepath.Join(b.TempDir(), "bench.duckdb")
	if keep := os.Getenv("SHIPLOG_BENCH_DB"); keep != "" {
		// keep the generated warehouse for inspection
		path = keep
		if os.Getenv("SHIPLOG_BENCH_REUSE") == "" {
			_ = os.Remove(keep)
			_ = os.Remove(keep + ".wal")
		}
	}
	limit := "3GB"
	if v := os.Getenv("SHIPLOG_MEMORY_LIMIT"); v != "" {
		limit = v
	}
	db, err := warehouse.Open(ctx, path, warehouse.Options{MemoryLimit: limit})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { db.Close() })
	if os.Getenv("SHIPLOG_BENCH_REUSE") != "" {
		return db
	}
	start := time.Now()
	conn, err := db.Conn(ctx)
	if err != nil {
		b.Fatal(err)
	}
	defer conn.Close()
	for _, stmt := range strings.Split(strings.ReplaceAll(genSQL, "{services}", strconv.Itoa(services)), ";\n") {
		if strings.TrimSpace(stmt) == "" {
			continue
		}
		if _, err := conn.ExecContext(ctx, stmt); err != nil {
			b.Fatalf("generate: %v\n%s", err, stmt)
		}
	}
	var deps, changes, commits, incidents int64
	if err := conn.QueryRowContext(ctx, `SELECT (SELECT count(*) FROM deployments), (SELECT count(*) FROM changes),
		(SELECT count(*) FROM commits), (SELECT count(*) FROM incidents)`).Scan(&deps, &changes, &commits, &incidents); err != nil {
		b.Fatal(err)
	}
	b.Logf("generated %d services, %d deployments, %d changes, %d commits, %d incidents in %s",
		services, deps, changes, commits, incidents, time.Since(start).Round(time.Second))
	return db
}

// vmHWM returns the process's peak resident memory from /proc (Linux).
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

// cpuTime returns the CPU time (user + system) the process has used so far;
// on a shared machine it moves far less with other work than wall time does.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// cpuWriter appends to each progress line the CPU time used since the
// previous line.
type cpuWriter struct {
	w    *os.File
	last time.Duration
}

func (c *cpuWriter) Write(p []byte) (int, error) {
	now := cpuTime()
	line := strings.TrimRight(string(p), "\n")
	_, err := fmt.Fprintf(c.w, "%s  cpu %s\n", line, (now - c.last).Round(time.Millisecond))
	c.last = now
	return len(p), err
}

func BenchmarkTransform(b *testing.B) {
	db := benchWarehouse(b)
	if os.Getenv("SHIPLOG_BENCH_GENERATE_ONLY") != "" {
		return
	}
	ctx := context.Background()
	var progress *cpuWriter
	if os.Getenv("SHIPLOG_BENCH_PROGRESS") != "" {
		progress = &cpuWriter{w: os.Stderr, last: cpuTime()}
	}
	b.Logf("peak RSS before transform: %s", vmHWM())
	cpu0 := cpuTime()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		opts := transform.Options{}
		if progress != nil {
			opts.Progress = progress
		}
		if err := transform.Run(ctx, db, config.Default(), opts); err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	b.Logf("peak RSS after transform: %s; CPU time (user+system) per run: %s", vmHWM(),
		((cpuTime() - cpu0) / time.Duration(b.N)).Round(time.Millisecond))

	// One team, one quarter, once transformed.
	f := metrics.Filter{Teams: []string{"team-1"}, From: time.Date(2024, 4, 1, 0, 0, 0, 0, time.UTC),
		To: time.Date(2024, 7, 1, 0, 0, 0, 0, time.UTC), By: "month"}
	var times []time.Duration
	for i := 0; i < 5; i++ {
		start := time.Now()
		t, err := metrics.Compute(ctx, db, config.Default(), f)
		if err != nil {
			b.Fatal(err)
		}
		times = append(times, time.Since(start))
		if len(t.Rows) == 0 {
			b.Fatal("no rows")
		}
	}
	b.Logf("metrics.Compute team-1, 2024Q2 by month: %s", fmt.Sprint(times))
}
