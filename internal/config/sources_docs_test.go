package config

import (
	"os"
	"regexp"
	"strings"
	"testing"
)

var yamlBlock = regexp.MustCompile("(?s)```yaml\n(.*?)```")

// TestSourceDocsConfigBlocksAreValid parses every YAML block of the
// PagerDuty and CDEvents pages as shiplog.yaml (unknown keys refused) and
// validates it, so the documented settings are the real ones.
func TestSourceDocsConfigBlocksAreValid(t *testing.T) {
	for _, page := range []string{"../../docs/pagerduty.md", "../../docs/cdevents.md"} {
		b, err := os.ReadFile(page)
		if err != nil {
			t.Fatal(err)
		}
		blocks := yamlBlock.FindAllStringSubmatch(string(b), -1)
		if len(blocks) == 0 {
			t.Fatalf("%s: no yaml block", page)
		}
		for i, m := range blocks {
			cfg := Default()
			if err := Parse([]byte(m[1]), cfg); err != nil {
				t.Errorf("%s block %d: %v", page, i+1, err)
				continue
			}
			if err := cfg.Validate(); err != nil {
				t.Errorf("%s block %d: %v", page, i+1, err)
			}
			if strings.Contains(page, "pagerduty") && (cfg.Sources.PagerDuty == nil || len(cfg.Sources.PagerDuty.Services) != 2) {
				t.Errorf("%s block %d: sources.pagerduty not read: %+v", page, i+1, cfg.Sources.PagerDuty)
			}
			if strings.Contains(page, "cdevents") && (cfg.Sources.CDEvents == nil || len(cfg.Sources.CDEvents.Pipelines) != 1) {
				t.Errorf("%s block %d: sources.cdevents not read: %+v", page, i+1, cfg.Sources.CDEvents)
			}
		}
	}
}

func TestPagerDutyAndCDEventsChecks(t *testing.T) {
	tests := []struct {
		yaml string
		want string
	}{
		{"sources:\n  pagerduty:\n    api_url: ftp://x\n", "pagerduty: api_url:"},
		{"sources:\n  pagerduty:\n    severity: {P1: critical}\n", `pagerduty: severity: P1: "critical" is not one of sev1`},
		{"sources:\n  pagerduty:\n    since: yesterday\n", "pagerduty: since:"},
		{"sources:\n  pagerduty:\n    token_env: $TOKEN\n", "pagerduty: token_env:"},
		{"sources:\n  pagerduty:\n    page_size: 500\n", "pagerduty: page_size: 500"},
		{"sources:\n  pagerduty:\n    services: {PX1: ''}\n", "pagerduty: services:"},
		{"sources:\n  cdevents:\n    default_severity: high\n", `cdevents: default_severity: "high"`},
		{"sources:\n  cdevents:\n    pipelines: {deploy: {service: web}}\n", "cdevents: pipelines: deploy: service and environment are both required"},
		{"sources:\n  cdevents:\n    paths: ['a[']\n", "cdevents: paths: bad pattern"},
	}
	for _, tc := range tests {
		cfg := Default()
		if err := Parse([]byte(tc.yaml), cfg); err != nil {
			t.Fatalf("%q: %v", tc.yaml, err)
		}
		err := cfg.Validate()
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%q: error %v, want %q", tc.yaml, err, tc.want)
		}
	}
}
