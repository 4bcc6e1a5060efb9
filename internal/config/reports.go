package config

import (
	"fmt"
	"strings"
)

// Reports configures `shiplog report`.
type Reports struct {
	// DashboardsDir is a folder of the user's dashboard specs (*.yaml),
	// searched before the built-in ones. A relative path is taken from the
	// folder of the configuration file.
	DashboardsDir string `yaml:"dashboards_dir"`
}

func (r *Reports) validate() error {
	if r.DashboardsDir != "" && strings.TrimSpace(r.DashboardsDir) == "" {
		return fmt.Errorf("reports.dashboards_dir: %q is blank", r.DashboardsDir)
	}
	return nil
}
