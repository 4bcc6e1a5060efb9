package file

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

func TestNewCmdFileFlags(t *testing.T) {
	tests := []struct {
		args     []string
		wantErr  string
		wantKind string
		wantSrc  string
		skip     bool
	}{
		{args: []string{"a.jsonl", "b.csv"}, wantSrc: "file"},
		{args: []string{"--kind", "deployments", "--skip-invalid", "--source", "ci", "x.csv"}, wantKind: "deployments", wantSrc: "ci", skip: true},
		{args: []string{"--kind", "deploy", "x.csv"}, wantErr: `unknown --kind "deploy" (want one of adoption, approval, change, change_request, commit, deployment, incident, release_plan, service, support_ticket, team, test_run)`},
		{args: []string{"--source", " ", "x.csv"}, wantErr: "--source must not be empty"},
		{args: []string{}, wantErr: "requires at least 1 arg(s), only received 0"},
		{args: []string{"-", "x.csv"}, wantErr: "read standard input (-) alone, not with files"},
	}
	for _, tt := range tests {
		ios, _, _, _ := iostreams.Test()
		f := &cmdutil.Factory{IOStreams: ios, Now: time.Now}
		var got *Options
		cmd := NewCmdFile(f, func(_ context.Context, o *Options) error { got = o; return nil })
		cmd.SetArgs(tt.args)
		cmd.SetOut(ios.ErrOut)
		cmd.SetErr(ios.ErrOut)
		err := cmd.Execute()
		if tt.wantErr != "" {
			if err == nil || err.Error() != tt.wantErr {
				t.Errorf("%v: err = %v, want %q", tt.args, err, tt.wantErr)
			}
			continue
		}
		if err != nil {
			t.Errorf("%v: %v", tt.args, err)
			continue
		}
		if got.Kind != tt.wantKind || got.Source != tt.wantSrc || got.SkipInvalid != tt.skip || len(got.Paths) == 0 {
			t.Errorf("%v: options %+v", tt.args, got)
		}
	}
	// An unknown --kind is a usage error: exit 2.
	ios, _, _, _ := iostreams.Test()
	cmd := NewCmdFile(&cmdutil.Factory{IOStreams: ios}, func(context.Context, *Options) error { return nil })
	cmd.SetArgs([]string{"--kind", "deploy", "x.csv"})
	if code := cmdutil.ExitCode(cmd.Execute()); code != cmdutil.ExitUsage {
		t.Errorf("exit code %d, want 2", code)
	}
}

func TestRunExitCodes(t *testing.T) {
	dir := t.TempDir()
	dbPath := filepath.Join(dir, "w.duckdb")
	fixture := func(name string) string {
		return filepath.Join("..", "..", "..", "..", "ingest", "file", "testdata", name)
	}
	tests := []struct {
		name     string
		args     []string
		wantCode int
		wantErr  string
		stderr   string
		stdin    string
	}{
		{name: "good", args: []string{fixture("all.jsonl")}, wantCode: 0, stderr: "deployment      1 rows written to deployments\n"},
		{name: "bad data", args: []string{fixture("bad/nooffset.jsonl")}, wantCode: 1, wantErr: `line 1: deployment field "finished_at": time "2026-03-01T10:00:00" has no UTC offset`},
		{name: "skip invalid", args: []string{"--skip-invalid", fixture("bad/several.jsonl")}, wantCode: 0, stderr: "rejected 2 bad records: see the rejects table"},
		{name: "stdin", args: []string{"-"}, stdin: `{"kind":"team","id":"t-stdin"}` + "\n", wantCode: 0, stderr: "stdin: 1 records in "},
		{name: "unsupported file", args: []string{fixture("bad/README.md")}, wantCode: 2, wantErr: `unsupported file type ".md"`},
		{name: "missing file", args: []string{filepath.Join(dir, "nope.jsonl")}, wantCode: 1, wantErr: "no such file or directory"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ios, in, out, errOut := iostreams.Test()
			in.WriteString(tt.stdin)
			f := &cmdutil.Factory{IOStreams: ios, Now: time.Now, DBPath: dbPath}
			cmd := NewCmdFile(f, nil)
			cmd.SetArgs(tt.args)
			cmd.SetOut(errOut)
			cmd.SetErr(errOut)
			err := cmd.Execute()
			if code := cmdutil.ExitCode(err); code != tt.wantCode {
				t.Errorf("exit code %d, want %d (err %v)", code, tt.wantCode, err)
			}
			if tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)) {
				t.Errorf("err = %v, want it to contain %q", err, tt.wantErr)
			}
			if tt.stderr != "" && !strings.Contains(errOut.String(), tt.stderr) {
				t.Errorf("stderr = %q, want it to contain %q", errOut.String(), tt.stderr)
			}
			if out.Len() != 0 {
				t.Errorf("stdout = %q, want nothing (messages go to stderr)", out.String())
			}
		})
	}
	db, err := warehouse.Open(context.Background(), dbPath, warehouse.Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var runs, failed int
	if err := db.QueryRow(`SELECT count(*), count(*) FILTER (WHERE status = 'failed') FROM ingest_runs`).Scan(&runs, &failed); err != nil {
		t.Fatal(err)
	}
	// good, bad data, skip invalid and stdin each record a run; the unsupported
	// type and the missing file are refused before a run starts.
	if runs != 4 || failed != 1 {
		t.Errorf("ingest_runs: %d runs, %d failed; want 4 and 1", runs, failed)
	}
}
