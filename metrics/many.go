package metrics

import (
	"context"
	"fmt"
	"time"

	"github.com/shiplog/shiplog/internal/config"
	"github.com/shiplog/shiplog/internal/output"
	"github.com/shiplog/shiplog/internal/warehouse"
)

// ComputeMany answers several filters with one statement and returns one
// table per filter, in order, each the table Compute returns for it. The
// facts are read once for all of them, so a report that needs the same
// window at several levels, or the previous window as well, pays for one
// pass over fct_changes instead of one per filter. Medians and percentiles
// are still taken per filter, level key and period over the rows
// themselves: nothing is pre-aggregated.
func ComputeMany(ctx context.Context, db *warehouse.DB, cfg *config.Config, fs []Filter) ([]*output.Table, error) {
	for _, f := range fs {
		if err := f.Check(); err != nil {
			return nil, err
		}
	}
	if err := requireMarts(ctx, db); err != nil {
		return nil, err
	}
	if cfg == nil {
		cfg = config.Default()
	}
	set, err := cfg.BenchmarkSet()
	if err != nil {
		return nil, err
	}
	out := make([]*output.Table, len(fs))
	var reqs []request
	for i, f := range fs {
		out[i] = &output.Table{Columns: append([]string{f.level()}, Columns...)}
		lo, hi, ok, err := bounds(ctx, db, f)
		if err != nil {
			return nil, err
		}
		if ok {
			reqs = append(reqs, request{R: i, Level: f.level(), Unit: f.By, Lo: lo, Hi: hi,
				Services: list(f.Services), Teams: list(f.Teams), Environments: list(f.Environments)})
		}
	}
	if len(reqs) == 0 {
		return out, nil
	}
	raw, err := run(ctx, db, "compute", map[string]any{"requests": reqs})
	if err != nil {
		return nil, err
	}
	for _, r := range raw.Rows {
		// r: request, key, period_start, period_end, 21 metric values, 2 unknown reasons, mean days per week
		id, _ := normalise(r[0]).(int64)
		t := out[id]
		row := make([]any, 0, len(t.Columns))
		row = append(row, r[1:len(r)-1]...)
		for i := range row {
			row[i] = normalise(row[i])
		}
		v := func(col string) (float64, bool) {
			for i, c := range t.Columns {
				if c == col {
					x, ok := row[i].(float64)
					return x, ok
				}
			}
			return 0, false
		}
		deploys, _ := row[3].(int64)
		meanDays, _ := normalise(r[len(r)-1]).(float64)
		row = append(row,
			tierDeployFrequency(set.DeploymentDaysPerWeek, v, meanDays, deploys),
			tierUpper(durHours(set.LeadTime), v, "lead_time_median_hours"),
			tierUpper(set.ChangeFailureRate, v, "change_failure_rate"),
			tierUpper(durHours(set.RecoveryTime), v, "recovery_median_hours"),
			tierUpper(set.ReworkRate, v, "rework_rate"),
		)
		t.Rows = append(t.Rows, row)
	}
	return out, nil
}

// request is one filter of ComputeMany with its window resolved, as
// metric_rows_many takes it.
type request struct {
	R        int       `json:"r"`
	Level    string    `json:"level"`
	Unit     string    `json:"unit"`
	Lo       time.Time `json:"lo"`
	Hi       time.Time `json:"hi"`
	Services []string  `json:"services"`
	Teams    []string  `json:"teams"`
	// Environments split the request by production environment.
	Environments []string `json:"environments"`
}

// bounds resolves a filter's window (metric_bounds). An open end is taken
// from the production deployments in scope: From defaults to the UTC day
// of the first, To to the UTC day after the last (before To when To is
// set). ok is false when an open end has no deployment to take it from:
// the filter then has no rows.
func bounds(ctx context.Context, db *warehouse.DB, f Filter) (lo, hi time.Time, ok bool, err error) {
	if !f.From.IsZero() && !f.To.IsZero() {
		return f.From.UTC(), f.To.UTC(), true, nil
	}
	t, err := run(ctx, db, "bounds", f.scope())
	if err != nil {
		return lo, hi, false, err
	}
	if len(t.Rows) != 1 {
		return lo, hi, false, fmt.Errorf("metrics: bounds: %d rows", len(t.Rows))
	}
	l, lok := t.Rows[0][0].(time.Time)
	h, hok := t.Rows[0][1].(time.Time)
	if !lok || !hok {
		return lo, hi, false, nil
	}
	return l.UTC(), h.UTC(), true, nil
}
