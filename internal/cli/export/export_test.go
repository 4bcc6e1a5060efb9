package export

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	exp "github.com/shiplog/shiplog/export"
	"github.com/shiplog/shiplog/internal/cmdutil"
	"github.com/shiplog/shiplog/internal/fixture"
	"github.com/shiplog/shiplog/internal/iostreams"
	"github.com/shiplog/shiplog/internal/warehouse"
	"github.com/shiplog/shiplog/transform"
)

func TestFlags(t *testing.T) {
	for _, tc := range []struct {
		name     string
		args     []string
		wantExit int
		want     Options
	}{
		{"defaults", []string{"--out", "lake"}, 0, Options{Out: "lake", Format: "parquet"}},
		{"everything", []string{"--out", "lake", "--format", "csv", "--since", "last", "--tables", "teams,fct_deployments", "--tables", "services"}, 0,
			Options{Out: "lake", Format: "csv", Since: "last", Tables: []string{"teams", "fct_deployments", "services"}}},
		{"list needs no --out", []string{"--list"}, 0, Options{Format: "parquet", List: true}},
		{"--out is required", nil, 2, Options{}},
		{"bad format", []string{"--out", "lake", "--format", "orc"}, 2, Options{}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ios, _, _, _ := iostreams.Test()
			var got *Options
			cmd := NewCmdExport(&cmdutil.Factory{IOStreams: ios, DBPath: "w.duckdb"}, func(_ context.Context, o *Options) error { got = o; return nil })
			cmd.SetArgs(tc.args)
			cmd.SetOut(ios.Out)
			cmd.SetErr(ios.ErrOut)
			err := cmd.Execute()
			if code := cmdutil.ExitCode(err); code != tc.wantExit {
				t.Fatalf("exit %d (%v), want %d", code, err, tc.wantExit)
			}
			if tc.wantExit != 0 {
				return
			}
			if got.Out != tc.want.Out || got.Format != tc.want.Format || got.Since != tc.want.Since || got.List != tc.want.List ||
				strings.Join(got.Tables, ",") != strings.Join(tc.want.Tables, ",") || got.DBPath != "w.duckdb" {
				t.Errorf("options %+v, want %+v", got, tc.want)
			}
		})
	}
}

// warehouseFile writes a small transformed warehouse (the metrics fixture).
func warehouseFile(t *testing.T) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "w.duckdb")
	ctx := context.Background()
	db, err := warehouse.Open(ctx, path, warehouse.Options{})
	if err != nil {
		t.Fatal(err)
	}
	fixture.Load(t, db, "../../../testdata/metrics/fixture.jsonl")
	if err := transform.Run(ctx, db, nil, transform.Options{}); err != nil {
		t.Fatal(err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestExportCommand(t *testing.T) {
	path := warehouseFile(t)
	out := filepath.Join(t.TempDir(), "lake")
	ios, _, stdout, stderr := iostreams.Test()
	f := &cmdutil.Factory{IOStreams: ios, DBPath: path}
	cmd := NewCmdExport(f, nil)
	cmd.SetArgs([]string{"--out", out, "--tables", "deployments,fct_deployments"})
	if err := cmd.Execute(); err != nil {
		t.Fatal(err)
	}
	if stdout.Len() != 0 {
		t.Errorf("stdout should stay empty, got %q", stdout)
	}
	for _, want := range []string{"export 1: 2 tables as parquet", "[ 1/2] deployments", "[ 2/2] fct_deployments", "export 1 done: 2 tables"} {
		if !strings.Contains(stderr.String(), want) {
			t.Errorf("stderr lacks %q:\n%s", want, stderr)
		}
	}
	m, err := exp.ReadManifest(out)
	if err != nil {
		t.Fatal(err)
	}
	// as many deployments as the fixture file has deployment records
	b, err := os.ReadFile("../../../testdata/metrics/fixture.jsonl")
	if err != nil {
		t.Fatal(err)
	}
	records := int64(strings.Count(string(b), `"kind":"deployment"`))
	if len(m.Tables) != 2 || m.Tables[0].Name != "deployments" || m.Tables[0].Rows != records || m.Tables[1].Rows != records {
		t.Errorf("manifest tables %s %d rows, %s %d rows; the fixture has %d deployments", m.Tables[0].Name, m.Tables[0].Rows, m.Tables[1].Name, m.Tables[1].Rows, records)
	}

	// unknown table: usage error (exit 2) naming the known ones
	ios, _, _, stderr = iostreams.Test()
	cmd = NewCmdExport(&cmdutil.Factory{IOStreams: ios, DBPath: path}, nil)
	cmd.SetArgs([]string{"--out", out, "--tables", "deploymnts"})
	cmd.SetErr(ios.ErrOut)
	err = cmd.Execute()
	if code := cmdutil.ExitCode(err); code != 2 || !strings.Contains(err.Error(), "deployments") {
		t.Errorf("exit %d: %v", code, err)
	}

	// --list prints one row per table
	ios, _, stdout, _ = iostreams.Test()
	cmd = NewCmdExport(&cmdutil.Factory{IOStreams: ios, DBPath: path}, nil)
	cmd.SetArgs([]string{"--list", "--tables", "teams,fct_deployments"})
	if err := cmd.Execute(); err != nil {
		t.Fatal(err)
	}
	if want := "table\tkind\tpartitioned_by\tcolumns\nteams\tcanonical\t–\t5\nfct_deployments\tmart\tmonth of finished_at\t33\n"; stdout.String() != want { // 25 columns, the 7 approval, window and staging columns and url
		t.Errorf("--list:\n%s\nwant\n%s", stdout, want)
	}
}

// An export never creates a warehouse that is not there.
func TestMissingWarehouse(t *testing.T) {
	path := filepath.Join(t.TempDir(), "none.duckdb")
	ios, _, _, _ := iostreams.Test()
	cmd := NewCmdExport(&cmdutil.Factory{IOStreams: ios, DBPath: path}, nil)
	cmd.SetArgs([]string{"--out", filepath.Join(t.TempDir(), "lake")})
	cmd.SetErr(ios.ErrOut)
	err := cmd.Execute()
	if err == nil || !strings.Contains(err.Error(), "does not exist") {
		t.Errorf("err = %v", err)
	}
	if _, err := os.Stat(path); !os.IsNotExist(err) {
		t.Errorf("the warehouse was created")
	}
}
