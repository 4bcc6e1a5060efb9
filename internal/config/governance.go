package config

import "time"

// Controls configures the governance controls (queries/controls).
type Controls struct {
	// RequiredApprovals is how many approving reviews by non-authors a change
	// needs before merge (unreviewed-change).
	RequiredApprovals int `yaml:"required_approvals"`
	// EmergencyReviewDays is how many days an emergency change may go without
	// its post-implementation review.
	EmergencyReviewDays int `yaml:"emergency_review_days"`
	// PreApprovedStandard exempts standard-risk change requests from the
	// approval-before-deployment rule.
	PreApprovedStandard bool `yaml:"pre_approved_standard"`
	// Exemptions silence findings with a reason until they expire; each is
	// itself listed in the audit report.
	Exemptions []Exemption `yaml:"exemptions"`
}

// Exemption silences one control for matching subjects until Expires.
type Exemption struct {
	Control string    `yaml:"control"`
	Subject string    `yaml:"subject"` // service, deployment or change id; "*" for all
	Reason  string    `yaml:"reason"`
	Expires time.Time `yaml:"expires"`
}

// Gate is the release gate policy.
type Gate struct {
	MinPassRate         float64  `yaml:"min_pass_rate"`
	RequiredSuites      []string `yaml:"required_suites"`
	BlockingSeverities  []string `yaml:"blocking_severities"`
	RequireApprovedCR   bool     `yaml:"require_approved_change_request"`
	MaxChangeFailure    float64  `yaml:"max_change_failure_rate"`
	ChangeFailureWindow Duration `yaml:"change_failure_window"`
	CheckFreeze         bool     `yaml:"check_freeze"`
}

func defaultControls() Controls {
	return Controls{RequiredApprovals: 1, EmergencyReviewDays: 5, PreApprovedStandard: true}
}

func defaultGate() Gate {
	return Gate{
		MinPassRate:         0.98,
		BlockingSeverities:  []string{"sev1", "sev2"},
		RequireApprovedCR:   true,
		MaxChangeFailure:    0.25,
		ChangeFailureWindow: Duration(30 * 24 * time.Hour),
		CheckFreeze:         true,
	}
}

func (c *Controls) validate() error { return nil }
func (g *Gate) validate() error     { return nil }
