package calendar

import (
	"context"
	"errors"
	"github.com/shiplog/shiplog/internal/fixture"
	"strings"
	"testing"
	"time"

	"github.com/shiplog/shiplog/internal/cmdutil"
	"github.com/shiplog/shiplog/internal/config"
	"github.com/shiplog/shiplog/internal/iostreams"
	"github.com/shiplog/shiplog/internal/warehouse"
	"github.com/shiplog/shiplog/transform"
)

func TestFlags(t *testing.T) {
	for _, tc := range []struct {
		args    string
		wantErr string
		check   func(*Options) bool
	}{
		{"--from 2026-03-01 --to 2026-04-01 --service api,web", "", func(o *Options) bool {
			return o.From.Equal(time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)) && o.To.Equal(time.Date(2026, 4, 1, 0, 0, 0, 0, time.UTC)) &&
				strings.Join(o.Services, ",") == "api,web" && o.Format == "table"
		}},
		{"--format ics", "", func(o *Options) bool { return o.Format == "ics" }},
		{"--conflicts --format ics", "--format must be one of table, json, csv", nil},
		{"--slips --slip-summary", "choose one of", nil},
		{"--from yesterday", `--from: "yesterday" is not a date`, nil},
		{"--from 2026-04-01 --to 2026-03-01", "--to must be after --from", nil},
	} {
		ios, _, _, _ := iostreams.Test()
		f := &cmdutil.Factory{IOStreams: ios, Now: time.Now}
		var got *Options
		cmd := NewCmdCalendar(f, func(_ context.Context, o *Options) error { got = o; return nil })
		cmd.SetArgs(strings.Fields(tc.args))
		cmd.SetOut(ios.ErrOut)
		cmd.SetErr(ios.ErrOut)
		err := cmd.Execute()
		if tc.wantErr != "" {
			var fe *cmdutil.FlagError
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) || !errors.As(err, &fe) {
				t.Errorf("%q: error %v; want a flag error containing %q", tc.args, err, tc.wantErr)
			}
			continue
		}
		if err != nil || got == nil || !tc.check(got) {
			t.Errorf("%q: err %v, options %+v", tc.args, err, got)
		}
	}
}

func runWith(t *testing.T, opts *Options) (string, string) {
	t.Helper()
	ios, _, out, errOut := iostreams.Test()
	opts.IO = ios
	opts.Config = func() (*config.Config, error) {
		cfg := config.Default()
		cfg.Calendar.TimeZone = "Europe/Berlin"
		cfg.Calendar.ReleaseWindows = []config.ReleaseWindow{{Days: []string{"mon", "tue", "wed", "thu"}, Start: "09:00", End: "16:00"}}
		cfg.Calendar.Freezes = []config.Freeze{{Name: "spring", Start: "2026-03-30 12:00", End: "2026-04-02 00:00"}}
		return cfg, cfg.Validate()
	}
	opts.Warehouse = func(ctx context.Context) (*warehouse.DB, error) {
		db, err := warehouse.OpenMemory(ctx)
		if err != nil {
			return nil, err
		}
		fixture.Load(t, db, "../../../testdata/calendar/calendar.jsonl")
		cfg, _ := opts.Config()
		return db, transform.Run(ctx, db, cfg, transform.Options{})
	}
	opts.Now = func() time.Time { return time.Date(2026, 4, 10, 0, 0, 0, 0, time.UTC) }
	if opts.Format == "" {
		opts.Format = "table"
	}
	if err := Run(context.Background(), opts); err != nil {
		t.Fatal(err)
	}
	return out.String(), errOut.String()
}

func TestRun(t *testing.T) {
	// Conflicts as CSV: the seven of testdata/calendar/README.md.
	out, _ := runWith(t, &Options{Conflicts: true, Each: true, Format: "csv"})
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) != 8 || !strings.HasPrefix(lines[0], "conflict,environment,start,end,") {
		t.Fatalf("conflicts CSV:\n%s", out)
	}
	if !strings.HasPrefix(lines[7], "dependency,production,2026-04-06T08:30:00Z,2026-04-06T09:00:00Z,plan,p-web-2,web,w2,plan,p-api-3,api,v1.3,") {
		t.Errorf("last conflict: %s", lines[7])
	}
	// Grouped: the same seven as six groups (cr-1 and d-web-1, db and web,
	// collide twice), ranked dependency, freeze, outside_window,
	// environment.
	out, msg := runWith(t, &Options{Conflicts: true, Format: "csv"})
	lines = strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) != 7 || lines[0] != "rank,conflict,environment,services,other_services,conflicts,first,last,example" ||
		!strings.HasPrefix(lines[1], "1,dependency,production,api,web,1,") || !strings.HasPrefix(lines[6], "6,environment,production,db,web,2,2026-03-26T09:00:00Z,2026-03-26T09:30:00Z,") {
		t.Errorf("grouped conflicts:\n%s", out)
	}
	if !strings.Contains(msg, "7 conflicts in 6 groups") {
		t.Errorf("stderr %q", msg)
	}
	// --team data: batch's freeze and window conflicts only.
	out, _ = runWith(t, &Options{Conflicts: true, Teams: []string{"data"}, Format: "csv"})
	lines = strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) != 3 || !strings.Contains(lines[1], ",freeze,production,batch,") || !strings.Contains(lines[2], ",outside_window,production,batch,") {
		t.Errorf("--team data:\n%s", out)
	}
	// The event table tells on stderr how many conflicts there are.
	_, msg = runWith(t, &Options{})
	if !strings.Contains(msg, "7 conflicts") {
		t.Errorf("stderr %q; want the conflict count", msg)
	}
	out, _ = runWith(t, &Options{Format: "ics", Services: []string{"batch"}})
	if strings.Count(out, "BEGIN:VEVENT\r\n") != 3 { // d-batch-2, d-batch-1, p-batch-1
		t.Errorf("ICS for batch:\n%s", out)
	}
	out, _ = runWith(t, &Options{SlipSummary: true, Format: "csv"})
	// data's one plan shipped 23.5 h early: -0.979166… days, to 4 decimals
	if !strings.Contains(out, "\ndata,1,1,-0.9792,-0.9792,1,0\n") {
		t.Errorf("slip summary:\n%s", out)
	}
}

func TestUnknownService(t *testing.T) {
	ios, _, _, _ := iostreams.Test()
	opts := &Options{IO: ios, Services: []string{"bacth"}, Format: "table",
		Warehouse: func(ctx context.Context) (*warehouse.DB, error) {
			db, err := warehouse.OpenMemory(ctx)
			if err == nil {
				fixture.Load(t, db, "../../../testdata/calendar/calendar.jsonl")
				err = transform.Run(ctx, db, config.Default(), transform.Options{})
			}
			return db, err
		},
		Config: func() (*config.Config, error) { return config.Default(), nil },
		Now:    func() time.Time { return time.Date(2026, 4, 10, 0, 0, 0, 0, time.UTC) },
	}
	err := Run(context.Background(), opts)
	if err == nil || err.Error() != `unknown service "bacth"; did you mean "batch"?` || cmdutil.ExitCode(err) != cmdutil.ExitUsage {
		t.Errorf("err = %v", err)
	}
}
