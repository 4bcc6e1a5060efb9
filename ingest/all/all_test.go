package all_test

import (
	"bytes"
	"context"
	"go/parser"
	"go/token"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/shiplog/shiplog/ingest"
	"github.com/shiplog/shiplog/ingest/all"
	gitlabsrc "github.com/shiplog/shiplog/ingest/gitlab"
	jirasrc "github.com/shiplog/shiplog/ingest/jira"
	"github.com/shiplog/shiplog/internal/config"
	"github.com/shiplog/shiplog/internal/warehouse"
)

// events.jsonl: one team, one service, two production deployments of the
// service: 2 rows in teams+services, 2 in deployments, all source 'file'.
const events = `{"kind":"team","id":"payments","name":"Payments"}
{"kind":"service","id":"checkout","name":"Checkout","team":"payments"}
{"kind":"deployment","id":"d-1","service":"checkout","environment":"production","finished_at":"2026-03-01T10:00:00Z","status":"success","version":"1.0.0"}
{"kind":"deployment","id":"d-2","service":"checkout","environment":"production","finished_at":"2026-03-02T10:00:00Z","status":"failure","version":"1.0.1"}
`

// gitRepo makes a repository with two commits, the second tagged v1.0.0:
// the git source should write 2 commits and 1 deployment (version v1.0.0).
func gitRepo(t *testing.T) string {
	t.Helper()
	if _, err := exec.LookPath("git"); err != nil {
		t.Skip("git is not installed")
	}
	dir := filepath.Join(t.TempDir(), "api")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	git := func(when string, args ...string) {
		cmd := exec.Command("git", append([]string{"-C", dir}, args...)...)
		cmd.Env = append(os.Environ(),
			"GIT_CONFIG_GLOBAL=/dev/null", "GIT_CONFIG_NOSYSTEM=1",
			"GIT_AUTHOR_NAME=Ana", "GIT_AUTHOR_EMAIL=ana@example.com",
			"GIT_COMMITTER_NAME=Ana", "GIT_COMMITTER_EMAIL=ana@example.com",
			"GIT_AUTHOR_DATE="+when, "GIT_COMMITTER_DATE="+when)
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("git %v: %v\n%s", args, err, out)
		}
	}
	git("", "init", "-q", "-b", "main")
	git("2026-03-01T09:00:00Z", "commit", "-q", "--allow-empty", "-m", "first")
	git("2026-03-01T10:00:00Z", "commit", "-q", "--allow-empty", "-m", "second")
	git("", "tag", "v1.0.0")
	return dir
}

// emptyGitHub answers every request with an empty JSON list and records
// the paths asked for.
func emptyGitHub(t *testing.T) (*httptest.Server, func() []string) {
	var mu sync.Mutex
	var paths []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		paths = append(paths, r.URL.Path)
		mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte("[]"))
	}))
	t.Cleanup(srv.Close)
	return srv, func() []string {
		mu.Lock()
		defer mu.Unlock()
		return append([]string(nil), paths...)
	}
}

// closedURL is an address on which nothing listens: connection refused.
func closedURL(t *testing.T) string {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	return "http://" + addr
}

func testConfig(t *testing.T, ghURL string) *config.Config {
	t.Helper()
	dir := t.TempDir()
	f := filepath.Join(dir, "events.jsonl")
	if err := os.WriteFile(f, []byte(events), 0o644); err != nil {
		t.Fatal(err)
	}
	cfg := config.Default()
	cfg.Sources.Files = []config.Files{{Paths: []string{filepath.Join(dir, "*.jsonl")}}}
	cfg.Sources.Git = []config.Git{{Repo: gitRepo(t), Name: "acme/api", Service: "api"}}
	cfg.Sources.GitHub = &config.GitHub{APIURL: ghURL + "/", Repos: []string{"acme/web"}}
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	return cfg
}

func count(t *testing.T, db *warehouse.DB, q string) int64 {
	t.Helper()
	var n int64
	if err := db.QueryRow(q).Scan(&n); err != nil {
		t.Fatalf("%s: %v", q, err)
	}
	return n
}

type runRow struct{ source, status, errText string }

func runs(t *testing.T, db *warehouse.DB) []runRow {
	t.Helper()
	rs, err := db.Query(`SELECT source, status, coalesce(error, '') FROM ingest_runs ORDER BY id`)
	if err != nil {
		t.Fatal(err)
	}
	defer rs.Close()
	var out []runRow
	for rs.Next() {
		var r runRow
		if err := rs.Scan(&r.source, &r.status, &r.errText); err != nil {
			t.Fatal(err)
		}
		out = append(out, r)
	}
	return out
}

func TestSourcesRunEveryConfiguredSource(t *testing.T) {
	ctx := context.Background()
	srv, paths := emptyGitHub(t)
	cfg := testConfig(t, srv.URL)
	var progress bytes.Buffer
	runners, err := all.Sources(cfg, func(string) string { return "" }, &progress)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, r := range runners {
		names = append(names, r.Name)
	}
	if got, want := strings.Join(names, ","), "file,git,github"; got != want {
		t.Fatalf("runners %s, want %s (files, git, github in that order)", got, want)
	}
	db, err := warehouse.OpenMemory(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	for _, r := range runners {
		run, err := r.Run(ctx, db)
		if err != nil {
			t.Fatalf("%s: %v\n%s", r, err, progress.String())
		}
		// The record Run returns is the row of ingest_runs.
		var status string
		var read, written int64
		if err := db.QueryRow(`SELECT status, rows_read, rows_written FROM ingest_runs WHERE id = ?`, run.ID).Scan(&status, &read, &written); err != nil {
			t.Fatal(err)
		}
		if status != run.Status || read != run.Read || written != run.Written {
			t.Errorf("%s: Run returned %s %d/%d, ingest_runs holds %s %d/%d", r, run.Status, run.Read, run.Written, status, read, written)
		}
		// events.jsonl: 4 records (a team, a service, two deployments).
		if r.Name == "file" && (run.Read != 4 || run.Written != 4) {
			t.Errorf("file run read %d, wrote %d; want 4 and 4", run.Read, run.Written)
		}
	}
	for q, want := range map[string]int64{
		// events.jsonl: 1 team, 1 service, 2 deployments.
		`SELECT count(*) FROM teams WHERE source = 'file'`:       1,
		`SELECT count(*) FROM services WHERE source = 'file'`:    1,
		`SELECT count(*) FROM deployments WHERE source = 'file'`: 2,
		// the repository: 2 commits, the tag v1.0.0 is one deployment.
		`SELECT count(*) FROM commits WHERE source = 'git'`:                            2,
		`SELECT count(*) FROM deployments WHERE source = 'git' AND version = 'v1.0.0'`: 1,
		// GitHub answered empty lists.
		`SELECT count(*) FROM deployments WHERE source = 'github'`: 0,
	} {
		if got := count(t, db, q); got != want {
			t.Errorf("%s = %d, want %d", q, got, want)
		}
	}
	got := runs(t, db)
	want := []runRow{{"file", "success", ""}, {"git", "success", ""}, {"github", "success", ""}}
	if len(got) != len(want) {
		t.Fatalf("ingest_runs = %v, want %v", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("ingest_runs[%d] = %v, want %v", i, got[i], want[i])
		}
	}
	asked := strings.Join(paths(), " ")
	for _, p := range []string{"/repos/acme/web/pulls", "/repos/acme/web/deployments"} {
		if !strings.Contains(asked, p) {
			t.Errorf("GitHub was not asked for %s (asked: %s)", p, asked)
		}
	}

	// A second run reads nothing new and still records one row per source.
	for _, r := range runners {
		if _, err := r.Run(ctx, db); err != nil {
			t.Fatalf("second run of %s: %v", r, err)
		}
	}
	if n := count(t, db, `SELECT count(*) FROM ingest_runs WHERE status = 'success'`); n != 6 {
		t.Errorf("after two runs, %d successful ingest_runs rows, want 6", n)
	}
	if n := count(t, db, `SELECT count(*) FROM commits WHERE source = 'git'`); n != 2 {
		t.Errorf("after two runs, %d git commits, want still 2", n)
	}
}

func TestFailingSourceIsRecorded(t *testing.T) {
	ctx := context.Background()
	srv, _ := emptyGitHub(t)
	cfg := testConfig(t, srv.URL)
	cfg.Sources.Jira = &config.Jira{URL: closedURL(t), Incidents: &config.JiraIncidents{JQL: "project = OPS"}}
	runners, err := all.Sources(cfg, nil, nil,
		all.WithJiraOptions(jirasrc.WithBackoff(ingest.Backoff{Base: time.Millisecond, Max: time.Millisecond, Attempts: 1})))
	if err != nil {
		t.Fatal(err)
	}
	db, err := warehouse.OpenMemory(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var failed []string
	for _, r := range runners {
		if _, err := r.Run(ctx, db); err != nil {
			failed = append(failed, r.Name)
			if !strings.Contains(err.Error(), "refused") {
				t.Errorf("%s: error %q does not say the connection was refused", r, err)
			}
		}
	}
	if strings.Join(failed, ",") != "jira" {
		t.Fatalf("failed sources %v, want [jira]", failed)
	}
	got := runs(t, db)
	if len(got) != 4 {
		t.Fatalf("ingest_runs = %v, want 4 rows", got)
	}
	if got[3].source != "jira" || got[3].status != "failed" || !strings.Contains(got[3].errText, "refused") {
		t.Errorf("jira run = %v, want failed with connection refused", got[3])
	}
	for _, r := range got[:3] {
		if r.status != "success" {
			t.Errorf("run %v, want success", r)
		}
	}
}

func TestSourcesRefuseBadSettingsBeforeWork(t *testing.T) {
	cfg := config.Default()
	cfg.Sources.Files = []config.Files{{}, {Paths: []string{"a[.jsonl"}}}
	cfg.Sources.GitHub = &config.GitHub{Repos: []string{"acme/web"}, TokenFile: filepath.Join(t.TempDir(), "missing")}
	_, err := all.Sources(cfg, nil, nil)
	if err == nil {
		t.Fatal("no error")
	}
	for _, want := range []string{"sources.files[0].paths", `sources.files[1].paths: bad pattern "a[.jsonl"`, "github: token_file"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not mention %q", err, want)
		}
	}
}

func TestNoSourcesNoRunners(t *testing.T) {
	runners, err := all.Sources(config.Default(), nil, nil)
	if err != nil || len(runners) != 0 {
		t.Fatalf("Sources(defaults) = %v, %v; want none", runners, err)
	}
	if ms := all.Mappers(config.Default(), nil); len(ms) != 0 {
		t.Fatalf("Mappers(defaults) = %v, want none", ms)
	}
}

func TestMappersNeedNoToken(t *testing.T) {
	ctx := context.Background()
	cfg := config.Default()
	// The token file does not exist and JIRA_TOKEN is unset: mapping must
	// not care.
	cfg.Sources.GitHub = &config.GitHub{Repos: []string{"acme/web"}, TokenFile: filepath.Join(t.TempDir(), "missing")}
	cfg.Sources.Jira = &config.Jira{URL: "https://acme.atlassian.net", User: "bot@acme.com", TokenEnv: "JIRA_TOKEN",
		Incidents: &config.JiraIncidents{JQL: "project = OPS"}}
	cfg.Sources.PagerDuty = &config.PagerDuty{} // PAGERDUTY_TOKEN unset
	cfg.Sources.CDEvents = &config.CDEvents{}
	ms := all.Mappers(cfg, nil)
	var names []string
	for _, m := range ms {
		names = append(names, m.Name())
	}
	if strings.Join(names, ",") != "github,jira,pagerduty,cdevents" {
		t.Fatalf("mappers %v, want github,jira,pagerduty,cdevents", names)
	}
	db, err := warehouse.OpenMemory(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	// A canonical row of each source that the raw tables do not back is
	// removed by the mapping: proof that Map ran.
	for _, q := range []string{
		`INSERT INTO deployments (id, service, environment, finished_at, status, source) VALUES ('x', 's', 'production', now(), 'success', 'github')`,
		`INSERT INTO incidents (id, service, severity, opened_at, source) VALUES ('OPS-1', 's', 'sev1', now(), 'jira')`,
		`INSERT INTO incidents (id, service, severity, opened_at, source) VALUES ('PT4KHLK', 's', 'sev1', now(), 'pagerduty')`,
		`INSERT INTO deployments (id, service, environment, finished_at, status, source) VALUES ('e-1', 's', 'production', now(), 'success', 'cdevents')`,
	} {
		if _, err := db.Exec(q); err != nil {
			t.Fatal(err)
		}
	}
	for _, m := range ms {
		if err := m.Map(ctx, db); err != nil {
			t.Fatalf("%s: Map: %v", m.Name(), err)
		}
	}
	for _, q := range []string{
		`SELECT count(*) FROM deployments WHERE source = 'github'`,
		`SELECT count(*) FROM incidents WHERE source = 'jira'`,
		`SELECT count(*) FROM incidents WHERE source = 'pagerduty'`,
		`SELECT count(*) FROM deployments WHERE source = 'cdevents'`,
	} {
		if n := count(t, db, q); n != 0 {
			t.Errorf("%s = %d after mapping empty raw tables, want 0", q, n)
		}
	}
}

// TestRegistryKnowsEverySourceSection fails when config.Sources gains a
// section that Sources does not turn into a runner: each section is set
// here and must yield a runner of the expected name.
func TestRegistryKnowsEverySourceSection(t *testing.T) {
	sections := map[string]struct {
		runner string
		set    func(*config.Sources)
	}{
		"files": {"file", func(s *config.Sources) { s.Files = []config.Files{{Paths: []string{"a.jsonl"}}} }},
		"git":   {"git", func(s *config.Sources) { s.Git = []config.Git{{Repo: t.TempDir(), Name: "acme/api"}} }},
		"github": {"github", func(s *config.Sources) {
			s.GitHub = &config.GitHub{Repos: []string{"acme/web"}}
		}},
		"gitlab": {"gitlab", func(s *config.Sources) {
			s.GitLab = &gitlabsrc.Config{Projects: []string{"acme/web"}}
		}},
		"jira": {"jira", func(s *config.Sources) {
			s.Jira = &config.Jira{URL: "https://acme.atlassian.net", Incidents: &config.JiraIncidents{JQL: "project = OPS"}}
		}},
		"pagerduty": {"pagerduty", func(s *config.Sources) { s.PagerDuty = &config.PagerDuty{} }},
		"cdevents":  {"cdevents", func(s *config.Sources) { s.CDEvents = &config.CDEvents{Paths: []string{"events.jsonl"}} }},
	}
	typ := reflect.TypeOf(config.Sources{})
	for i := 0; i < typ.NumField(); i++ {
		tag, _, _ := strings.Cut(typ.Field(i).Tag.Get("yaml"), ",")
		sec, ok := sections[tag]
		if !ok {
			t.Errorf("sources.%s is not known to the registry: add it to Sources (and Mappers) and to this test", tag)
			continue
		}
		cfg := config.Default()
		sec.set(&cfg.Sources)
		runners, err := all.Sources(cfg, nil, nil)
		if err != nil {
			t.Errorf("sources.%s: %v", tag, err)
			continue
		}
		if len(runners) != 1 || runners[0].Name != sec.runner {
			t.Errorf("sources.%s gave runners %v, want one %s", tag, runners, sec.runner)
		}
	}
	if len(all.Names) != len(sections) {
		t.Errorf("all.Names = %v, want %d names", all.Names, len(sections))
	}
}

// The registry builds sources from their packages; it imports no command
// package (those import it).
func TestRegistryImportsNoCommand(t *testing.T) {
	files, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	fset := token.NewFileSet()
	for _, f := range files {
		if strings.HasSuffix(f, "_test.go") {
			continue
		}
		af, err := parser.ParseFile(fset, f, nil, parser.ImportsOnly)
		if err != nil {
			t.Fatal(err)
		}
		for _, imp := range af.Imports {
			if strings.Contains(imp.Path.Value, "/internal/cli") {
				t.Errorf("%s imports %s", f, imp.Path.Value)
			}
		}
	}
}
