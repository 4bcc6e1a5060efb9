package config

import (
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"
)

// PagerDuty defaults.
const (
	DefaultPagerDutyAPIURL           = "https://api.pagerduty.com"
	DefaultPagerDutyTokenEnv         = "PAGERDUTY_TOKEN"
	DefaultPagerDutyWebhookSecretEnv = "PAGERDUTY_WEBHOOK_SECRET"
	// DefaultPagerDutyHistory is how far back the first sync reads when
	// since is not set.
	DefaultPagerDutyHistory = 365 * 24 * time.Hour
)

// PagerDuty configures the PagerDuty source (see docs/pagerduty.md).
type PagerDuty struct {
	APIURL   string `yaml:"api_url"`
	TokenEnv string `yaml:"token_env"`
	// Services maps a PagerDuty service id (PIJ90N7) or name (My Mail
	// Service) to a shiplog service. Unlisted services become their
	// PagerDuty name in lower case.
	Services map[string]string `yaml:"services"`
	// Severity maps a priority name (P1) or an urgency (high, low) to sev1
	// … sev4. Keys compare case-insensitively; a priority key wins over an
	// urgency key. Unlisted values fall back to the built-in rule (see
	// docs/pagerduty.md).
	Severity map[string]string `yaml:"severity"`
	// Since is where the first sync starts: a date (2025-01-01) or an RFC
	// 3339 time. Empty: a year before the first run.
	Since string `yaml:"since"`
	// Overlap is how far before the saved cursor a sync starts again.
	Overlap Duration `yaml:"overlap"`
	// PageSize is the number of incidents asked for per request (1-100).
	PageSize int `yaml:"page_size"`
	// WebhookSecretEnv names the variable holding the signing secret of
	// the v3 webhook subscription that posts to /webhooks/pagerduty.
	WebhookSecretEnv string `yaml:"webhook_secret_env"`
}

// NewPagerDuty returns a PagerDuty section with every default filled in.
func NewPagerDuty() *PagerDuty {
	p := &PagerDuty{}
	p.ApplyDefaults()
	return p
}

// ApplyDefaults fills the fields left empty in shiplog.yaml.
func (p *PagerDuty) ApplyDefaults() {
	if p.APIURL == "" {
		p.APIURL = DefaultPagerDutyAPIURL
	}
	if p.TokenEnv == "" {
		p.TokenEnv = DefaultPagerDutyTokenEnv
	}
	if p.WebhookSecretEnv == "" {
		p.WebhookSecretEnv = DefaultPagerDutyWebhookSecretEnv
	}
	if p.Overlap == 0 {
		p.Overlap = Duration(10 * time.Minute)
	}
	if p.PageSize == 0 {
		p.PageSize = 100
	}
}

// Validate checks the section before any request is made. Errors start
// with "pagerduty: " and name the field.
func (p *PagerDuty) Validate() error {
	if p.APIURL != "" {
		u, err := url.Parse(p.APIURL)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return fmt.Errorf("pagerduty: api_url: %q is not an http(s) address (for example %s)", p.APIURL, DefaultPagerDutyAPIURL)
		}
		if u.User != nil {
			return errors.New("pagerduty: api_url: must not carry credentials; put the token in the variable named by token_env")
		}
	}
	for field, v := range map[string]string{"token_env": p.TokenEnv, "webhook_secret_env": p.WebhookSecretEnv} {
		if v != "" && strings.ContainsAny(v, "= $") {
			return fmt.Errorf("pagerduty: %s: %q must be the name of an environment variable, not its value", field, v)
		}
	}
	for k, v := range p.Services {
		if strings.TrimSpace(k) == "" || strings.TrimSpace(v) == "" {
			return fmt.Errorf("pagerduty: services: %q: %q: both the PagerDuty service and the shiplog service must be named", k, v)
		}
	}
	for k, v := range p.Severity {
		if strings.TrimSpace(k) == "" {
			return errors.New("pagerduty: severity: empty key (use a priority name such as P1, or high / low)")
		}
		switch v {
		case "sev1", "sev2", "sev3", "sev4":
		default:
			return fmt.Errorf("pagerduty: severity: %s: %q is not one of sev1, sev2, sev3, sev4", k, v)
		}
	}
	if p.Since != "" {
		if _, err := ParseSince(p.Since); err != nil {
			return fmt.Errorf("pagerduty: since: %w", err)
		}
	}
	if p.Overlap < 0 {
		return errors.New("pagerduty: overlap: must not be negative")
	}
	if p.PageSize < 0 || p.PageSize > 100 {
		return fmt.Errorf("pagerduty: page_size: %d is outside 1-100 (PagerDuty's maximum is 100)", p.PageSize)
	}
	return nil
}

// ParseSince reads a date (2025-01-01, midnight UTC) or an RFC 3339 time.
func ParseSince(s string) (time.Time, error) {
	for _, layout := range []string{time.RFC3339, "2006-01-02T15:04", "2006-01-02"} {
		if t, err := time.Parse(layout, s); err == nil {
			return t.UTC(), nil
		}
	}
	return time.Time{}, fmt.Errorf("%q is not a date (2025-01-01) or an RFC 3339 time", s)
}
