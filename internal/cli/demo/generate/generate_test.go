package generate

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/shiplog/shiplog/internal/cmdutil"
	"github.com/shiplog/shiplog/internal/demo"
	"github.com/shiplog/shiplog/internal/iostreams"
)

func TestFlags(t *testing.T) {
	tests := []struct {
		name    string
		args    []string
		wantErr string
		check   func(*testing.T, *Options)
	}{
		{name: "defaults", args: []string{"--out", "x"}, check: func(t *testing.T, o *Options) {
			if o.Out != "x" || o.Demo.Seed != 42 || o.Demo.Services != 12 || o.Demo.Months != 6 || o.Demo.Scale != 1 || !o.Demo.End.Equal(demo.DefaultEnd) {
				t.Errorf("options = %+v", o.Demo)
			}
		}},
		{name: "all flags", args: []string{"--out", "d", "--seed", "7", "--services", "30", "--teams", "8", "--months", "3", "--scale", "2.5", "--end", "2026-06-30"},
			check: func(t *testing.T, o *Options) {
				want := time.Date(2026, 6, 30, 23, 59, 59, 0, time.UTC)
				if o.Demo.Seed != 7 || o.Demo.Services != 30 || o.Demo.Teams != 8 || o.Demo.Months != 3 || o.Demo.Scale != 2.5 || !o.Demo.End.Equal(want) {
					t.Errorf("options = %+v", o.Demo)
				}
			}},
		{name: "end as RFC 3339 with offset", args: []string{"--out", "d", "--end", "2026-07-01T02:00:00+02:00"}, check: func(t *testing.T, o *Options) {
			if !o.Demo.End.Equal(time.Date(2026, 7, 1, 0, 0, 0, 0, time.UTC)) {
				t.Errorf("end = %v", o.Demo.End)
			}
		}},
		{name: "out required", args: []string{}, wantErr: "--out is required"},
		{name: "bad scale", args: []string{"--out", "d", "--scale", "0"}, wantErr: "--scale must be greater than 0"},
		{name: "bad months", args: []string{"--out", "d", "--months", "0"}, wantErr: "months must be between"},
		{name: "bad end", args: []string{"--out", "d", "--end", "yesterday"}, wantErr: "--end"},
		{name: "no args", args: []string{"--out", "d", "extra"}, wantErr: "unknown command"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ios, _, _, _ := iostreams.Test()
			f := &cmdutil.Factory{IOStreams: ios, Now: time.Now}
			var got *Options
			cmd := NewCmdGenerate(f, func(_ context.Context, o *Options) error { got = o; return nil })
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
			tt.check(t, got)
		})
	}
}

func TestFlagErrorsExitTwo(t *testing.T) {
	ios, _, _, _ := iostreams.Test()
	cmd := NewCmdGenerate(&cmdutil.Factory{IOStreams: ios}, func(context.Context, *Options) error { return nil })
	cmd.SetArgs([]string{"--out", "d", "--scale", "-1"})
	err := cmd.Execute()
	if cmdutil.ExitCode(err) != cmdutil.ExitUsage {
		t.Errorf("exit code %d for %v, want 2", cmdutil.ExitCode(err), err)
	}
}

func TestRunWritesDatasetAndReportsProgress(t *testing.T) {
	ios, _, stdout, stderr := iostreams.Test()
	dir := filepath.Join(t.TempDir(), "new")
	o := demo.DefaultOptions()
	o.Services, o.Teams, o.Months = 3, 2, 1
	clock := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	opts := &Options{IO: ios, Out: dir, Demo: o, Now: func() time.Time { return clock }}
	if err := Run(context.Background(), opts); err != nil {
		t.Fatal(err)
	}
	if stdout.Len() != 0 {
		t.Errorf("stdout = %q, want nothing (messages go to stderr)", stdout)
	}
	// Three services in three repositories (checkout-api and payment-gateway
	// share acme/payments, ledger has its own): two progress lines, 2/3 and 3/3.
	if got := strings.Count(stderr.String(), "generating:"); got != 2 || !strings.Contains(stderr.String(), "generating: 3/3 services") {
		t.Errorf("progress = %q", stderr)
	}
	if !strings.Contains(stderr.String(), "team 1,") {
		t.Errorf("summary = %q, want one team (payments owns the first three services)", stderr)
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 12 {
		t.Errorf("%d files written, want 12", len(entries))
	}
}
