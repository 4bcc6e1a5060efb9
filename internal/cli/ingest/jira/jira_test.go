package jira

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/shiplog/shiplog/ingest"
	jirasrc "github.com/shiplog/shiplog/ingest/jira"
	"github.com/shiplog/shiplog/internal/cmdutil"
	"github.com/shiplog/shiplog/internal/config"
	"github.com/shiplog/shiplog/internal/iostreams"
	"github.com/shiplog/shiplog/internal/warehouse"
)

func TestNewCmdJiraFlags(t *testing.T) {
	tests := []struct {
		args    []string
		wantErr string
		check   func(t *testing.T, o *Options)
	}{
		{args: []string{"--url", "https://acme.atlassian.net", "--user", "bot@acme.com", "--token-env", "JT", "--incidents-jql", "project = OPS", "--full"},
			check: func(t *testing.T, o *Options) {
				j, err := effectiveConfig(o)
				if err != nil {
					t.Fatal(err)
				}
				if j.URL != "https://acme.atlassian.net" || j.User != "bot@acme.com" || j.TokenEnv != "JT" ||
					j.Incidents == nil || j.Incidents.JQL != "project = OPS" || !o.Full {
					t.Errorf("config from flags = %+v", j)
				}
				// From the file, untouched by flags.
				if j.ChangeRequests == nil || j.ChangeRequests.JQL != "project = CAB" {
					t.Errorf("change_requests lost: %+v", j.ChangeRequests)
				}
			}},
		{args: []string{"--flavor", "server"}, wantErr: `--flavor "server": use cloud or datacenter`},
		{args: []string{"--since", "yesterday"}, wantErr: "--since:"},
		{args: []string{"--since", "2024-03-01", "--full"}, wantErr: "cannot be combined"},
		{args: []string{"--page-size", "5000"}, wantErr: "--page-size 5000"},
		{args: []string{"--token", "secret"}, wantErr: "unknown flag: --token"},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			ios, _, _, _ := iostreams.Test()
			f := &cmdutil.Factory{IOStreams: ios, Now: time.Now, Getenv: func(string) string { return "" }}
			f.SetConfig(&config.Config{Sources: config.Sources{Jira: &config.Jira{URL: "https://jira.acme.test",
				ChangeRequests: &config.JiraChangeRequests{JQL: "project = CAB"}}}})
			var got *Options
			cmd := NewCmdJira(f, func(_ context.Context, o *Options) error { got = o; return nil })
			cmd.SetArgs(tt.args)
			cmd.SetOut(ios.ErrOut)
			cmd.SetErr(ios.ErrOut)
			err := cmd.Execute()
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("error = %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			tt.check(t, got)
		})
	}
}

// fakeDC answers /myself, one page of /search with the incident fixtures
// and the changelog of OPS-3, as Jira Data Center would.
func fakeDC(t *testing.T, auth string) *httptest.Server {
	raw, err := os.ReadFile(filepath.Join("..", "..", "..", "..", "ingest", "jira", "testdata", "incidents.json"))
	if err != nil {
		t.Fatal(err)
	}
	var issues []json.RawMessage
	if err := json.Unmarshal(raw, &issues); err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		if r.Header.Get("Authorization") != auth {
			w.WriteHeader(401)
			_, _ = w.Write([]byte(`{"errorMessages":["You are not authenticated."],"errors":{}}`))
			return
		}
		switch r.URL.Path {
		case "/rest/api/2/myself":
			_, _ = w.Write([]byte(`{"name":"bot","timeZone":"UTC"}`))
		case "/rest/api/2/search":
			_ = json.NewEncoder(w).Encode(map[string]any{"startAt": 0, "maxResults": 100, "total": len(issues), "issues": issues})
		case "/rest/api/2/issue/OPS-3":
			_, _ = w.Write([]byte(`{"id":"10003","key":"OPS-3","changelog":{"startAt":0,"maxResults":1,"total":1,"histories":[
				{"id":"1","created":"2024-03-05T08:05:00.000+0000","items":[{"field":"status","fromString":"Open","toString":"In Progress"}]}]}}`))
		default:
			w.WriteHeader(404)
		}
	}))
	t.Cleanup(srv.Close)
	return srv
}

func runOpts(t *testing.T, url string, dbPath string) (*Options, *strings.Builder) {
	ios, _, _, errOut := iostreams.Test()
	_ = errOut
	cfg := &config.Config{Sources: config.Sources{Jira: &config.Jira{URL: url, Flavor: "datacenter", TokenEnv: "JIRA_TOKEN",
		Incidents: &config.JiraIncidents{JQL: "project = OPS"}}}}
	log := &strings.Builder{}
	ios.ErrOut = log
	return &Options{
		IO: ios,
		Warehouse: func(ctx context.Context) (*warehouse.DB, error) {
			return warehouse.Open(ctx, dbPath, warehouse.Options{})
		},
		Config: func() (*config.Config, error) { return cfg, nil },
		Getenv: func(k string) string {
			if k == "JIRA_TOKEN" {
				return "pat-123"
			}
			return ""
		},
		Now:           func() time.Time { return time.Date(2024, 3, 10, 0, 0, 0, 0, time.UTC) },
		SourceOptions: []jirasrc.Option{jirasrc.WithBackoff(ingest.Backoff{Base: time.Millisecond, Max: time.Millisecond, Attempts: 1})},
	}, log
}

func TestRunRecordsRun(t *testing.T) {
	ctx := context.Background()
	dbPath := filepath.Join(t.TempDir(), "w.duckdb")

	// A good run: 4 incidents, recorded as success.
	srv := fakeDC(t, "Bearer pat-123")
	opts, log := runOpts(t, srv.URL, dbPath)
	if err := Run(ctx, opts); err != nil {
		t.Fatalf("run: %v\n%s", err, log)
	}
	if !strings.Contains(log.String(), "canonical rows: incidents 4, change_requests 0, approvals 0, support_tickets 0, release_plans 0") {
		t.Errorf("summary missing:\n%s", log)
	}

	// A run with a wrong token: failed, with the credential named, not shown.
	bad := fakeDC(t, "Bearer other")
	opts, _ = runOpts(t, bad.URL, dbPath)
	err := Run(ctx, opts)
	if err == nil || !strings.Contains(err.Error(), "$JIRA_TOKEN") || strings.Contains(err.Error(), "pat-123") {
		t.Fatalf("error = %v, want one naming $JIRA_TOKEN without the token", err)
	}

	db, err := warehouse.Open(ctx, dbPath, warehouse.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	r, err := db.Query(`SELECT status, rows_read, coalesce(error, '') FROM ingest_runs WHERE source = 'jira' ORDER BY id`)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	var got []string
	for r.Next() {
		var status, msg string
		var read int
		if err := r.Scan(&status, &read, &msg); err != nil {
			t.Fatal(err)
		}
		got = append(got, status)
		if status == "success" && read != 4 {
			t.Errorf("rows_read = %d, want 4", read)
		}
		if status == "failed" && (!strings.Contains(msg, "401") || strings.Contains(msg, "pat-123")) {
			t.Errorf("failed run error = %q", msg)
		}
	}
	if strings.Join(got, ",") != "success,failed" {
		t.Errorf("runs = %v, want success,failed", got)
	}
	// The failed run did not touch the mapped rows.
	var n int
	if err := db.QueryRow(`SELECT count(*) FROM incidents WHERE source = 'jira'`).Scan(&n); err != nil || n != 4 {
		t.Errorf("incidents = %d (%v), want 4", n, err)
	}
}
