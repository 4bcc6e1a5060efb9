package ingest

import (
	"bytes"
	"context"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/spf13/cobra"

	ingestpkg "github.com/shiplog/shiplog/ingest"
	"github.com/shiplog/shiplog/ingest/all"
	jirasrc "github.com/shiplog/shiplog/ingest/jira"
	"github.com/shiplog/shiplog/internal/cmdutil"
	"github.com/shiplog/shiplog/internal/config"
	"github.com/shiplog/shiplog/internal/iostreams"
	"github.com/shiplog/shiplog/internal/warehouse"
)

// fixture: events.jsonl (1 service, 2 deployments), a repository with two
// commits and the tag v1.0.0, and a GitHub that answers every list empty.
func fixture(t *testing.T) *config.Config {
	t.Helper()
	if _, err := exec.LookPath("git"); err != nil {
		t.Skip("git is not installed")
	}
	dir := t.TempDir()
	events := `{"kind":"service","id":"checkout","name":"Checkout","team":"payments"}
{"kind":"deployment","id":"d-1","service":"checkout","environment":"production","finished_at":"2026-03-01T10:00:00Z","status":"success"}
{"kind":"deployment","id":"d-2","service":"checkout","environment":"production","finished_at":"2026-03-02T10:00:00Z","status":"success"}
`
	if err := os.WriteFile(filepath.Join(dir, "events.jsonl"), []byte(events), 0o644); err != nil {
		t.Fatal(err)
	}
	repo := filepath.Join(dir, "api")
	if err := os.Mkdir(repo, 0o755); err != nil {
		t.Fatal(err)
	}
	for _, args := range [][]string{
		{"init", "-q", "-b", "main"},
		{"commit", "-q", "--allow-empty", "-m", "first"},
		{"commit", "-q", "--allow-empty", "-m", "second"},
		{"tag", "v1.0.0"},
	} {
		cmd := exec.Command("git", append([]string{"-C", repo}, args...)...)
		cmd.Env = append(os.Environ(), "GIT_CONFIG_GLOBAL=/dev/null", "GIT_CONFIG_NOSYSTEM=1",
			"GIT_AUTHOR_NAME=Ana", "GIT_AUTHOR_EMAIL=ana@example.com",
			"GIT_COMMITTER_NAME=Ana", "GIT_COMMITTER_EMAIL=ana@example.com")
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("git %v: %v\n%s", args, err, out)
		}
	}
	gh := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte("[]"))
	}))
	t.Cleanup(gh.Close)

	cfg := config.Default()
	cfg.Sources.Files = []config.Files{{Paths: []string{filepath.Join(dir, "events.jsonl")}}}
	cfg.Sources.Git = []config.Git{{Repo: repo, Name: "acme/api"}}
	cfg.Sources.GitHub = &config.GitHub{APIURL: gh.URL + "/", Repos: []string{"acme/web"}}
	return cfg
}

// refusedJira is a Jira section whose address refuses connections.
func refusedJira(t *testing.T) *config.Jira {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	return &config.Jira{URL: "http://" + addr, Incidents: &config.JiraIncidents{JQL: "project = OPS"}}
}

type transformCall struct {
	mappers []string
}

// runAll runs `ingest --all` with args against cfg and a warehouse file,
// with a recording transform.
func runAll(t *testing.T, cfg *config.Config, args ...string) (dbPath, stderr string, calls []transformCall, err error) {
	t.Helper()
	ios, _, _, errOut := iostreams.Test()
	dbPath = filepath.Join(t.TempDir(), "w.duckdb")
	f := &cmdutil.Factory{IOStreams: ios, Now: time.Now, Getenv: func(string) string { return "" }, DBPath: dbPath}
	f.SetConfig(cfg)
	old := RunTransform
	t.Cleanup(func() { RunTransform = old })
	RunTransform = func(ctx context.Context, db *warehouse.DB, c *config.Config, ms []ingestpkg.Mapper, progress io.Writer) error {
		var names []string
		for _, m := range ms {
			names = append(names, m.Name())
		}
		calls = append(calls, transformCall{names})
		return nil
	}
	cmd := &cobra.Command{Use: "ingest"}
	addAll(cmd, f, func(ctx context.Context, o *AllOptions) error {
		o.SourceOptions = []all.Option{all.WithJiraOptions(jirasrc.WithBackoff(ingestpkg.Backoff{Base: time.Millisecond, Max: time.Millisecond, Attempts: 1}))}
		return RunAll(ctx, o)
	})
	cmd.SetArgs(args)
	cmd.SetOut(io.Discard)
	cmd.SetErr(io.Discard)
	err = cmd.ExecuteContext(context.Background())
	return dbPath, errOut.String(), calls, err
}

func ledger(t *testing.T, path string) []string {
	t.Helper()
	db, err := warehouse.Open(context.Background(), path, warehouse.Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	rs, err := db.Query(`SELECT source || ':' || status FROM ingest_runs ORDER BY id`)
	if err != nil {
		t.Fatal(err)
	}
	defer rs.Close()
	var out []string
	for rs.Next() {
		var s string
		if err := rs.Scan(&s); err != nil {
			t.Fatal(err)
		}
		out = append(out, s)
	}
	return out
}

func TestIngestAllRunsEverySourceThenTransform(t *testing.T) {
	cfg := fixture(t)
	dbPath, stderr, calls, err := runAll(t, cfg, "--all")
	if err != nil {
		t.Fatalf("%v\n%s", err, stderr)
	}
	if got := strings.Join(ledger(t, dbPath), " "); got != "file:success git:success github:success" {
		t.Errorf("ingest_runs = %s", got)
	}
	// Summary table: a header and one row per source. The file row read 3
	// records and wrote 3 rows (1 service + 2 deployments); git read the 2
	// commits and the tag v1.0.0 and wrote them (2 commits + 1 deployment).
	table := stderr[strings.Index(stderr, "source\t"):]
	lines := strings.Split(strings.TrimSpace(table), "\n")
	if len(lines) < 4 {
		t.Fatalf("summary table:\n%s", table)
	}
	if !strings.HasPrefix(lines[1], "file\t") || !strings.Contains(lines[1], "\tsuccess\t3\t3\t0\t") {
		t.Errorf("file row %q, want success with 3 read, 3 written, 0 rejected", lines[1])
	}
	if !strings.HasPrefix(lines[2], "git\t") || !strings.Contains(lines[2], "\tsuccess\t3\t3\t0\t") {
		t.Errorf("git row %q", lines[2])
	}
	if !strings.HasPrefix(lines[3], "github\t") || !strings.Contains(lines[3], "\tsuccess\t") {
		t.Errorf("github row %q", lines[3])
	}
	if len(calls) != 1 || strings.Join(calls[0].mappers, ",") != "github" {
		t.Errorf("transform calls %v, want one with the github mapper", calls)
	}
}

func TestIngestAllNoTransform(t *testing.T) {
	cfg := fixture(t)
	_, stderr, calls, err := runAll(t, cfg, "--all", "--no-transform")
	if err != nil {
		t.Fatalf("%v\n%s", err, stderr)
	}
	if len(calls) != 0 {
		t.Errorf("transform ran %d times with --no-transform", len(calls))
	}
}

func TestIngestAllGoesPastAFailingSource(t *testing.T) {
	cfg := fixture(t)
	cfg.Sources.Jira = refusedJira(t)
	dbPath, stderr, calls, err := runAll(t, cfg, "--all")
	if err == nil {
		t.Fatalf("no error\n%s", stderr)
	}
	if code := cmdutil.ExitCode(err); code != 1 {
		t.Errorf("exit code %d, want 1", code)
	}
	if !strings.Contains(err.Error(), "1 of 4 sources failed: jira (") {
		t.Errorf("error %q does not name jira as the one failure", err)
	}
	if got := strings.Join(ledger(t, dbPath), " "); got != "file:success git:success github:success jira:failed" {
		t.Errorf("ingest_runs = %s", got)
	}
	if !strings.Contains(stderr, "jira\t") || !strings.Contains(stderr, "\tfailed\t") || !strings.Contains(stderr, "refused") {
		t.Errorf("summary does not show jira failed with the reason:\n%s", stderr)
	}
	if len(calls) != 0 {
		t.Errorf("transform ran after a failed source")
	}
}

func TestIngestAllNeedsASource(t *testing.T) {
	_, _, _, err := runAll(t, config.Default(), "--all")
	if err == nil || cmdutil.ExitCode(err) != 2 || !strings.Contains(err.Error(), "no source configured") {
		t.Fatalf("err = %v, want a usage error saying no source is configured", err)
	}
}

func TestIngestFlags(t *testing.T) {
	ios, _, _, _ := iostreams.Test()
	f := &cmdutil.Factory{IOStreams: ios}
	for _, tc := range []struct {
		args []string
		code int
	}{
		{nil, 0},                        // help
		{[]string{"--no-transform"}, 2}, // needs --all
		{[]string{"--all", "extra"}, 2}, // no arguments
	} {
		cmd := NewCmdIngest(f)
		cmd.SetFlagErrorFunc(func(c *cobra.Command, err error) error { return &cmdutil.FlagError{Err: err} })
		var out bytes.Buffer
		cmd.SetOut(&out)
		cmd.SetErr(&out)
		cmd.SetArgs(tc.args)
		err := cmd.Execute()
		if got := cmdutil.ExitCode(err); got != tc.code {
			t.Errorf("ingest %v: exit %d (%v), want %d", tc.args, got, err, tc.code)
		}
	}
}

// TestIngestAllThenRealTransform runs the transform package itself: the
// marts hold the file's 2 deployments and the git tag's 1 (3 in all).
func TestIngestAllThenRealTransform(t *testing.T) {
	cfg := fixture(t)
	ios, _, _, errOut := iostreams.Test()
	dbPath := filepath.Join(t.TempDir(), "w.duckdb")
	f := &cmdutil.Factory{IOStreams: ios, Now: time.Now, Getenv: func(string) string { return "" }, DBPath: dbPath}
	f.SetConfig(cfg)
	cmd := NewCmdIngest(f)
	cmd.SetArgs([]string{"--all"})
	if err := cmd.ExecuteContext(context.Background()); err != nil {
		t.Fatalf("%v\n%s", err, errOut)
	}
	db, err := warehouse.Open(context.Background(), dbPath, warehouse.Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var n int64
	if err := db.QueryRow(`SELECT count(*) FROM fct_deployments`).Scan(&n); err != nil {
		t.Fatalf("fct_deployments: %v\n%s", err, errOut)
	}
	if n != 3 {
		t.Errorf("fct_deployments has %d rows, want 3 (2 from the file, 1 git tag)", n)
	}
}
