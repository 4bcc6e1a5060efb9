package report

import (
	"context"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/shiplog/shiplog/internal/cmdutil"
	"github.com/shiplog/shiplog/internal/config"
	"github.com/shiplog/shiplog/internal/iostreams"
	"github.com/shiplog/shiplog/internal/output"
	"github.com/shiplog/shiplog/reports"
)

// emptyData is a warehouse with nothing in it: every query and metric
// comes back with no rows.
type emptyData struct{ queries []string }

func (d *emptyData) Query(ctx context.Context, name string, params map[string]string) (*output.Table, error) {
	d.queries = append(d.queries, name)
	return &output.Table{Columns: []string{"x"}}, nil
}
func (d *emptyData) Metrics(ctx context.Context, f reports.MetricsFilter) (*output.Table, error) {
	return &output.Table{Columns: []string{f.Level, "period_start", "deployments"}}, nil
}
func (d *emptyData) Audit(ctx context.Context, from, to time.Time) ([]reports.ControlResult, error) {
	return nil, nil
}

var now = time.Date(2026, 11, 15, 9, 30, 0, 0, time.UTC)

func testFactory() (*cmdutil.Factory, *iostreams.IOStreams) {
	ios, _, _, _ := iostreams.Test()
	f := &cmdutil.Factory{IOStreams: ios, Now: func() time.Time { return now }, Getenv: func(string) string { return "" }}
	f.SetConfig(config.Default())
	return f, ios
}

func TestFlags(t *testing.T) {
	tests := []struct {
		name    string
		cmd     string
		args    []string
		wantErr string
		check   func(*testing.T, *Options)
	}{
		{name: "all", cmd: "all", args: []string{"--out", "site", "--from", "2026-10-01", "--to", "2026-11-01T00:00:00Z", "--team", "core", "--archive", "arch"},
			check: func(t *testing.T, o *Options) {
				if strings.Join(o.Kinds, ",") != "leadership,retro,audit" || o.Out != "site" || o.Team != "core" || o.Archive != "arch" {
					t.Errorf("options %+v", o)
				}
				if !o.From.Equal(time.Date(2026, 10, 1, 0, 0, 0, 0, time.UTC)) || !o.To.Equal(time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)) {
					t.Errorf("window %v %v", o.From, o.To)
				}
			}},
		{name: "retro", cmd: "retro", args: []string{"--out", "x"}, check: func(t *testing.T, o *Options) {
			if strings.Join(o.Kinds, ",") != "retro" {
				t.Errorf("kinds %v", o.Kinds)
			}
		}},
		{name: "no out", cmd: "leadership", args: nil, wantErr: "--out is required"},
		{name: "bad date", cmd: "audit", args: []string{"--out", "x", "--from", "10/01/2026"}, wantErr: `--from: "10/01/2026" is not a date`},
		{name: "reversed", cmd: "audit", args: []string{"--out", "x", "--from", "2026-11-01", "--to", "2026-10-01"}, wantErr: "is not before --to"},
		{name: "dashboard", cmd: "dashboard", args: []string{"teams", "--out", "x"}, check: func(t *testing.T, o *Options) {
			if o.Dashboard != "teams" {
				t.Errorf("dashboard %q", o.Dashboard)
			}
		}},
		{name: "verify", cmd: "verify", args: []string{"arch"}, check: func(t *testing.T, o *Options) {
			if o.Dir != "arch" {
				t.Errorf("dir %q", o.Dir)
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f, _ := testFactory()
			var got *Options
			runF := func(ctx context.Context, o *Options) error { got = o; return nil }
			var cmd interface {
				SetArgs([]string)
				SetOut(io.Writer)
				SetErr(io.Writer)
				Execute() error
			}
			switch tt.cmd {
			case "dashboard":
				cmd = NewCmdDashboard(f, runF)
			case "verify":
				cmd = NewCmdVerify(f, runF)
			default:
				cmd = NewCmdWrite(f, tt.cmd, "", runF)
			}
			cmd.SetArgs(tt.args)
			cmd.SetOut(io.Discard)
			cmd.SetErr(io.Discard)
			err := cmd.Execute()
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("error %v, want %q", err, tt.wantErr)
				}
				if cmdutil.ExitCode(err) != cmdutil.ExitUsage {
					t.Errorf("exit code %d, want 2", cmdutil.ExitCode(err))
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

// TestWriteArchiveVerify runs the whole command over an empty warehouse,
// archives the result, verifies it, then changes one byte.
func TestWriteArchiveVerify(t *testing.T) {
	f, ios := testFactory()
	dir := t.TempDir()
	data := &emptyData{}
	opts := newOptions(f)
	opts.Data = func(ctx context.Context) (reports.Data, func() error, error) {
		return data, func() error { return nil }, nil
	}
	opts.Kinds = reports.Kinds
	opts.Out = filepath.Join(dir, "site")
	opts.Archive = filepath.Join(dir, "archive")
	if err := RunWrite(context.Background(), opts); err != nil {
		t.Fatal(err)
	}
	out := ios.Out.(interface{ String() string }).String()
	if strings.TrimSpace(out) != filepath.Join(opts.Out, "index.html") {
		t.Errorf("stdout %q, want the index path", out)
	}
	lead, err := os.ReadFile(filepath.Join(opts.Out, "leadership.html"))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(lead), "The organisation made no production deployments in this period") {
		t.Errorf("empty organisation not said in words")
	}
	v := newOptions(f)
	v.Dir = opts.Archive
	if err := RunVerify(context.Background(), v); err != nil {
		t.Fatalf("fresh archive: %v", err)
	}
	folders, _ := filepath.Glob(filepath.Join(opts.Archive, "2026-11-15T093000Z", "*.html"))
	if len(folders) != 4 { // index, leadership, retro, audit
		t.Fatalf("archived pages %v", folders)
	}
	p := folders[0]
	os.Chmod(p, 0o644)
	b, _ := os.ReadFile(p)
	b[10] ^= 1
	os.WriteFile(p, b, 0o644)
	err = RunVerify(context.Background(), v)
	if cmdutil.ExitCode(err) != 1 {
		t.Fatalf("tampered archive: %v", err)
	}
}

// TestUserDashboard renders a spec from reports.dashboards_dir, found
// relative to the configuration file.
func TestUserDashboard(t *testing.T) {
	dir := t.TempDir()
	os.MkdirAll(filepath.Join(dir, "boards"), 0o755)
	spec := "name: mine\ntitle: My board <b>\npanels:\n  - title: Slowest\n    query: retro-slowest-changes\n    params: {team: $team, limit: \"5\"}\n    chart: table\n"
	if err := os.WriteFile(filepath.Join(dir, "boards", "mine.yaml"), []byte(spec), 0o644); err != nil {
		t.Fatal(err)
	}
	f, ios := testFactory()
	cfg := config.Default()
	cfg.Path = filepath.Join(dir, "shiplog.yaml")
	cfg.Reports.DashboardsDir = "boards"
	f.SetConfig(cfg)
	data := &emptyData{}
	opts := newOptions(f)
	opts.Data = func(ctx context.Context) (reports.Data, func() error, error) {
		return data, func() error { return nil }, nil
	}
	opts.Out = filepath.Join(dir, "site")
	opts.Dashboard = "mine"
	if err := RunDashboard(context.Background(), opts); err != nil {
		t.Fatal(err)
	}
	if strings.Join(data.queries, ",") != "retro-slowest-changes" {
		t.Errorf("queries run: %v", data.queries)
	}
	b, err := os.ReadFile(filepath.Join(opts.Out, "dashboard-mine.html"))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(b), "<h1>My board &lt;b&gt;</h1>") {
		t.Errorf("title not rendered escaped")
	}
	if !strings.Contains(ios.Out.(interface{ String() string }).String(), "index.html") {
		t.Errorf("index path not printed")
	}
	opts.Dashboard = "nope"
	if err := RunDashboard(context.Background(), opts); err == nil || !strings.Contains(err.Error(), `no dashboard named "nope"`) {
		t.Errorf("unknown dashboard: %v", err)
	}
	cfg.Reports.DashboardsDir = "missing"
	if err := RunDashboard(context.Background(), opts); err == nil || !strings.Contains(err.Error(), "reports.dashboards_dir") {
		t.Errorf("missing folder: %v", err)
	}
}

// teamsData knows two teams through report-service-teams.
type teamsData struct{ emptyData }

func (d *teamsData) Query(ctx context.Context, name string, params map[string]string) (*output.Table, error) {
	if name == "report-service-teams" {
		return &output.Table{Columns: []string{"service", "team"}, Rows: [][]any{{"api", "payments"}, {"site", "web"}}}, nil
	}
	return d.emptyData.Query(ctx, name, params)
}

// A typo'd --team is an error with the closest team, exit 2, and no page
// is written.
func TestUnknownTeam(t *testing.T) {
	f, _ := testFactory()
	opts := newOptions(f)
	opts.Data = func(ctx context.Context) (reports.Data, func() error, error) {
		return &teamsData{}, func() error { return nil }, nil
	}
	opts.Kinds = []string{reports.Leadership}
	opts.Out = filepath.Join(t.TempDir(), "site")
	opts.Team = "paymnts"
	err := RunWrite(context.Background(), opts)
	if err == nil || err.Error() != `unknown team "paymnts"; did you mean "payments"?` || cmdutil.ExitCode(err) != cmdutil.ExitUsage {
		t.Errorf("err = %v", err)
	}
	if _, err := os.Stat(opts.Out); !os.IsNotExist(err) {
		t.Errorf("a report was written for an unknown team: %v", err)
	}
}
