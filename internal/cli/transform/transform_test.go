package transform

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/shiplog/shiplog/internal/cmdutil"
	"github.com/shiplog/shiplog/internal/config"
	"github.com/shiplog/shiplog/internal/iostreams"
)

func TestTransformBuildsMartsWithProgressOnStderr(t *testing.T) {
	ios, _, out, errOut := iostreams.Test()
	f := &cmdutil.Factory{IOStreams: ios, DBPath: filepath.Join(t.TempDir(), "w.duckdb")}
	f.SetConfig(config.Default())
	cmd := NewCmdTransform(f, nil)
	cmd.SetArgs(nil)
	if err := cmd.Execute(); err != nil {
		t.Fatal(err)
	}
	if out.Len() != 0 {
		t.Errorf("stdout should stay empty, got %q", out.String())
	}
	for _, want := range []string{"marts", "fct_deployments", "tests:", "transform done"} {
		if !strings.Contains(errOut.String(), want) {
			t.Errorf("stderr lacks %q:\n%s", want, errOut.String())
		}
	}
}

func TestTransformRefusesArguments(t *testing.T) {
	ios, _, _, _ := iostreams.Test()
	cmd := NewCmdTransform(&cmdutil.Factory{IOStreams: ios}, nil)
	cmd.SetArgs([]string{"extra"})
	cmd.SetOut(ios.Out)
	cmd.SetErr(ios.ErrOut)
	if err := cmd.Execute(); err == nil {
		t.Error("an argument was accepted")
	}
}
