package config

import (
	"fmt"
	"sort"
	"strings"
	"time"
)

// Reports configures `shiplog report`.
type Reports struct {
	// DashboardsDir is a folder of the user's dashboard specs (*.yaml),
	// searched before the built-in ones. A relative path is taken from the
	// folder of the configuration file.
	DashboardsDir string `yaml:"dashboards_dir"`
	// StaleAfter is the age of the last successful ingest beyond which the
	// warehouse is called stale on every page and in the command line's
	// coverage line ("7d"); 0 turns the warning off.
	StaleAfter Duration `yaml:"stale_after"`
	// NoChangeBand is, per metric, the change against the previous period
	// that the leadership report calls "no material change" rather than
	// better or worse: relative for deployment_frequency, lead_time and
	// recovery_time (0.1 = 10 % of the previous value), in absolute terms
	// for change_failure_rate and rework_rate (0.01 = one percentage
	// point). Metrics left out keep their default.
	NoChangeBand map[string]float64 `yaml:"no_change_band"`
	// Targets are the organisation's targets per metric, and each team's
	// under teams (a team's target replaces the organisation's).
	Targets ReportTargets `yaml:"targets"`
	// Commentary is a Markdown file shown on the leadership report (a
	// relative path is taken from the folder of the configuration file);
	// --commentary replaces it.
	Commentary string `yaml:"commentary"`
	// QuickCheck adds a DORA-Quick-Check-style 0–10 score beside the tiers.
	QuickCheck bool `yaml:"quick_check"`
}

// MetricTargets are targets of the five DORA metrics; nil means none.
type MetricTargets struct {
	// DeploymentFrequency is the least number of deployment days in the
	// median week.
	DeploymentFrequency *float64 `yaml:"deployment_frequency"`
	// LeadTime and RecoveryTime are the most the median may take.
	LeadTime     *Duration `yaml:"lead_time"`
	RecoveryTime *Duration `yaml:"recovery_time"`
	// ChangeFailureRate and ReworkRate are the highest rates (0.1 = 10 %).
	ChangeFailureRate *float64 `yaml:"change_failure_rate"`
	ReworkRate        *float64 `yaml:"rework_rate"`
}

// ReportTargets are the organisation's targets and each team's.
type ReportTargets struct {
	MetricTargets `yaml:",inline"`
	Teams         map[string]MetricTargets `yaml:"teams"`
}

// ReportMetrics are the metric names of no_change_band and targets.
var ReportMetrics = []string{"deployment_frequency", "lead_time", "change_failure_rate", "recovery_time", "rework_rate"}

// Values returns the targets by metric name in the unit of the metric's
// value: days per week, hours, fractions of 1.
func (m MetricTargets) Values() map[string]float64 {
	out := map[string]float64{}
	if m.DeploymentFrequency != nil {
		out["deployment_frequency"] = *m.DeploymentFrequency
	}
	if m.LeadTime != nil {
		out["lead_time"] = m.LeadTime.D().Hours()
	}
	if m.RecoveryTime != nil {
		out["recovery_time"] = m.RecoveryTime.D().Hours()
	}
	if m.ChangeFailureRate != nil {
		out["change_failure_rate"] = *m.ChangeFailureRate
	}
	if m.ReworkRate != nil {
		out["rework_rate"] = *m.ReworkRate
	}
	return out
}

func defaultReports() Reports {
	return Reports{StaleAfter: Duration(7 * 24 * time.Hour)}
}

func (r *Reports) validate() error {
	if r.StaleAfter < 0 {
		return fmt.Errorf("reports.stale_after: %s is negative", r.StaleAfter)
	}
	if r.DashboardsDir != "" && strings.TrimSpace(r.DashboardsDir) == "" {
		return fmt.Errorf("reports.dashboards_dir: %q is blank", r.DashboardsDir)
	}
	if r.Commentary != "" && strings.TrimSpace(r.Commentary) == "" {
		return fmt.Errorf("reports.commentary: %q is blank", r.Commentary)
	}
	keys := make([]string, 0, len(r.NoChangeBand))
	for k := range r.NoChangeBand {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		if !containsString(ReportMetrics, k) {
			return fmt.Errorf("reports.no_change_band: %q is not a metric (one of %s)", k, strings.Join(ReportMetrics, ", "))
		}
		if v := r.NoChangeBand[k]; v < 0 || v >= 1 {
			return fmt.Errorf("reports.no_change_band.%s: %v is not between 0 and 1", k, v)
		}
	}
	if err := r.Targets.MetricTargets.validate("reports.targets"); err != nil {
		return err
	}
	teams := make([]string, 0, len(r.Targets.Teams))
	for t := range r.Targets.Teams {
		teams = append(teams, t)
	}
	sort.Strings(teams)
	for _, t := range teams {
		if strings.TrimSpace(t) == "" {
			return fmt.Errorf("reports.targets.teams: a team name is blank")
		}
		if err := r.Targets.Teams[t].validate("reports.targets.teams." + t); err != nil {
			return err
		}
	}
	return nil
}

func (m MetricTargets) validate(at string) error {
	if m.DeploymentFrequency != nil && (*m.DeploymentFrequency < 0 || *m.DeploymentFrequency > 7) {
		return fmt.Errorf("%s.deployment_frequency: %v is not between 0 and 7 days a week", at, *m.DeploymentFrequency)
	}
	for name, d := range map[string]*Duration{"lead_time": m.LeadTime, "recovery_time": m.RecoveryTime} {
		if d != nil && *d <= 0 {
			return fmt.Errorf("%s.%s: %s is not a positive duration", at, name, *d)
		}
	}
	for name, v := range map[string]*float64{"change_failure_rate": m.ChangeFailureRate, "rework_rate": m.ReworkRate} {
		if v != nil && (*v < 0 || *v > 1) {
			return fmt.Errorf("%s.%s: %v is not a rate between 0 and 1", at, name, *v)
		}
	}
	return nil
}

func containsString(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
