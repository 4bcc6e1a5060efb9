package gate

import (
	"context"
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/shiplog/shiplog/internal/cmdutil"
	"github.com/shiplog/shiplog/internal/config"
	"github.com/shiplog/shiplog/internal/iostreams"
	"github.com/shiplog/shiplog/internal/warehouse"
	"github.com/shiplog/shiplog/transform"
)

func TestFlags(t *testing.T) {
	tests := []struct {
		args    []string
		wantErr string
	}{
		{args: []string{"--service", "api", "--version", "1.0"}},
		{args: []string{"--version", "1.0"}, wantErr: "--service is required"},
		{args: []string{"--service", "api"}, wantErr: "--version (or --commit) is required"},
		{args: []string{"--service", "api", "--version", "1", "--override-reason", ""}, wantErr: "--override-reason must not be empty"},
		{args: []string{"--service", "api", "--version", "1", "--format", "csv"}, wantErr: "--format must be one of text, json"},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			ios, _, _, _ := iostreams.Test()
			f := &cmdutil.Factory{IOStreams: ios, Getenv: func(k string) string { return map[string]string{"USER": "dev"}[k] }}
			var got *Options
			cmd := NewCmdGate(f, func(_ context.Context, o *Options) error { got = o; return nil })
			cmd.SetArgs(tt.args)
			cmd.SetOut(ios.ErrOut)
			cmd.SetErr(ios.ErrOut)
			err := cmd.Execute()
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) || cmdutil.ExitCode(err) != 2 {
					t.Fatalf("err = %v, want usage error %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got.Gate.Service != "api" || got.Gate.Version != "1.0" || got.Gate.Actor != "dev" {
				t.Errorf("opts = %+v", got.Gate)
			}
		})
	}
}

// One service with a green test run and an approved change request: GO
// (exit 0); with an open sev1, NO-GO (exit 3); with an override reason,
// exit 0 and recorded.
func TestExitCodes(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "w.duckdb")
	db, err := warehouse.Open(ctx, path, warehouse.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec(`
		INSERT INTO test_runs (id, service, version, framework, suite, started_at, tests, passed, failed, source) VALUES
		  ('r1', 'api', '2.0', 'go', 'store', '2026-03-20 10:00:00+00', 50, 50, 0, 'junit');
		INSERT INTO change_requests (id, services, risk, requested_by, created_at, status, source) VALUES
		  ('CR-1', ['api'], 'normal', 'alice', '2026-03-18 09:00:00+00', 'approved', 'file');
		INSERT INTO approvals (change_request, approver, decision, decided_at, source) VALUES
		  ('CR-1', 'bob', 'approved', '2026-03-18 10:00:00+00', 'file');`); err != nil {
		t.Fatal(err)
	}
	// the gate reads the marts
	transformed := func() {
		if err := transform.Run(ctx, db, config.Default(), transform.Options{}); err != nil {
			t.Fatal(err)
		}
		db.Close()
	}
	transformed()
	format := "text"
	tty := false
	run := func(reason string) (string, error) {
		ios, _, out, _ := iostreams.Test()
		if tty {
			ios.SetStdoutTTY(true)
			ios.SetTerminalWidth(60)
		}
		opts := &Options{IO: ios, Format: format,
			Warehouse: func(ctx context.Context) (*warehouse.DB, error) {
				return warehouse.Open(ctx, path, warehouse.Options{})
			},
			Config: func() (*config.Config, error) { return config.Default(), nil },
			Now:    func() time.Time { return time.Date(2026, 3, 20, 12, 0, 0, 0, time.UTC) },
		}
		opts.Gate.Service, opts.Gate.Version, opts.Gate.OverrideReason, opts.Gate.Actor = "api", "2.0", reason, "ci"
		err := Run(ctx, opts)
		return out.String(), err
	}
	out, err := run("")
	if err != nil || !strings.HasPrefix(out, "GO  api 2.0\n") || !strings.Contains(out, "PASS  tests ") {
		t.Fatalf("GO: err %v\n%s", err, out)
	}
	db, _ = warehouse.Open(ctx, path, warehouse.Options{})
	db.Exec(`INSERT INTO incidents (id, service, severity, opened_at, source) VALUES ('INC-1', 'api', 'sev1', '2026-03-20 11:00:00+00', 'file')`)
	transformed()
	out, err = run("")
	if cmdutil.ExitCode(err) != 3 || !strings.HasPrefix(out, "NO-GO  api 2.0\n") || !strings.Contains(out, "FAIL  open incidents       open: sev1 INC-1 on api") {
		t.Fatalf("NO-GO: err %v\n%s", err, out)
	}
	// On a terminal of 60 columns the evidence wraps under itself (from
	// column 29: two, the mark, two, the longest name, "change failure
	// rate", and two).
	tty = true
	out, _ = run("")
	tty = false
	wrapped := 0
	for _, l := range strings.Split(strings.TrimSpace(out), "\n") {
		if n := len([]rune(l)); n > 60 {
			t.Errorf("on a terminal of 60 columns, a line of %d: %q", n, l)
		}
		if strings.HasPrefix(l, strings.Repeat(" ", 29)) && l[29] != ' ' {
			wrapped++
		}
	}
	if wrapped == 0 {
		t.Errorf("no evidence wrapped under its column on a terminal of 60 columns:\n%s", out)
	}
	out, err = run("INC-1 is the bug this release fixes")
	if err != nil || !strings.HasPrefix(out, "GO (override of NO-GO)  api 2.0\nreason: INC-1 is the bug this release fixes\n") {
		t.Fatalf("override: err %v\n%s", err, out)
	}
	format = "json"
	out, err = run("")
	var doc struct {
		ID       int64
		Decision string
		Criteria []struct {
			Name   string
			Passed bool
		}
	}
	if cmdutil.ExitCode(err) != 3 || json.Unmarshal([]byte(out), &doc) != nil || doc.Decision != "no-go" || doc.ID != 5 || len(doc.Criteria) != 6 {
		t.Errorf("json: err %v\n%s", err, out)
	}
	db, _ = warehouse.Open(ctx, path, warehouse.Options{ReadOnly: true})
	defer db.Close()
	var decisions string
	db.QueryRow(`SELECT string_agg(decision, ',' ORDER BY id) FROM gate_decisions`).Scan(&decisions)
	if decisions != "go,no-go,no-go,override,no-go" {
		t.Errorf("recorded = %s", decisions)
	}
}

// A typo'd service is a usage error with the closest known names, and no
// decision is recorded: a gate must not say GO about a service nobody has.
func TestUnknownService(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "w.duckdb")
	db, err := warehouse.Open(ctx, path, warehouse.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec(`INSERT INTO test_runs (id, service, version, framework, suite, started_at, tests, passed, failed, source) VALUES
		  ('r1', 'checkout-api', '2.0', 'go', 'store', '2026-03-20 10:00:00+00', 50, 50, 0, 'junit')`); err != nil {
		t.Fatal(err)
	}
	if err := transform.Run(ctx, db, config.Default(), transform.Options{}); err != nil {
		t.Fatal(err)
	}
	db.Close()
	ios, _, out, _ := iostreams.Test()
	opts := &Options{IO: ios, Format: "text",
		Warehouse: func(ctx context.Context) (*warehouse.DB, error) {
			return warehouse.Open(ctx, path, warehouse.Options{})
		},
		Config: func() (*config.Config, error) { return config.Default(), nil },
	}
	opts.Gate.Service, opts.Gate.Version = "checkout", "2.0"
	err = Run(ctx, opts)
	if err == nil || err.Error() != `unknown service "checkout"; did you mean "checkout-api"?` || cmdutil.ExitCode(err) != cmdutil.ExitUsage || out.Len() != 0 {
		t.Errorf("err = %v (exit %d), output %q", err, cmdutil.ExitCode(err), out)
	}
	db, _ = warehouse.Open(ctx, path, warehouse.Options{ReadOnly: true})
	defer db.Close()
	var n int
	db.QueryRow(`SELECT count(*) FROM gate_decisions`).Scan(&n)
	if n != 0 {
		t.Errorf("%d decisions recorded for an unknown service", n)
	}
}
