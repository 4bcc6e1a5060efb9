package drift

import (
	"context"
	"github.com/shiplog/shiplog/internal/fixture"
	"strings"
	"testing"

	"github.com/shiplog/shiplog/internal/cmdutil"
	"github.com/shiplog/shiplog/internal/config"
	"github.com/shiplog/shiplog/internal/iostreams"
	"github.com/shiplog/shiplog/internal/warehouse"
	"github.com/shiplog/shiplog/transform"
)

func TestFlags(t *testing.T) {
	ios, _, _, _ := iostreams.Test()
	f := &cmdutil.Factory{IOStreams: ios}
	cmd := NewCmdDrift(f, func(context.Context, *Options) error { return nil })
	cmd.SetArgs([]string{"--environments", "--dependencies"})
	cmd.SetErr(ios.ErrOut)
	if err := cmd.Execute(); err == nil || !strings.Contains(err.Error(), "choose one of") {
		t.Errorf("error %v; want 'choose one of'", err)
	}
	cmd = NewCmdDrift(f, func(context.Context, *Options) error { return nil })
	cmd.SetArgs([]string{"--format", "ics"})
	cmd.SetErr(ios.ErrOut)
	if err := cmd.Execute(); err == nil || cmdutil.ExitCode(err) != cmdutil.ExitUsage {
		t.Errorf("--format ics: error %v; want usage error", err)
	}
}

func TestRun(t *testing.T) {
	ios, _, out, _ := iostreams.Test()
	opts := &Options{
		IO:     ios,
		Format: "csv",
		Config: func() (*config.Config, error) { return config.Default(), nil },
		Warehouse: func(ctx context.Context) (*warehouse.DB, error) {
			db, err := warehouse.OpenMemory(ctx)
			if err != nil {
				return nil, err
			}
			fixture.Load(t, db, "../../../testdata/calendar/drift.jsonl")
			return db, transform.Run(ctx, db, config.Default(), transform.Options{})
		},
		Dependencies: true,
		Services:     []string{"shop"},
	}
	if err := Run(context.Background(), opts); err != nil {
		t.Fatal(err)
	}
	want := "service,version,dependency,tested_at,tested_with,tested_with_environment,running_with,dependency_behind\n" +
		"shop,v1,legacy,2026-05-01T10:00:00Z,6,production,7,false\n" +
		"shop,v1,pay,2026-05-01T10:00:00Z,2.0,staging,1.0,true\n"
	if out.String() != want {
		t.Errorf("drift --dependencies --service shop:\n%s\nwant\n%s", out, want)
	}
}
