package metrics

import (
	"github.com/shiplog/shiplog/internal/format"
	"github.com/shiplog/shiplog/internal/output"
)

// ColumnKinds says what every column that Compute, View and Explain return
// means, so that a terminal shows a rate as "1.2 %" and hours as "2.2 d",
// and machine formats round each to its precision. A test checks every
// column of Columns is here.
var ColumnKinds = map[string]format.Kind{
	// level keys and names
	"service": format.Text, "team": format.Text, "department": format.Text, "org": format.Text, "environment": format.Text,
	"services": format.Text, "teams": format.Text, "departments": format.Text, "orgs": format.Text,
	"author": format.Text, "feature": format.Text, "version": format.Text, "severity": format.Text,

	// Compute
	"period_start":                 format.Date,
	"period_end":                   format.Date,
	"deployments":                  format.Count,
	"deployments_per_day":          format.Number,
	"deployment_days_per_week":     format.Number,
	"deploy_interval_median_hours": format.Hours,
	"lead_time_median_hours":       format.Hours,
	"lead_time_p75_hours":          format.Hours,
	"lead_time_p90_hours":          format.Hours,
	"lead_time_changes":            format.Count,
	"lead_time_excluded":           format.Count,
	"change_failure_rate":          format.Rate,
	"failed_deployments":           format.Count,
	"recovery_median_hours":        format.Hours,
	"recovery_p75_hours":           format.Hours,
	"recovery_p90_hours":           format.Hours,
	"unrecovered_failures":         format.Count,
	"rework_rate":                  format.Rate,
	"unplanned_deployments":        format.Count,
	"mttr_median_hours":            format.Hours,
	"mtta_median_hours":            format.Hours,
	"incidents":                    format.Count,
	"lead_time_unknown_reason":     format.Text,
	"failure_unknown_reason":       format.Text,
	"deployment_frequency_tier":    format.Text,
	"lead_time_tier":               format.Text,
	"change_failure_rate_tier":     format.Text,
	"recovery_time_tier":           format.Text,
	"rework_rate_tier":             format.Text,

	// views
	"changes_shipped":    format.Count,
	"prs_merged":         format.Count,
	"authors":            format.Count,
	"incidents_resolved": format.Count,
	"mttr_p75_hours":     format.Hours,
	"mttr_p90_hours":     format.Hours,
	"released_at":        format.Time,
	"day1_users":         format.Count,
	"day7_users":         format.Count,
	"day30_users":        format.Count,
	"day1_share":         format.Rate,
	"day7_share":         format.Rate,
	"day30_share":        format.Rate,
	"days_to_target":     format.Count,
	"tickets_after":      format.Count,
	"baseline_per_day":   format.Number,
	"expected_after":     format.Number,
	"ratio":              format.Number,

	// Explain
	"change_id":              format.Text,
	"deployment_id":          format.Text,
	"deployed_at":            format.Time,
	"link_rule":              format.Text,
	"first_commit_at":        format.Time,
	"lead_time_hours":        format.Hours,
	"coding_hours":           format.Hours,
	"pickup_hours":           format.Hours,
	"review_hours":           format.Hours,
	"deploy_hours":           format.Hours,
	"excluded_reason":        format.Text,
	"granularity":            format.Text,
	"stage_anomaly":          format.Text,
	"finished_at":            format.Time,
	"is_failed":              format.Bool,
	"failure_reason":         format.Text,
	"incident_ids":           format.Text,
	"restored_by_deployment": format.Text,
	"reason":                 format.Text,
	"recovered_at":           format.Time,
	"recovery_hours":         format.Hours,
	"unrecovered":            format.Bool,
	"day":                    format.Date,
	"is_rollback":            format.Bool,
	"is_hotfix":              format.Bool,
	"hours_since_previous":   format.Hours,
	"is_unplanned":           format.Bool,
	"unplanned_reason":       format.Text,
	"rollback_of":            format.Text,
	"hotfix_of":              format.Text,
}

// ColumnLabels are short terminal headings. Columns without one read as
// their name in capitals.
var ColumnLabels = map[string]string{
	"period_start":                 "PERIOD",
	"period_end":                   "END",
	"deployments":                  "DEPLOYS",
	"deployments_per_day":          "PER DAY",
	"deployment_days_per_week":     "DAYS/WEEK",
	"deploy_interval_median_hours": "INTERVAL",
	"lead_time_median_hours":       "LEAD TIME",
	"lead_time_p75_hours":          "LEAD P75",
	"lead_time_p90_hours":          "LEAD P90",
	"lead_time_changes":            "CHANGES",
	"lead_time_excluded":           "LEFT OUT",
	"change_failure_rate":          "FAILURE RATE",
	"failed_deployments":           "FAILED",
	"recovery_median_hours":        "RECOVERY",
	"recovery_p75_hours":           "RECOVERY P75",
	"recovery_p90_hours":           "RECOVERY P90",
	"unrecovered_failures":         "UNRECOVERED",
	"rework_rate":                  "REWORK",
	"unplanned_deployments":        "UNPLANNED",
	"mttr_median_hours":            "MTTR",
	"mtta_median_hours":            "MTTA",
	"deployment_frequency_tier":    "FREQUENCY TIER",
	"lead_time_tier":               "LEAD TIME TIER",
	"change_failure_rate_tier":     "FAILURE TIER",
	"recovery_time_tier":           "RECOVERY TIER",
	"rework_rate_tier":             "REWORK TIER",
	"lead_time_hours":              "LEAD TIME",
	"coding_hours":                 "CODING",
	"pickup_hours":                 "PICKUP",
	"review_hours":                 "REVIEW",
	"deploy_hours":                 "DEPLOY",
	"recovery_hours":               "RECOVERY",
	"hours_since_previous":         "SINCE PREVIOUS",
	"excluded_reason":              "LEFT OUT BECAUSE",
	"lead_time_unknown_reason":     "LEAD TIME UNKNOWN",
	"failure_unknown_reason":       "FAILURES UNKNOWN",
	"mttr_p75_hours":               "MTTR P75",
	"mttr_p90_hours":               "MTTR P90",
}

// Describe attaches ColumnKinds and ColumnLabels to a table of this package
// (Compute, View or Explain) and, for Compute's table, what a terminal
// shows first: the level key, the period when there are several, then the
// five DORA metrics with their tiers beside them, and MTTR.
func Describe(t *output.Table) {
	t.Describe(ColumnKinds, ColumnLabels)
	if t.Index("lead_time_tier") < 0 {
		return
	}
	key := t.Columns[0]
	t.Primary = []string{key}
	if periods(t) > 1 {
		t.Primary = append(t.Primary, "period_start")
	}
	t.Primary = append(t.Primary, "deployments", "lead_time_median_hours", "change_failure_rate",
		"recovery_median_hours", "rework_rate", "mttr_median_hours")
	t.Beside = map[string]string{
		"deployments":            "deployment_frequency_tier",
		"lead_time_median_hours": "lead_time_tier",
		"change_failure_rate":    "change_failure_rate_tier",
		"recovery_median_hours":  "recovery_time_tier",
		"rework_rate":            "rework_rate_tier",
	}
	// A metric without a source for its inputs is null with a reason
	// (decided in the metric SQL); a terminal says so in the cell.
	t.Unknown = UnknownBecause
}

// UnknownBecause maps each metric that can be unknown for want of a source
// to the column giving the reason (decided in the metric SQL,
// metric_rows_many, from dim_service_sources): when the reason is set the
// value is null and has no tier, and every output says "unknown" with the
// reason rather than a dash or a zero.
var UnknownBecause = map[string]string{
	"lead_time_median_hours": "lead_time_unknown_reason",
	"lead_time_p75_hours":    "lead_time_unknown_reason",
	"lead_time_p90_hours":    "lead_time_unknown_reason",
	"change_failure_rate":    "failure_unknown_reason",
	"recovery_median_hours":  "failure_unknown_reason",
	"recovery_p75_hours":     "failure_unknown_reason",
	"recovery_p90_hours":     "failure_unknown_reason",
	"mttr_median_hours":      "failure_unknown_reason",
	"mtta_median_hours":      "failure_unknown_reason",
}

// periods counts the distinct period starts of a Compute table.
func periods(t *output.Table) int {
	i := t.Index("period_start")
	if i < 0 {
		return 0
	}
	seen := map[any]bool{}
	for _, r := range t.Rows {
		seen[output.Text(r[i])] = true
	}
	return len(seen)
}

// ExplainPrimary lists, per metric of Explain, the columns a terminal shows
// first.
var ExplainPrimary = map[string][]string{
	"lead-time":            {"change_id", "service", "deployed_at", "lead_time_hours", "excluded_reason", "deploy_hours", "granularity"},
	"change-failure-rate":  {"deployment_id", "failure_reason", "finished_at", "service", "incident_ids"},
	"recovery-time":        {"deployment_id", "service", "finished_at", "recovery_hours", "reason", "restored_by_deployment"},
	"deployment-frequency": {"deployment_id", "service", "finished_at", "hours_since_previous", "version"},
	"rework-rate":          {"deployment_id", "service", "finished_at", "unplanned_reason", "version"},
}
