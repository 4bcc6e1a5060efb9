package config

import (
	"errors"
	"fmt"
	"net/url"
	"regexp"
	"strings"
)

// jiraFieldID is what a configured Jira field may look like: a system field
// name (components, labels, priority) or a custom field id (customfield_10020).
var jiraFieldID = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9_]*$`)

var jiraSeverities = map[string]bool{"sev1": true, "sev2": true, "sev3": true, "sev4": true}

// Validate checks the Jira section; every error starts with "jira: " and
// names the field at fault.
func (j *Jira) Validate() error {
	if j.URL == "" {
		return errors.New("jira: url is required (for example https://acme.atlassian.net)")
	}
	u, err := url.Parse(j.URL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return fmt.Errorf("jira: url %q is not an http(s) address", j.URL)
	}
	if u.User != nil {
		return errors.New("jira: url must not carry credentials; use user and token_env")
	}
	switch j.Flavor {
	case "", "cloud", "datacenter":
	default:
		return fmt.Errorf("jira: flavor %q: use cloud or datacenter", j.Flavor)
	}
	if j.User != "" && j.TokenEnv == "" {
		return errors.New("jira: user is set but token_env is not: name the environment variable that holds the API token")
	}
	if j.TokenEnv != "" && !regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`).MatchString(j.TokenEnv) {
		return fmt.Errorf("jira: token_env %q is not an environment variable name", j.TokenEnv)
	}
	if j.Overlap < 0 {
		return errors.New("jira: overlap must not be negative")
	}
	if j.PageSize < 0 || j.PageSize > 1000 {
		return fmt.Errorf("jira: page_size %d: use 1 to 1000", j.PageSize)
	}
	if j.Incidents == nil && j.ChangeRequests == nil && j.SupportTickets == nil && j.Releases == nil {
		return errors.New("jira: nothing to fetch: configure incidents, change_requests, support_tickets or releases")
	}
	check := func(name, v string) error {
		if v != "" && !jiraFieldID.MatchString(v) {
			return fmt.Errorf("jira: %s %q is not a field id (like customfield_10020 or components)", name, v)
		}
		return nil
	}
	sevMap := func(name string, m map[string]string) error {
		for k, v := range m {
			if !jiraSeverities[v] {
				return fmt.Errorf("jira: %s[%q] = %q: use sev1, sev2, sev3 or sev4", name, k, v)
			}
		}
		return nil
	}
	if in := j.Incidents; in != nil {
		if strings.TrimSpace(in.JQL) == "" {
			return errors.New("jira: incidents.jql is required")
		}
		for n, v := range map[string]string{"incidents.severity_field": in.SeverityField, "incidents.service_field": in.ServiceField,
			"incidents.deployment_field": in.DeploymentField, "incidents.commit_field": in.CommitField} {
			if err := check(n, v); err != nil {
				return err
			}
		}
		if err := sevMap("incidents.severity_values", in.SeverityValues); err != nil {
			return err
		}
		if err := sevMap("incidents.priority_severities", in.PrioritySeverities); err != nil {
			return err
		}
	}
	if cr := j.ChangeRequests; cr != nil {
		if strings.TrimSpace(cr.JQL) == "" {
			return errors.New("jira: change_requests.jql is required")
		}
		for n, v := range map[string]string{"change_requests.risk_field": cr.RiskField, "change_requests.planned_start_field": cr.PlannedStartField,
			"change_requests.planned_end_field": cr.PlannedEndField, "change_requests.services_field": cr.ServicesField,
			"change_requests.reviewed_field": cr.ReviewedField} {
			if err := check(n, v); err != nil {
				return err
			}
		}
		for i, f := range cr.ApproverFields {
			if err := check(fmt.Sprintf("change_requests.approver_fields[%d]", i), f); err != nil {
				return err
			}
		}
	}
	if st := j.SupportTickets; st != nil {
		if strings.TrimSpace(st.JQL) == "" {
			return errors.New("jira: support_tickets.jql is required")
		}
		if err := check("support_tickets.service_field", st.ServiceField); err != nil {
			return err
		}
	}
	if r := j.Releases; r != nil {
		if len(r.Projects) == 0 {
			return errors.New("jira: releases.projects is empty")
		}
		for i, p := range r.Projects {
			if !regexp.MustCompile(`^[A-Z][A-Z0-9_]+$`).MatchString(p) {
				return fmt.Errorf("jira: releases.projects[%d] %q is not a project key (like PAY)", i, p)
			}
		}
	}
	return nil
}
