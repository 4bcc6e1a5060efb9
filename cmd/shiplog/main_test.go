package main

import (
	"errors"
	"testing"

	"github.com/shiplog/shiplog/internal/cli/root"
	"github.com/shiplog/shiplog/internal/cmdutil"
	"github.com/shiplog/shiplog/internal/iostreams"
)

// Usage mistakes exit 2, whichever layer notices them: cobra (unknown
// command, argument count) or a command's own flag checks.
func TestUsageErrorsExit2(t *testing.T) {
	for _, args := range [][]string{
		{"nosuch"},
		{"query"},
		{"query", "a", "b"},
		{"metrics", "--by", "weekly"},
		{"metrics", "--no-such-flag"},
	} {
		ios, _, _, _ := iostreams.Test()
		cmd := root.NewCmdRoot(&cmdutil.Factory{IOStreams: ios})
		cmd.SetArgs(args)
		err := cmd.Execute()
		if err == nil {
			t.Errorf("%v: no error", args)
			continue
		}
		if isCobraUsageError(err) {
			err = &cmdutil.FlagError{Err: err}
		}
		if code := cmdutil.ExitCode(err); code != cmdutil.ExitUsage {
			t.Errorf("%v: exit %d (%v), want 2", args, code, err)
		}
	}
	if isCobraUsageError(errors.New("warehouse x.duckdb does not exist")) {
		t.Error("a runtime error was taken for a usage error")
	}
}
