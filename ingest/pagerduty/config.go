package pagerduty

import "github.com/shiplog/shiplog/internal/config"

// Config is the sources.pagerduty section of shiplog.yaml. It lives in
// internal/config so that the whole file is checked when it is loaded;
// Validate's errors start with "pagerduty: " and name the field.
type Config = config.PagerDuty

// NewConfig returns a configuration with every default set: the public
// API, the PAGERDUTY_TOKEN and PAGERDUTY_WEBHOOK_SECRET variables, pages of
// 100 incidents and a 10-minute overlap.
func NewConfig() *Config { return config.NewPagerDuty() }
