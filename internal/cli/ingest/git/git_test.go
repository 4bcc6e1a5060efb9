package git

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/shiplog/shiplog/internal/cmdutil"
	"github.com/shiplog/shiplog/internal/config"
	"github.com/shiplog/shiplog/internal/iostreams"
	"github.com/shiplog/shiplog/internal/warehouse"
)

func TestFlags(t *testing.T) {
	ios, _, _, _ := iostreams.Test()
	f := &cmdutil.Factory{IOStreams: ios, Now: time.Now}
	var got *Options
	cmd := NewCmdGit(f, func(_ context.Context, o *Options) error { got = o; return nil })
	cmd.SetArgs([]string{"--repo", "r", "--name", "acme/api", "--service", "api", "--tag-pattern", "^rel-"})
	if err := cmd.Execute(); err != nil {
		t.Fatal(err)
	}
	if got.Repo != "r" || got.Name != "acme/api" || got.Service != "api" || got.TagPattern != "^rel-" {
		t.Errorf("options %+v", got)
	}
	cmd = NewCmdGit(f, func(context.Context, *Options) error { return nil })
	cmd.SetArgs([]string{"--name", "acme/api"})
	cmd.SetErr(ios.ErrOut)
	if err := cmd.Execute(); cmdutil.ExitCode(err) != cmdutil.ExitUsage {
		t.Errorf("--name without --repo: %v; want a usage error", err)
	}
	cmd = NewCmdGit(f, func(context.Context, *Options) error { return nil })
	cmd.SetArgs([]string{"--repo", "r", "--tag-pattern", "("})
	cmd.SetErr(ios.ErrOut)
	if err := cmd.Execute(); cmdutil.ExitCode(err) != cmdutil.ExitUsage || !strings.Contains(err.Error(), "--tag-pattern") {
		t.Errorf("bad --tag-pattern: %v; want a usage error naming the flag", err)
	}
}

func gitRun(t *testing.T, dir string, args ...string) {
	t.Helper()
	cmd := exec.Command("git", append([]string{"-C", dir}, args...)...)
	cmd.Env = append(os.Environ(), "GIT_CONFIG_GLOBAL=/dev/null", "GIT_CONFIG_NOSYSTEM=1",
		"GIT_AUTHOR_NAME=Ada", "GIT_AUTHOR_EMAIL=ada@example.com", "GIT_COMMITTER_NAME=Ada", "GIT_COMMITTER_EMAIL=ada@example.com",
		"GIT_AUTHOR_DATE=2026-01-01T10:00:00Z", "GIT_COMMITTER_DATE=2026-01-01T10:00:00Z")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("git %v: %v\n%s", args, err, out)
	}
}

func TestRunFromConfig(t *testing.T) {
	if _, err := exec.LookPath("git"); err != nil {
		t.Skip("git not installed")
	}
	repo := t.TempDir()
	gitRun(t, repo, "init", "-q", "-b", "main")
	gitRun(t, repo, "remote", "add", "origin", "git@github.com:acme/shop.git")
	gitRun(t, repo, "commit", "-q", "--allow-empty", "-m", "one")
	gitRun(t, repo, "tag", "release-1")
	dbPath := filepath.Join(t.TempDir(), "w.duckdb")
	ios, _, _, errOut := iostreams.Test()
	now := time.Date(2026, 2, 1, 0, 0, 0, 0, time.UTC)
	opts := &Options{
		IO:  ios,
		Now: func() time.Time { return now },
		Warehouse: func(ctx context.Context) (*warehouse.DB, error) {
			return warehouse.Open(ctx, dbPath, warehouse.Options{})
		},
		Config: func() (*config.Config, error) {
			cfg := config.Default()
			cfg.Sources.Git = []config.Git{{Repo: repo, TagPattern: "^release-[0-9]+$"}}
			return cfg, nil
		},
	}
	if err := Run(context.Background(), opts); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(errOut.String(), "acme/shop: 1 new commits, 1 release tags") {
		t.Errorf("progress: %q", errOut.String())
	}
	db, err := warehouse.Open(context.Background(), dbPath, warehouse.Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	// Name from the origin remote, service from the name, the tag as a
	// deployment, and one successful run in the ledger.
	var repoName, depID, service, status string
	var read, written int64
	if err := db.QueryRow(`SELECT (SELECT repo FROM commits), (SELECT id FROM deployments), (SELECT service FROM deployments),
		status, rows_read, rows_written FROM ingest_runs`).Scan(&repoName, &depID, &service, &status, &read, &written); err != nil {
		t.Fatal(err)
	}
	if repoName != "acme/shop" || depID != "git:acme/shop:release-1" || service != "shop" || status != "success" || read != 2 || written != 2 {
		t.Errorf("got repo %s, deployment %s, service %s, run %s read %d written %d", repoName, depID, service, status, read, written)
	}

	// No repository anywhere: a usage error.
	opts.Config = func() (*config.Config, error) { return config.Default(), nil }
	if err := Run(context.Background(), opts); cmdutil.ExitCode(err) != cmdutil.ExitUsage {
		t.Errorf("no repository: %v; want a usage error", err)
	}
}
