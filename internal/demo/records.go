package demo

import "time"

// The record types below mirror the canonical kinds (internal/canonical) field
// for field and in the same order, so that every emitted line reads like the
// table it lands in. Optional fields are omitted when empty; times are UTC
// with whole seconds.

type teamRec struct {
	Kind       string `json:"kind"`
	ID         string `json:"id"`
	Name       string `json:"name,omitempty"`
	Department string `json:"department,omitempty"`
}

type serviceRec struct {
	Kind              string   `json:"kind"`
	ID                string   `json:"id"`
	Name              string   `json:"name,omitempty"`
	Team              string   `json:"team"`
	Tier              int      `json:"tier,omitempty"`
	Repo              string   `json:"repo,omitempty"`
	Paths             []string `json:"paths,omitempty"`
	DependsOn         []string `json:"depends_on,omitempty"`
	ReleaseManagers   []string `json:"release_managers,omitempty"`
	RollbackAuthority []string `json:"rollback_authority,omitempty"`
	AllowedDeployers  []string `json:"allowed_deployers,omitempty"`
}

type deploymentRec struct {
	Kind              string    `json:"kind"`
	ID                string    `json:"id"`
	Service           string    `json:"service"`
	Environment       string    `json:"environment"`
	FinishedAt        time.Time `json:"finished_at"`
	StartedAt         time.Time `json:"started_at,omitzero"`
	Status            string    `json:"status"`
	Version           string    `json:"version,omitempty"`
	CommitSHA         string    `json:"commit_sha,omitempty"`
	PreviousCommitSHA string    `json:"previous_commit_sha,omitempty"`
	Changes           []string  `json:"changes,omitempty"`
	TriggeredBy       string    `json:"triggered_by,omitempty"`
	IsRollback        bool      `json:"is_rollback,omitempty"`
	RollbackOf        string    `json:"rollback_of,omitempty"`
	IsHotfix          bool      `json:"is_hotfix,omitempty"`
	HotfixOf          string    `json:"hotfix_of,omitempty"`
	ChangeRequest     string    `json:"change_request,omitempty"`
	URL               string    `json:"url,omitempty"`
}

type changeRec struct {
	Kind           string    `json:"kind"`
	ID             string    `json:"id"`
	Service        string    `json:"service"`
	Repo           string    `json:"repo,omitempty"`
	Title          string    `json:"title,omitempty"`
	Author         string    `json:"author,omitempty"`
	CommitSHAs     []string  `json:"commit_shas,omitempty"`
	MergeCommitSHA string    `json:"merge_commit_sha,omitempty"`
	FirstCommitAt  time.Time `json:"first_commit_at"`
	OpenedAt       time.Time `json:"opened_at,omitzero"`
	FirstReviewAt  time.Time `json:"first_review_at,omitzero"`
	ApprovedAt     time.Time `json:"approved_at,omitzero"`
	MergedAt       time.Time `json:"merged_at,omitzero"`
	Reviewers      []string  `json:"reviewers,omitempty"`
	Approvals      int       `json:"approvals"`
	IsRevert       bool      `json:"is_revert,omitempty"`
	Labels         []string  `json:"labels,omitempty"`
}

type commitRec struct {
	Kind        string    `json:"kind"`
	SHA         string    `json:"sha"`
	Repo        string    `json:"repo"`
	Parents     []string  `json:"parents,omitempty"`
	AuthoredAt  time.Time `json:"authored_at"`
	CommittedAt time.Time `json:"committed_at,omitzero"`
	Author      string    `json:"author,omitempty"`
}

type incidentRec struct {
	Kind               string    `json:"kind"`
	ID                 string    `json:"id"`
	Service            string    `json:"service"`
	Severity           string    `json:"severity"`
	Title              string    `json:"title,omitempty"`
	OpenedAt           time.Time `json:"opened_at"`
	AcknowledgedAt     time.Time `json:"acknowledged_at,omitzero"`
	ResolvedAt         time.Time `json:"resolved_at,omitzero"`
	CausedByDeployment string    `json:"caused_by_deployment,omitempty"`
	RootCauseSHA       string    `json:"root_cause_sha,omitempty"`
	IsFalsePositive    bool      `json:"is_false_positive,omitempty"`
	PostmortemURL      string    `json:"postmortem_url,omitempty"`
	CustomerImpact     string    `json:"customer_impact,omitempty"`
}

type changeRequestRec struct {
	Kind            string    `json:"kind"`
	ID              string    `json:"id"`
	Services        []string  `json:"services"`
	Title           string    `json:"title,omitempty"`
	Risk            string    `json:"risk"`
	RequestedBy     string    `json:"requested_by"`
	CreatedAt       time.Time `json:"created_at"`
	PlannedStart    time.Time `json:"planned_start,omitzero"`
	PlannedEnd      time.Time `json:"planned_end,omitzero"`
	Status          string    `json:"status"`
	ImplementedAt   time.Time `json:"implemented_at,omitzero"`
	ReviewedAfterAt time.Time `json:"reviewed_after_at,omitzero"`
}

type approvalRec struct {
	Kind          string    `json:"kind"`
	ChangeRequest string    `json:"change_request"`
	Approver      string    `json:"approver"`
	Role          string    `json:"role,omitempty"`
	Decision      string    `json:"decision"`
	DecidedAt     time.Time `json:"decided_at"`
}

type supportTicketRec struct {
	Kind       string    `json:"kind"`
	ID         string    `json:"id"`
	Service    string    `json:"service"`
	CreatedAt  time.Time `json:"created_at"`
	ResolvedAt time.Time `json:"resolved_at,omitzero"`
	Priority   string    `json:"priority,omitempty"`
	Category   string    `json:"category,omitempty"`
	Version    string    `json:"version,omitempty"`
	Incident   string    `json:"incident,omitempty"`
}

type testRunRec struct {
	Kind      string    `json:"kind"`
	ID        string    `json:"id"`
	Service   string    `json:"service"`
	CommitSHA string    `json:"commit_sha,omitempty"`
	Version   string    `json:"version,omitempty"`
	Framework string    `json:"framework,omitempty"`
	Suite     string    `json:"suite,omitempty"`
	StartedAt time.Time `json:"started_at"`
	Tests     int       `json:"tests"`
	Passed    int       `json:"passed"`
	Failed    int       `json:"failed"`
	Skipped   int       `json:"skipped"`
	DurationS float64   `json:"duration_s"`
	Required  bool      `json:"required"`
}

type adoptionRec struct {
	Kind          string `json:"kind"`
	Service       string `json:"service"`
	Feature       string `json:"feature"`
	Day           string `json:"day"`
	ActiveUsers   int    `json:"active_users"`
	EligibleUsers int    `json:"eligible_users,omitempty"`
	Version       string `json:"version,omitempty"`
}

type releasePlanRec struct {
	Kind        string    `json:"kind"`
	ID          string    `json:"id"`
	Service     string    `json:"service"`
	Version     string    `json:"version"`
	PlannedAt   time.Time `json:"planned_at"`
	WindowStart time.Time `json:"window_start,omitzero"`
	WindowEnd   time.Time `json:"window_end,omitzero"`
	Environment string    `json:"environment,omitempty"`
}
