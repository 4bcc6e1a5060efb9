package github

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

	"github.com/shiplog/shiplog/internal/cmdutil"
	"github.com/shiplog/shiplog/internal/config"
	"github.com/shiplog/shiplog/internal/iostreams"
	"github.com/shiplog/shiplog/internal/warehouse"
)

const token = "ghp_cmdTESTtoken987654321"

func factory(t *testing.T, cfg *config.Config) (*cmdutil.Factory, *bytes.Buffer) {
	ios, _, _, errOut := iostreams.Test()
	f := &cmdutil.Factory{
		IOStreams: ios,
		Now:       func() time.Time { return time.Date(2024, 3, 7, 12, 0, 0, 0, time.UTC) },
		Getenv: func(k string) string {
			if k == "GITHUB_TOKEN" {
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
	cfg.Sources.GitHub = &config.GitHub{
		Repos:           []string{"acme/old"},
		DeployWorkflows: []string{"Deploy"},
		Services:        map[string][]string{"acme/web": {"web", "admin"}},
	}
	tests := []struct {
		args    []string
		repos   string
		flows   string
		noWait  bool
		wantErr string
	}{
		{[]string{}, "[acme/old]", "[Deploy]", false, ""},
		{[]string{"--repo", "acme/a", "--repo", "acme/b", "--no-wait"}, "[acme/a acme/b]", "[Deploy]", true, ""},
		{[]string{"--deploy-workflow", "release.yml"}, "[acme/old]", "[release.yml]", false, ""},
		{[]string{"--repo", "nope"}, "", "", false, `github: repos: "nope" is not an owner/name repository`},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			f, _ := factory(t, cfg)
			var got *config.GitHub
			cmd := NewCmdGitHub(f, func(ctx context.Context, o *Options) error {
				g, _, err := o.Merged()
				got = g
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
			if s := strings.Join(got.Repos, " "); "["+s+"]" != tt.repos {
				t.Errorf("repos = %v, want %s", got.Repos, tt.repos)
			}
			if s := strings.Join(got.DeployWorkflows, " "); "["+s+"]" != tt.flows {
				t.Errorf("deploy workflows = %v, want %s", got.DeployWorkflows, tt.flows)
			}
			if got.NoWait != tt.noWait || got.TokenEnv != "GITHUB_TOKEN" || got.APIURL != "https://api.github.com/" {
				t.Errorf("no_wait %v token_env %q api_url %q", got.NoWait, got.TokenEnv, got.APIURL)
			}
		})
	}
}

func TestNoRepositoriesIsAUsageError(t *testing.T) {
	f, _ := factory(t, config.Default())
	cmd := NewCmdGitHub(f, nil)
	cmd.SetArgs(nil)
	cmd.SetOut(&bytes.Buffer{})
	cmd.SetErr(&bytes.Buffer{})
	err := cmd.Execute()
	if cmdutil.ExitCode(err) != cmdutil.ExitUsage || !strings.Contains(err.Error(), "--repo") {
		t.Fatalf("err = %v (exit %d), want a usage error naming --repo", err, cmdutil.ExitCode(err))
	}
}

// An empty repository: every list is [] (an object with an empty list for
// workflows). Then a 401 for a second run.
func TestRunRecordsTheRun(t *testing.T) {
	unauthorized := false
	var seenAuth string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		seenAuth = r.Header.Get("Authorization")
		w.Header().Set("Content-Type", "application/json")
		if unauthorized {
			w.WriteHeader(401)
			w.Write([]byte(`{"message":"Bad credentials","documentation_url":"https://docs.github.com/rest"}`))
			return
		}
		w.Header().Set("ETag", `"e1"`)
		if r.Header.Get("If-None-Match") == `"e1"` {
			w.WriteHeader(304)
			return
		}
		if strings.HasSuffix(r.URL.Path, "/actions/workflows") {
			w.Write([]byte(`{"total_count":0,"workflows":[]}`))
			return
		}
		w.Write([]byte(`[]`))
	}))
	defer srv.Close()
	cfg := config.Default()
	cfg.Sources.GitHub = &config.GitHub{APIURL: srv.URL, Repos: []string{"acme/app"}, DeployWorkflows: []string{"Deploy"}}
	f, errOut := factory(t, cfg)

	run := func() error {
		cmd := NewCmdGitHub(f, nil)
		cmd.SetArgs(nil)
		cmd.SetOut(&bytes.Buffer{})
		cmd.SetErr(&bytes.Buffer{})
		return cmd.Execute()
	}
	if err := run(); err != nil {
		t.Fatal(err)
	}
	// pulls, deployments, workflows: 3 requests, none 304.
	if !strings.Contains(errOut.String(), "github: done in") || !strings.Contains(errOut.String(), "3 requests (0 answered 304 Not Modified)") {
		t.Errorf("summary:\n%s", errOut)
	}
	errOut.Reset()
	if err := run(); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(errOut.String(), "3 requests (3 answered 304 Not Modified)") {
		t.Errorf("second summary:\n%s", errOut)
	}
	unauthorized = true
	err := run()
	if err == nil || !strings.Contains(err.Error(), "401 Unauthorized") || strings.Contains(err.Error(), token) {
		t.Fatalf("err = %v, want a 401 without the token", err)
	}
	if seenAuth != "Bearer "+token {
		t.Errorf("Authorization = %q", seenAuth)
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
		if strings.Contains(e, token) {
			t.Error("ingest_runs.error holds the token")
		}
		got = append(got, s+" "+tg+" "+st+" "+fmt.Sprint(strings.Contains(e, "401 Unauthorized")))
	}
	want := []string{"github acme/app success false", "github acme/app success false", "github acme/app failed true"}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("ingest_runs = %q, want %q", got, want)
	}
}
