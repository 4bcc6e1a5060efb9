package config

import (
	"strings"
	"testing"
)

func TestJiraSection(t *testing.T) {
	const example = `
sources:
  jira:
    url: https://acme.atlassian.net
    flavor: cloud
    user: ops-bot@acme.com
    token_env: JIRA_TOKEN
    overlap: 10m
    incidents:       {jql: "project = OPS AND issuetype = Incident", severity_field: customfield_10020, service_field: components}
    change_requests: {jql: "project = CAB", risk_field: customfield_10031, planned_start_field: customfield_10040, planned_end_field: customfield_10041, approved_statuses: [Approved], emergency_values: [Emergency]}
    support_tickets: {jql: "project = SUP"}
    releases:        {projects: [PAY, WEB]}
`
	cfg := Default()
	if err := Parse([]byte(example), cfg); err != nil {
		t.Fatal(err)
	}
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	j := cfg.Sources.Jira
	if j.Overlap.D().Minutes() != 10 || j.ChangeRequests.RiskField != "customfield_10031" || len(j.Releases.Projects) != 2 {
		t.Errorf("parsed %+v", j)
	}

	base := func() *Jira {
		return &Jira{URL: "https://jira.acme.test", Incidents: &JiraIncidents{JQL: "project = OPS"}}
	}
	tests := []struct {
		name   string
		mutate func(j *Jira)
		want   string
	}{
		{"ok", func(j *Jira) {}, ""},
		{"no url", func(j *Jira) { j.URL = "" }, "jira: url is required"},
		{"bad scheme", func(j *Jira) { j.URL = "ftp://x" }, "jira: url \"ftp://x\" is not an http(s) address"},
		{"credentials in url", func(j *Jira) { j.URL = "https://bot:pw@jira.acme.test" }, "must not carry credentials"},
		{"flavor", func(j *Jira) { j.Flavor = "server" }, `jira: flavor "server"`},
		{"user without token", func(j *Jira) { j.User = "bot" }, "jira: user is set but token_env is not"},
		{"nothing", func(j *Jira) { j.Incidents = nil }, "jira: nothing to fetch"},
		{"empty jql", func(j *Jira) { j.Incidents.JQL = " " }, "jira: incidents.jql is required"},
		{"field id", func(j *Jira) { j.Incidents.SeverityField = "fields.x'" }, "jira: incidents.severity_field"},
		{"severity map", func(j *Jira) { j.Incidents.PrioritySeverities = map[string]string{"High": "critical"} }, `jira: incidents.priority_severities["High"] = "critical"`},
		{"approver field", func(j *Jira) {
			j.ChangeRequests = &JiraChangeRequests{JQL: "project = CAB", ApproverFields: []string{"ok_1", "$bad"}}
		}, "jira: change_requests.approver_fields[1]"},
		{"project key", func(j *Jira) { j.Releases = &JiraReleases{Projects: []string{"pay"}} }, "jira: releases.projects[0]"},
		{"page size", func(j *Jira) { j.PageSize = 5000 }, "jira: page_size 5000"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			j := base()
			tt.mutate(j)
			err := j.Validate()
			if tt.want == "" {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error = %v, want %q", err, tt.want)
			}
		})
	}
}
