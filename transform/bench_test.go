package transform_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/shiplog/shiplog/internal/canonical"
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
       CASE WHEN g.rule >= 7 AND g.rule < 9 THEN list_transform(range(g.j_first, g.j_last + 1), lambda j: 'svc-' || g.s || '#' || j) END,
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

// corePathSQL is the project's reference workload for the speed of a full
// transform: the core DORA path (production deployments in order, explicit
// change links, lead time, incidents attributed by a 24-hour ASOF join,
// recovery, per-service figures) written directly in plain DuckDB SQL over
// the canonical tables. Copied verbatim from the reference workload's
// core-path.sql; the transform does more (graph and time links, stages,
// rework, support, adoption, governance), so the goal is a ratio, not parity.
const corePathSQL = `with dep as (
    select id, service, finished_at, status, changes,
           lead(finished_at) over (partition by service order by finished_at) as next_at
    from deployments
    where lower(environment) in ('production', 'prod')
),
lnk as (
    select d.change_id, min(d.finished_at) as deployed_at, arg_min(d.service, d.finished_at) as service
    from (select service, finished_at, unnest(changes) as change_id from dep where status = 'success') d
    group by d.change_id
),
lt as (
    select l.service, epoch(l.deployed_at - c.first_commit_at) / 3600 as h
    from lnk l join changes c on c.id = l.change_id
),
att as (
    select d.id as dep_id, d.service, d.finished_at, d.next_at
    from incidents i
    asof join dep d on d.service = i.service and d.finished_at <= i.opened_at
    where i.opened_at - d.finished_at <= interval 24 hour
),
fail as (
    select dep_id, any_value(service) as service, epoch(min(next_at) - min(finished_at)) / 3600 as rec_h
    from att group by dep_id
),
per as (select service, count(*) filter (where status = 'success') as deploys from dep group by service),
ltm as (select service, median(h) as lead_median_h from lt group by service),
fm as (select service, count(*) as failed, median(rec_h) as recovery_median_h from fail group by service)
select p.service, p.deploys, ltm.lead_median_h, coalesce(fm.failed, 0) / p.deploys as cfr, fm.recovery_median_h
from per p left join ltm using (service) left join fm using (service)
order by p.service`

// daySQL appends day d after the generated three years (d = 0, 1, …) for
// the services matching filter (a condition on s, the service number): per
// service 13 changes on one linear history continuing the generated one,
// three production deployments (two naming their commit, one listing its
// changes), an incident for about 3% of deployments, and a support ticket,
// as one day of the benchmark organisation brings. The day's deployments
// come from a second source ("ci", a pipeline pushing them), as where a
// mapper sends the history and CI the new deployments.
func daySQL(d int, filter string) []string {
	j0 := 14000 + 13*d
	k0 := 3000 + 3*d
	r := strings.NewReplacer("{d}", strconv.Itoa(d), "{j0}", strconv.Itoa(j0), "{k0}", strconv.Itoa(k0), "{filter}", filter, "{ci}", daySources["deployments"])
	return strings.Split(r.Replace(`
CREATE OR REPLACE TEMP TABLE gday AS
SELECT s, j, printf('%016x', hash(s, j, 'c')) AS sha,
       TIMESTAMPTZ '2023-01-02 00:00:00+00' + to_days((1095 + {d})::INTEGER)
         + to_microseconds((((j - {j0}) * 86400000000) // 14)::BIGINT) + to_microseconds((s * 60000000)::BIGINT) AS ts
FROM range((SELECT count(*) FROM services)) a(s), range({j0}, {j0} + 13) b(j)
WHERE {filter};
INSERT INTO commits (sha, repo, parents, authored_at, committed_at, source)
SELECT sha, 'org/svc-' || s, [coalesce(lag(sha) OVER w, printf('%016x', hash(s, {j0} - 1, 'c')))], ts, ts, 'bench'
FROM gday WINDOW w AS (PARTITION BY s ORDER BY j);
INSERT INTO changes (id, service, repo, title, author, commit_shas, merge_commit_sha,
                     first_commit_at, opened_at, first_review_at, approved_at, merged_at, approvals, source)
SELECT 'svc-' || s || '#' || j, 'svc-' || s, 'org/svc-' || s, 'change ' || j, 'dev-' || (hash(s, j) % 40), [], sha,
       ts - INTERVAL 20 HOUR, ts - INTERVAL 2 HOUR, ts - INTERVAL 50 MINUTE, ts - INTERVAL 20 MINUTE, ts, 1, 'bench'
FROM gday;
CREATE OR REPLACE TEMP TABLE gdaydeps AS
SELECT g.s, {k0} + p.k AS k, g.sha, g.ts, p.k AS part,
       list_transform(range(p.lo, p.hi + 1), lambda j: 'svc-' || g.s || '#' || ({j0} + j)) AS ids
FROM (VALUES (0, 0, 4), (1, 5, 8), (2, 9, 12)) p(k, lo, hi)
JOIN gday g ON g.j = {j0} + p.hi;
INSERT INTO deployments (id, service, environment, finished_at, started_at, status, version, commit_sha, changes, source)
SELECT 'd-' || s || '-' || k, 'svc-' || s, 'production', ts + INTERVAL 1 HOUR, ts + INTERVAL 40 MINUTE, 'success', 'v' || k,
       CASE WHEN part < 2 THEN sha END, CASE WHEN part = 2 THEN ids END, '{ci}'
FROM gdaydeps;
INSERT INTO incidents (id, service, severity, title, opened_at, acknowledged_at, resolved_at, source)
SELECT 'inc-' || s || '-' || k, 'svc-' || s, 'sev' || (1 + hash(s, k, 'v') % 2), 'incident',
       ts + INTERVAL 3 HOUR, ts + INTERVAL 200 MINUTE, ts + INTERVAL 5 HOUR, 'bench'
FROM gdaydeps WHERE hash(s, k, 'x') % 100 < 3;
INSERT INTO support_tickets (id, service, created_at, source)
SELECT 't-' || s || '-' || (1095 + {d}), 'svc-' || s, min(ts) + INTERVAL 2 HOUR, 'bench' FROM gday GROUP BY s`), ";\n")
}

// daySources names the source of each table daySQL writes to other than
// "bench".
var daySources = map[string]string{"deployments": "ci"}

var dayInsert = regexp.MustCompile(`^\s*INSERT INTO (\w+)`)

// execDayLogged runs one statement of daySQL; an insert into a canonical
// table logs the rows it wrote in the log of canonical writes, in the
// same transaction, as the writers do (canonical.Deltas).
func execDayLogged(ctx context.Context, db *warehouse.DB, stmt string) error {
	m := dayInsert.FindStringSubmatch(stmt)
	if m == nil {
		_, err := db.ExecContext(ctx, stmt)
		return err
	}
	source := daySources[m[1]]
	if source == "" {
		source = "bench"
	}
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	rows, err := tx.QueryContext(ctx, stmt+"\nRETURNING "+canonical.ReturningSQL(m[1], m[1]))
	if err != nil {
		return err
	}
	d := canonical.NewDeltas(m[1], source)
	if _, err := d.Add(1, rows); err != nil {
		return err
	}
	if err := d.Log(ctx, tx); err != nil {
		return err
	}
	return tx.Commit()
}

func loadavg() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "?"
	}
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return "?"
	}
	return strings.Join(f[:3], " ")
}

func median(ds []time.Duration) time.Duration {
	s := append([]time.Duration(nil), ds...)
	sort.Slice(s, func(i, j int) bool { return s[i] < s[j] })
	return s[len(s)/2]
}

// BenchmarkTransformIncremental measures, on one generated warehouse and
// in one process, each pair in the same round under the same load:
//
//   - a full transform (--full) against the plain-SQL core path on the
//     same tables (corePathSQL, every row read), as a ratio;
//   - an incremental transform after one new day of data for every
//     service, and after one day for one team (10 services), as a share
//     of the full transform's median;
//   - a transform when nothing changed.
//
// SHIPLOG_BENCH_RUNS sets the runs of each (default 3); each figure is the
// median, with the load average before each run in the log.
func BenchmarkTransformIncremental(b *testing.B) {
	db := benchWarehouse(b)
	ctx := context.Background()
	runs := 3
	if v := os.Getenv("SHIPLOG_BENCH_RUNS"); v != "" {
		runs, _ = strconv.Atoi(v)
	}
	// the day is written as shiplog's writers write: each insert logs
	// the digests of the rows it wrote (else the run after it re-reads
	// every row to find what changed, as after another program)
	exec := func(stmts []string) {
		for _, s := range stmts {
			if strings.TrimSpace(s) == "" {
				continue
			}
			if err := execDayLogged(ctx, db, s); err != nil {
				b.Fatalf("%v\n%s", err, s)
			}
		}
	}
	transformOnce := func(full bool) (time.Duration, string) {
		var progress strings.Builder
		start := time.Now()
		if err := transform.Run(ctx, db, config.Default(), transform.Options{Full: full, Progress: &progress}); err != nil {
			b.Fatal(err)
		}
		first, _, _ := strings.Cut(progress.String(), "\n")
		return time.Since(start), first
	}
	corePath := func() time.Duration {
		start := time.Now()
		rows, err := db.QueryContext(ctx, corePathSQL)
		if err != nil {
			b.Fatal(err)
		}
		n := 0
		for rows.Next() {
			n++
		}
		if err := rows.Err(); err != nil {
			b.Fatal(err)
		}
		rows.Close()
		if n == 0 {
			b.Fatal("core path: no rows")
		}
		return time.Since(start)
	}
	b.ResetTimer()
	var full, core, day, team, next, none []time.Duration
	for r := 0; r < runs; r++ {
		l1 := loadavg()
		f, _ := transformOnce(true)
		l2 := loadavg()
		c := corePath()
		full, core = append(full, f), append(core, c)
		b.Logf("run %d: full transform %s (load %s), core path %s (load %s): ratio %.2f", r+1, f.Round(time.Millisecond), l1, c.Round(time.Millisecond), l2, f.Seconds()/c.Seconds())
	}
	for r := 0; r < runs; r++ {
		exec(daySQL(2*r, "true"))
		l := loadavg()
		d, how := transformOnce(false)
		day = append(day, d)
		b.Logf("run %d: one day, every service: %s (load %s): %s", r+1, d.Round(time.Millisecond), l, how)
		exec(daySQL(2*r+1, "s // 10 = 1"))
		l = loadavg()
		d, how = transformOnce(false)
		team = append(team, d)
		b.Logf("run %d: one day, one team: %s (load %s): %s", r+1, d.Round(time.Millisecond), l, how)
		// another team's day right after it: the run a schedule makes
		// when no full rebuild came before (the one-team day above follows
		// the every-service day, a full rebuild)
		exec(daySQL(2*r+1, "s // 10 = 2"))
		l = loadavg()
		d, how = transformOnce(false)
		next = append(next, d)
		b.Logf("run %d: one day, another team next: %s (load %s): %s", r+1, d.Round(time.Millisecond), l, how)
		l = loadavg()
		d, how = transformOnce(false)
		none = append(none, d)
		b.Logf("run %d: nothing new: %s (load %s): %s", r+1, d.Round(time.Millisecond), l, how)
	}
	b.StopTimer()
	mf := median(full)
	b.Logf("median of %d: full transform %s, core path %s: ratio %.2f (target ≤ 3)", runs, mf.Round(time.Millisecond), median(core).Round(time.Millisecond), mf.Seconds()/median(core).Seconds())
	b.Logf("median of %d: incremental after one day, every service %s = %.1f%% of full; one team %s = %.1f%%; another team next %s = %.1f%%; nothing new %s = %.1f%% (target ≤ 5%%)", runs,
		median(day).Round(time.Millisecond), 100*median(day).Seconds()/mf.Seconds(),
		median(team).Round(time.Millisecond), 100*median(team).Seconds()/mf.Seconds(),
		median(next).Round(time.Millisecond), 100*median(next).Seconds()/mf.Seconds(),
		median(none).Round(time.Millisecond), 100*median(none).Seconds()/mf.Seconds())
	b.Logf("peak RSS %s", vmHWM())
}
