package explain

import (
	"context"
	"strings"
	"testing"

	"github.com/shiplog/shiplog/internal/cmdutil"
	"github.com/shiplog/shiplog/internal/iostreams"
)

func TestFlags(t *testing.T) {
	for _, tt := range []struct{ args, wantErr, metric string }{
		{args: "lead-time --team pay --from 2026-01-01", metric: "lead-time"},
		{args: "rework-rate --service api --format json", metric: "rework-rate"},
		{args: "happiness", wantErr: "unknown metric \"happiness\""},
		{args: "lead-time --to soon", wantErr: "--to:"},
		{args: "", wantErr: "accepts 1 arg"},
	} {
		t.Run(tt.args, func(t *testing.T) {
			ios, _, _, _ := iostreams.Test()
			var got *Options
			cmd := NewCmdExplain(&cmdutil.Factory{IOStreams: ios}, func(_ context.Context, o *Options) error { got = o; return nil })
			cmd.SetArgs(strings.Fields(tt.args))
			cmd.SetOut(ios.Out)
			cmd.SetErr(ios.ErrOut)
			err := cmd.Execute()
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil || got.Metric != tt.metric {
				t.Fatalf("err = %v, metric = %v", err, got)
			}
		})
	}
}
