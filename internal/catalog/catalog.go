// Package catalog knows the names in the warehouse that people type on the
// command line — services, teams, departments — so that a typo is an error
// with the nearest known names (package suggest) rather than an empty
// result. Names are matched trimmed and case-insensitively and come back in
// the warehouse's spelling.
package catalog

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"

	"github.com/shiplog/shiplog/internal/format"
	"github.com/shiplog/shiplog/internal/output"
	"github.com/shiplog/shiplog/internal/suggest"
)

// Service is one service with its team and the team's department.
type Service struct {
	Service, Team, TeamName, Department string
}

// Catalog is every service, team and department the warehouse knows.
type Catalog struct {
	Services []Service
}

// query reads dim_services, where the transform put every service a
// record declares or a deployment or incident names, with team and
// department, and adds the services that only other records name (a
// change, a test run, a change request, a release plan): they are known
// too, without a team, so that `shiplog gate` can be asked about a
// service whose first deployment is the one being gated. Every name is
// the marts' key (trimmed, lower-cased).
const query = `
with base as (
    select service, team, team_name, department from dim_services
),
named as (
    select service from fct_changes union select service from fct_test_runs
    union select service from fct_release_plans union select unnest(services) from fct_change_requests
)
select * from base
union all
select n.service, null, null, null from named n anti join base b on b.service = n.service`

// Load reads the catalog through q (an open warehouse or a serve endpoint).
func Load(ctx context.Context, q output.QueryFunc) (*Catalog, error) {
	return load(ctx, q, query)
}

// dimQuery is query's base alone: the services of dim_services.
const dimQuery = `select service, team, team_name, department from dim_services`

// LoadDimensions reads only the services of dim_services, with their teams
// and departments: every team and department Load knows, and every
// service but those that only other records name. It is a small table,
// where Load also reads every change for the names they carry; a caller
// whose names all resolve here need not pay for that, and one with a name
// unknown here asks Load, which decides.
func LoadDimensions(ctx context.Context, q output.QueryFunc) (*Catalog, error) {
	return load(ctx, q, dimQuery)
}

func load(ctx context.Context, q output.QueryFunc, query string) (*Catalog, error) {
	t, err := q(ctx, `select count(*) from duckdb_tables() where schema_name = 'main' and table_name = 'dim_services'`)
	if err != nil {
		return nil, fmt.Errorf("catalog: %w", err)
	}
	if len(t.Rows) != 1 {
		return nil, errors.New("catalog: could not tell whether the warehouse has marts")
	}
	if n, _ := format.Float(t.Rows[0][0]); n == 0 {
		return nil, errors.New("the warehouse has no marts yet: run `shiplog transform` first")
	}
	if t, err = q(ctx, query); err != nil {
		return nil, fmt.Errorf("catalog: %w", err)
	}
	return FromTable(t), nil
}

// FromTable builds a catalog from rows of service, team, team_name and
// department (the latter columns optional), such as a report's
// report-service-teams query.
func FromTable(t *output.Table) *Catalog {
	col := func(r []any, name string) string {
		if i := t.Index(name); i >= 0 && r[i] != nil {
			return strings.TrimSpace(output.Text(r[i]))
		}
		return ""
	}
	c := &Catalog{}
	for _, r := range t.Rows {
		c.Services = append(c.Services, Service{
			Service: col(r, "service"), Team: col(r, "team"),
			TeamName: col(r, "team_name"), Department: col(r, "department"),
		})
	}
	return c
}

func (c *Catalog) names(get func(Service) string) []string {
	seen := map[string]bool{}
	var out []string
	for _, s := range c.Services {
		if n := get(s); n != "" && !seen[n] {
			seen[n] = true
			out = append(out, n)
		}
	}
	sort.Strings(out)
	return out
}

// ServiceNames, TeamNames and DepartmentNames list the known names, sorted.
func (c *Catalog) ServiceNames() []string {
	return c.names(func(s Service) string { return s.Service })
}

// TeamNames lists the team ids.
func (c *Catalog) TeamNames() []string { return c.names(func(s Service) string { return s.Team }) }

// DepartmentNames lists the departments.
func (c *Catalog) DepartmentNames() []string {
	return c.names(func(s Service) string { return s.Department })
}

// CheckServices returns the services in their known spelling, or an error
// naming the first unknown one with the closest known names.
func (c *Catalog) CheckServices(names []string) ([]string, error) {
	return suggest.CheckAll("service", names, c.ServiceNames())
}

// CheckTeams returns the team ids for names, each a team id or a team's
// display name, or an error naming the first unknown one.
func (c *Catalog) CheckTeams(names []string) ([]string, error) {
	if len(names) == 0 {
		return names, nil
	}
	byName := map[string]string{}
	for _, s := range c.Services {
		if s.TeamName != "" && s.Team != "" {
			byName[strings.ToLower(s.TeamName)] = s.Team
		}
	}
	out := make([]string, len(names))
	for i, n := range names {
		if id, ok := byName[strings.ToLower(strings.TrimSpace(n))]; ok {
			out[i] = id
			continue
		}
		id, err := suggest.Check("team", n, c.TeamNames())
		if err != nil {
			return nil, err
		}
		out[i] = id
	}
	return out, nil
}

// CheckDepartments returns the departments in their known spelling, or an
// error naming the first unknown one.
func (c *Catalog) CheckDepartments(names []string) ([]string, error) {
	return suggest.CheckAll("department", names, c.DepartmentNames())
}

// TeamsOf returns the teams of the given departments (known spelling), sorted.
func (c *Catalog) TeamsOf(departments []string) []string {
	want := map[string]bool{}
	for _, d := range departments {
		want[d] = true
	}
	return c.names(func(s Service) string {
		if want[s.Department] {
			return s.Team
		}
		return ""
	})
}

// Check checks one value of the kind a named query parameter or a flag
// takes: "service", "team" or "department". Other kinds pass unchecked.
func (c *Catalog) Check(kind, value string) (string, error) {
	var out []string
	var err error
	switch kind {
	case "service":
		out, err = c.CheckServices([]string{value})
	case "team":
		out, err = c.CheckTeams([]string{value})
	case "department":
		out, err = c.CheckDepartments([]string{value})
	default:
		return value, nil
	}
	if err != nil {
		return "", err
	}
	return out[0], nil
}

// environmentsQuery lists the production environments that have a
// successful deployment, keyed as fct_deployments has them.
const environmentsQuery = `select distinct environment from fct_deployments where is_production and status = 'success' order by 1`

// CheckEnvironments returns names as the production environments the
// warehouse knows (`shiplog metrics --environment`), or an error naming
// the first unknown one with the closest known names: a staging
// environment, or a production one without a deployment, is unknown.
func CheckEnvironments(ctx context.Context, q output.QueryFunc, names []string) ([]string, error) {
	if len(names) == 0 {
		return names, nil
	}
	t, err := q(ctx, environmentsQuery)
	if err != nil {
		return nil, fmt.Errorf("catalog: %w", err)
	}
	var known []string
	for _, r := range t.Rows {
		known = append(known, output.Text(r[0]))
	}
	return suggest.CheckAll("production environment", names, known)
}
