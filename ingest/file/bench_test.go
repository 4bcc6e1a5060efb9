package file

import (
	"bufio"
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/shiplog/shiplog/internal/warehouse"
)

// The ingest benchmarks generate a file set with a fixed seed, load it with
// Load, then load the same files with DuckDB's own read_json / read_csv into
// plain tables as the baseline, and report both rates and their ratio.
//
//	go test -tags duckdb_arrow -run '^$' -bench Ingest -benchtime 1x ./ingest/file
//
// BenchmarkIngestSmall (200k rows) is quick; BenchmarkIngestLarge (5M rows)
// is the figure in docs/benchmarks/ingest.md.

func BenchmarkIngestSmall(b *testing.B) { benchIngest(b, 200_000) }

func BenchmarkIngestLarge(b *testing.B) { benchIngest(b, 5_000_000) }

// benchSet is a generated file set: one mixed JSON Lines file (deployments
// and incidents), one JSON Lines file of changes, and CSV files of commits
// and deployments.
type benchSet struct {
	dir   string
	paths []string
	rows  int64
	// baseline statements, one per file, each creating a plain table.
	baseline []string
}

func benchIngest(b *testing.B, total int) {
	ctx := context.Background()
	set := generate(b, total)
	var loadSecs, baseSecs float64
	for i := 0; i < b.N; i++ {
		dir := b.TempDir()

		db, err := warehouse.Open(ctx, filepath.Join(dir, "shiplog.duckdb"), warehouse.Options{MemoryLimit: "1GB"})
		if err != nil {
			b.Fatal(err)
		}
		start := time.Now()
		res, err := Load(ctx, db, set.paths, Options{})
		if err != nil {
			b.Fatal(err)
		}
		loadSecs += time.Since(start).Seconds()
		if res.Written != set.rows {
			b.Fatalf("wrote %d rows, want %d", res.Written, set.rows)
		}
		db.Close()

		base, err := warehouse.Open(ctx, filepath.Join(dir, "baseline.duckdb"), warehouse.Options{MemoryLimit: "1GB"})
		if err != nil {
			b.Fatal(err)
		}
		start = time.Now()
		for _, q := range set.baseline {
			if _, err := base.ExecContext(ctx, q); err != nil {
				b.Fatal(err)
			}
		}
		baseSecs += time.Since(start).Seconds()
		var n int64
		err = base.QueryRowContext(ctx, `SELECT (SELECT count(*) FROM base_events) + (SELECT count(*) FROM base_changes)
			+ (SELECT count(*) FROM base_commits) + (SELECT count(*) FROM base_deployments)`).Scan(&n)
		if err != nil {
			b.Fatal(err)
		}
		if n != set.rows {
			b.Fatalf("baseline read %d rows, want %d", n, set.rows)
		}
		base.Close()
	}
	shiplog := float64(set.rows) * float64(b.N) / loadSecs
	duck := float64(set.rows) * float64(b.N) / baseSecs
	b.ReportMetric(float64(set.rows), "rows")
	b.ReportMetric(loadSecs/float64(b.N), "shiplog_s")
	b.ReportMetric(baseSecs/float64(b.N), "duckdb_s")
	b.ReportMetric(shiplog, "shiplog_rows/s")
	b.ReportMetric(duck, "duckdb_rows/s")
	b.ReportMetric(shiplog/duck, "ratio")
	b.ReportMetric(float64(peakRSS())/(1<<20), "peak_rss_MiB")
}

// peakRSS reads the process's peak resident set size (VmHWM) in bytes.
func peakRSS() int64 {
	data, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(data), "\n") {
		if rest, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			kb, _ := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(rest), "kB")), 10, 64)
			return kb * 1024
		}
	}
	return 0
}

// generate writes the file set: 40% of the rows in the mixed JSON Lines file
// (three deployments to one incident), 20% changes (JSON Lines), 30%
// commits (CSV) and 10% deployments (CSV).
func generate(b *testing.B, total int) *benchSet {
	b.Helper()
	dir := b.TempDir()
	rng := rand.New(rand.NewPCG(20260301, uint64(total)))
	set := &benchSet{dir: dir}
	base := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	zones := []*time.Location{time.UTC, time.FixedZone("", 2*3600), time.FixedZone("", -5*3600), time.FixedZone("", 5*3600+1800)}
	at := func(t time.Time) string { return t.In(zones[rng.IntN(len(zones))]).Format(time.RFC3339) }
	instant := func() time.Time { return base.Add(time.Duration(rng.Int64N(365*24*3600)) * time.Second) }
	ts := func() string { return at(instant()) }
	// pair returns two times in order (the loader refuses, say, a
	// deployment finished before it started), up to three days apart, each
	// in its own offset.
	pair := func() (string, string) {
		t := instant()
		return at(t), at(t.Add(time.Duration(rng.Int64N(3*24*3600)) * time.Second))
	}
	services := []string{"checkout", "ledger", "auth", "search", "catalog", "billing", "notifications", "gateway"}
	statuses := []string{"success", "success", "success", "failure", "cancelled"}
	sha := func() string { return fmt.Sprintf("%016x%016x", rng.Uint64(), rng.Uint64()) }

	write := func(name string, fn func(w *bufio.Writer) int64) {
		path := filepath.Join(dir, name)
		f, err := os.Create(path)
		if err != nil {
			b.Fatal(err)
		}
		w := bufio.NewWriterSize(f, 1<<20)
		set.rows += fn(w)
		if err := w.Flush(); err != nil {
			b.Fatal(err)
		}
		if err := f.Close(); err != nil {
			b.Fatal(err)
		}
		set.paths = append(set.paths, path)
	}
	q := warehouse.QuoteString

	nEvents, nChanges, nCommits := total*4/10, total*2/10, total*3/10
	nCSVDeploys := total - nEvents - nChanges - nCommits
	write("events.jsonl", func(w *bufio.Writer) int64 {
		for i := 0; i < nEvents; i++ {
			svc := services[rng.IntN(len(services))]
			if i%4 == 3 {
				opened, resolved := pair()
				fmt.Fprintf(w, `{"kind":"incident","id":"INC-%d","service":%q,"severity":"sev%d","title":"errors on %s","opened_at":%q,"resolved_at":%q,"is_false_positive":false}`+"\n",
					i, svc, 1+rng.IntN(4), svc, opened, resolved)
				continue
			}
			started, finished := pair()
			fmt.Fprintf(w, `{"kind":"deployment","id":"j-%d","service":%q,"environment":"production","finished_at":%q,"started_at":%q,"status":%q,"version":"1.%d.%d","commit_sha":%q,"changes":["acme/%s#%d"],"triggered_by":"ci-bot","is_rollback":%t,"ci_run":%d}`+"\n",
				i, svc, finished, started, statuses[rng.IntN(len(statuses))], rng.IntN(50), rng.IntN(20), sha(), svc, rng.IntN(100000), rng.IntN(20) == 0, rng.IntN(1000000))
		}
		return int64(nEvents)
	})
	set.baseline = append(set.baseline, fmt.Sprintf(`CREATE TABLE base_events AS SELECT * FROM read_json(%s, format = 'newline_delimited', columns = {
		kind: 'VARCHAR', id: 'VARCHAR', service: 'VARCHAR', environment: 'VARCHAR', finished_at: 'TIMESTAMPTZ', started_at: 'TIMESTAMPTZ',
		status: 'VARCHAR', version: 'VARCHAR', commit_sha: 'VARCHAR', changes: 'VARCHAR[]', triggered_by: 'VARCHAR', is_rollback: 'BOOLEAN',
		ci_run: 'BIGINT', severity: 'VARCHAR', title: 'VARCHAR', opened_at: 'TIMESTAMPTZ', resolved_at: 'TIMESTAMPTZ', is_false_positive: 'BOOLEAN'})`,
		q(filepath.Join(dir, "events.jsonl"))))

	write("changes.jsonl", func(w *bufio.Writer) int64 {
		for i := 0; i < nChanges; i++ {
			svc := services[rng.IntN(len(services))]
			opened, merged := pair()
			fmt.Fprintf(w, `{"kind":"change","id":"acme/%s#%d","service":%q,"repo":"acme/%s","title":"change %d","author":"dev%d","commit_shas":[%q,%q],"first_commit_at":%q,"opened_at":%q,"merged_at":%q,"approvals":%d,"is_revert":false,"labels":["team-%d"]}`+"\n",
				svc, i, svc, svc, i, rng.IntN(300), sha(), sha(), ts(), opened, merged, rng.IntN(3), rng.IntN(10))
		}
		return int64(nChanges)
	})
	set.baseline = append(set.baseline, fmt.Sprintf(`CREATE TABLE base_changes AS SELECT * FROM read_json(%s, format = 'newline_delimited', columns = {
		kind: 'VARCHAR', id: 'VARCHAR', service: 'VARCHAR', repo: 'VARCHAR', title: 'VARCHAR', author: 'VARCHAR', commit_shas: 'VARCHAR[]',
		first_commit_at: 'TIMESTAMPTZ', opened_at: 'TIMESTAMPTZ', merged_at: 'TIMESTAMPTZ', approvals: 'BIGINT', is_revert: 'BOOLEAN', labels: 'VARCHAR[]'})`,
		q(filepath.Join(dir, "changes.jsonl"))))

	write("commits.csv", func(w *bufio.Writer) int64 {
		w.WriteString("sha,repo,parents,authored_at,committed_at,author\n")
		for i := 0; i < nCommits; i++ {
			svc := services[rng.IntN(len(services))]
			// sha() is random, so the (repo, sha) keys are distinct.
			fmt.Fprintf(w, "%s,acme/%s,%s,%s,%s,dev%d\n", sha(), svc, sha(), ts(), ts(), rng.IntN(300))
		}
		return int64(nCommits)
	})
	set.baseline = append(set.baseline, fmt.Sprintf(`CREATE TABLE base_commits AS SELECT * FROM read_csv(%s, header = true, columns = {
		sha: 'VARCHAR', repo: 'VARCHAR', parents: 'VARCHAR', authored_at: 'TIMESTAMPTZ', committed_at: 'TIMESTAMPTZ', author: 'VARCHAR'})`,
		q(filepath.Join(dir, "commits.csv"))))

	write("deployments.csv", func(w *bufio.Writer) int64 {
		w.WriteString("id,service,environment,finished_at,status,version,commit_sha,changes,is_hotfix\n")
		for i := 0; i < nCSVDeploys; i++ {
			svc := services[rng.IntN(len(services))]
			fmt.Fprintf(w, "c-%d,%s,production,%s,%s,2.%d.0,%s,acme/%s#%d;acme/%s#%d,%t\n",
				i, svc, ts(), statuses[rng.IntN(len(statuses))], rng.IntN(50), sha(), svc, rng.IntN(1000), svc, rng.IntN(1000), rng.IntN(10) == 0)
		}
		return int64(nCSVDeploys)
	})
	set.baseline = append(set.baseline, fmt.Sprintf(`CREATE TABLE base_deployments AS SELECT * FROM read_csv(%s, header = true, columns = {
		id: 'VARCHAR', service: 'VARCHAR', environment: 'VARCHAR', finished_at: 'TIMESTAMPTZ', status: 'VARCHAR', version: 'VARCHAR',
		commit_sha: 'VARCHAR', changes: 'VARCHAR', is_hotfix: 'BOOLEAN'})`,
		q(filepath.Join(dir, "deployments.csv"))))
	return set
}
