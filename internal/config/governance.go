package config

import (
	"errors"
	"fmt"
	"path"
	"strings"
	"time"
)

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
	// AllowedDeployers adds people (or bots) allowed to deploy to
	// production to every service whose key, or whose team's key, matches
	// a glob: for organisations that keep access lists in configuration
	// rather than on each service record. They add to a service record's
	// allowed_deployers (dim_services); the deployer-not-allowed control
	// and the access-to-deploy query read the result.
	AllowedDeployers []AllowedDeployers `yaml:"allowed_deployers,omitempty"`
}

// AllowedDeployers is one entry of controls.allowed_deployers: exactly
// one of Service and Team, a glob (path.Match syntax, compared with the
// trimmed, lower-cased key), and the people it allows.
type AllowedDeployers struct {
	Service   string   `yaml:"service,omitempty"`
	Team      string   `yaml:"team,omitempty"`
	Deployers []string `yaml:"deployers"`
}

// ExemptionID is e's id, or EX-n (n = i + 1) when none is configured.
func (e Exemption) ExemptionID(i int) string {
	if id := strings.TrimSpace(e.ID); id != "" {
		return id
	}
	return fmt.Sprintf("EX-%d", i+1)
}

// Exemption silences one control for matching subjects until Expires.
type Exemption struct {
	// ID names the exemption in audit evidence (a ticket or risk-register
	// id); when empty the audit calls it EX-n, n its 1-based position in
	// the list.
	ID      string    `yaml:"id,omitempty"`
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

// ControlNames are the governance controls of DESIGN.md, each a SQL file in
// queries/controls; exemptions must name one of them.
var ControlNames = []string{
	"unapproved-production-change", "self-approval", "emergency-without-review",
	"unreviewed-change", "outside-window", "plan-vs-actual", "rollback-authority",
	"deployer-not-allowed", "gate-override",
}

func (c *Controls) validate() error {
	if c.RequiredApprovals < 0 {
		return errors.New("controls.required_approvals: must be 0 or more")
	}
	if c.EmergencyReviewDays < 0 {
		return errors.New("controls.emergency_review_days: must be 0 or more")
	}
	for i, a := range c.AllowedDeployers {
		field := fmt.Sprintf("controls.allowed_deployers[%d]", i)
		svc, team := strings.TrimSpace(a.Service), strings.TrimSpace(a.Team)
		switch {
		case (svc == "") == (team == ""):
			return fmt.Errorf("%s: give exactly one of service and team (a name or glob such as \"pay*\")", field)
		case len(a.Deployers) == 0:
			return fmt.Errorf("%s.deployers: list the people or bots allowed to deploy", field)
		}
		for _, g := range []string{svc, team} {
			if _, err := path.Match(g, ""); err != nil {
				return fmt.Errorf("%s: %q is not a valid glob: %v", field, g, err)
			}
		}
		for j, d := range a.Deployers {
			if strings.TrimSpace(d) == "" {
				return fmt.Errorf("%s.deployers[%d]: empty name", field, j)
			}
		}
	}
	ids := map[string]int{}
	for i, e := range c.Exemptions {
		field := fmt.Sprintf("controls.exemptions[%d]", i)
		if id := e.ExemptionID(i); ids[id] > 0 {
			return fmt.Errorf("%s.id: %q is also the id of controls.exemptions[%d]", field, id, ids[id]-1)
		} else {
			ids[id] = i + 1
		}
		known := false
		for _, n := range ControlNames {
			known = known || n == e.Control
		}
		switch {
		case !known:
			return fmt.Errorf("%s.control: %q is not a control (one of %s)", field, e.Control, strings.Join(ControlNames, ", "))
		case strings.TrimSpace(e.Subject) == "":
			return fmt.Errorf("%s.subject: name the service, deployment, change or change request it covers (or \"*\")", field)
		case strings.TrimSpace(e.Reason) == "":
			return fmt.Errorf("%s.reason: an exemption needs a reason", field)
		case e.Expires.IsZero():
			return fmt.Errorf("%s.expires: an exemption needs an expiry date", field)
		}
	}
	return nil
}

func (g *Gate) validate() error {
	if g.MinPassRate < 0 || g.MinPassRate > 1 {
		return errors.New("gate.min_pass_rate: must be a share between 0 and 1 (for example 0.98)")
	}
	if g.MaxChangeFailure < 0 || g.MaxChangeFailure > 1 {
		return errors.New("gate.max_change_failure_rate: must be a share between 0 and 1 (for example 0.25)")
	}
	if g.ChangeFailureWindow <= 0 {
		return errors.New("gate.change_failure_window: must be positive (for example 30d)")
	}
	for _, s := range g.BlockingSeverities {
		switch s {
		case "sev1", "sev2", "sev3", "sev4":
		default:
			return fmt.Errorf("gate.blocking_severities: %q is not one of sev1, sev2, sev3, sev4", s)
		}
	}
	return nil
}
