package config

import (
	"fmt"
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
	return nil
}
