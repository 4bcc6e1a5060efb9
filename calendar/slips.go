package calendar

import (
	"context"
	"fmt"
	"time"

	"github.com/shiplog/shiplog/internal/config"
	"github.com/shiplog/shiplog/internal/output"
	"github.com/shiplog/shiplog/internal/warehouse"
	"github.com/shiplog/shiplog/transform/models/marts"
)

// SlipFilter selects plans by planned date and service.
type SlipFilter struct {
	From, To time.Time // zero: unbounded; To exclusive
	Services []string
	Now      time.Time // plans before Now and not shipped are missed
}

func (f SlipFilter) args(cfg *config.Config) map[string]any {
	from, to := f.From, f.To
	if from.IsZero() {
		from = time.Date(1970, 1, 1, 0, 0, 0, 0, time.UTC)
	}
	if to.IsZero() {
		to = time.Date(9999, 12, 31, 0, 0, 0, 0, time.UTC)
	}
	now := f.Now
	if now.IsZero() {
		now = time.Now()
	}
	services := f.Services
	if services == nil {
		services = []string{}
	}
	return map[string]any{"from": from.UTC(), "to": to.UTC(), "now": now.UTC(), "services": services}
}

// Slips lists each plan in range with its actual production release and
// slip (sql/slips.sql says how a plan is matched).
func Slips(ctx context.Context, db *warehouse.DB, cfg *config.Config, f SlipFilter) (*output.Table, error) {
	return query(ctx, db, "slips", f.args(cfg))
}

// SlipSummary is the slip distribution per team.
func SlipSummary(ctx context.Context, db *warehouse.DB, cfg *config.Config, f SlipFilter) (*output.Table, error) {
	return query(ctx, db, "slip_summary", f.args(cfg))
}

func query(ctx context.Context, db *warehouse.DB, name string, args map[string]any) (*output.Table, error) {
	if err := marts.Require(ctx, db, "fct_release_plans", "dim_services"); err != nil {
		return nil, fmt.Errorf("calendar: %w", err)
	}
	rows, err := run(ctx, db, name, args)
	if err != nil {
		return nil, err
	}
	return output.FromRows(rows)
}
