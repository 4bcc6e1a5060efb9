package pagerduty

import (
	"bytes"
	"context"
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

func factory(t *testing.T, cfg *config.Config) (*cmdutil.Factory, *bytes.Buffer) {
	ios, _, _, errOut := iostreams.Test()
	f := &cmdutil.Factory{
		IOStreams: ios,
		Now:       func() time.Time { return time.Date(2026, 3, 10, 0, 0, 0, 0, time.UTC) },
		Getenv: func(k string) string {
			if k == "PAGERDUTY_TOKEN" {
				return "pd-cli-token"
			}
			return ""
		},
		DBPath: filepath.Join(t.TempDir(), "w.duckdb"),
	}
	f.SetConfig(cfg)
	return f, errOut
}

func TestFlags(t *testing.T) {
	cfg := config.Default()
	cfg.Sources.PagerDuty = &config.PagerDuty{APIURL: "https://api.pagerduty.com", Since: "2025-06-01"}
	tests := []struct {
		args    []string
		apiURL  string
		since   string
		full    bool
		wantErr string
	}{
		{nil, "https://api.pagerduty.com", "", false, ""},
		{[]string{"--api-url", "https://api.eu.pagerduty.com", "--full"}, "https://api.eu.pagerduty.com", "", true, ""},
		{[]string{"--since", "2026-01-01"}, "https://api.pagerduty.com", "2026-01-01", false, ""},
		{[]string{"--since", "last week"}, "", "", false, `--since: "last week" is not a date`},
		{[]string{"--since", "2026-01-01", "--full"}, "", "", false, "cannot be combined"},
		{[]string{"--api-url", "ftp://x"}, "", "", false, "pagerduty: api_url:"},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			f, _ := factory(t, cfg)
			var got *config.PagerDuty
			var opts *Options
			cmd := NewCmdPagerDuty(f, func(ctx context.Context, o *Options) error {
				opts = o
				p, err := o.Merged()
				got = p
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
			if got.APIURL != tt.apiURL || opts.Since != tt.since || opts.Full != tt.full || got.Since != "2025-06-01" {
				t.Errorf("api_url %q since %q full %v (config since %q)", got.APIURL, opts.Since, opts.Full, got.Since)
			}
		})
	}
}

// TestRunRecordsTheRun runs the command against a server with one incident
// and checks the warehouse, the run's row and the summary.
func TestRunRecordsTheRun(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "Token token=pd-cli-token" {
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		if strings.HasSuffix(r.URL.Path, "/log_entries") {
			w.Write([]byte(`{"log_entries":[{"id":"R1","type":"acknowledge_log_entry","created_at":"2026-03-02T09:05:00Z"}],"limit":100,"offset":0,"more":false}`))
			return
		}
		w.Write([]byte(`{"incidents":[{"id":"PT4KHLK","type":"incident","title":"Checkout 502","created_at":"2026-03-02T09:00:00Z",
			"updated_at":"2026-03-02T09:05:00Z","status":"acknowledged","urgency":"high","service":{"id":"PIJ90N7","summary":"Checkout"},
			"html_url":"https://acme.pagerduty.com/incidents/PT4KHLK","priority":null}],"limit":100,"offset":0,"more":false}`))
	}))
	defer srv.Close()
	cfg := config.Default()
	f, errOut := factory(t, cfg)
	cmd := NewCmdPagerDuty(f, nil)
	cmd.SetArgs([]string{"--api-url", srv.URL, "--since", "2026-03-01"})
	cmd.SetOut(&bytes.Buffer{})
	cmd.SetErr(&bytes.Buffer{})
	if err := cmd.Execute(); err != nil {
		t.Fatalf("%v\n%s", err, errOut)
	}
	db, err := warehouse.Open(context.Background(), f.DBPath, warehouse.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var id, service, severity, status string
	var ack time.Time
	if err := db.QueryRow(`SELECT id, service, severity, acknowledged_at, extra->>'status' FROM incidents WHERE source = 'pagerduty'`).
		Scan(&id, &service, &severity, &ack, &status); err != nil {
		t.Fatal(err)
	}
	// Checkout (no services map) → "checkout"; no priority, urgency high → sev2.
	if id != "PT4KHLK" || service != "checkout" || severity != "sev2" || status != "acknowledged" ||
		!ack.Equal(time.Date(2026, 3, 2, 9, 5, 0, 0, time.UTC)) {
		t.Errorf("incident %s %s %s %s %s", id, service, severity, status, ack)
	}
	var runStatus, target string
	var read int64
	if err := db.QueryRow(`SELECT status, target, rows_read FROM ingest_runs WHERE source = 'pagerduty'`).Scan(&runStatus, &target, &read); err != nil {
		t.Fatal(err)
	}
	if runStatus != "success" || target != srv.URL+"/incidents" || read != 2 {
		t.Errorf("run %s %s %d, want success, %s/incidents, 2", runStatus, target, read, srv.URL)
	}
	if !strings.Contains(errOut.String(), "1 incidents in the warehouse") || strings.Contains(errOut.String(), "pd-cli-token") {
		t.Errorf("stderr:\n%s", errOut)
	}
}
