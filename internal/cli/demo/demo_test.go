package demo

import (
	"testing"

	"github.com/shiplog/shiplog/internal/cmdutil"
	"github.com/shiplog/shiplog/internal/iostreams"
)

func TestDemoHoldsGenerate(t *testing.T) {
	ios, _, _, _ := iostreams.Test()
	cmd := NewCmdDemo(&cmdutil.Factory{IOStreams: ios})
	if cmd.RunE != nil {
		t.Error("demo has a run function; it is left for the demo run to attach")
	}
	sub, _, err := cmd.Find([]string{"generate"})
	if err != nil || sub.Name() != "generate" {
		t.Errorf("generate not found: %v", err)
	}
}
