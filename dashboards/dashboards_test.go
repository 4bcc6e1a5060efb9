package dashboards

import (
	"strings"
	"testing"
	"testing/fstest"
)

func TestBuiltin(t *testing.T) {
	specs, err := Load(Builtin())
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, s := range specs {
		names = append(names, s.Name)
	}
	if got := strings.Join(names, ","); got != "audit,leadership,retro,teams" {
		t.Errorf("built-in specs %s", got)
	}
}

func TestParseErrors(t *testing.T) {
	tests := []struct {
		name, file, yaml, want string
	}{
		{"unknown field", "x.yaml", "name: x\ntitle: X\ncolour: red\npanels: []", "x.yaml: yaml: unmarshal errors:\n  line 3: field colour not found"},
		{"name differs", "x.yaml", "name: y\ntitle: Y\npanels: [{title: A, query: q, chart: table}]", `x.yaml: name: "y" differs from the file name "x"`},
		{"no panels", "x.yaml", "name: x\ntitle: X", "x.yaml: panels: at least one panel is needed"},
		{"bad chart", "x.yaml", "name: x\ntitle: X\npanels: [{title: A, query: q, chart: pie}]", `x.yaml: panels[0] (A): chart: "pie" is not one of kpi, line, bar, stacked_bar, heatmap, table`},
		{"no source", "x.yaml", "name: x\ntitle: X\npanels: [{title: A, chart: table}]", "x.yaml: panels[0] (A): query: one of query or metrics is required"},
		{"line without x", "x.yaml", "name: x\ntitle: X\npanels: [{title: A, query: q, chart: line, y: [v]}]", "panels[0] (A): x: a line panel needs a category column"},
		{"series with two y", "x.yaml", "name: x\ntitle: X\npanels: [{title: A, query: q, chart: bar, x: d, y: [a, b], series: s}]", "y: with series, give exactly one value column"},
		{"heatmap", "x.yaml", "name: x\ntitle: X\npanels: [{title: A, query: q, chart: heatmap, x: h, y: [d]}]", "a heatmap needs x, exactly one y and value"},
		{"bad level", "x.yaml", "name: x\ntitle: X\npanels: [{title: A, metrics: {level: galaxy}, chart: table}]", `metrics.level: "galaxy" is not one of`},
		{"bad variable", "x.yaml", "name: x\ntitle: X\npanels: [{title: A, query: q, chart: table, params: {team: $teams}}]", "params.team: unknown variable $teams"},
		{"empty", "x.yaml", "", "x.yaml: empty dashboard spec"},
		{"bad colour", "x.yaml", "name: x\ntitle: X\npanels: [{title: A, query: q, chart: table, colors: ['red;']}]", `colors: "red;" is not a colour`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse(tt.file, []byte(tt.yaml))
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %v, want %q", err, tt.want)
			}
		})
	}
}

func TestFindUserFirst(t *testing.T) {
	user := fstest.MapFS{
		"retro.yaml": {Data: []byte("name: retro\ntitle: Our retro\npanels: [{title: A, query: q, chart: table}]\n")},
		"mine.yml":   {Data: []byte("name: mine\ntitle: Mine\npanels: [{title: A, query: q, chart: kpi, y: [n]}]\n")},
		"notes.txt":  {Data: []byte("ignored")},
	}
	s, err := Find("retro", user)
	if err != nil || s.Title != "Our retro" {
		t.Errorf("user retro: %+v %v", s.Title, err)
	}
	if s, err := Find("mine", user); err != nil || s.Title != "Mine" {
		t.Errorf("user spec: %v", err)
	}
	if s, err := Find("teams", user); err != nil || s.Title != "Teams compared" {
		t.Errorf("built-in through user folder: %v", err)
	}
	_, err = Find("nope", user)
	if err == nil || !strings.Contains(err.Error(), `no dashboard named "nope" (known: audit, leadership, mine, retro, teams)`) {
		t.Errorf("unknown: %v", err)
	}
	dup := fstest.MapFS{
		"a.yaml": {Data: []byte("name: a\ntitle: A\npanels: [{title: A, query: q, chart: table}]\n")},
		"a.yml":  {Data: []byte("name: a\ntitle: A\npanels: [{title: A, query: q, chart: table}]\n")},
	}
	if _, err := Load(dup); err == nil || !strings.Contains(err.Error(), `name: "a" is already defined in a.yaml`) {
		t.Errorf("duplicate: %v", err)
	}
}
