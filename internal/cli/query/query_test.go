package query

import (
	"context"
	"encoding/json"
	"errors"
	"path/filepath"
	"strings"
	"testing"

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
		check   func(*testing.T, *Options)
	}{
		{args: []string{"select 1"}, check: func(t *testing.T, o *Options) {
			if o.SQL != "select 1" || o.Name != "" || o.List {
				t.Errorf("opts = %+v", o)
			}
		}},
		{args: []string{"--name", "slowest-changes", "--param", "team=pay=ments", "--param", "limit=5"}, check: func(t *testing.T, o *Options) {
			if o.Name != "slowest-changes" || o.Params["team"] != "pay=ments" || o.Params["limit"] != "5" || len(o.Params) != 2 {
				t.Errorf("opts = %+v", o)
			}
		}},
		{args: []string{"--list", "--format", "json"}, check: func(t *testing.T, o *Options) {
			if !o.List || o.Format != "json" {
				t.Errorf("opts = %+v", o)
			}
		}},
		{args: []string{}, wantErr: "exactly one of"},
		{args: []string{"select 1", "--list"}, wantErr: "exactly one of"},
		{args: []string{"select 1", "--name", "x"}, wantErr: "exactly one of"},
		{args: []string{"--list", "--name", "x"}, wantErr: "exactly one of"},
		{args: []string{"select 1", "--param", "a=1"}, wantErr: "--param needs --name"},
		{args: []string{"--name", "x", "--param", "novalue"}, wantErr: `--param "novalue": write NAME=VALUE`},
		{args: []string{"--name", "x", "--param", "a=1", "--param", "a=2"}, wantErr: "--param a given twice"},
		{args: []string{"--list", "--format", "xml"}, wantErr: "--format must be one of"},
		{args: []string{"--allow-files", "select 1"}, check: func(t *testing.T, o *Options) {
			if !o.AllowFiles || o.Warehouse == nil {
				t.Errorf("opts = %+v", o)
			}
		}},
		{args: []string{"--allow-files", "--name", "x"}, wantErr: "--allow-files applies to an SQL statement"},
		{args: []string{"--allow-files", "--server", "127.0.0.1:8815", "select 1"}, wantErr: "--allow-files applies to an SQL statement"},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			ios, _, _, _ := iostreams.Test()
			f := &cmdutil.Factory{IOStreams: ios}
			var got *Options
			cmd := NewCmdQuery(f, func(_ context.Context, o *Options) error { got = o; return nil })
			cmd.SetArgs(tt.args)
			cmd.SetOut(ios.ErrOut)
			cmd.SetErr(ios.ErrOut)
			err := cmd.Execute()
			if tt.wantErr != "" {
				var fe *cmdutil.FlagError
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) || !errors.As(err, &fe) {
					t.Fatalf("err = %v, want flag error containing %q", err, tt.wantErr)
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

func TestList(t *testing.T) {
	ios, _, out, _ := iostreams.Test()
	if err := Run(context.Background(), &Options{IO: ios, List: true, Format: "json"}); err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Columns []string            `json:"columns"`
		Rows    []map[string]string `json:"rows"`
	}
	if err := json.Unmarshal(out.Bytes(), &doc); err != nil {
		t.Fatal(err)
	}
	if strings.Join(doc.Columns, ",") != "name,audience,kind,description,params" {
		t.Errorf("columns = %v", doc.Columns)
	}
	var found bool
	for _, r := range doc.Rows {
		if r["name"] == "unreviewed-change" {
			found = true
			if r["audience"] != "audit" || r["kind"] != "control" ||
				r["params"] != "from timestamp '1970-01-01', to timestamp '9999-12-31', required_approvals int '1'" {
				t.Errorf("row = %v", r)
			}
		}
	}
	if !found {
		t.Error("unreviewed-change not listed")
	}
}

func TestNamedQuery(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "w.duckdb")
	db, err := warehouse.Open(ctx, path, warehouse.Options{})
	if err != nil {
		t.Fatal(err)
	}
	// Two merged changes: one with no approving review (a finding), one with two.
	if _, err := db.Exec(`INSERT INTO changes (id, service, first_commit_at, merged_at, approvals, source) VALUES
		('r#1', 'api', '2026-03-01 09:00:00+00', '2026-03-02 10:00:00+00', 0, 'file'),
		('r#2', 'api', '2026-03-01 09:00:00+00', '2026-03-02 11:00:00+00', 2, 'file')`); err != nil {
		t.Fatal(err)
	}
	// controls read the marts
	if err := transform.Run(ctx, db, config.Default(), transform.Options{}); err != nil {
		t.Fatal(err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	ios, _, out, _ := iostreams.Test()
	opts := &Options{IO: ios, Name: "unreviewed-change", Params: map[string]string{"required_approvals": "2"}, Format: "csv",
		Warehouse: func(ctx context.Context) (*warehouse.DB, error) {
			return warehouse.Open(ctx, path, warehouse.Options{ReadOnly: true})
		}}
	if err := Run(ctx, opts); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	if len(lines) != 2 || !strings.HasPrefix(lines[1], "r#1,r#1,api,") || !strings.HasSuffix(lines[1], ",merged with 0 of 2 required approving reviews") {
		t.Errorf("output:\n%s", out.String())
	}

	// Run by name, a control takes its parameters from the configuration:
	// required_approvals 3 there makes both r#1 (0 approvals) and r#2 (2)
	// fail, where the query's own default (1) would fail only r#1; --param
	// still overrides it (1: only r#1).
	cfg := config.Default()
	cfg.Controls.RequiredApprovals = 3
	opts.Config = func() (*config.Config, error) { return cfg, nil }
	for params, want := range map[string]int{"": 2, "1": 1} {
		out.Reset()
		opts.Params = map[string]string{}
		if params != "" {
			opts.Params["required_approvals"] = params
		}
		if err := Run(ctx, opts); err != nil {
			t.Fatal(err)
		}
		if n := strings.Count(strings.TrimSpace(out.String()), "\n"); n != want {
			t.Errorf("required_approvals %q: %d findings:\n%s", params, n, out)
		}
	}
	opts.Config = nil

	opts.Params = map[string]string{"required": "2"}
	err = Run(ctx, opts)
	var fe *cmdutil.FlagError
	if err == nil || !errors.As(err, &fe) || !strings.Contains(err.Error(), `no parameter "required"`) {
		t.Errorf("err = %v", err)
	}
	opts.Params = map[string]string{"required_approvals": "two"}
	if err := Run(ctx, opts); err == nil || !strings.Contains(err.Error(), `parameter required_approvals: "two" is not an integer`) {
		t.Errorf("err = %v", err)
	}
	opts.Name = "nope"
	if err := Run(ctx, opts); err == nil || !strings.Contains(err.Error(), `unknown query "nope"; shiplog query --list shows them`) {
		t.Errorf("err = %v", err)
	}
}
