package git

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/shiplog/shiplog/ingest"
	"github.com/shiplog/shiplog/internal/warehouse"
)

// repo builds a git repository in a temporary folder; every commit's author,
// committer and dates are fixed so the expected rows can be written by hand.
type repo struct {
	t   *testing.T
	dir string
}

func newRepo(t *testing.T) *repo {
	t.Helper()
	if _, err := exec.LookPath("git"); err != nil {
		t.Skip("git not installed")
	}
	r := &repo{t: t, dir: t.TempDir()}
	r.git("", "init", "-q", "-b", "main")
	return r
}

// git runs a git command; when is the author and committer date (RFC 3339),
// or "" for commands that make no commit.
func (r *repo) git(when string, args ...string) string {
	r.t.Helper()
	return r.gitAs("Ada", when, args...)
}

func (r *repo) gitAs(who, when string, args ...string) string {
	r.t.Helper()
	cmd := exec.Command("git", append([]string{"-C", r.dir}, args...)...)
	cmd.Env = append(os.Environ(),
		"GIT_CONFIG_GLOBAL=/dev/null", "GIT_CONFIG_NOSYSTEM=1",
		"GIT_AUTHOR_NAME="+who, "GIT_AUTHOR_EMAIL="+strings.ToLower(who)+"@example.com",
		"GIT_COMMITTER_NAME="+who, "GIT_COMMITTER_EMAIL="+strings.ToLower(who)+"@example.com",
	)
	if when != "" {
		cmd.Env = append(cmd.Env, "GIT_AUTHOR_DATE="+when, "GIT_COMMITTER_DATE="+when)
	}
	out, err := cmd.CombinedOutput()
	if err != nil {
		r.t.Fatalf("git %v: %v\n%s", args, err, out)
	}
	return strings.TrimSpace(string(out))
}

// commit makes an empty-tree-changing commit and returns its sha.
func (r *repo) commit(who, when, file string) string {
	r.t.Helper()
	if err := os.WriteFile(filepath.Join(r.dir, file), []byte(when), 0o644); err != nil {
		r.t.Fatal(err)
	}
	r.gitAs(who, when, "add", file)
	r.gitAs(who, when, "commit", "-q", "-m", file)
	return r.git("", "rev-parse", "HEAD")
}

type commitRow struct {
	Parents   string
	Authored  time.Time
	Committed time.Time
	Author    string
}

func readCommits(t *testing.T, db *warehouse.DB) map[string]commitRow {
	t.Helper()
	rows, err := db.Query(`SELECT sha, array_to_string(parents, ','), authored_at, committed_at, author
		FROM commits WHERE source = 'git' AND repo = 'acme/api'`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	got := map[string]commitRow{}
	for rows.Next() {
		var sha string
		var c commitRow
		if err := rows.Scan(&sha, &c.Parents, &c.Authored, &c.Committed, &c.Author); err != nil {
			t.Fatal(err)
		}
		c.Authored, c.Committed = c.Authored.UTC(), c.Committed.UTC()
		got[sha] = c
	}
	return got
}

type depRow struct {
	ID, Service, Env, Status, Version, Commit, Previous, TriggeredBy string
	Finished                                                         time.Time
}

func readDeployments(t *testing.T, db *warehouse.DB) []depRow {
	t.Helper()
	rows, err := db.Query(`SELECT id, service, environment, status, version, commit_sha,
		coalesce(previous_commit_sha, ''), coalesce(triggered_by, ''), finished_at
		FROM deployments WHERE source = 'git' ORDER BY finished_at`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var got []depRow
	for rows.Next() {
		var d depRow
		if err := rows.Scan(&d.ID, &d.Service, &d.Env, &d.Status, &d.Version, &d.Commit, &d.Previous, &d.TriggeredBy, &d.Finished); err != nil {
			t.Fatal(err)
		}
		d.Finished = d.Finished.UTC()
		got = append(got, d)
	}
	return got
}

func ts(s string) time.Time {
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		panic(err)
	}
	return t.UTC()
}

// memDB opens an in-memory warehouse, closed when the test ends.
func memDB(t *testing.T) *warehouse.DB {
	t.Helper()
	db, err := warehouse.OpenMemory(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

func syncRepo(t *testing.T, db *warehouse.DB, dir string) *Stats {
	t.Helper()
	ctx := context.Background()
	src, err := New(Config{Repo: dir, Name: "acme/api", Service: "api", TagPattern: DefaultTagPattern})
	if err != nil {
		t.Fatal(err)
	}
	run, err := ingest.StartRun(ctx, db, SourceName, dir, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	st, err := src.SyncStats(ctx, &ingest.Env{DB: db, Run: run, State: &ingest.State{DB: db, Source: SourceName}})
	if err != nil {
		t.Fatal(err)
	}
	if err := run.Finish(ctx, db, nil, false, time.Now()); err != nil {
		t.Fatal(err)
	}
	return st
}

// TestSync builds this history (times UTC; dates are both author and
// committer dates):
//
//	c1 Ada   2026-01-01T10:00 (main)
//	c2 Ada   2026-01-02T10:00            <- v1.0.0 (lightweight)
//	c3 Grace 2026-01-03T10:00 (feature, from c2)
//	c4 Ada   2026-01-04T09:00+02:00 (main; 07:00 UTC)  <- nightly (not a release)
//	m5 Linus 2026-01-05T10:00 merge of feature: parents c4, c3
//	         v1.1.0 annotated on m5 by Linus, tagger date 2026-01-06T12:00
//	         v1.2.0-rc1 lightweight on m5 (a pre-release: not matched)
//
// Then, for the incremental run: c6 2026-01-07T10:00 and c7 2026-01-08T10:00
// on main, v1.1.0 force-moved (annotated, tagger date 2026-01-07T12:00) to
// c6, v1.2.0 lightweight on c7.
func TestSync(t *testing.T) {
	r := newRepo(t)
	c1 := r.commit("Ada", "2026-01-01T10:00:00Z", "a")
	c2 := r.commit("Ada", "2026-01-02T10:00:00Z", "b")
	r.git("", "tag", "v1.0.0")
	r.git("", "checkout", "-q", "-b", "feature")
	c3 := r.commit("Grace", "2026-01-03T10:00:00Z", "c")
	r.git("", "checkout", "-q", "main")
	c4 := r.commit("Ada", "2026-01-04T09:00:00+02:00", "d")
	r.git("", "tag", "nightly")
	r.gitAs("Linus", "2026-01-05T10:00:00Z", "merge", "-q", "--no-ff", "-m", "merge feature", "feature")
	m5 := r.git("", "rev-parse", "HEAD")
	r.gitAs("Linus", "2026-01-06T12:00:00Z", "tag", "-a", "-m", "release 1.1.0", "v1.1.0")
	r.git("", "tag", "v1.2.0-rc1")
	// A note and a stash make commits that are not history.
	r.gitAs("Ada", "2026-01-06T13:00:00Z", "notes", "add", "-m", "a note", c1)
	if err := os.WriteFile(filepath.Join(r.dir, "a"), []byte("dirty"), 0o644); err != nil {
		t.Fatal(err)
	}
	r.gitAs("Ada", "2026-01-06T14:00:00Z", "stash", "-q")

	db := memDB(t)

	st := syncRepo(t, db, r.dir)
	if st.CommitsRead != 5 || st.TagsMatched != 2 {
		t.Fatalf("first run read %d commits, %d tags; want 5, 2", st.CommitsRead, st.TagsMatched)
	}
	wantCommits := map[string]commitRow{
		c1: {"", ts("2026-01-01T10:00:00Z"), ts("2026-01-01T10:00:00Z"), "Ada"},
		c2: {c1, ts("2026-01-02T10:00:00Z"), ts("2026-01-02T10:00:00Z"), "Ada"},
		c3: {c2, ts("2026-01-03T10:00:00Z"), ts("2026-01-03T10:00:00Z"), "Grace"},
		c4: {c2, ts("2026-01-04T07:00:00Z"), ts("2026-01-04T07:00:00Z"), "Ada"},
		m5: {c4 + "," + c3, ts("2026-01-05T10:00:00Z"), ts("2026-01-05T10:00:00Z"), "Linus"},
	}
	if got := readCommits(t, db); !reflect.DeepEqual(got, wantCommits) {
		t.Errorf("commits after first run:\n got %v\nwant %v", got, wantCommits)
	}
	wantDeps := []depRow{
		{"git:acme/api:v1.0.0", "api", "production", "success", "v1.0.0", c2, "", "", ts("2026-01-02T10:00:00Z")},
		{"git:acme/api:v1.1.0", "api", "production", "success", "v1.1.0", m5, c2, "Linus", ts("2026-01-06T12:00:00Z")},
	}
	if got := readDeployments(t, db); !reflect.DeepEqual(got, wantDeps) {
		t.Errorf("deployments after first run:\n got %v\nwant %v", got, wantDeps)
	}
	var email string
	if err := db.QueryRow(`SELECT extra->>'author_email' FROM commits WHERE sha = ?`, c3).Scan(&email); err != nil || email != "grace@example.com" {
		t.Errorf("author email of c3 = %q, %v; want grace@example.com", email, err)
	}

	// Nothing changed: nothing read, nothing different.
	st = syncRepo(t, db, r.dir)
	if st.CommitsRead != 0 || st.TipsChanged {
		t.Errorf("unchanged re-run read %d commits (tips changed %v); want 0", st.CommitsRead, st.TipsChanged)
	}
	if got := readCommits(t, db); !reflect.DeepEqual(got, wantCommits) {
		t.Errorf("commits changed on an idle re-run: %v", got)
	}

	c6 := r.commit("Ada", "2026-01-07T10:00:00Z", "e")
	c7 := r.commit("Ada", "2026-01-08T10:00:00Z", "f")
	r.gitAs("Linus", "2026-01-07T12:00:00Z", "tag", "-f", "-a", "-m", "release 1.1.0 again", "v1.1.0", c6)
	r.git("", "tag", "v1.2.0", c7)

	st = syncRepo(t, db, r.dir)
	if st.CommitsRead != 2 {
		t.Errorf("incremental run read %d commits; want 2 (c6, c7)", st.CommitsRead)
	}
	wantCommits[c6] = commitRow{m5, ts("2026-01-07T10:00:00Z"), ts("2026-01-07T10:00:00Z"), "Ada"}
	wantCommits[c7] = commitRow{c6, ts("2026-01-08T10:00:00Z"), ts("2026-01-08T10:00:00Z"), "Ada"}
	if got := readCommits(t, db); !reflect.DeepEqual(got, wantCommits) {
		t.Errorf("commits after incremental run:\n got %v\nwant %v", got, wantCommits)
	}
	wantDeps = []depRow{
		{"git:acme/api:v1.0.0", "api", "production", "success", "v1.0.0", c2, "", "", ts("2026-01-02T10:00:00Z")},
		{"git:acme/api:v1.1.0", "api", "production", "success", "v1.1.0", c6, c2, "Linus", ts("2026-01-07T12:00:00Z")},
		{"git:acme/api:v1.2.0", "api", "production", "success", "v1.2.0", c7, c6, "", ts("2026-01-08T10:00:00Z")},
	}
	if got := readDeployments(t, db); !reflect.DeepEqual(got, wantDeps) {
		t.Errorf("deployments after force-moved tag:\n got %v\nwant %v", got, wantDeps)
	}

	// The ledger has one successful run per sync.
	var runs, ok int
	if err := db.QueryRow(`SELECT count(*), count(*) FILTER (status = 'success') FROM ingest_runs WHERE source = 'git'`).Scan(&runs, &ok); err != nil {
		t.Fatal(err)
	}
	if runs != 3 || ok != 3 {
		t.Errorf("ingest_runs: %d runs, %d successful; want 3, 3", runs, ok)
	}
}

// A tip deleted and garbage-collected since the last run must not break
// the next one.
func TestSyncAfterRefDeleted(t *testing.T) {
	r := newRepo(t)
	r.commit("Ada", "2026-02-01T10:00:00Z", "a")
	r.git("", "checkout", "-q", "-b", "gone")
	r.commit("Ada", "2026-02-02T10:00:00Z", "b")
	r.git("", "checkout", "-q", "main")
	db := memDB(t)
	if st := syncRepo(t, db, r.dir); st.CommitsRead != 2 {
		t.Fatalf("first run read %d; want 2", st.CommitsRead)
	}
	r.git("", "branch", "-q", "-D", "gone")
	r.git("", "reflog", "expire", "--expire=now", "--all")
	r.git("", "gc", "-q", "--prune=now")
	r.commit("Ada", "2026-02-03T10:00:00Z", "c")
	if st := syncRepo(t, db, r.dir); st.CommitsRead != 1 {
		t.Errorf("run after deleting a branch read %d commits; want 1", st.CommitsRead)
	}
	var n int
	db.QueryRow(`SELECT count(*) FROM commits`).Scan(&n)
	if n != 3 {
		t.Errorf("commits = %d; want 3 (history is kept)", n)
	}
}

// TestMessages checks the messages kept in extra.message: the whole
// message, trailers and all, whatever bytes it holds (a record separator,
// tabs, non-ASCII), trimmed, and cut to MaxMessage characters.
func TestMessages(t *testing.T) {
	r := newRepo(t)
	long := strings.Repeat("é", MaxMessage+1) // 2 bytes each
	msgs := []struct{ given, want string }{
		{"Revert \"add retry\"\n\nThis reverts commit 0123456789abcdef0123456789abcdef01234567.\n", "Revert \"add retry\"\n\nThis reverts commit 0123456789abcdef0123456789abcdef01234567."},
		{"fields\x1e\tand\x1f separators ünïcode\n\nbody", "fields\x1e\tand\x1f separators ünïcode\n\nbody"},
		{long, strings.Repeat("é", MaxMessage)},
	}
	want := map[string]string{}
	for i, m := range msgs {
		file := fmt.Sprintf("f%d", i)
		if err := os.WriteFile(filepath.Join(r.dir, file), []byte(file), 0o644); err != nil {
			t.Fatal(err)
		}
		r.git("2026-01-01T10:00:00Z", "add", file)
		r.git("2026-01-01T10:00:00Z", "commit", "-q", "--cleanup=verbatim", "-m", m.given)
		want[r.git("", "rev-parse", "HEAD")] = m.want
	}
	db := memDB(t)
	if st := syncRepo(t, db, r.dir); st.CommitsRead != int64(len(msgs)) {
		t.Fatalf("read %d commits, want %d", st.CommitsRead, len(msgs))
	}
	for sha, w := range want {
		var got string
		if err := db.QueryRow(`SELECT extra->>'message' FROM commits WHERE sha = ?`, sha).Scan(&got); err != nil {
			t.Fatal(err)
		}
		if got != w {
			t.Errorf("message of %s:\n got %q (%d bytes)\nwant %q (%d bytes)", sha, got, len(got), w, len(w))
		}
	}
}

// TestTagsOfOneCommit: two release tags of one commit (1.1.0 and v1.1.0,
// as some projects push both) are one release, the earlier tag (by date,
// then name); the other is named in its extra.other_tags. A tag of
// another commit is a release of its own.
func TestTagsOfOneCommit(t *testing.T) {
	r := newRepo(t)
	c1 := r.commit("Ada", "2026-01-01T10:00:00Z", "a")
	r.git("", "tag", "v1.1.0")
	r.git("", "tag", "1.1.0")
	c2 := r.commit("Ada", "2026-01-02T10:00:00Z", "b")
	r.git("", "tag", "v1.2.0")
	db := memDB(t)
	st := syncRepo(t, db, r.dir)
	if st.TagsMatched != 2 || st.TagsSameCommit != 1 {
		t.Errorf("tags: %d releases, %d left out; want 2, 1", st.TagsMatched, st.TagsSameCommit)
	}
	want := []depRow{
		{"git:acme/api:1.1.0", "api", "production", "success", "1.1.0", c1, "", "", ts("2026-01-01T10:00:00Z")},
		{"git:acme/api:v1.2.0", "api", "production", "success", "v1.2.0", c2, c1, "", ts("2026-01-02T10:00:00Z")},
	}
	if got := readDeployments(t, db); !reflect.DeepEqual(got, want) {
		t.Errorf("deployments:\n got %v\nwant %v", got, want)
	}
	var others string
	if err := db.QueryRow(`SELECT CAST(extra->'$.other_tags' AS VARCHAR) FROM deployments WHERE id = 'git:acme/api:1.1.0'`).Scan(&others); err != nil || others != `["v1.1.0"]` {
		t.Errorf("other_tags = %s, %v; want [\"v1.1.0\"]", others, err)
	}
}

func TestNotARepository(t *testing.T) {
	ctx := context.Background()
	db := memDB(t)
	src, err := New(Config{Repo: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	run, _ := ingest.StartRun(ctx, db, SourceName, "x", time.Now())
	err = src.Sync(ctx, &ingest.Env{DB: db, Run: run, State: &ingest.State{DB: db, Source: SourceName}})
	if err == nil || !strings.Contains(err.Error(), "is not a git repository") {
		t.Errorf("error = %v; want 'is not a git repository'", err)
	}
}

func TestConfig(t *testing.T) {
	if err := (&Config{Repo: "x", TagPattern: "("}).Validate(); err == nil || !strings.Contains(err.Error(), "tag pattern") {
		t.Errorf("bad pattern: %v", err)
	}
	if err := (&Config{}).Validate(); err == nil {
		t.Error("empty repo accepted")
	}
	for _, tc := range []struct{ remote, want string }{
		{"git@github.com:acme/api.git", "acme/api"},
		{"https://github.com/acme/api", "acme/api"},
		{"https://github.com/acme/api.git/", "acme/api"},
		{"ssh://git@git.example.com:2222/group/sub/api.git", "sub/api"},
		{"/srv/git/api.git", "git/api"},
		{"https://x-access-token:s3cret@github.com/acme/api.git", "acme/api"},
		{"", ""},
	} {
		if got := nameFromRemote(tc.remote); got != tc.want {
			t.Errorf("nameFromRemote(%q) = %q; want %q", tc.remote, got, tc.want)
		}
	}
}
