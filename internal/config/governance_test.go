package config

import (
	"strings"
	"testing"
	"time"
)

func TestGovernanceValidate(t *testing.T) {
	tests := []struct {
		name, yaml, want string
	}{
		{"defaults", "", ""},
		{"exemption ok", "controls:\n  exemptions:\n    - {control: self-approval, subject: CR-1, reason: sole maintainer, expires: 2026-06-30}\n", ""},
		{"unknown control", "controls:\n  exemptions:\n    - {control: self-approve, subject: CR-1, reason: r, expires: 2026-06-30}\n", `controls.exemptions[0].control: "self-approve" is not a control`},
		{"no reason", "controls:\n  exemptions:\n    - {control: self-approval, subject: CR-1, expires: 2026-06-30}\n", "controls.exemptions[0].reason: an exemption needs a reason"},
		{"no expiry", "controls:\n  exemptions:\n    - {control: self-approval, subject: CR-1, reason: r}\n", "controls.exemptions[0].expires"},
		{"no subject", "controls:\n  exemptions:\n    - {control: self-approval, reason: r, expires: 2026-06-30}\n", "controls.exemptions[0].subject"},
		{"duplicate exemption id", "controls:\n  exemptions:\n    - {id: R-1, control: self-approval, subject: a, reason: r, expires: 2026-06-30}\n    - {id: R-1, control: self-approval, subject: b, reason: r, expires: 2026-06-30}\n", `controls.exemptions[1].id: "R-1" is also the id of controls.exemptions[0]`},
		{"deployers for service and team", "controls:\n  allowed_deployers:\n    - {service: api, team: core, deployers: [a]}\n", "controls.allowed_deployers[0]: give exactly one of service and team"},
		{"deployers for nothing", "controls:\n  allowed_deployers:\n    - {deployers: [a]}\n", "controls.allowed_deployers[0]: give exactly one of service and team"},
		{"no deployers", "controls:\n  allowed_deployers:\n    - {team: core}\n", "controls.allowed_deployers[0].deployers: list the people"},
		{"bad glob", "controls:\n  allowed_deployers:\n    - {service: \"pay[\", deployers: [a]}\n", `controls.allowed_deployers[0]: "pay[" is not a valid glob`},
		{"negative approvals", "controls:\n  required_approvals: -1\n", "controls.required_approvals"},
		{"pass rate", "gate:\n  min_pass_rate: 98\n", "gate.min_pass_rate"},
		{"severity", "gate:\n  blocking_severities: [critical]\n", `gate.blocking_severities: "critical"`},
		{"window", "gate:\n  change_failure_window: 0h\n", "gate.change_failure_window"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := Default()
			err := Parse([]byte(tt.yaml), cfg)
			if err == nil {
				err = cfg.Validate()
			}
			if tt.want == "" {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err = %v, want %q", err, tt.want)
			}
		})
	}
}

// TestFreezeInterval: the one place a freeze's bounds are resolved to
// instants (the transform writes them into cfg, the calendar reads them).
func TestFreezeInterval(t *testing.T) {
	utc := func(s string) time.Time { v, _ := time.Parse(time.RFC3339, s); return v }
	tests := []struct {
		f          Freeze
		defaultTZ  string
		start, end string
		err        string
	}{
		// Berlin is UTC+1 on 27 March 2026 and UTC+2 from 29 March 01:00 UTC.
		{Freeze{Name: "q", Start: "2026-03-27 00:00", End: "2026-03-30 00:00"}, "Europe/Berlin", "2026-03-26T23:00:00Z", "2026-03-29T22:00:00Z", ""},
		{Freeze{Name: "q", Start: "2026-03-27", End: "2026-03-28", TimeZone: "America/New_York"}, "Europe/Berlin", "2026-03-27T04:00:00Z", "2026-03-28T04:00:00Z", ""},
		{Freeze{Name: "q", Start: "2026-03-27T10:00:00+02:00", End: "2026-03-27T12:00:00Z"}, "", "2026-03-27T08:00:00Z", "2026-03-27T12:00:00Z", ""},
		{Freeze{Name: "q", Start: "soon", End: "2026-03-27"}, "", "", "", `start: "soon" is not a time`},
		{Freeze{Name: "q", Start: "2026-03-27", End: "2026-03-28", TimeZone: "Mars/Olympus"}, "", "", "", `unknown time zone "Mars/Olympus"`},
	}
	for _, tt := range tests {
		c := Calendar{TimeZone: tt.defaultTZ}
		start, end, err := c.FreezeInterval(tt.f)
		if tt.err != "" {
			if err == nil || !strings.Contains(err.Error(), tt.err) {
				t.Errorf("%+v: err = %v, want %q", tt.f, err, tt.err)
			}
			continue
		}
		if err != nil || !start.Equal(utc(tt.start)) || !end.Equal(utc(tt.end)) {
			t.Errorf("%+v: %v – %v, %v; want %s – %s", tt.f, start, end, err, tt.start, tt.end)
		}
	}
}
