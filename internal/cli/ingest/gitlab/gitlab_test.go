package gitlab

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	gitlabsrc "github.com/shiplog/shiplog/ingest/gitlab"
	"github.com/shiplog/shiplog/internal/cmdutil"
	"github.com/shiplog/shiplog/internal/config"
	"github.com/shiplog/shiplog/internal/iostreams"
	"github.com/shiplog/shiplog/internal/warehouse"
)

const token = "glpat-cmdTESTtoken987654321"

func factory(t *testing.T, cfg *config.Config) (*cmdutil.Factory, *bytes.Buffer) {
	ios, _, _, errOut := iostreams.Test()
	f := &cmdutil.Factory{
		IOStreams: ios,
		Now:       func() time.Time { return time.Date(2024, 3, 7, 12, 0, 0, 0, time.UTC) },
		Getenv: func(k string) string {
			if k == "GITLAB_TOKEN" {
				return token
			}
			return ""
		},
		DBPath: filepath.Join(t.TempDir(), "w.duckdb"),
	}
	f.SetConfig(cfg)
	return f, errOut
}

func TestFlagsOverrideConfig(t *testing.T) {
	cfg := config.Default()
	cfg.Sources.GitLab = &gitlabsrc.Config{
		Projects: []string{"acme/old"},
		Groups:   []string{"acme/platform"},
		Exclude:  []string{"sandbox-*"},
		Since:    "2024-01-01",
	}
	tests := []struct {
		args     []string
		url      string
		projects string
		groups   string
		since    string
		noWait   bool
		full     bool
		wantErr  string
	}{
		{[]string{}, "https://gitlab.com", "[acme/old]", "[acme/platform]", "2024-01-01", false, false, ""},
		{[]string{"--project", "acme/a", "--project", "acme/b/c", "--no-wait"}, "https://gitlab.com", "[acme/a acme/b/c]", "[]", "2024-01-01", true, false, ""},
		{[]string{"--url", "https://gitlab.example.com", "--since", "90d", "--full"}, "https://gitlab.example.com", "[acme/old]", "[acme/platform]", "90d", false, true, ""},
		{[]string{"--project", "nope"}, "", "", "", "", false, false, `gitlab: projects[0]: "nope" is not a project's full path`},
		{[]string{"--since", "soon"}, "", "", "", "", false, false, `gitlab: since: "soon"`},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			f, _ := factory(t, cfg)
			var got *gitlabsrc.Config
			var full bool
			cmd := NewCmdGitLab(f, func(ctx context.Context, o *Options) error {
				g, _, err := o.Merged()
				got, full = g, o.Full
				return err
			})
			cmd.SetArgs(tt.args)
			cmd.SetOut(&bytes.Buffer{})
			cmd.SetErr(&bytes.Buffer{})
			err := cmd.Execute()
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got.URL != tt.url || fmt.Sprint(got.Projects) != tt.projects || fmt.Sprint(got.Groups) != tt.groups ||
				got.Since != tt.since || got.NoWait != tt.noWait || full != tt.full {
				t.Errorf("merged = url %s projects %v groups %v since %s no_wait %v full %v", got.URL, got.Projects, got.Groups, got.Since, got.NoWait, full)
			}
		})
	}
}

func TestNoProjectsIsAUsageError(t *testing.T) {
	f, _ := factory(t, config.Default())
	cmd := NewCmdGitLab(f, nil)
	cmd.SetArgs(nil)
	cmd.SetOut(&bytes.Buffer{})
	cmd.SetErr(&bytes.Buffer{})
	err := cmd.Execute()
	if cmdutil.ExitCode(err) != cmdutil.ExitUsage || !strings.Contains(err.Error(), "--project") {
		t.Fatalf("err = %v (exit %d), want a usage error naming --project", err, cmdutil.ExitCode(err))
	}
}

// An empty project: every list is []. Then a 401 for a third run.
func TestRunRecordsTheRun(t *testing.T) {
	unauthorized := false
	var seen string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		seen = r.Header.Get("PRIVATE-TOKEN")
		w.Header().Set("Content-Type", "application/json")
		if unauthorized {
			w.WriteHeader(401)
			w.Write([]byte(`{"message":"401 Unauthorized"}`))
			return
		}
		w.Header().Set("ETag", `W/"e1"`)
		if r.Header.Get("If-None-Match") == `W/"e1"` {
			w.WriteHeader(304)
			return
		}
		w.Write([]byte(`[]`))
	}))
	defer srv.Close()
	cfg := config.Default()
	cfg.Sources.GitLab = &gitlabsrc.Config{URL: srv.URL, Projects: []string{"acme/app"}}
	f, errOut := factory(t, cfg)
	run := func() error {
		cmd := NewCmdGitLab(f, nil)
		cmd.SetArgs(nil)
		cmd.SetOut(&bytes.Buffer{})
		cmd.SetErr(&bytes.Buffer{})
		return cmd.Execute()
	}
	if err := run(); err != nil {
		t.Fatal(err)
	}
	// merge requests, deployments: 2 requests, none 304.
	if !strings.Contains(errOut.String(), "gitlab: done in") || !strings.Contains(errOut.String(), "2 requests (0 answered 304 Not Modified)") {
		t.Errorf("summary:\n%s", errOut)
	}
	errOut.Reset()
	if err := run(); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(errOut.String(), "2 requests (2 answered 304 Not Modified)") {
		t.Errorf("second summary:\n%s", errOut)
	}
	unauthorized = true
	err := run()
	if err == nil || !strings.Contains(err.Error(), "401 Unauthorized") || !strings.Contains(err.Error(), "$GITLAB_TOKEN") || strings.Contains(err.Error(), token) {
		t.Fatalf("err = %v, want a 401 naming $GITLAB_TOKEN without the token", err)
	}
	if seen != token {
		t.Errorf("PRIVATE-TOKEN = %q", seen)
	}
	db, err := warehouse.Open(context.Background(), f.DBPath, warehouse.Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	rows, err := db.Query(`SELECT source, target, status, coalesce(error, '') FROM ingest_runs ORDER BY id`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var got []string
	for rows.Next() {
		var s, tg, st, e string
		if err := rows.Scan(&s, &tg, &st, &e); err != nil {
			t.Fatal(err)
		}
		got = append(got, s+" "+strings.TrimPrefix(tg, srv.URL+" ")+" "+st+" "+fmt.Sprint(strings.Contains(e, "401 Unauthorized")))
	}
	want := []string{"gitlab acme/app success false", "gitlab acme/app success false", "gitlab acme/app failed true"}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("ingest_runs = %q, want %q", got, want)
	}
}
