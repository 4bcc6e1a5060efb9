package transform_test

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"github.com/shiplog/shiplog/ingest"
	gitsrc "github.com/shiplog/shiplog/ingest/git"
	"github.com/shiplog/shiplog/internal/config"
	"github.com/shiplog/shiplog/internal/gitfixture"
	"github.com/shiplog/shiplog/internal/warehouse"
	"github.com/shiplog/shiplog/transform"
)

// loadRelease reads gitfixture.Release into a fresh warehouse (service
// "app") and transforms it with cfg.
func loadRelease(t *testing.T, cfg *config.Config) (*warehouse.DB, map[string]string) {
	t.Helper()
	r, sha := gitfixture.Release(t)
	return loadRepo(t, r, cfg), sha
}

// loadRepo reads a repository into a fresh warehouse (service "app", tags
// vMAJOR.MINOR.PATCH as releases) and transforms it with cfg.
func loadRepo(t *testing.T, r *gitfixture.Repo, cfg *config.Config) *warehouse.DB {
	t.Helper()
	ctx := context.Background()
	db, err := warehouse.Open(ctx, filepath.Join(t.TempDir(), "w.duckdb"), warehouse.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	src, err := gitsrc.New(gitsrc.Config{Repo: r.Dir, Name: "acme/app", Service: "app", TagPattern: `^v\d+\.\d+\.\d+$`})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := ingest.Run(ctx, src, &ingest.Env{DB: db}); err != nil {
		t.Fatal(err)
	}
	if err := transform.Run(ctx, db, cfg, transform.Options{}); err != nil {
		t.Fatal(err)
	}
	return db
}

// TestCommitLevelLeadTime checks the changes made from git alone against
// the lead times worked out by hand in gitfixture.Release.
func TestCommitLevelLeadTime(t *testing.T) {
	db, sha := loadRelease(t, config.Default())
	name := map[string]string{}
	for k, v := range sha {
		name[v] = k
	}
	rows, err := db.Query(`select change_id, deployment_id, lead_time_hours, coalesce(excluded_reason, ''),
		granularity, coding_hours is null and pickup_hours is null and review_hours is null and deploy_hours is null
		from fct_changes order by first_commit_at`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var got []string
	for rows.Next() {
		var id, dep, excluded, gran string
		var hours float64
		var stagesNull bool
		if err := rows.Scan(&id, &dep, &hours, &excluded, &gran, &stagesNull); err != nil {
			t.Fatal(err)
		}
		if gran != "commit" || !stagesNull {
			t.Errorf("%s: granularity %s, stages null %v; want commit, true", name[id], gran, stagesNull)
		}
		got = append(got, fmt.Sprintf("%s %s %g %s", name[id], strings.TrimPrefix(dep, "git:acme/app:"), hours, excluded))
	}
	want := []string{
		"c1 v1.0.0 48 pre_tracking", // 01-01 10:00 → 01-03 10:00
		"c2 v1.0.0 24 pre_tracking",
		"c3 v1.1.0 48 ",  // 01-05 10:00 → 01-07 10:00
		"c4 v1.1.0 22 ",  // 01-06 12:00 → 01-07 10:00
		"c5 v1.2.0 49 ",  // 01-08 09:00 → 01-10 10:00 (through the merge)
		"c6 v1.2.0 43 ",  // 01-08 15:00 → 01-10 10:00
		"c8 v1.3.0 56 ",  // authored 01-10 08:00 → 01-12 16:00
		"c7 v1.3.0 30 ",  // 01-11 10:00 → 01-12 16:00 (after v1.1.1, committed later)
		"p1 v1.1.1 0.5 ", // 01-11 11:00 → 11:30, on the maintenance branch
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("commit changes:\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}

	// Per release: the median of its commits' lead times, by hand.
	perRelease := map[string]float64{}
	rs, err := db.Query(`select deployment_id, quantile_cont(lead_time_hours, 0.5) from fct_changes
		where excluded_reason is null group by all`)
	if err != nil {
		t.Fatal(err)
	}
	defer rs.Close()
	for rs.Next() {
		var dep string
		var med float64
		if err := rs.Scan(&dep, &med); err != nil {
			t.Fatal(err)
		}
		perRelease[strings.TrimPrefix(dep, "git:acme/app:")] = med
	}
	if fmt.Sprint(perRelease) != "map[v1.1.0:35 v1.1.1:0.5 v1.2.0:46 v1.3.0:43]" {
		t.Errorf("median per release: %v, want v1.1.0 35, v1.1.1 0.5, v1.2.0 46, v1.3.0 43", perRelease)
	}
}

// TestLeadTimeFrom checks the setting: pull_requests makes no commit
// changes (no change source: lead time unknown); commits on a service with
// a change record leaves the record out as other_granularity.
func TestLeadTimeFrom(t *testing.T) {
	cfg := config.Default()
	cfg.Metrics.LeadTimeFrom = config.LeadTimeFromPullRequests
	db, _ := loadRelease(t, cfg)
	var n int
	var reason *string
	if err := db.QueryRow(`select count(*) from fct_changes`).Scan(&n); err != nil || n != 0 {
		t.Errorf("pull_requests: %d changes (%v), want 0", n, err)
	}
	if err := db.QueryRow(`select lead_time_unknown_reason from metric_rows('service', '', null, null)`).Scan(&reason); err != nil ||
		reason == nil || *reason != "no change source" {
		t.Errorf("pull_requests: lead time unknown reason %v (%v), want no change source", reason, err)
	}

	cfg.Metrics.LeadTimeFrom = config.LeadTimeFromCommits
	db, sha := loadRelease(t, cfg)
	if _, err := db.Exec(`insert into changes (id, service, first_commit_at, opened_at, merged_at, merge_commit_sha, source)
		values ('acme/app#1', 'app', timestamptz '2026-01-04 10:00:00+00', timestamptz '2026-01-04 11:00:00+00',
		        timestamptz '2026-01-05 10:00:00+00', ?, 'file')`, sha["c3"]); err != nil {
		t.Fatal(err)
	}
	if err := transform.Run(context.Background(), db, cfg, transform.Options{}); err != nil {
		t.Fatal(err)
	}
	var excluded, from string
	if err := db.QueryRow(`select excluded_reason from fct_changes where change_id = 'acme/app#1'`).Scan(&excluded); err != nil || excluded != "other_granularity" {
		t.Errorf("commits: the pull request is left out as %q (%v), want other_granularity", excluded, err)
	}
	if err := db.QueryRow(`select count(*) from fct_changes where granularity = 'commit' and excluded_reason is null`).Scan(&n); err != nil || n != 7 {
		t.Errorf("commits: %d counted commits (%v), want 7", n, err)
	}
	if err := db.QueryRow(`select lead_time_from from dim_service_sources where service = 'app'`).Scan(&from); err != nil || from != "commits" {
		t.Errorf("dim_service_sources.lead_time_from = %q (%v)", from, err)
	}

	// auto with the same pull request: the service has a change record, so
	// its lead time is per pull request and no commit change is made.
	cfg.Metrics.LeadTimeFrom = config.LeadTimeFromAuto
	if err := transform.Run(context.Background(), db, cfg, transform.Options{}); err != nil {
		t.Fatal(err)
	}
	if err := db.QueryRow(`select count(*) from fct_changes where granularity = 'commit'`).Scan(&n); err != nil || n != 0 {
		t.Errorf("auto with a pull request: %d commit changes (%v), want 0", n, err)
	}
}

// TestGitRevertFailsRelease follows a `git revert` from a local repository
// to the release it fails (gitfixture.Revert): git writes the trailer
// `This reverts commit <sha>` in the revert's message, the git source keeps
// the message, and the release that first shipped the reverted commit,
// v1.1.0, fails (reason revert), restored 6 h later by v1.2.0, which
// shipped the revert.
func TestGitRevertFailsRelease(t *testing.T) {
	r, _ := gitfixture.Revert(t)
	db := loadRepo(t, r, config.Default())
	rows, err := db.Query(`select deployment_id, failure_reason, coalesce(f.restored_by_deployment, '-'), d.recovery_hours
		from fct_deployments d join fct_failures f using (deployment_id) order by d.finished_at`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var got []string
	for rows.Next() {
		var dep, reason, by string
		var hours float64
		if err := rows.Scan(&dep, &reason, &by, &hours); err != nil {
			t.Fatal(err)
		}
		got = append(got, fmt.Sprintf("%s %s %s %g", dep, reason, by, hours))
	}
	want := []string{"git:acme/app:v1.1.0 revert git:acme/app:v1.2.0 6"}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("failed releases:\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

// TestCommitSentTwiceWalksBothParents: a commit sent by two sources with
// different parents (one source cut the history short) is one commit of
// the graph, and the walk follows the parents either copy names. Only
// the second copy of aaaaaaa3 names its parent, aaaaaaa2, so pr-2 (which
// carries aaaaaaa2) is linked to d2 (which deploys aaaaaaa3) by the
// commit graph only if that copy's edge is the commit's own.
func TestCommitSentTwiceWalksBothParents(t *testing.T) {
	ctx := context.Background()
	db, err := warehouse.Open(ctx, filepath.Join(t.TempDir(), "w.duckdb"), warehouse.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	for _, s := range []string{
		`INSERT INTO teams (id, name, source) VALUES ('core', 'Core', 'test')`,
		`INSERT INTO services (id, name, team, repo, source) VALUES ('app', 'App', 'core', 'acme/app', 'test')`,
		`INSERT INTO commits (sha, repo, parents, authored_at, committed_at, source) VALUES
			('aaaaaaa1', 'acme/app', [], '2026-01-01 10:00:00+00', '2026-01-01 10:00:00+00', 'test'),
			('aaaaaaa2', 'acme/app', ['aaaaaaa1'], '2026-01-02 10:00:00+00', '2026-01-02 10:00:00+00', 'test'),
			('aaaaaaa3', 'acme/app', [], '2026-01-03 10:00:00+00', '2026-01-03 10:00:00+00', 'shallow'),
			('aaaaaaa3', 'acme/app', ['aaaaaaa2'], '2026-01-03 10:00:00+00', '2026-01-03 10:00:00+00', 'test')`,
		`INSERT INTO deployments (id, service, environment, started_at, finished_at, status, commit_sha, source) VALUES
			('d1', 'app', 'production', '2026-01-01 11:00:00+00', '2026-01-01 12:00:00+00', 'success', 'aaaaaaa1', 'test'),
			('d2', 'app', 'production', '2026-01-04 11:00:00+00', '2026-01-04 12:00:00+00', 'success', 'aaaaaaa3', 'test')`,
		`INSERT INTO changes (id, service, repo, title, author, commit_shas, first_commit_at, opened_at, merged_at, source) VALUES
			('pr-2', 'app', 'acme/app', 'second', 'dev', ['aaaaaaa2'], '2026-01-02 10:00:00+00', '2026-01-02 11:00:00+00', '2026-01-02 12:00:00+00', 'test')`,
	} {
		if _, err := db.ExecContext(ctx, s); err != nil {
			t.Fatalf("%v\n%s", err, s)
		}
	}
	if err := transform.Run(ctx, db, config.Default(), transform.Options{}); err != nil {
		t.Fatal(err)
	}
	var dep, rule string
	if err := db.QueryRowContext(ctx, `SELECT coalesce(deployment_id, 'no deployment'), coalesce(link_rule, 'no rule') FROM fct_changes WHERE change_id = 'pr-2'`).Scan(&dep, &rule); err != nil {
		t.Fatal(err)
	}
	if dep != "d2" || rule != "commit_graph" {
		t.Errorf("pr-2: deployed by %s (%s), want d2 (commit_graph)", dep, rule)
	}
}
