// Package dashboards holds dashboard specs: a dashboard is a list of panels,
// each a named query (or the metrics engine) plus a chart type and the
// columns to draw. The built-in specs are embedded from this folder; a user
// adds their own in a folder named by reports.dashboards_dir in shiplog.yaml.
// The reports package renders specs to static HTML.
package dashboards

import (
	"bytes"
	"embed"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"path"
	"regexp"
	"sort"
	"strings"

	"go.yaml.in/yaml/v3"
)

//go:embed *.yaml
var builtin embed.FS

// Builtin returns the specs shipped with shiplog.
func Builtin() fs.FS { return builtin }

// Chart types a panel can use.
const (
	KPI        = "kpi"
	Line       = "line"
	Bar        = "bar"
	StackedBar = "stacked_bar"
	Heatmap    = "heatmap"
	Table      = "table"
)

// ChartTypes lists every accepted panel chart type.
var ChartTypes = []string{KPI, Line, Bar, StackedBar, Heatmap, Table}

// Spec is one dashboard.
type Spec struct {
	// Name identifies the dashboard (`shiplog report dashboard NAME`); it must
	// equal the file name without .yaml.
	Name string `yaml:"name"`
	// Title is the page heading.
	Title string `yaml:"title"`
	// Description is shown under the heading.
	Description string `yaml:"description"`
	// Audience is leadership, retro, audit or anything the author likes.
	Audience string `yaml:"audience"`
	// Panels are drawn in order.
	Panels []Panel `yaml:"panels"`

	// File is where the spec was read from (for error messages).
	File string `yaml:"-"`
}

// Panel is one chart or table of a dashboard.
type Panel struct {
	// Title is the panel heading.
	Title string `yaml:"title"`
	// Description is a sentence under the heading: what to look for.
	Description string `yaml:"description"`
	// Query names a query of the queries/ folder. Exactly one of Query and
	// Metrics is set.
	Query string `yaml:"query"`
	// Metrics draws from the metrics engine instead of a named query.
	Metrics *MetricsSource `yaml:"metrics"`
	// Params are passed to the query. A value "$team", "$from" or "$to" is
	// replaced by the report's team and window (RFC 3339); "$from_date" and
	// "$to_date" by the dates alone. Only the params listed are passed.
	Params map[string]string `yaml:"params"`
	// Chart is one of ChartTypes.
	Chart string `yaml:"chart"`
	// X is the category (or time) column of line, bar, stacked_bar and
	// heatmap charts.
	X string `yaml:"x"`
	// Y are the value columns (line, bar, stacked_bar, kpi). For a heatmap, Y
	// holds the one column of the vertical categories.
	Y []string `yaml:"y"`
	// Series, when set, names a column whose values become one series each
	// (long format); Y then holds exactly one value column.
	Series string `yaml:"series"`
	// Value is the cell value column of a heatmap.
	Value string `yaml:"value"`
	// Columns limits and orders the columns of the data table under the
	// chart (and of a table panel). Empty means every column.
	Columns []string `yaml:"columns"`
	// Limit caps the rows shown in the data table (0 = all).
	Limit int `yaml:"limit"`
	// Colors are the series colours in order (#rgb or #rrggbb); empty
	// means the default palette (series named after an event kind —
	// deployment, rollback, hotfix, failed deployment, incident — always
	// take that kind's colour).
	Colors []string `yaml:"colors"`
	// Axis "days" draws x (dates, YYYY-MM-DD) as a continuous axis: every
	// day of the period has its place, a day without events is drawn
	// empty (and a day the data does not cover as a gap), and the
	// configured freezes are shaded.
	Axis string `yaml:"axis"`
}

// MetricsSource asks the metrics engine for one level and period size.
type MetricsSource struct {
	// Level is service, team, department or org.
	Level string `yaml:"level"`
	// By is "", week, month or quarter.
	By string `yaml:"by"`
}

var (
	nameRE  = regexp.MustCompile(`^[a-z0-9][a-z0-9_-]*$`)
	colorRE = regexp.MustCompile(`^#(?:[0-9a-fA-F]{3}|[0-9a-fA-F]{6})$`)
)

// Parse reads one spec from YAML. file names the source in errors and gives
// the expected name.
func Parse(file string, data []byte) (Spec, error) {
	var s Spec
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(&s); err != nil {
		if errors.Is(err, io.EOF) {
			return s, fmt.Errorf("%s: empty dashboard spec", file)
		}
		return s, fmt.Errorf("%s: %w", file, err)
	}
	s.File = file
	return s, s.Validate()
}

// Validate checks the spec and names the file, panel and field at fault.
func (s Spec) Validate() error {
	where := s.File
	if where == "" {
		where = s.Name
	}
	if !nameRE.MatchString(s.Name) {
		return fmt.Errorf("%s: name: %q must be lower case letters, digits, - or _", where, s.Name)
	}
	if s.File != "" {
		if base := strings.TrimSuffix(path.Base(s.File), path.Ext(s.File)); base != s.Name {
			return fmt.Errorf("%s: name: %q differs from the file name %q", where, s.Name, base)
		}
	}
	if strings.TrimSpace(s.Title) == "" {
		return fmt.Errorf("%s: title: required", where)
	}
	if len(s.Panels) == 0 {
		return fmt.Errorf("%s: panels: at least one panel is needed", where)
	}
	for i, p := range s.Panels {
		if err := p.validate(); err != nil {
			return fmt.Errorf("%s: panels[%d] (%s): %w", where, i, p.Title, err)
		}
	}
	return nil
}

func (p Panel) validate() error {
	if strings.TrimSpace(p.Title) == "" {
		return errors.New("title: required")
	}
	switch {
	case p.Query == "" && p.Metrics == nil:
		return errors.New("query: one of query or metrics is required")
	case p.Query != "" && p.Metrics != nil:
		return errors.New("query: give query or metrics, not both")
	}
	if m := p.Metrics; m != nil {
		switch m.Level {
		case "", "service", "team", "department", "org":
		default:
			return fmt.Errorf("metrics.level: %q is not one of service, team, department, org", m.Level)
		}
		switch m.By {
		case "", "week", "month", "quarter":
		default:
			return fmt.Errorf("metrics.by: %q is not one of week, month, quarter", m.By)
		}
	}
	for _, c := range p.Colors {
		if !colorRE.MatchString(c) {
			return fmt.Errorf("colors: %q is not a colour like #1f5fae", c)
		}
	}
	if p.Limit < 0 {
		return errors.New("limit: must not be negative")
	}
	switch p.Axis {
	case "":
	case "days":
		if p.Chart != Line && p.Chart != Bar && p.Chart != StackedBar {
			return fmt.Errorf("axis: days needs a line, bar or stacked_bar chart, not %s", p.Chart)
		}
	default:
		return fmt.Errorf("axis: %q is not days", p.Axis)
	}
	switch p.Chart {
	case Table:
	case KPI:
		if len(p.Y) == 0 {
			return errors.New("y: a kpi panel needs at least one value column")
		}
	case Line, Bar, StackedBar:
		if p.X == "" {
			return fmt.Errorf("x: a %s panel needs a category column", p.Chart)
		}
		if len(p.Y) == 0 {
			return fmt.Errorf("y: a %s panel needs at least one value column", p.Chart)
		}
		if p.Series != "" && len(p.Y) != 1 {
			return errors.New("y: with series, give exactly one value column")
		}
	case Heatmap:
		if p.X == "" || len(p.Y) != 1 || p.Value == "" {
			return errors.New("a heatmap needs x, exactly one y and value")
		}
	case "":
		return fmt.Errorf("chart: required (one of %s)", strings.Join(ChartTypes, ", "))
	default:
		return fmt.Errorf("chart: %q is not one of %s", p.Chart, strings.Join(ChartTypes, ", "))
	}
	for k, v := range p.Params {
		if k == "" {
			return errors.New("params: empty parameter name")
		}
		if strings.HasPrefix(v, "$") {
			switch v {
			case "$team", "$from", "$to", "$from_date", "$to_date":
			default:
				return fmt.Errorf("params.%s: unknown variable %s (use $team, $from, $to, $from_date or $to_date)", k, v)
			}
		}
	}
	return nil
}

// Load reads every *.yaml and *.yml file at the top of fsys. Names must be
// unique.
func Load(fsys fs.FS) ([]Spec, error) {
	entries, err := fs.ReadDir(fsys, ".")
	if err != nil {
		return nil, fmt.Errorf("dashboards: %w", err)
	}
	var specs []Spec
	seen := map[string]string{}
	for _, e := range entries {
		name := e.Name()
		if e.IsDir() || !(strings.HasSuffix(name, ".yaml") || strings.HasSuffix(name, ".yml")) {
			continue
		}
		data, err := fs.ReadFile(fsys, name)
		if err != nil {
			return nil, fmt.Errorf("dashboards: %w", err)
		}
		s, err := Parse(name, data)
		if err != nil {
			return nil, err
		}
		if prev, ok := seen[s.Name]; ok {
			return nil, fmt.Errorf("%s: name: %q is already defined in %s", name, s.Name, prev)
		}
		seen[s.Name] = name
		specs = append(specs, s)
	}
	sort.Slice(specs, func(i, j int) bool { return specs[i].Name < specs[j].Name })
	return specs, nil
}

// Find returns the spec called name. User folders are searched first, so a
// user's spec replaces a built-in one of the same name; the built-in set is
// searched last.
func Find(name string, user ...fs.FS) (Spec, error) {
	var all []string
	for _, fsys := range append(append([]fs.FS{}, user...), Builtin()) {
		specs, err := Load(fsys)
		if err != nil {
			return Spec{}, err
		}
		for _, s := range specs {
			if s.Name == name {
				return s, nil
			}
			all = append(all, s.Name)
		}
	}
	sort.Strings(all)
	return Spec{}, fmt.Errorf("no dashboard named %q (known: %s)", name, strings.Join(dedupe(all), ", "))
}

func dedupe(s []string) []string {
	out := s[:0]
	for i, v := range s {
		if i == 0 || v != s[i-1] {
			out = append(out, v)
		}
	}
	return out
}
