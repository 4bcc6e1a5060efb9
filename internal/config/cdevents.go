package config

import (
	"errors"
	"fmt"
	"path/filepath"
	"strings"
)

// CDEvents configures how CDEvents (received by `shiplog serve` on
// /api/v1/cdevents or read by `shiplog ingest cdevents FILE`) map to
// canonical rows (see docs/cdevents.md). Without this section the defaults
// apply.
type CDEvents struct {
	// Paths are JSON Lines files of CDEvents that `shiplog ingest --all`
	// loads (globs allowed).
	Paths []string `yaml:"paths"`
	// Services maps a CDEvents service, subject or repository id
	// (service/checkout) to a shiplog service. Unlisted ids become their
	// last path element in lower case.
	Services map[string]string `yaml:"services"`
	// Environments maps an environment id (prod-eu-1) to the environment
	// name deployments get. Unlisted ids are kept as they are.
	Environments map[string]string `yaml:"environments"`
	// Pipelines makes the finished runs of the named pipelines deployments
	// of a service to an environment, for pipelines that send no service
	// event.
	Pipelines map[string]CDEventsPipeline `yaml:"pipelines"`
	// DefaultSeverity is the severity of an incident whose customData
	// gives none (default sev3).
	DefaultSeverity string `yaml:"default_severity"`
}

// CDEventsPipeline says what a pipeline deploys.
type CDEventsPipeline struct {
	Service     string `yaml:"service"`
	Environment string `yaml:"environment"`
}

// NewCDEvents returns a CDEvents section with the defaults filled in.
func NewCDEvents() *CDEvents {
	c := &CDEvents{}
	c.ApplyDefaults()
	return c
}

// ApplyDefaults fills the fields left empty in shiplog.yaml.
func (c *CDEvents) ApplyDefaults() {
	if c.DefaultSeverity == "" {
		c.DefaultSeverity = "sev3"
	}
}

// Validate checks the section; errors start with "cdevents: " and name the
// field.
func (c *CDEvents) Validate() error {
	for _, p := range c.Paths {
		if strings.TrimSpace(p) == "" {
			return errors.New("cdevents: paths: empty path")
		}
		if _, err := filepath.Match(p, ""); err != nil {
			return fmt.Errorf("cdevents: paths: bad pattern %q: %w", p, err)
		}
	}
	for field, m := range map[string]map[string]string{"services": c.Services, "environments": c.Environments} {
		for k, v := range m {
			if strings.TrimSpace(k) == "" || strings.TrimSpace(v) == "" {
				return fmt.Errorf("cdevents: %s: %q: %q: both sides must be named", field, k, v)
			}
		}
	}
	for name, p := range c.Pipelines {
		if strings.TrimSpace(name) == "" {
			return errors.New("cdevents: pipelines: empty pipeline name")
		}
		if strings.TrimSpace(p.Service) == "" || strings.TrimSpace(p.Environment) == "" {
			return fmt.Errorf("cdevents: pipelines: %s: service and environment are both required", name)
		}
	}
	switch c.DefaultSeverity {
	case "", "sev1", "sev2", "sev3", "sev4":
	default:
		return fmt.Errorf("cdevents: default_severity: %q is not one of sev1, sev2, sev3, sev4", c.DefaultSeverity)
	}
	return nil
}
