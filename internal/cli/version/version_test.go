package version

import (
	"context"
	"encoding/json"
	"errors"
	"testing"

	"github.com/shiplog/shiplog/internal/cmdutil"
	"github.com/shiplog/shiplog/internal/iostreams"
	"github.com/shiplog/shiplog/internal/version"
)

var fixed = version.Info{
	Version: "v0.4.0-3-gfedcba9", Commit: "fedcba9876543210fedcba9876543210fedcba98", Dirty: true,
	Go: "go1.26.8", Platform: "linux/amd64", DuckDB: "v1.5.6", DuckDBSource: "069cc9f9b5", Driver: "v2.10506.0",
}

func TestRun(t *testing.T) {
	for _, tc := range []struct {
		name, format string
		info         version.Info
		infoErr      error
		wantOut      string
		wantErr      string
		wantExit     int
	}{
		{name: "text", format: "text", info: fixed, wantOut: `shiplog    v0.4.0-3-gfedcba9
commit     fedcba9876543210fedcba9876543210fedcba98 (modified)
go         go1.26.8 linux/amd64
duckdb     v1.5.6 (069cc9f9b5)
duckdb-go  v2.10506.0
`},
		{name: "json", format: "json", info: fixed, wantOut: `{
  "version": "v0.4.0-3-gfedcba9",
  "commit": "fedcba9876543210fedcba9876543210fedcba98",
  "dirty": true,
  "go": "go1.26.8",
  "platform": "linux/amd64",
  "duckdb": "v1.5.6",
  "duckdb_source_id": "069cc9f9b5",
  "duckdb_go": "v2.10506.0"
}
`},
		{name: "DuckDB cannot be asked: the rest is printed, exit 1", format: "text",
			info:    version.Info{Version: "devel", Commit: "unknown", Go: "go1.26.8", Platform: "linux/amd64"},
			infoErr: errors.New("duckdb version: out of memory"),
			wantOut: "shiplog    devel\ncommit     unknown\ngo         go1.26.8 linux/amd64\nduckdb     unknown\nduckdb-go  unknown\n",
			wantErr: "shiplog: duckdb version: out of memory\n", wantExit: 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ios, _, out, errOut := iostreams.Test()
			err := Run(context.Background(), &Options{IO: ios, Format: tc.format,
				Info: func(context.Context) (version.Info, error) { return tc.info, tc.infoErr }})
			if code := cmdutil.ExitCode(err); code != tc.wantExit {
				t.Errorf("exit %d (%v), want %d", code, err, tc.wantExit)
			}
			if out.String() != tc.wantOut {
				t.Errorf("stdout:\n%s\nwant:\n%s", out, tc.wantOut)
			}
			if errOut.String() != tc.wantErr {
				t.Errorf("stderr %q, want %q", errOut, tc.wantErr)
			}
			if tc.format == "json" {
				var back version.Info
				if err := json.Unmarshal(out.Bytes(), &back); err != nil || back != tc.info {
					t.Errorf("JSON does not round-trip: %v %+v", err, back)
				}
			}
		})
	}
}

func TestFlags(t *testing.T) {
	for _, tc := range []struct {
		args     []string
		wantExit int
		format   string
	}{
		{nil, 0, "text"},
		{[]string{"--format", "json"}, 0, "json"},
		{[]string{"--format", "yaml"}, 2, ""},
		{[]string{"extra"}, 1, ""}, // cobra's "unknown command"; main maps it to 2
	} {
		ios, _, _, _ := iostreams.Test()
		var got *Options
		cmd := NewCmdVersion(&cmdutil.Factory{IOStreams: ios}, func(_ context.Context, o *Options) error { got = o; return nil })
		cmd.SetArgs(tc.args)
		cmd.SetOut(ios.Out)
		cmd.SetErr(ios.ErrOut)
		err := cmd.Execute()
		if code := cmdutil.ExitCode(err); code != tc.wantExit {
			t.Errorf("%v: exit %d (%v), want %d", tc.args, code, err, tc.wantExit)
		}
		if tc.format != "" && (got == nil || got.Format != tc.format) {
			t.Errorf("%v: options %+v", tc.args, got)
		}
	}
}
