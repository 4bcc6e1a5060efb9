package gitlab

import (
	"errors"
	"fmt"
	"net/url"
	"path"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// Defaults of the sources.gitlab section.
const (
	DefaultURL             = "https://gitlab.com"
	DefaultTokenEnv        = "GITLAB_TOKEN"
	DefaultWebhookTokenEnv = "GITLAB_WEBHOOK_TOKEN"
)

// Config is the sources.gitlab section of shiplog.yaml. It is read by the
// configuration loader as it is, so it carries the YAML names; NewConfig
// gives the defaults and Validate checks it before any request is made.
type Config struct {
	// URL is the GitLab instance (https://gitlab.com or a self-managed
	// address); the REST API is at URL/api/v4.
	URL string `yaml:"url"`
	// TokenEnv names the environment variable holding the token (a personal,
	// group or project access token with the read_api scope, or an OAuth
	// access token with TokenType oauth). The token never comes from a flag.
	TokenEnv string `yaml:"token_env"`
	// TokenFile, when set, is a file holding the token, read when TokenEnv's
	// variable is empty.
	TokenFile string `yaml:"token_file"`
	// TokenType is "private" (PRIVATE-TOKEN header, the default) or "oauth"
	// (Authorization: Bearer).
	TokenType string `yaml:"token_type"`
	// Projects lists full project paths (group/sub/name).
	Projects []string `yaml:"projects"`
	// Groups adds every project of these groups (full paths), with their
	// subgroups unless Subgroups is false, filtered by Include and Exclude.
	Groups    []string `yaml:"groups"`
	Subgroups *bool    `yaml:"subgroups"`
	// Include and Exclude are globs (path.Match) on the project's full path
	// when the pattern holds a "/", else on its last segment.
	Include []string `yaml:"include"`
	Exclude []string `yaml:"exclude"`
	// Services maps a project path to its service; by default a project is
	// the service named after its last path segment.
	Services map[string]string `yaml:"services"`
	// Since bounds the first sync of each project: a date (2024-01-01), a
	// time (RFC 3339) or an age (90d, 720h). Empty: everything.
	Since string `yaml:"since"`
	// Deployments says which GitLab environments are production.
	Deployments Deployments `yaml:"deployments"`
	// Pipelines, when present, reads pipelines and their jobs.
	Pipelines *Pipelines `yaml:"pipelines"`
	// Incidents, when present, reads incident issues.
	Incidents *Incidents `yaml:"incidents"`
	// BotUsers are user names whose notes and approvals are not reviews
	// (besides GitLab's project_N_bot and group_N_bot users).
	BotUsers []string `yaml:"bot_users"`
	// WebhookTokenEnv names the variable holding the secret token GitLab
	// sends in X-Gitlab-Token to `shiplog serve` (/webhooks/gitlab).
	WebhookTokenEnv string `yaml:"webhook_token_env"`
	// NoWait stops a run cleanly (cursors saved, run marked partial) when
	// the rate limit is spent instead of waiting for its reset.
	NoWait bool `yaml:"no_wait"`
}

// Deployments lists environment names that are production besides
// metrics.production_environments; an environment whose tier is production
// is production too.
type Deployments struct {
	ProductionEnvironments []string `yaml:"production_environments"`
}

// Pipelines configures what pipelines and jobs give.
type Pipelines struct {
	// DeployJobs are job names whose finished runs are production
	// deployments of projects that have no deployment records (projects
	// without environments: in .gitlab-ci.yml).
	DeployJobs []string `yaml:"deploy_jobs"`
	// TestReports reads each finished pipeline's test report summary into
	// test_runs (one request per pipeline).
	TestReports bool `yaml:"test_reports"`
}

// Incidents configures which issues are incidents and their severity.
type Incidents struct {
	// IssueType reads issues of type incident (default true).
	IssueType *bool `yaml:"issue_type"`
	// Label also reads issues carrying this label as incidents.
	Label string `yaml:"label"`
	// Projects limits the projects incidents are read from (default: all).
	Projects []string `yaml:"projects"`
	// Severities maps GitLab's severity field (critical, high, medium, low)
	// to sev1..sev4; "unknown" falls through to the labels.
	Severities map[string]string `yaml:"severities"`
	// SeverityLabels maps labels to sev1..sev4; labels such as severity::1,
	// S2 or sev3 are understood without it.
	SeverityLabels map[string]string `yaml:"severity_labels"`
	// DefaultSeverity is used when neither the field nor a label says
	// (default sev3).
	DefaultSeverity string `yaml:"default_severity"`
	// ServiceLabelPrefix: a label "<prefix><service>" names the incident's
	// service (default "service::"); without one, the project's service.
	ServiceLabelPrefix *string `yaml:"service_label_prefix"`
}

// DefaultSeverities maps GitLab's incident severity field to shiplog's.
var DefaultSeverities = map[string]string{"critical": "sev1", "high": "sev2", "medium": "sev3", "low": "sev4"}

// NewConfig returns a Config with every default filled in.
func NewConfig() *Config {
	c := &Config{}
	c.ApplyDefaults()
	return c
}

// ApplyDefaults fills the fields left empty.
func (c *Config) ApplyDefaults() {
	if c.URL == "" {
		c.URL = DefaultURL
	}
	if c.TokenEnv == "" {
		c.TokenEnv = DefaultTokenEnv
	}
	if c.TokenType == "" {
		c.TokenType = "private"
	}
	if c.WebhookTokenEnv == "" {
		c.WebhookTokenEnv = DefaultWebhookTokenEnv
	}
	if c.Subgroups == nil {
		t := true
		c.Subgroups = &t
	}
	if in := c.Incidents; in != nil {
		if in.IssueType == nil {
			t := true
			in.IssueType = &t
		}
		if in.DefaultSeverity == "" {
			in.DefaultSeverity = "sev3"
		}
		if in.ServiceLabelPrefix == nil {
			p := "service::"
			in.ServiceLabelPrefix = &p
		}
	}
}

var (
	envName     = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)
	projectPath = regexp.MustCompile(`^[A-Za-z0-9_.][A-Za-z0-9_.-]*(/[A-Za-z0-9_.][A-Za-z0-9_.-]*)+$`)
	groupPath   = regexp.MustCompile(`^[A-Za-z0-9_.][A-Za-z0-9_.-]*(/[A-Za-z0-9_.][A-Za-z0-9_.-]*)*$`)
	severities  = map[string]bool{"sev1": true, "sev2": true, "sev3": true, "sev4": true}
)

// Validate checks the section before any request is made. Every error
// starts with "gitlab: " and names the field at fault.
func (c *Config) Validate() error {
	u, err := url.Parse(c.URL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return fmt.Errorf("gitlab: url: %q is not an http(s) address (for example https://gitlab.com or https://gitlab.example.com)", c.URL)
	}
	if u.User != nil {
		return errors.New("gitlab: url: must not carry credentials; put the token in the variable named by token_env")
	}
	if u.RawQuery != "" || u.Fragment != "" {
		return fmt.Errorf("gitlab: url: %q must not have a query or fragment", c.URL)
	}
	if strings.Contains(u.Path, "/api/") {
		return fmt.Errorf("gitlab: url: %q: give the instance's address, not its API (/api/v4 is added)", c.URL)
	}
	if !envName.MatchString(c.TokenEnv) {
		return fmt.Errorf("gitlab: token_env: %q must be the name of an environment variable, not its value", c.TokenEnv)
	}
	if !envName.MatchString(c.WebhookTokenEnv) {
		return fmt.Errorf("gitlab: webhook_token_env: %q must be the name of an environment variable", c.WebhookTokenEnv)
	}
	switch c.TokenType {
	case "private", "oauth":
	default:
		return fmt.Errorf("gitlab: token_type: %q: use private (PRIVATE-TOKEN) or oauth (Authorization: Bearer)", c.TokenType)
	}
	if len(c.Projects) == 0 && len(c.Groups) == 0 {
		return errors.New("gitlab: projects: name at least one project (group/name) or a group")
	}
	for i, p := range c.Projects {
		if !projectPath.MatchString(p) {
			return fmt.Errorf("gitlab: projects[%d]: %q is not a project's full path (group/name or group/sub/name)", i, p)
		}
	}
	for i, g := range c.Groups {
		if !groupPath.MatchString(g) {
			return fmt.Errorf("gitlab: groups[%d]: %q is not a group's full path (group or group/sub)", i, g)
		}
	}
	if len(c.Groups) == 0 && (len(c.Include) > 0 || len(c.Exclude) > 0) {
		return errors.New("gitlab: include/exclude: only apply to the projects of groups; set groups")
	}
	for _, p := range append(append([]string{}, c.Include...), c.Exclude...) {
		if _, err := path.Match(p, ""); err != nil || p == "" {
			return fmt.Errorf("gitlab: include/exclude: bad pattern %q", p)
		}
	}
	for p, svc := range c.Services {
		if !projectPath.MatchString(p) {
			return fmt.Errorf("gitlab: services: %q is not a project's full path", p)
		}
		if strings.TrimSpace(svc) == "" {
			return fmt.Errorf("gitlab: services: %s: empty service name", p)
		}
	}
	if _, err := c.SinceTime(time.Now()); err != nil {
		return err
	}
	for i, e := range c.Deployments.ProductionEnvironments {
		if strings.TrimSpace(e) == "" {
			return fmt.Errorf("gitlab: deployments.production_environments[%d]: empty name", i)
		}
	}
	if pl := c.Pipelines; pl != nil {
		for i, j := range pl.DeployJobs {
			if strings.TrimSpace(j) == "" {
				return fmt.Errorf("gitlab: pipelines.deploy_jobs[%d]: empty job name", i)
			}
		}
	}
	if in := c.Incidents; in != nil {
		if in.IssueType != nil && !*in.IssueType && in.Label == "" {
			return errors.New("gitlab: incidents: issue_type is false and no label is set: nothing would be read")
		}
		for k, v := range in.Severities {
			if !severities[v] {
				return fmt.Errorf("gitlab: incidents.severities[%q] = %q: use sev1, sev2, sev3 or sev4", k, v)
			}
		}
		for k, v := range in.SeverityLabels {
			if !severities[v] {
				return fmt.Errorf("gitlab: incidents.severity_labels[%q] = %q: use sev1, sev2, sev3 or sev4", k, v)
			}
		}
		if in.DefaultSeverity != "" && !severities[in.DefaultSeverity] {
			return fmt.Errorf("gitlab: incidents.default_severity: %q: use sev1, sev2, sev3 or sev4", in.DefaultSeverity)
		}
		for i, p := range in.Projects {
			if !projectPath.MatchString(p) {
				return fmt.Errorf("gitlab: incidents.projects[%d]: %q is not a project's full path", i, p)
			}
		}
	}
	for i, b := range c.BotUsers {
		if strings.TrimSpace(b) == "" {
			return fmt.Errorf("gitlab: bot_users[%d]: empty user name", i)
		}
	}
	return nil
}

// SinceTime returns the lower bound of a first sync (zero when Since is
// empty). An age ("90d") is counted back from now.
func (c *Config) SinceTime(now time.Time) (time.Time, error) {
	s := strings.TrimSpace(c.Since)
	if s == "" {
		return time.Time{}, nil
	}
	if t, err := time.Parse("2006-01-02", s); err == nil {
		return t, nil
	}
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t.UTC(), nil
	}
	if d, ok := strings.CutSuffix(s, "d"); ok {
		if n, err := strconv.Atoi(d); err == nil && n > 0 {
			return now.Add(-time.Duration(n) * 24 * time.Hour).UTC(), nil
		}
	}
	if d, err := time.ParseDuration(s); err == nil && d > 0 {
		return now.Add(-d).UTC(), nil
	}
	return time.Time{}, fmt.Errorf("gitlab: since: %q is not a date (2024-01-01), a time (RFC 3339) or an age (90d, 720h)", c.Since)
}

// selected reports whether a project found in a group passes Include and
// Exclude.
func (c *Config) selected(project string) bool {
	match := func(p string) bool {
		subject := project[strings.LastIndex(project, "/")+1:]
		if strings.Contains(p, "/") {
			subject = project
		}
		ok, _ := path.Match(p, subject)
		return ok
	}
	ok := len(c.Include) == 0
	for _, p := range c.Include {
		if match(p) {
			ok = true
		}
	}
	for _, p := range c.Exclude {
		if match(p) {
			ok = false
		}
	}
	return ok
}
