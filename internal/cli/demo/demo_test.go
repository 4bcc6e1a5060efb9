package demo

import (
	"testing"

	"github.com/shiplog/shiplog/internal/cmdutil"
	"github.com/shiplog/shiplog/internal/iostreams"
)

func TestDemoHoldsGenerate(t *testing.T) {
	ios, _, _, _ := iostreams.Test()
	cmd := NewCmdDemo(&cmdutil.Factory{IOStreams: ios})
	if cmd.RunE == nil {
		t.Error("demo has no run function")
	}
	if fl := cmd.Flags().Lookup("dir"); fl == nil || fl.DefValue != "shiplog-demo" {
		t.Errorf("--dir flag: %v", fl)
	}
	sub, _, err := cmd.Find([]string{"generate"})
	if err != nil || sub.Name() != "generate" {
		t.Errorf("generate not found: %v", err)
	}
}
