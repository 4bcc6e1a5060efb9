// Package calendar builds the release calendar: planned releases (release
// plans and change request windows) beside the actual production
// deployments, per service and environment, with the conflicts between
// them — two releases sharing an environment at once, interdependent
// services releasing together, releases inside a freeze or outside the
// allowed weekly windows — and the slip of each plan against its actual
// release.
//
// Environment and dependency conflicts are also the named query
// queries/retro/release-conflicts.sql; freezes and windows need time-zone
// rules and are checked here in Go.
package calendar

import (
	"context"
	"database/sql"
	"embed"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/shiplog/shiplog/internal/config"
	"github.com/shiplog/shiplog/internal/output"
	"github.com/shiplog/shiplog/internal/sqlrun"
	"github.com/shiplog/shiplog/internal/warehouse"
	"github.com/shiplog/shiplog/transform/models/marts"
)

// Slot is how long a release without an explicit window is taken to
// occupy: a plan from planned_at, a deployment up to finished_at when it has
// no started_at.
const Slot = time.Hour

// Event kinds.
const (
	KindPlan          = "plan"
	KindChangeRequest = "change_request"
	KindDeployment    = "deployment"
)

// Conflict kinds.
const (
	ConflictEnvironment = "environment"    // two releases in one environment at once
	ConflictDependency  = "dependency"     // the same, between interdependent services
	ConflictFreeze      = "freeze"         // a production release inside a freeze
	ConflictWindow      = "outside_window" // a production release outside the allowed windows
)

// Event is one entry of the calendar.
type Event struct {
	Kind          string // plan, change_request, deployment
	ID            string // the record's id
	Services      []string
	Version       string
	Environment   string // lower case; every production name becomes "production"
	IsProduction  bool
	Start, End    time.Time
	Status        string
	ChangeRequest string
	Title         string
	// Freezes, when FreezesDecided, are the freezes the models found the
	// event inside (fct_deployments.freezes for a production deployment):
	// Conflicts takes them as they are instead of overlapping the event
	// with the configured freezes itself, so a deployment is in a freeze
	// for the calendar exactly when it is for the audit.
	Freezes        []string
	FreezesDecided bool
}

// Key identifies the event across kinds: "deployment:d-1".
func (e Event) Key() string { return e.Kind + ":" + e.ID }

// Conflict is one finding.
type Conflict struct {
	Kind        string
	Environment string
	Event       Event
	Other       *Event // the other release, for environment and dependency conflicts
	Start, End  time.Time
	Detail      string
}

// Options select the calendar's range and services.
type Options struct {
	From, To time.Time // zero: unbounded; events overlapping [From, To)
	Services []string
}

// Calendar is the events in range and their conflicts.
type Calendar struct {
	Events    []Event
	Conflicts []Conflict
}

// The statements, one file each in sql/, run by package sqlrun.
//
//go:embed sql/*.sql
var sqlFS embed.FS

var scripts = func() map[string]*sqlrun.Script {
	out := map[string]*sqlrun.Script{}
	for _, name := range []string{"events", "slips", "slip_summary", "dependencies"} {
		src, err := sqlFS.ReadFile("sql/" + name + ".sql")
		if err != nil {
			panic(err)
		}
		sc, err := sqlrun.Parse("calendar/sql/"+name+".sql", src)
		if err != nil {
			panic(err)
		}
		out[name] = sc
	}
	return out
}()

// run runs the statement sql/NAME.sql with vals and returns its rows.
func run(ctx context.Context, db *warehouse.DB, name string, vals map[string]any) (*sql.Rows, error) {
	sc := scripts[name]
	v, err := sc.Args(vals)
	if err != nil {
		return nil, fmt.Errorf("calendar: %w", err)
	}
	rows, err := sc.Query(ctx, db, v)
	if err != nil {
		return nil, fmt.Errorf("calendar: %w", err)
	}
	return rows, nil
}

// Load reads the events overlapping the range, with the services'
// dependencies, and finds the conflicts.
func Load(ctx context.Context, db *warehouse.DB, cfg *config.Config, opts Options) (*Calendar, error) {
	rules, err := NewRules(&cfg.Calendar)
	if err != nil {
		return nil, err
	}
	opts.Services = config.Keys(opts.Services)
	if err := marts.Require(ctx, db, "fct_release_plans", "fct_change_requests", "fct_deployments", "dim_services"); err != nil {
		return nil, fmt.Errorf("calendar: %w", err)
	}
	rows, err := run(ctx, db, "events", nil)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var events []Event
	for rows.Next() {
		var e Event
		var services, freezes []any
		if err := rows.Scan(&e.Kind, &e.ID, &services, &e.Version, &e.Environment, &e.IsProduction, &e.Start, &e.End,
			&e.Status, &e.ChangeRequest, &e.Title, &freezes, &e.FreezesDecided); err != nil {
			return nil, fmt.Errorf("calendar: %w", err)
		}
		for _, s := range services {
			if s != nil {
				e.Services = append(e.Services, fmt.Sprint(s))
			}
		}
		for _, f := range freezes {
			if f != nil {
				e.Freezes = append(e.Freezes, fmt.Sprint(f))
			}
		}
		e.Start, e.End = e.Start.UTC(), e.End.UTC()
		if !inRange(e, opts) {
			continue
		}
		events = append(events, e)
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	deps, err := LoadDependencies(ctx, db)
	if err != nil {
		return nil, err
	}
	conflicts := Conflicts(events, deps, rules)
	if len(opts.Services) > 0 {
		conflicts = filterConflicts(conflicts, opts.Services)
	}
	return &Calendar{Events: events, Conflicts: conflicts}, nil
}

func inRange(e Event, o Options) bool {
	if !o.From.IsZero() && !e.End.After(o.From) && !(e.Start.Equal(e.End) && e.Start.Equal(o.From)) {
		return false
	}
	if !o.To.IsZero() && !e.Start.Before(o.To) {
		return false
	}
	return len(o.Services) == 0 || intersects(e.Services, o.Services)
}

func filterConflicts(cs []Conflict, services []string) []Conflict {
	var out []Conflict
	for _, c := range cs {
		if intersects(c.Event.Services, services) || c.Other != nil && intersects(c.Other.Services, services) {
			out = append(out, c)
		}
	}
	return out
}

// LoadDependencies returns each service's depends_on list (dim_services).
func LoadDependencies(ctx context.Context, db *warehouse.DB) (map[string][]string, error) {
	rows, err := run(ctx, db, "dependencies", nil)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	deps := map[string][]string{}
	for rows.Next() {
		var id string
		var list []any
		if err := rows.Scan(&id, &list); err != nil {
			return nil, err
		}
		for _, d := range list {
			if d != nil {
				deps[id] = append(deps[id], fmt.Sprint(d))
			}
		}
	}
	return deps, rows.Err()
}

// Conflicts finds the conflicts among events (sorted by start). Each pair
// of overlapping releases in one environment is reported once, as a
// dependency conflict when one service depends on the other, else as an
// environment conflict. A plan, its change request and the deployment that
// carried it out are one release, not a conflict: pairs of the same
// service and version, or a change request and a release of a service it
// names, are skipped.
func Conflicts(events []Event, deps map[string][]string, rules *Rules) []Conflict {
	var out []Conflict
	byEnv := map[string][]int{}
	for i, e := range events {
		byEnv[e.Environment] = append(byEnv[e.Environment], i)
	}
	envs := make([]string, 0, len(byEnv))
	for env := range byEnv {
		envs = append(envs, env)
	}
	sort.Strings(envs)
	for _, env := range envs {
		idx := byEnv[env]
		sort.SliceStable(idx, func(a, b int) bool { return events[idx[a]].Start.Before(events[idx[b]].Start) })
		for ai, i := range idx {
			a := events[i]
			for _, j := range idx[ai+1:] {
				b := events[j]
				if b.Start.After(a.End) {
					break
				}
				if !overlaps(a.Start, a.End, b.Start, b.End) || sameRelease(a, b) {
					continue
				}
				kind, detail := ConflictEnvironment, fmt.Sprintf("%s and %s both release to %s", label(a), label(b), env)
				if d := dependency(a, b, deps); d != "" {
					kind, detail = ConflictDependency, d
				}
				other := b
				out = append(out, Conflict{Kind: kind, Environment: env, Event: a, Other: &other,
					Start: later(a.Start, b.Start), End: earlier(a.End, b.End), Detail: detail})
			}
		}
	}
	for _, e := range events {
		if !e.IsProduction {
			continue
		}
		freezes := rules.FreezesOverlapping(e.Services, e.Start, e.End)
		if e.FreezesDecided {
			freezes = rules.Named(e.Freezes)
		}
		for _, f := range freezes {
			out = append(out, Conflict{Kind: ConflictFreeze, Environment: e.Environment, Event: e,
				Start: later(e.Start, f.Start).UTC(), End: earlier(e.End, f.End).UTC(),
				Detail: fmt.Sprintf("%s falls in freeze %q (%s to %s)", label(e), f.Name,
					f.Start.UTC().Format(time.RFC3339), f.End.UTC().Format(time.RFC3339))})
		}
		if !rules.InWindow(e.Services, e.Start, e.End) {
			out = append(out, Conflict{Kind: ConflictWindow, Environment: e.Environment, Event: e,
				Start: e.Start, End: e.End, Detail: fmt.Sprintf("%s is outside the allowed release windows", label(e))})
		}
	}
	sort.SliceStable(out, func(i, j int) bool {
		if !out[i].Start.Equal(out[j].Start) {
			return out[i].Start.Before(out[j].Start)
		}
		if out[i].Kind != out[j].Kind {
			return out[i].Kind < out[j].Kind
		}
		return out[i].Event.Key() < out[j].Event.Key()
	})
	return out
}

func sameRelease(a, b Event) bool {
	if a.Kind == KindChangeRequest || b.Kind == KindChangeRequest {
		cr, o := a, b
		if b.Kind == KindChangeRequest {
			cr, o = b, a
		}
		if o.Kind == KindChangeRequest {
			return cr.ID == o.ID
		}
		return o.ChangeRequest == cr.ID || intersects(cr.Services, o.Services)
	}
	return a.Version != "" && a.Version == b.Version && intersects(a.Services, b.Services)
}

func dependency(a, b Event, deps map[string][]string) string {
	for _, x := range a.Services {
		for _, y := range b.Services {
			if contains(deps[x], y) {
				return fmt.Sprintf("%s depends on %s and both release at once (%s, %s)", x, y, label(a), label(b))
			}
			if contains(deps[y], x) {
				return fmt.Sprintf("%s depends on %s and both release at once (%s, %s)", y, x, label(b), label(a))
			}
		}
	}
	return ""
}

func label(e Event) string {
	s := e.Kind + " " + e.ID + " (" + strings.Join(e.Services, ", ")
	if e.Version != "" {
		s += " " + e.Version
	}
	return s + ")"
}

func later(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}

func earlier(a, b time.Time) time.Time {
	if a.Before(b) {
		return a
	}
	return b
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func intersects(a, b []string) bool {
	for _, x := range a {
		if contains(b, x) {
			return true
		}
	}
	return false
}

// EventsTable lists the events with the kinds of conflict each is part of.
func (c *Calendar) EventsTable() *output.Table {
	kinds := map[string][]string{}
	add := func(key, kind string) {
		if !contains(kinds[key], kind) {
			kinds[key] = append(kinds[key], kind)
		}
	}
	for _, x := range c.Conflicts {
		add(x.Event.Key(), x.Kind)
		if x.Other != nil {
			add(x.Other.Key(), x.Kind)
		}
	}
	t := &output.Table{Columns: []string{"start", "end", "kind", "id", "services", "environment", "version", "status", "change_request", "conflicts"}}
	for _, e := range c.Events {
		sort.Strings(kinds[e.Key()])
		t.Rows = append(t.Rows, []any{e.Start, e.End, e.Kind, e.ID, strings.Join(e.Services, ","), e.Environment,
			nullable(e.Version), e.Status, nullable(e.ChangeRequest), nullable(strings.Join(kinds[e.Key()], ","))})
	}
	return t
}

// ConflictsTable lists the conflicts, one row each.
func (c *Calendar) ConflictsTable() *output.Table {
	t := &output.Table{Columns: []string{"conflict", "environment", "start", "end", "kind", "id", "services", "version",
		"other_kind", "other_id", "other_services", "other_version", "detail"}}
	for _, x := range c.Conflicts {
		row := []any{x.Kind, x.Environment, x.Start, x.End, x.Event.Kind, x.Event.ID, strings.Join(x.Event.Services, ","), nullable(x.Event.Version)}
		if x.Other != nil {
			row = append(row, x.Other.Kind, x.Other.ID, strings.Join(x.Other.Services, ","), nullable(x.Other.Version))
		} else {
			row = append(row, nil, nil, nil, nil)
		}
		t.Rows = append(t.Rows, append(row, x.Detail))
	}
	return t
}

func nullable(s string) any {
	if s == "" {
		return nil
	}
	return s
}
