package report

import (
	"context"
	"time"

	"github.com/shiplog/shiplog/internal/cmdutil"
	"github.com/shiplog/shiplog/internal/config"
	"github.com/shiplog/shiplog/internal/output"
	"github.com/shiplog/shiplog/internal/warehouse"
	"github.com/shiplog/shiplog/reports"
)

// The three entry points of the data layer. They live in other packages
// (queries, metrics, governance); set them in an init of this package:
//
//	RunQuery = queries.Run
//	ComputeMetrics = func(ctx context.Context, db *warehouse.DB, cfg *config.Config, f reports.MetricsFilter) (*output.Table, error) {
//		return metrics.Compute(ctx, db, cfg, metrics.Filter(f))
//	}
//	RunAudit = … // every control over [from, to) as []reports.ControlResult
var (
	RunQuery       func(ctx context.Context, db *warehouse.DB, name string, params map[string]string) (*output.Table, error)
	ComputeMetrics func(ctx context.Context, db *warehouse.DB, cfg *config.Config, f reports.MetricsFilter) (*output.Table, error)
	RunAudit       func(ctx context.Context, db *warehouse.DB, cfg *config.Config, from, to time.Time) ([]reports.ControlResult, error)
)

// OpenData opens the warehouse read-only and returns it as reports.Data.
func OpenData(ctx context.Context, f *cmdutil.Factory) (reports.Data, func() error, error) {
	if RunQuery == nil || ComputeMetrics == nil || RunAudit == nil {
		return nil, nil, errNotWired
	}
	cfg, err := f.Config()
	if err != nil {
		return nil, nil, err
	}
	db, err := f.WarehouseReadOnly(ctx)
	if err != nil {
		return nil, nil, err
	}
	return &warehouseData{db: db, cfg: cfg}, db.Close, nil
}

// WarehouseData answers reports from an open warehouse (for `demo` and
// `serve`, which hold one already). The caller keeps ownership of db.
func WarehouseData(db *warehouse.DB, cfg *config.Config) (reports.Data, error) {
	if RunQuery == nil || ComputeMetrics == nil || RunAudit == nil {
		return nil, errNotWired
	}
	return &warehouseData{db: db, cfg: cfg}, nil
}

// warehouseData answers a report from the warehouse.
type warehouseData struct {
	db  *warehouse.DB
	cfg *config.Config
}

func (d *warehouseData) Query(ctx context.Context, name string, params map[string]string) (*output.Table, error) {
	return RunQuery(ctx, d.db, name, params)
}

func (d *warehouseData) Metrics(ctx context.Context, f reports.MetricsFilter) (*output.Table, error) {
	return ComputeMetrics(ctx, d.db, d.cfg, f)
}

func (d *warehouseData) Audit(ctx context.Context, from, to time.Time) ([]reports.ControlResult, error) {
	return RunAudit(ctx, d.db, d.cfg, from, to)
}
