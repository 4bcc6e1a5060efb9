package config

import (
	"errors"
	"fmt"
	"net/url"
	"path"
	"strings"
	"time"
)

// GitHub defaults.
const (
	DefaultGitHubAPIURL   = "https://api.github.com/"
	DefaultGitHubTokenEnv = "GITHUB_TOKEN"
)

// NewGitHub returns a GitHub section with every default filled in.
func NewGitHub() *GitHub {
	g := &GitHub{}
	g.ApplyDefaults()
	return g
}

// ApplyDefaults fills the fields left empty in shiplog.yaml: the public API,
// the GITHUB_TOKEN variable, production and prod as production environment
// names and a 14-day recheck window for unfinished deployments.
func (g *GitHub) ApplyDefaults() {
	if g.APIURL == "" {
		g.APIURL = DefaultGitHubAPIURL
	}
	if g.TokenEnv == "" {
		g.TokenEnv = DefaultGitHubTokenEnv
	}
	if g.RecheckWindow == 0 {
		g.RecheckWindow = Duration(14 * 24 * time.Hour)
	}
}

// Validate checks the section before any request is made. Errors start with
// "github: " and name the field.
func (g *GitHub) Validate() error {
	if g.APIURL != "" {
		u, err := url.Parse(g.APIURL)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return fmt.Errorf("github: api_url: %q is not an http(s) address (for example https://api.github.com/ or https://github.example.com/api/v3/)", g.APIURL)
		}
		if u.User != nil {
			return errors.New("github: api_url: must not carry credentials; put the token in the variable named by token_env")
		}
	}
	if len(g.Repos) == 0 && g.Org == "" {
		return errors.New("github: repos: name at least one owner/name repository, or an org")
	}
	for _, r := range g.Repos {
		if err := checkRepoName(r); err != nil {
			return fmt.Errorf("github: repos: %w", err)
		}
	}
	if g.Org != "" && strings.ContainsAny(g.Org, "/ ") {
		return fmt.Errorf("github: org: %q is not an organisation name", g.Org)
	}
	if g.Org == "" && (len(g.Include) > 0 || len(g.Exclude) > 0) {
		return errors.New("github: include/exclude: only apply to the repositories of an org; set org")
	}
	for _, p := range append(append([]string{}, g.Include...), g.Exclude...) {
		if _, err := path.Match(p, ""); err != nil {
			return fmt.Errorf("github: include/exclude: bad pattern %q: %w", p, err)
		}
	}
	if g.TokenEnv != "" && strings.ContainsAny(g.TokenEnv, "= $") {
		return fmt.Errorf("github: token_env: %q must be the name of an environment variable, not its value", g.TokenEnv)
	}
	for repo, svcs := range g.Services {
		if err := checkRepoName(repo); err != nil {
			return fmt.Errorf("github: services: %w", err)
		}
		if len(svcs) == 0 {
			return fmt.Errorf("github: services: %s: list at least one service", repo)
		}
		seen := map[string]bool{}
		for _, s := range svcs {
			if s == "" || seen[s] {
				return fmt.Errorf("github: services: %s: empty or repeated service %q", repo, s)
			}
			seen[s] = true
		}
	}
	for _, r := range g.ReleasesAsDeployments {
		if r == "*" {
			continue
		}
		if err := checkRepoName(r); err != nil {
			return fmt.Errorf("github: releases_as_deployments: %w (or \"*\" for every repository)", err)
		}
	}
	if g.Deployments.Pattern != "" {
		if err := checkRegexp(g.Deployments.Pattern); err != nil {
			return fmt.Errorf("github: deployments.pattern: %q: %w", g.Deployments.Pattern, err)
		}
	}
	for _, w := range g.DeployWorkflows {
		if strings.TrimSpace(w) == "" {
			return errors.New("github: deploy_workflows: empty workflow name")
		}
	}
	if g.RecheckWindow < 0 || g.RecheckWindow.D() > 90*24*time.Hour {
		// GitHub deletes deployment statuses after 90 days; asking later
		// would replace stored statuses with an empty list.
		return errors.New("github: recheck_window: must be between 0 and 90d (GitHub keeps deployment statuses 90 days)")
	}
	return nil
}

func checkRepoName(r string) error {
	owner, name, ok := strings.Cut(r, "/")
	if !ok || owner == "" || name == "" || strings.ContainsAny(name, "/ ") || strings.ContainsAny(owner, " ") {
		return fmt.Errorf("%q is not an owner/name repository", r)
	}
	return nil
}
