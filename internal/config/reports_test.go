package config

import (
	"strings"
	"testing"
)

func TestReportsSection(t *testing.T) {
	cfg := Default()
	if err := Parse([]byte("reports:\n  dashboards_dir: ./dashboards\n"), cfg); err != nil {
		t.Fatal(err)
	}
	if cfg.Reports.DashboardsDir != "./dashboards" {
		t.Errorf("dashboards_dir = %q", cfg.Reports.DashboardsDir)
	}
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	cfg = Default()
	if err := Parse([]byte("reports:\n  dashboard_dir: x\n"), cfg); err == nil || !strings.Contains(err.Error(), "dashboard_dir") {
		t.Errorf("misspelt field: %v", err)
	}
	cfg = Default()
	cfg.Reports.DashboardsDir = "  "
	if err := cfg.Validate(); err == nil || !strings.HasPrefix(err.Error(), "reports.dashboards_dir:") {
		t.Errorf("blank folder: %v", err)
	}
}
