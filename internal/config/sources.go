package config

import gitlabsrc "github.com/shiplog/shiplog/ingest/gitlab"

// Sources configures each ingest source. `shiplog ingest --all` runs every
// source that is configured here.
type Sources struct {
	GitHub *GitHub `yaml:"github"`
	Jira   *Jira   `yaml:"jira"`
	Git    []Git   `yaml:"git"`
	Files  []Files `yaml:"files"`
	// PagerDuty and CDEvents bring incidents and deployment events.
	PagerDuty *PagerDuty `yaml:"pagerduty"`
	CDEvents  *CDEvents  `yaml:"cdevents"`

	// GitLab is defined by its source (ingest/gitlab/config.go).
	GitLab *gitlabsrc.Config `yaml:"gitlab"`
}

// GitHub configures the GitHub source (see ingest/github).
type GitHub struct {
	APIURL   string `yaml:"api_url"`
	TokenEnv string `yaml:"token_env"`
	// Repos lists owner/name repositories.
	Repos []string `yaml:"repos"`
	// Org, with Include/Exclude glob patterns, selects repositories of an
	// organisation instead of (or besides) Repos.
	Org     string   `yaml:"org"`
	Include []string `yaml:"include"`
	Exclude []string `yaml:"exclude"`
	// Services maps a repository to the services it hosts; by default a
	// repository is the service named after it.
	Services    map[string][]string `yaml:"services"`
	Deployments GitHubDeployments   `yaml:"deployments"`
	// ReleasesAsDeployments lists repositories that ship by publishing a
	// GitHub release.
	ReleasesAsDeployments []string `yaml:"releases_as_deployments"`
	// DeployWorkflows are workflow names whose runs are deployments.
	DeployWorkflows []string `yaml:"deploy_workflows"`
	// TokenFile, when set, is a file holding the token (read when TokenEnv's
	// variable is empty). The token is never accepted from a flag.
	TokenFile string `yaml:"token_file"`
	// RecheckWindow bounds how long after its creation an unfinished
	// deployment or workflow run is asked again for its outcome.
	RecheckWindow Duration `yaml:"recheck_window"`
	// NoWait stops a run cleanly (cursor saved, run marked partial) when the
	// rate limit is exhausted instead of waiting for its reset.
	NoWait bool `yaml:"no_wait"`
}

// GitHubDeployments says which deployments count and which are production.
type GitHubDeployments struct {
	ProductionEnvironments []string `yaml:"production_environments"`
	// Pattern, a regular expression, keeps only environments that match.
	Pattern string `yaml:"pattern"`
}

// Jira configures the Jira source (see ingest/jira).
type Jira struct {
	URL            string              `yaml:"url"`
	Flavor         string              `yaml:"flavor"` // cloud or datacenter
	User           string              `yaml:"user"`
	TokenEnv       string              `yaml:"token_env"`
	Incidents      *JiraIncidents      `yaml:"incidents"`
	ChangeRequests *JiraChangeRequests `yaml:"change_requests"`
	SupportTickets *JiraSupportTickets `yaml:"support_tickets"`
	Releases       *JiraReleases       `yaml:"releases"`
	// Overlap is how far before the last cursor an incremental sync starts
	// again, to catch issues updated while the previous run was reading.
	Overlap Duration `yaml:"overlap"`
	// PageSize is the number of issues asked for per search request
	// (default 100; Jira may return fewer).
	PageSize int `yaml:"page_size"`
}

// JiraIncidents selects and maps incident issues.
type JiraIncidents struct {
	JQL                     string   `yaml:"jql"`
	SeverityField           string   `yaml:"severity_field"`
	ServiceField            string   `yaml:"service_field"`
	FalsePositiveResolution []string `yaml:"false_positive_resolutions"`
	// SeverityValues maps values of SeverityField to sev1..sev4; values such
	// as "SEV-1", "S2" or "P3" are understood without it.
	SeverityValues map[string]string `yaml:"severity_values"`
	// PrioritySeverities maps priority names to sev1..sev4 when the severity
	// field is unset or empty (default: Highest/Blocker sev1, High/Critical
	// sev2, Medium sev3, Low/Lowest/Trivial sev4).
	PrioritySeverities map[string]string `yaml:"priority_severities"`
	// DeploymentField and CommitField are fields holding the id of the
	// deployment that caused the incident and the root-cause commit.
	DeploymentField string `yaml:"deployment_field"`
	CommitField     string `yaml:"commit_field"`
	// TextLinks, on by default, also looks for "deployment: ID" and
	// "commit: SHA" in the summary and description.
	TextLinks *bool `yaml:"text_links"`
}

// JiraChangeRequests selects and maps change requests.
type JiraChangeRequests struct {
	JQL               string   `yaml:"jql"`
	RiskField         string   `yaml:"risk_field"`
	PlannedStartField string   `yaml:"planned_start_field"`
	PlannedEndField   string   `yaml:"planned_end_field"`
	ApprovedStatuses  []string `yaml:"approved_statuses"`
	RejectedStatuses  []string `yaml:"rejected_statuses"`
	CancelledStatuses []string `yaml:"cancelled_statuses"`
	EmergencyValues   []string `yaml:"emergency_values"`
	StandardValues    []string `yaml:"standard_values"`
	ApproverFields    []string `yaml:"approver_fields"`
	ServicesField     string   `yaml:"services_field"`
	// ReviewedField is a date field holding when the post-implementation
	// review of an emergency change happened.
	ReviewedField string `yaml:"reviewed_field"`
	// ApprovalRole is the role given to approvals read from Jira (default cab).
	ApprovalRole string `yaml:"approval_role"`
}

// JiraSupportTickets selects support tickets.
type JiraSupportTickets struct {
	JQL          string `yaml:"jql"`
	ServiceField string `yaml:"service_field"`
}

// JiraReleases selects projects whose fix versions are release plans.
type JiraReleases struct {
	Projects []string `yaml:"projects"`
	// Services maps a project key to the service its versions release
	// (default: the project key in lower case).
	Services map[string]string `yaml:"services"`
}

// Git configures a local repository read by `shiplog ingest git`.
type Git struct {
	Repo       string `yaml:"repo"`
	Name       string `yaml:"name"` // repository name in the warehouse (owner/name)
	Service    string `yaml:"service"`
	TagPattern string `yaml:"tag_pattern"`
}

// Files lists canonical JSONL/CSV files loaded by `shiplog ingest --all`.
type Files struct {
	Paths []string `yaml:"paths"`
	Kind  string   `yaml:"kind"`
}

func defaultSources() Sources { return Sources{} }

func (s *Sources) validate() error {
	if s.GitHub != nil {
		if err := s.GitHub.Validate(); err != nil {
			return err
		}
	}
	if s.GitLab != nil {
		// The section's defaults (url, token_env, …) are part of it.
		s.GitLab.ApplyDefaults()
		if err := s.GitLab.Validate(); err != nil {
			return err
		}
	}
	if s.Jira != nil {
		if err := s.Jira.Validate(); err != nil {
			return err
		}
	}
	if s.PagerDuty != nil {
		if err := s.PagerDuty.Validate(); err != nil {
			return err
		}
	}
	if s.CDEvents != nil {
		if err := s.CDEvents.Validate(); err != nil {
			return err
		}
	}
	return nil
}
