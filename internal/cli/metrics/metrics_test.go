package metrics

import (
	"context"
	"encoding/json"
	"errors"
	"path/filepath"
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
	tests := []struct {
		args    string
		wantErr string
		check   func(*Options) bool
	}{
		{args: "--service api --service web --team pay --from 2026-01-01 --to 2026-02-01T00:00:00+01:00 --by month --level team",
			check: func(o *Options) bool {
				return len(o.Filter.Services) == 2 && o.Filter.Teams[0] == "pay" && o.Filter.By == "month" && o.Filter.Level == "team" &&
					o.Filter.From.Equal(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)) &&
					o.Filter.To.Equal(time.Date(2026, 1, 31, 23, 0, 0, 0, time.UTC)) && o.View == "dora"
			}},
		{args: "--view velocity --format csv", check: func(o *Options) bool { return o.View == "velocity" && o.Format == "csv" }},
		{args: "--by day", wantErr: "--by must be week, month or quarter"},
		{args: "--level galaxy", wantErr: "--level must be"},
		{args: "--from yesterday", wantErr: "--from: \"yesterday\" is not a date"},
		{args: "--from 2026-02-01 --to 2026-01-01", wantErr: "must be before"},
		{args: "--format xml", wantErr: "--format must be one of"},
		{args: "--view mood", wantErr: "--view must be dora or one of"},
	}
	for _, tt := range tests {
		t.Run(tt.args, func(t *testing.T) {
			ios, _, _, _ := iostreams.Test()
			f := &cmdutil.Factory{IOStreams: ios}
			var got *Options
			cmd := NewCmdMetrics(f, func(_ context.Context, o *Options) error { got = o; return nil })
			cmd.SetArgs(strings.Fields(tt.args))
			cmd.SetOut(ios.Out)
			cmd.SetErr(ios.ErrOut)
			err := cmd.Execute()
			if tt.wantErr != "" {
				var fe *cmdutil.FlagError
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) || !errors.As(err, &fe) {
					t.Fatalf("err = %v, want a flag error containing %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !tt.check(got) {
				t.Errorf("options not as expected: %+v", got)
			}
		})
	}
}

// A warehouse with one service, two production deployments in January (one
// failed by its incident) and nothing in February.
func smallWarehouse(t *testing.T) string {
	t.Helper()
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "w.duckdb")
	db, err := warehouse.Open(ctx, path, warehouse.Options{})
	if err != nil {
		t.Fatal(err)
	}
	for _, q := range []string{
		`insert into services (id, team, source) values ('api', 'pay', 't')`,
		`insert into deployments (id, service, environment, status, started_at, finished_at, source) values
		 ('d1', 'api', 'production', 'success', '2026-01-05 10:00:00+00', '2026-01-05 11:00:00+00', 't'),
		 ('d2', 'api', 'production', 'success', '2026-01-07 10:00:00+00', '2026-01-07 11:00:00+00', 't')`,
		`insert into incidents (id, service, severity, opened_at, resolved_at, caused_by_deployment, source) values
		 ('i1', 'api', 'sev1', '2026-01-07 12:00:00+00', '2026-01-07 13:00:00+00', 'd2', 't')`,
	} {
		if _, err := db.ExecContext(ctx, q); err != nil {
			t.Fatal(err)
		}
	}
	if err := transform.Run(ctx, db, config.Default(), transform.Options{}); err != nil {
		t.Fatal(err)
	}
	db.Close()
	return path
}

func TestRunJSON(t *testing.T) {
	path := smallWarehouse(t)
	ios, _, out, _ := iostreams.Test()
	f := &cmdutil.Factory{IOStreams: ios, DBPath: path}
	f.SetConfig(config.Default())
	cmd := NewCmdMetrics(f, nil)
	cmd.SetArgs([]string{"--from", "2026-01-01", "--to", "2026-03-01", "--by", "month", "--format", "json"})
	if err := cmd.Execute(); err != nil {
		t.Fatal(err)
	}
	var doc struct {
		From       string           `json:"from"`
		Benchmarks string           `json:"benchmarks"`
		Rows       []map[string]any `json:"rows"`
	}
	if err := json.Unmarshal(out.Bytes(), &doc); err != nil {
		t.Fatalf("%v\n%s", err, out.String())
	}
	if doc.From != "2026-01-01T00:00:00Z" || doc.Benchmarks != "dora-2023" || len(doc.Rows) != 2 {
		t.Fatalf("document: %s", out.String())
	}
	// January: 2 deployments, d2 failed (incident), recovered 2 h after its
	// finish (incident resolved 13:00).
	jan, feb := doc.Rows[0], doc.Rows[1]
	if jan["service"] != "api" || jan["deployments"] != float64(2) || jan["change_failure_rate"] != 0.5 ||
		jan["recovery_median_hours"] != float64(2) || jan["recovery_time_tier"] != "high" {
		t.Errorf("january row: %v", jan)
	}
	// February: no deployments, so no rate: null, never 0.
	if feb["deployments"] != float64(0) || feb["change_failure_rate"] != nil || feb["rework_rate"] != nil {
		t.Errorf("february row: %v", feb)
	}
	if _, ok := feb["change_failure_rate"]; !ok {
		t.Error("february row lacks change_failure_rate (want null)")
	}
}

func TestRunTableBlankForUndefined(t *testing.T) {
	path := smallWarehouse(t)
	ios, _, out, _ := iostreams.Test()
	f := &cmdutil.Factory{IOStreams: ios, DBPath: path}
	f.SetConfig(config.Default())
	cmd := NewCmdMetrics(f, nil)
	cmd.SetArgs([]string{"--from", "2026-02-01", "--to", "2026-03-01"})
	if err := cmd.Execute(); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	if len(lines) != 2 {
		t.Fatalf("output:\n%s", out.String())
	}
	cols, vals := strings.Split(lines[0], "\t"), strings.Split(lines[1], "\t")
	for i, c := range cols {
		if c == "change_failure_rate" && vals[i] != "" {
			t.Errorf("change_failure_rate = %q, want blank", vals[i])
		}
		if c == "deployments" && vals[i] != "0" {
			t.Errorf("deployments = %q, want 0", vals[i])
		}
	}
}
