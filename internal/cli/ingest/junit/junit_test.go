package junit

import (
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/shiplog/shiplog/internal/cmdutil"
	"github.com/shiplog/shiplog/internal/iostreams"
	"github.com/shiplog/shiplog/internal/warehouse"
)

func TestFlags(t *testing.T) {
	tests := []struct {
		args    []string
		wantErr string
	}{
		{args: []string{"a.xml", "b.xml", "--service", "web", "--commit", "abc", "--suite-required", "unit", "--suite-required", "e2e"}},
		{args: []string{"--service", "web", "--commit", "abc"}, wantErr: "requires at least 1 arg"},
		{args: []string{"a.xml", "--commit", "abc"}, wantErr: "--service is required"},
		{args: []string{"a.xml", "--service", "web"}, wantErr: "exactly one of --version and --commit"},
		{args: []string{"a.xml", "--service", "web", "--version", "1", "--commit", "abc"}, wantErr: "exactly one of --version and --commit"},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			ios, _, _, _ := iostreams.Test()
			var got *Options
			cmd := NewCmdJUnit(&cmdutil.Factory{IOStreams: ios}, func(_ context.Context, o *Options) error { got = o; return nil })
			cmd.SetArgs(tt.args)
			cmd.SetOut(ios.ErrOut)
			cmd.SetErr(ios.ErrOut)
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
			if strings.Join(got.Paths, ",") != "a.xml,b.xml" || got.Load.Service != "web" || got.Load.Commit != "abc" ||
				strings.Join(got.Load.RequiredSuites, ",") != "unit,e2e" {
				t.Errorf("opts = %+v", got)
			}
		})
	}
}

func TestRun(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "w.duckdb")
	ios, _, out, errOut := iostreams.Test()
	opts := &Options{IO: ios, Now: func() time.Time { return time.Date(2026, 3, 10, 0, 0, 0, 0, time.UTC) },
		Warehouse: func(ctx context.Context) (*warehouse.DB, error) {
			return warehouse.Open(ctx, path, warehouse.Options{})
		},
		Paths: []string{"../../../../ingest/junit/testdata/pytest.xml"}}
	opts.Load.Service, opts.Load.Version, opts.Load.RequiredSuites = "auth", "1.2.0", []string{"integration"}
	if err := Run(ctx, opts); err != nil {
		t.Fatal(err)
	}
	// pytest.xml: 4 tests, 2 passed, 1 failed, 1 skipped (testdata/README.md).
	for _, want := range []string{"1 file(s), 1 suite run(s): 4 tests, 2 passed, 1 failed, 0 errors, 1 skipped, 0 flaky", `no suite matched --suite-required "integration"`} {
		if !strings.Contains(errOut.String(), want) {
			t.Errorf("stderr lacks %q:\n%s", want, errOut)
		}
	}
	if out.Len() != 0 {
		t.Errorf("stdout = %q", out)
	}
	opts.Paths = []string{"../../../../ingest/junit/testdata/malformed.xml"}
	if err := Run(ctx, opts); err == nil || cmdutil.ExitCode(err) != 1 || !strings.Contains(err.Error(), "malformed.xml:4:26") {
		t.Errorf("err = %v", err)
	}
}
