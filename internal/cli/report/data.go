package report

import (
	"context"
	"time"

	"github.com/shiplog/shiplog/audit"
	"github.com/shiplog/shiplog/internal/cmdutil"
	"github.com/shiplog/shiplog/internal/config"
	"github.com/shiplog/shiplog/internal/coverage"
	"github.com/shiplog/shiplog/internal/output"
	"github.com/shiplog/shiplog/internal/warehouse"
	"github.com/shiplog/shiplog/metrics"
	"github.com/shiplog/shiplog/queries"
	"github.com/shiplog/shiplog/reports"
)

// OpenData opens the warehouse read-only and returns it as reports.Data.
func OpenData(ctx context.Context, f *cmdutil.Factory) (reports.Data, func() error, error) {
	cfg, err := f.Config()
	if err != nil {
		return nil, nil, err
	}
	db, err := f.WarehouseReadOnly(ctx)
	if err != nil {
		return nil, nil, err
	}
	return WarehouseData(db, cfg, f.Now), db.Close, nil
}

// WarehouseData answers reports from an open warehouse (for `demo` and
// `serve`, which hold one already). The caller keeps ownership of db. now
// decides which exemptions have expired and which reviews are overdue.
func WarehouseData(db *warehouse.DB, cfg *config.Config, now func() time.Time) reports.Data {
	if now == nil {
		now = time.Now
	}
	return &warehouseData{db: db, cfg: cfg, now: now}
}

// warehouseData answers a report from the warehouse: named queries, the
// metrics engine and the governance controls.
type warehouseData struct {
	db  *warehouse.DB
	cfg *config.Config
	now func() time.Time
}

func (d *warehouseData) Query(ctx context.Context, name string, params map[string]string) (*output.Table, error) {
	return queries.Run(ctx, d.db, name, params)
}

func (d *warehouseData) Metrics(ctx context.Context, f reports.MetricsFilter) (*output.Table, error) {
	t, err := metrics.Compute(ctx, d.db, d.cfg, metricsFilter(f))
	if err == nil {
		metrics.Describe(t)
	}
	return t, err
}

// metricsFilter is a report's filter as the metrics engine takes it
// (reports are never split by environment).
func metricsFilter(f reports.MetricsFilter) metrics.Filter {
	return metrics.Filter{Services: f.Services, Teams: f.Teams, From: f.From, To: f.To, By: f.By, Level: f.Level}
}

// Coverage says what the warehouse holds (it makes warehouseData a
// reports.CoverageData): the pages state it and take their default period
// from it.
func (d *warehouseData) Coverage(ctx context.Context, now time.Time) (*coverage.Coverage, error) {
	return coverage.Load(ctx, output.DB(d.db), now, d.cfg.Reports.StaleAfter.D())
}

// MetricsMany answers several filters with one pass over the marts (see
// metrics.ComputeMany); it makes warehouseData a reports.BatchData.
func (d *warehouseData) MetricsMany(ctx context.Context, fs []reports.MetricsFilter) ([]*output.Table, error) {
	mf := make([]metrics.Filter, len(fs))
	for i, f := range fs {
		mf[i] = metricsFilter(f)
	}
	ts, err := metrics.ComputeMany(ctx, d.db, d.cfg, mf)
	for _, t := range ts {
		metrics.Describe(t)
	}
	return ts, err
}

func (d *warehouseData) Audit(ctx context.Context, from, to time.Time) ([]reports.ControlResult, error) {
	res, err := audit.Run(ctx, d.db, d.cfg, audit.Options{From: from, To: to, Now: d.now()})
	if err != nil {
		return nil, err
	}
	out := make([]reports.ControlResult, 0, len(res.Controls))
	for _, c := range res.Controls {
		out = append(out, reports.ControlResult{
			Control:     c.Name,
			Description: c.Description,
			Version:     c.Version,
			Checked:     c.Checked,
			Failed:      c.Failed,
			Population:  c.Population,
			Outcomes:    c.Outcomes,
			Findings:    res.FindingsTable(c),
		})
	}
	return out, nil
}
