package calendar

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/shiplog/shiplog/internal/config"
	"github.com/shiplog/shiplog/internal/output"
	"github.com/shiplog/shiplog/internal/warehouse"
	"github.com/shiplog/shiplog/transform/models/marts"
)

// slipsSQL reads each production release plan with what shipped it from
// fct_release_plans (the first successful production deployment of its
// service with the same version; slip_days = shipped − planned in days,
// negative: early; on time when it shipped no later than the end of its
// planned window, planned_at when it has no window). A plan not shipped is
// missed once planned_at is before $now, else still planned. Plans for
// other environments (staging) are not tracked.
const slipsSQL = `
WITH slips AS (
    SELECT p.plan_id, p.service, o.team, p.version, p.planned_at, p.shipped_at, p.slip_days,
           CASE WHEN p.shipped_at IS NULL AND p.planned_at < $now THEN 'missed'
                WHEN p.shipped_at IS NULL THEN 'planned'
                WHEN p.shipped_on_time THEN 'on_time'
                ELSE 'late' END AS status,
           CASE WHEN p.shipped_at IS NULL AND p.planned_at < $now
                THEN (epoch($now) - epoch(p.planned_at)) / 86400.0 END AS days_overdue
    FROM fct_release_plans p
    LEFT JOIN dim_services o USING (service)
    WHERE p.is_production AND p.planned_at >= $from AND p.planned_at < $to
)
`

const slipRowsSQL = slipsSQL + `
SELECT plan_id, service, team, version, planned_at, shipped_at, slip_days, status, days_overdue
FROM slips
WHERE len($services::VARCHAR[]) = 0 OR list_contains(list_transform($services::VARCHAR[], x -> lower(trim(x))), service)
ORDER BY planned_at, plan_id`

// slipSummarySQL is the slip distribution per team over shipped plans:
// median and p90 (continuous), and the share of shipped releases that
// were on time; missed counts plans past their date and never shipped.
const slipSummarySQL = slipsSQL + `
SELECT team, count(*) AS plans, count(shipped_at) AS shipped,
       quantile_cont(slip_days, 0.5) AS slip_median_days,
       quantile_cont(slip_days, 0.9) AS slip_p90_days,
       count(*) FILTER (WHERE status = 'on_time') / nullif(count(shipped_at), 0) AS on_time_share,
       count(*) FILTER (WHERE status = 'missed') AS missed
FROM slips
WHERE len($services::VARCHAR[]) = 0 OR list_contains(list_transform($services::VARCHAR[], x -> lower(trim(x))), service)
GROUP BY team
ORDER BY team NULLS LAST`

// SlipFilter selects plans by planned date and service.
type SlipFilter struct {
	From, To time.Time // zero: unbounded; To exclusive
	Services []string
	Now      time.Time // plans before Now and not shipped are missed
}

func (f SlipFilter) args() []any {
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
	return []any{sql.Named("from", from.UTC()), sql.Named("to", to.UTC()), sql.Named("now", now.UTC()),
		sql.Named("services", services)}
}

// Slips lists each plan in range with its actual production release and slip.
func Slips(ctx context.Context, db *warehouse.DB, cfg *config.Config, f SlipFilter) (*output.Table, error) {
	return query(ctx, db, slipRowsSQL, f.args())
}

// SlipSummary is the slip distribution per team.
func SlipSummary(ctx context.Context, db *warehouse.DB, cfg *config.Config, f SlipFilter) (*output.Table, error) {
	return query(ctx, db, slipSummarySQL, f.args())
}

func query(ctx context.Context, db *warehouse.DB, q string, args []any) (*output.Table, error) {
	if err := marts.Require(ctx, db, "fct_release_plans", "dim_services"); err != nil {
		return nil, fmt.Errorf("calendar: %w", err)
	}
	rows, err := db.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("calendar: %w", err)
	}
	return output.FromRows(rows)
}
