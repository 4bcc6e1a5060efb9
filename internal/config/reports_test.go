package config

import (
	"strings"
	"testing"
	"time"
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

func TestStaleAfter(t *testing.T) {
	if got := Default().Reports.StaleAfter.D(); got != 7*24*time.Hour {
		t.Errorf("default stale_after = %v, want 7 days", got)
	}
	for _, tt := range []struct {
		yaml    string
		want    time.Duration
		wantErr string
	}{
		{yaml: "reports:\n  stale_after: 36h\n", want: 36 * time.Hour},
		{yaml: "reports:\n  stale_after: 14d\n", want: 14 * 24 * time.Hour},
		{yaml: "reports:\n  stale_after: 0s\n", want: 0},
		{yaml: "reports:\n  stale_after: -1h\n", wantErr: "reports.stale_after: -1h0m0s is negative"},
		{yaml: "reports:\n  stale_after: a week\n", wantErr: `"a week" is not a duration`},
	} {
		cfg := Default()
		err := Parse([]byte(tt.yaml), cfg)
		if err == nil {
			err = cfg.Validate()
		}
		if tt.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("%q: err = %v, want %q", tt.yaml, err, tt.wantErr)
			}
			continue
		}
		if err != nil || cfg.Reports.StaleAfter.D() != tt.want {
			t.Errorf("%q: %v, %v", tt.yaml, cfg.Reports.StaleAfter, err)
		}
	}
}
