// Package config reads shiplog.yaml: metric definitions, sources, controls,
// gates, calendars and the service. Every section has defaults (Default), and
// Validate checks the whole file before any work starts, naming the field at
// fault.
package config

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"
)

// DefaultPath is the configuration file used when neither --config nor
// SHIPLOG_CONFIG names one. It is optional: without it, defaults apply.
const DefaultPath = "shiplog.yaml"

// Config is the whole of shiplog.yaml.
type Config struct {
	// Metrics holds the knobs of the metric definitions.
	Metrics Metrics `yaml:"metrics"`
	// Sources configures each ingest source.
	Sources Sources `yaml:"sources"`
	// Controls configures the governance controls run by `shiplog audit`.
	Controls Controls `yaml:"controls"`
	// Gate is the release gate policy evaluated by `shiplog gate`.
	Gate Gate `yaml:"gate"`
	// Calendar configures release windows and freezes.
	Calendar Calendar `yaml:"calendar"`
	// Serve configures `shiplog serve`.
	Serve Serve `yaml:"serve"`
	// Reports configures `shiplog report`.
	Reports Reports `yaml:"reports"`
	// Schedules maps a job (a source name, "transform", "reports") to a cron
	// expression for `shiplog serve`.
	Schedules map[string]string `yaml:"schedules"`

	// Path is the file the configuration was read from ("" for defaults).
	Path string `yaml:"-"`
}

// Metrics are the configurable parts of the metric definitions in DESIGN.md.
type Metrics struct {
	// ProductionEnvironments are the environment names that count as production.
	ProductionEnvironments []string `yaml:"production_environments"`
	// AttributionWindow is how long after a deployment an incident of the
	// same service is blamed on it.
	AttributionWindow Duration `yaml:"attribution_window"`
	// FailureSeverities are the incident severities that make a deployment
	// failed by time attribution.
	FailureSeverities []string `yaml:"failure_severities"`
	// HotfixPatterns are regular expressions; a production deployment whose
	// version, branch or title matches one is unplanned (rework).
	HotfixPatterns []string `yaml:"hotfix_patterns"`
	// FailureFromReverts marks a production deployment failed (reason
	// revert) when a later one of its service, within AttributionWindow,
	// ships a revert of one of its changes. Teams that revert as routine
	// clean-up rather than as repair turn it off.
	FailureFromReverts bool `yaml:"failure_from_reverts"`
	// FailureFromVersionRollbacks marks a production deployment failed
	// (reason version_rollback) when the next one of its service and
	// environment runs an older version: a rollback nobody flagged.
	FailureFromVersionRollbacks bool `yaml:"failure_from_version_rollbacks"`
	// ExcludeAuthors are globs (`*` any run of characters, `?` one; every
	// other character literal, so `*[bot]` means names ending in "[bot]"),
	// compared case-insensitively with a change's trimmed author: such
	// changes (bots, dependency updaters) leave lead time (reason bot).
	ExcludeAuthors []string `yaml:"exclude_authors"`
	// ExcludeTitlePatterns are regular expressions: a change whose title
	// matches one leaves lead time (reason pattern).
	ExcludeTitlePatterns []string `yaml:"exclude_title_patterns"`
	// Benchmarks names the tier set: dora-2023 (default), dora-2021, or one
	// defined under BenchmarkSets.
	Benchmarks string `yaml:"benchmarks"`
	// BenchmarkSets defines custom tier sets by name.
	BenchmarkSets map[string]BenchmarkSet `yaml:"benchmark_sets"`
	// AdoptionTarget is the share of eligible users a feature should reach.
	AdoptionTarget float64 `yaml:"adoption_target"`
	// SupportWindowDays is how many days after a release its tickets count.
	SupportWindowDays int `yaml:"support_window_days"`
	// SupportBaselineDays is how many days before a release form the baseline.
	SupportBaselineDays int `yaml:"support_baseline_days"`
	// LeadTimeFrom is the granularity of lead time: pull_requests (the
	// change records sources send), commits (each commit a production
	// deployment first ships, from the commit graph) or auto (commits for
	// a service no change record names, else pull requests). auto lets a
	// repository read from git alone have a lead time without mixing the
	// two granularities in one service.
	LeadTimeFrom string `yaml:"lead_time_from"`
}

// LeadTimeFrom values.
const (
	LeadTimeFromAuto         = "auto"
	LeadTimeFromPullRequests = "pull_requests"
	LeadTimeFromCommits      = "commits"
)

// BenchmarkSet gives the upper bounds of each tier per metric. Bounds are
// inclusive "at most" values, listed elite, high, medium; anything beyond the
// last bound is low. A metric without bounds gets no tier.
type BenchmarkSet struct {
	LeadTime          []Duration `yaml:"lead_time"`
	RecoveryTime      []Duration `yaml:"recovery_time"`
	ChangeFailureRate []float64  `yaml:"change_failure_rate"`
	ReworkRate        []float64  `yaml:"rework_rate"`
	// DeploymentDaysPerWeek are lower bounds ("at least"), elite, high, medium.
	DeploymentDaysPerWeek []float64 `yaml:"deployment_days_per_week"`
}

// Default returns the configuration used when no file is given.
func Default() *Config {
	return &Config{
		Metrics: Metrics{
			ProductionEnvironments:      []string{"production", "prod"},
			AttributionWindow:           Duration(24 * time.Hour),
			FailureSeverities:           []string{"sev1", "sev2"},
			HotfixPatterns:              []string{`(?i)hotfix`},
			FailureFromReverts:          true,
			FailureFromVersionRollbacks: true,
			Benchmarks:                  "dora-2023",
			AdoptionTarget:              0.5,
			SupportWindowDays:           7,
			SupportBaselineDays:         28,
			LeadTimeFrom:                LeadTimeFromAuto,
		},
		Sources:  defaultSources(),
		Controls: defaultControls(),
		Gate:     defaultGate(),
		Calendar: defaultCalendar(),
		Serve:    defaultServe(),
		Reports:  defaultReports(),
	}
}

// Load reads the file at path over the defaults. An empty path means
// DefaultPath if it exists, else defaults only. A path given explicitly must
// exist.
func Load(path string) (*Config, error) {
	cfg := Default()
	explicit := path != ""
	if !explicit {
		path = DefaultPath
	}
	data, err := os.ReadFile(path)
	if err != nil {
		if !explicit && errors.Is(err, os.ErrNotExist) {
			return cfg, cfg.Validate()
		}
		return nil, fmt.Errorf("read config: %w", err)
	}
	if err := Parse(data, cfg); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	cfg.Path = path
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return cfg, nil
}

// Parse decodes YAML into cfg, refusing unknown fields so that a typo is an
// error rather than a silently ignored setting.
func Parse(data []byte, cfg *Config) error {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(cfg); err != nil {
		if errors.Is(err, errEOF) {
			return nil
		}
		return err
	}
	return nil
}

// Validate checks every section and returns the first problem, naming the
// field.
func (c *Config) Validate() error {
	m := c.Metrics
	if len(m.ProductionEnvironments) == 0 {
		return errors.New("metrics.production_environments: at least one environment is needed")
	}
	if m.AttributionWindow <= 0 {
		return errors.New("metrics.attribution_window: must be positive (for example 24h)")
	}
	for _, s := range m.FailureSeverities {
		switch s {
		case "sev1", "sev2", "sev3", "sev4":
		default:
			return fmt.Errorf("metrics.failure_severities: %q is not one of sev1, sev2, sev3, sev4", s)
		}
	}
	for _, p := range m.HotfixPatterns {
		if err := checkRegexp(p); err != nil {
			return fmt.Errorf("metrics.hotfix_patterns: %q: %w", p, err)
		}
	}
	for _, g := range m.ExcludeAuthors {
		if strings.TrimSpace(g) == "" {
			return errors.New("metrics.exclude_authors: an empty pattern would match nobody; remove it")
		}
	}
	for _, p := range m.ExcludeTitlePatterns {
		if err := checkRegexp(p); err != nil {
			return fmt.Errorf("metrics.exclude_title_patterns: %q: %w", p, err)
		}
	}
	if _, err := c.BenchmarkSet(); err != nil {
		return err
	}
	if m.AdoptionTarget <= 0 || m.AdoptionTarget > 1 {
		return errors.New("metrics.adoption_target: must be a share between 0 and 1 (for example 0.5)")
	}
	if m.SupportWindowDays < 1 {
		return errors.New("metrics.support_window_days: must be at least 1")
	}
	if m.SupportBaselineDays < 1 {
		return errors.New("metrics.support_baseline_days: must be at least 1")
	}
	switch m.LeadTimeFrom {
	case LeadTimeFromAuto, LeadTimeFromPullRequests, LeadTimeFromCommits:
	default:
		return fmt.Errorf("metrics.lead_time_from: %q is not one of auto, pull_requests, commits", m.LeadTimeFrom)
	}
	for _, v := range []func() error{c.Sources.validate, c.Controls.validate, c.Gate.validate, c.Calendar.validate, c.Serve.validate, c.Reports.validate} {
		if err := v(); err != nil {
			return err
		}
	}
	return nil
}

// BenchmarkSet returns the configured tier set.
func (c *Config) BenchmarkSet() (BenchmarkSet, error) {
	name := c.Metrics.Benchmarks
	if set, ok := c.Metrics.BenchmarkSets[name]; ok {
		return set, nil
	}
	if set, ok := BuiltinBenchmarks[name]; ok {
		return set, nil
	}
	return BenchmarkSet{}, fmt.Errorf("metrics.benchmarks: unknown set %q (built in: dora-2023, dora-2021; or define it under metrics.benchmark_sets)", name)
}

// BuiltinBenchmarks are the tier sets shipped with shiplog.
var BuiltinBenchmarks = map[string]BenchmarkSet{
	// State of DevOps 2023: lead time <1 day / <1 week / <1 month; change
	// failure <=5% / <=10% / <=15%; recovery <1 hour / <1 day / <1 week;
	// deployment on >=5 days of the median week / weekly / monthly.
	"dora-2023": {
		LeadTime:              []Duration{Duration(24 * time.Hour), Duration(7 * 24 * time.Hour), Duration(30 * 24 * time.Hour)},
		RecoveryTime:          []Duration{Duration(time.Hour), Duration(24 * time.Hour), Duration(7 * 24 * time.Hour)},
		ChangeFailureRate:     []float64{0.05, 0.10, 0.15},
		DeploymentDaysPerWeek: []float64{5, 1, 0.25},
	},
	// State of DevOps 2021: lead time <1 hour / <1 week / <6 months; change
	// failure 0-15% for elite, high and medium alike, 16-30% low; recovery
	// <1 hour / <1 day / <1 week (2021 says "between one day and one week").
	"dora-2021": {
		LeadTime:              []Duration{Duration(time.Hour), Duration(7 * 24 * time.Hour), Duration(183 * 24 * time.Hour)},
		RecoveryTime:          []Duration{Duration(time.Hour), Duration(24 * time.Hour), Duration(7 * 24 * time.Hour)},
		ChangeFailureRate:     []float64{0.15, 0.15, 0.15},
		DeploymentDaysPerWeek: []float64{5, 1, 0.25},
	},
}

// Key is how shiplog compares a name of an environment, service, team or
// person: trimmed and lower-cased, so `Production`, `production ` and
// `production` are one environment. The models' staging layer keys the
// data the same way (lower(trim(x))); Go code keys what a user typed or
// configured with Key before comparing it with the marts.
func Key(name string) string {
	return strings.ToLower(strings.TrimSpace(name))
}

// Keys applies Key to every name; never nil.
func Keys(names []string) []string {
	out := make([]string, 0, len(names))
	for _, n := range names {
		out = append(out, Key(n))
	}
	return out
}
