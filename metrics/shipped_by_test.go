package metrics_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/shiplog/shiplog/internal/config"
	"github.com/shiplog/shiplog/internal/fixture"
	"github.com/shiplog/shiplog/internal/warehouse"
	"github.com/shiplog/shiplog/metrics"
	"github.com/shiplog/shiplog/transform"
)

// A change of a service nobody declared ("lib"), listed in the changes of
// a deployment of the declared service "api", counts at api (and its team
// pay) — before, it vanished from lead time at every level, because the
// metrics joined the declared services on the change's own service.
//
// By hand: api deploys on 2026-01-05 (d0) and 2026-01-10 12:00 (d1); d1
// lists lib#1, first commit 2026-01-10 00:00, opened 01:00, merged 06:00.
// Lead time 00:00 → 12:00 = 12 h; coding 1 h; deploy stage 06:00 → 12:00
// = 6 h. January at api, at pay and for the organisation: 2 deployments,
// 1 change, median lead time 12 h.
const shippedByFixture = `{"kind":"team","id":"pay","name":"Payments"}
{"kind":"service","id":"api","name":"API","team":"pay"}
{"kind":"deployment","id":"d0","service":"api","environment":"production","status":"success","finished_at":"2026-01-05T10:00:00Z"}
{"kind":"deployment","id":"d1","service":"api","environment":"production","status":"success","finished_at":"2026-01-10T12:00:00Z","changes":["lib#1"]}
{"kind":"change","id":"lib#1","service":"lib","first_commit_at":"2026-01-10T00:00:00Z","opened_at":"2026-01-10T01:00:00Z","merged_at":"2026-01-10T06:00:00Z"}
`

func TestChangeCountsAtTheServiceThatShippedIt(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	path := filepath.Join(dir, "shipped.jsonl")
	if err := os.WriteFile(path, []byte(shippedByFixture), 0o644); err != nil {
		t.Fatal(err)
	}
	// A file warehouse, reopened read-only after the transform: the metric
	// macros are stored in it, as `shiplog query` finds them.
	dbPath := filepath.Join(dir, "w.duckdb")
	db, err := warehouse.Open(ctx, dbPath, warehouse.Options{})
	if err != nil {
		t.Fatal(err)
	}
	fixture.Load(t, db, path)
	if err := transform.Run(ctx, db, config.Default(), transform.Options{}); err != nil {
		t.Fatal(err)
	}
	db.Close()
	db, err = warehouse.Open(ctx, dbPath, warehouse.Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()

	jan, feb := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC), time.Date(2026, 2, 1, 0, 0, 0, 0, time.UTC)
	for _, level := range []string{"service", "team", "org"} {
		tb, err := metrics.Compute(ctx, db, config.Default(), metrics.Filter{Level: level, From: jan, To: feb})
		if err != nil {
			t.Fatal(err)
		}
		col := func(name string) int {
			for i, c := range tb.Columns {
				if c == name {
					return i
				}
			}
			t.Fatalf("no column %s", name)
			return -1
		}
		if len(tb.Rows) != 1 {
			t.Fatalf("%s: %d rows, want 1 (api / pay / all)", level, len(tb.Rows))
		}
		r := tb.Rows[0]
		want := map[string]string{"service": "api", "team": "pay", "org": "all"}[level]
		if r[0] != want || r[col("deployments")] != int64(2) || r[col("lead_time_changes")] != int64(1) ||
			r[col("lead_time_median_hours")] != 12.0 {
			t.Errorf("%s: key %v, deployments %v, changes %v, median %v; want %s, 2, 1, 12",
				level, r[0], r[col("deployments")], r[col("lead_time_changes")], r[col("lead_time_median_hours")], want)
		}
	}

	// The rows behind it name the service that shipped the change.
	ex, err := metrics.Explain(ctx, db, "lead-time", metrics.Filter{Services: []string{"api"}})
	if err != nil {
		t.Fatal(err)
	}
	if got := rowsText(ex.Rows); got != "lib#1 api pay d1 12 1 6" {
		t.Errorf("explain lead-time = %q, want lib#1 at api (pay), by d1, 12 h, coding 1 h, deploy 6 h", got)
	}

	// The same numbers straight from the macro, as `shiplog query` runs it.
	got := rows(t, db, `select key, deployments, lead_time_changes, lead_time_median_hours
		from metric_rows('team', 'month', timestamptz '2026-01-01', timestamptz '2026-02-01')`)
	equalRows(t, "metric_rows", got, []string{"pay | 2 | 1 | 12"})
	got = rows(t, db, `select key, changes_shipped, deployments from metric_velocity('service', '', null, null)`)
	equalRows(t, "metric_velocity", got, []string{"api | 1 | 2"})
}

// rowsText renders the explain row's id, service, team, deployment and
// hours (lead time, coding, deploy).
func rowsText(rs [][]any) string {
	var parts []string
	for _, r := range rs {
		// change_id, service, team, author, deployment_id, deployed_at, link_rule,
		// first_commit_at, lead_time_hours, coding_hours, pickup_hours, review_hours, deploy_hours, excluded_reason
		for _, i := range []int{0, 1, 2, 4, 8, 9, 12} {
			parts = append(parts, cell(r[i]))
		}
	}
	return strings.Join(parts, " ")
}
