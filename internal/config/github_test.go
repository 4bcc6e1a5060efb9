package config

import (
	"strings"
	"testing"
	"time"
)

func TestGitHubSection(t *testing.T) {
	yaml := `
sources:
  github:
    api_url: https://github.example.com/api/v3/
    token_env: GHE_TOKEN
    repos: [acme/payments, acme/web]
    services: {acme/web: [web, web-admin]}
    deployments: {production_environments: [production, prod], pattern: "^(prod|production)$"}
    releases_as_deployments: ["*"]
    deploy_workflows: [Deploy, release.yml]
    recheck_window: 7d
    no_wait: true
`
	cfg := Default()
	if err := Parse([]byte(yaml), cfg); err != nil {
		t.Fatal(err)
	}
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	g := cfg.Sources.GitHub
	if g.RecheckWindow.D() != 7*24*time.Hour || !g.NoWait || g.TokenEnv != "GHE_TOKEN" || len(g.Services["acme/web"]) != 2 {
		t.Errorf("parsed %+v", g)
	}

	d := NewGitHub()
	if d.APIURL != "https://api.github.com/" || d.TokenEnv != "GITHUB_TOKEN" || d.RecheckWindow.D() != 14*24*time.Hour {
		t.Errorf("defaults %+v", d)
	}

	bad := []struct{ yaml, want string }{
		{"sources:\n  github:\n    repos: [acme/x]\n    tokn_env: X\n", "field tokn_env not found"},
		{"sources:\n  github:\n    repos: []\n", "github: repos:"},
		{"sources:\n  github:\n    repos: [acme/x]\n    services: {acme/x: []}\n", "github: services: acme/x"},
		{"sources:\n  github:\n    repos: [acme/x]\n    releases_as_deployments: [x]\n", "github: releases_as_deployments:"},
		{"sources:\n  github:\n    repos: [acme/x]\n    recheck_window: 120d\n", "github: recheck_window:"},
	}
	for _, b := range bad {
		cfg := Default()
		err := Parse([]byte(b.yaml), cfg)
		if err == nil {
			err = cfg.Validate()
		}
		if err == nil || !strings.Contains(err.Error(), b.want) {
			t.Errorf("%q: err = %v, want %q", b.yaml, err, b.want)
		}
	}
}
