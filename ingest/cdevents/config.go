package cdevents

import "github.com/shiplog/shiplog/internal/config"

// Config is the sources.cdevents section of shiplog.yaml (service and
// environment names, pipelines that deploy, the default severity). It
// lives in internal/config so that the whole file is checked when it is
// loaded; Validate's errors start with "cdevents: " and name the field.
type Config = config.CDEvents

// NewConfig returns a configuration with the defaults set (incidents
// without a severity are sev3).
func NewConfig() *Config { return config.NewCDEvents() }
