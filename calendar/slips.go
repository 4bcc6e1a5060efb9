package calendar

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/shiplog/shiplog/internal/config"
	"github.com/shiplog/shiplog/internal/output"
	"github.com/shiplog/shiplog/internal/warehouse"
)

// slipsSQL matches each release plan to the first successful production
// deployment of its service with the same version. slip_days = shipped −
// planned in days (negative: early). A release is on time when it shipped
// no later than the end of its planned window (planned_at when it has no
// window); a plan not shipped is missed once planned_at is past, else
// still planned. Plans for other environments (staging) are not tracked.
const slipsSQL = `
WITH plans AS (
    SELECT id, service, version, planned_at, window_start, window_end
    FROM release_plans
    WHERE planned_at >= $from AND planned_at < $to
      AND list_contains($production::VARCHAR[], lower(coalesce(environment, 'production')))
),
owners AS (
    SELECT id AS service, any_value(team) AS team FROM services GROUP BY id
),
shipped AS (
    SELECT service, version, min(finished_at) AS shipped_at
    FROM deployments
    WHERE status = 'success' AND version IS NOT NULL
      AND list_contains($production::VARCHAR[], lower(environment))
    GROUP BY service, version
),
slips AS (
    SELECT p.id AS plan_id, p.service, o.team, p.version, p.planned_at, s.shipped_at,
           (epoch(s.shipped_at) - epoch(p.planned_at)) / 86400.0 AS slip_days,
           CASE WHEN s.shipped_at IS NULL AND p.planned_at < $now THEN 'missed'
                WHEN s.shipped_at IS NULL THEN 'planned'
                WHEN s.shipped_at <= coalesce(p.window_end, p.planned_at) THEN 'on_time'
                ELSE 'late' END AS status,
           CASE WHEN s.shipped_at IS NULL AND p.planned_at < $now
                THEN (epoch($now) - epoch(p.planned_at)) / 86400.0 END AS days_overdue,
           p.window_start, p.window_end,
           CASE WHEN p.window_end IS NOT NULL THEN 'on time when shipped by the window end'
                ELSE 'on time when shipped by the planned time (no window)' END AS rule
    FROM plans p
    LEFT JOIN owners o USING (service)
    LEFT JOIN shipped s USING (service, version)
)
`

const slipRowsSQL = slipsSQL + `
SELECT plan_id, service, team, version, planned_at, window_start, window_end, shipped_at, slip_days, status, rule, days_overdue
FROM slips
WHERE len($services::VARCHAR[]) = 0 OR list_contains($services::VARCHAR[], service)
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
WHERE len($services::VARCHAR[]) = 0 OR list_contains($services::VARCHAR[], service)
GROUP BY team
ORDER BY team NULLS LAST`

// SlipFilter selects plans by planned date and service.
type SlipFilter struct {
	From, To time.Time // zero: unbounded; To exclusive
	Services []string
	Now      time.Time // plans before Now and not shipped are missed
}

func (f SlipFilter) args(cfg *config.Config) []any {
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
		sql.Named("production", lowerAll(cfg.Metrics.ProductionEnvironments)), sql.Named("services", services)}
}

// Slips lists each plan in range with its actual production release and slip.
func Slips(ctx context.Context, db *warehouse.DB, cfg *config.Config, f SlipFilter) (*output.Table, error) {
	return query(ctx, db, slipRowsSQL, f.args(cfg))
}

// SlipSummary is the slip distribution per team.
func SlipSummary(ctx context.Context, db *warehouse.DB, cfg *config.Config, f SlipFilter) (*output.Table, error) {
	return query(ctx, db, slipSummarySQL, f.args(cfg))
}

func query(ctx context.Context, db *warehouse.DB, q string, args []any) (*output.Table, error) {
	rows, err := db.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("calendar: %w", err)
	}
	return output.FromRows(rows)
}
