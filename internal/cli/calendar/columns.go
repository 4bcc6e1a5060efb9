package calendar

import (
	"github.com/shiplog/shiplog/internal/format"
	"github.com/shiplog/shiplog/internal/output"
)

// kinds say what the calendar's columns are, so a slip of 0.06 days reads
// "1.4 h" on a terminal and a share "46.2 %", while machine formats keep
// the raw values.
var kinds = map[string]format.Kind{
	"start": format.Time, "end": format.Time, "planned_at": format.Time, "shipped_at": format.Time,
	"slip_days": format.Days, "days_overdue": format.Days, "slip_median_days": format.Days, "slip_p90_days": format.Days,
	"on_time_share": format.Rate, "plans": format.Count, "shipped": format.Count, "missed": format.Count,
	"rank": format.Count, "conflicts": format.Count, "first": format.Time, "last": format.Time,
	"window_start": format.Time, "window_end": format.Time, "rule": format.Text,
}

var labels = map[string]string{
	"slip_days": "SLIP", "days_overdue": "OVERDUE", "slip_median_days": "MEDIAN SLIP",
	"slip_p90_days": "SLIP P90", "on_time_share": "ON TIME", "other_id": "WITH", "other_services": "WITH SERVICES",
	"change_request": "CR",
}

// primary are the columns a terminal shows first, per table (by its first
// column).
var primary = map[string][]string{
	"start":    {"start", "kind", "id", "services", "environment", "version", "conflicts", "status", "end"},
	"conflict": {"conflict", "start", "id", "services", "other_id", "other_services", "environment"},
	"plan_id":  {"plan_id", "service", "version", "window_start", "window_end", "shipped_at", "slip_days", "status", "rule"},
	"rank":     {"rank", "conflict", "services", "other_services", "conflicts", "environment", "first", "last"},
}

// describe attaches the calendar's kinds, headings and primary columns.
func describe(t *output.Table) *output.Table {
	t.Describe(kinds, labels)
	if len(t.Columns) > 0 {
		t.Primary = primary[t.Columns[0]]
	}
	return t
}
