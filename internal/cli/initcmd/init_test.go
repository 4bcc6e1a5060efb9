package initcmd

import (
	"context"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"sort"
	"strings"
	"testing"
	"unicode/utf8"

	"go.yaml.in/yaml/v3"

	"github.com/shiplog/shiplog/internal/cmdutil"
	"github.com/shiplog/shiplog/internal/config"
	"github.com/shiplog/shiplog/internal/iostreams"
)

func run(t *testing.T, args ...string) (string, error) {
	t.Helper()
	ios, _, _, stderr := iostreams.Test()
	f := &cmdutil.Factory{IOStreams: ios}
	cmd := NewCmdInit(f, nil)
	cmd.SetArgs(args)
	cmd.SetOut(stderr)
	cmd.SetErr(stderr)
	err := cmd.Execute()
	return stderr.String(), err
}

// TestWrittenFileIsTheDefaults: the file parses, validates, and decoded
// over an EMPTY Config gives exactly config.Default(): every default is
// written out, and nothing else is set.
func TestWrittenFileIsTheDefaults(t *testing.T) {
	path := filepath.Join(t.TempDir(), "shiplog.yaml")
	if _, err := run(t, "--path", path); err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if string(data) != Template {
		t.Fatal("written file differs from the template")
	}
	var got config.Config
	if err := config.Parse(data, &got); err != nil {
		t.Fatalf("parse: %v", err)
	}
	if err := got.Validate(); err != nil {
		t.Fatalf("validate: %v", err)
	}
	if want := config.Default(); !reflect.DeepEqual(&got, want) {
		t.Errorf("template values differ from config.Default():\n got %+v\nwant %+v", got, *want)
	}
	loaded, err := config.Load(path)
	if err != nil {
		t.Fatalf("config.Load: %v", err)
	}
	loaded.Path = ""
	if !reflect.DeepEqual(loaded, config.Default()) {
		t.Errorf("config.Load(template) differs from config.Default()")
	}
}

func TestRefusesToOverwrite(t *testing.T) {
	path := filepath.Join(t.TempDir(), "shiplog.yaml")
	if err := os.WriteFile(path, []byte("metrics: {}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	_, err := run(t, "--path", path)
	if err == nil || !strings.Contains(err.Error(), "already exists; use --force") {
		t.Fatalf("err = %v, want a refusal naming --force", err)
	}
	if cmdutil.ExitCode(err) != 1 {
		t.Errorf("exit code %d, want 1", cmdutil.ExitCode(err))
	}
	if b, _ := os.ReadFile(path); string(b) != "metrics: {}\n" {
		t.Errorf("existing file changed to %q", b)
	}
	if _, err := run(t, "--path", path, "--force"); err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(path); string(b) != Template {
		t.Error("--force did not write the template")
	}
	// No temporary file is left beside it.
	entries, _ := os.ReadDir(filepath.Dir(path))
	if len(entries) != 1 {
		t.Errorf("folder holds %d entries, want only shiplog.yaml", len(entries))
	}
}

func TestPathFromConfigFlag(t *testing.T) {
	path := filepath.Join(t.TempDir(), "custom.yaml")
	ios, _, _, _ := iostreams.Test()
	f := &cmdutil.Factory{IOStreams: ios, ConfigPath: path}
	cmd := NewCmdInit(f, func(_ context.Context, o *Options) error {
		if o.Path != path {
			t.Errorf("path %q, want %q", o.Path, path)
		}
		return nil
	})
	cmd.SetArgs(nil)
	if err := cmd.Execute(); err != nil {
		t.Fatal(err)
	}
}

// exampleLine is a commented-out setting: "# key: value", "# - item" or
// "# key:" at any indentation.
var exampleLine = regexp.MustCompile(`^(\s*)# ((\s*)(- |("[^"]*"|'[^']*'|[A-Za-z0-9_./-]+):(\s|$)).*)$`)

// uncomment turns every commented-out example of the template into YAML,
// keeping its indentation, and leaves prose comments alone.
func uncomment(tmpl string) string {
	lines := strings.Split(tmpl, "\n")
	for i, l := range lines {
		if m := exampleLine.FindStringSubmatch(l); m != nil {
			lines[i] = m[1] + m[2]
		}
	}
	return strings.Join(lines, "\n")
}

// TestExamplesAreValid: with every example uncommented the file still
// parses with unknown keys refused and passes Validate, so no example shows
// a key or value that would be refused.
func TestExamplesAreValid(t *testing.T) {
	full := uncomment(Template)
	cfg := config.Default()
	if err := config.Parse([]byte(full), cfg); err != nil {
		t.Fatalf("template with examples uncommented does not parse: %v\n%s", err, full)
	}
	if err := cfg.Validate(); err != nil {
		t.Fatalf("template with examples uncommented is not valid: %v", err)
	}
	if cfg.Sources.GitHub == nil || cfg.Sources.Jira == nil || len(cfg.Sources.Git) == 0 || len(cfg.Sources.Files) == 0 ||
		cfg.Sources.PagerDuty == nil || len(cfg.Sources.PagerDuty.Services) != 2 || cfg.Sources.CDEvents == nil ||
		len(cfg.Schedules) == 0 || len(cfg.Controls.Exemptions) == 0 {
		t.Errorf("examples missing after uncommenting: %+v", cfg.Sources)
	}
}

// TestEveryFieldIsInTheTemplate walks the Config type by its yaml tags and
// checks each key is present (set or as a commented example) at its place
// in the template, so that a new setting cannot be left out of it.
func TestEveryFieldIsInTheTemplate(t *testing.T) {
	if missing := missingFields(t, Template); len(missing) > 0 {
		t.Errorf("settings missing from the template: %s", strings.Join(missing, ", "))
	}
}

// TestMissingFieldIsCaught proves the check above can fail: removing one
// setting's line (set or commented) makes it report exactly that setting.
func TestMissingFieldIsCaught(t *testing.T) {
	for _, tc := range []struct{ line, want string }{
		{"  support_baseline_days: 28", "metrics.support_baseline_days"},
		{"  #     rework_rate: [0.05, 0.10, 0.20]", "metrics.benchmark_sets.*.rework_rate"},
		{"  #   token_file: /run/secrets/github     # read when the variable is empty", "sources.github.token_file"},
		{"  #     approval_role: cab", "sources.jira.change_requests.approval_role"},
		{"  #   expires: 2026-06-30", "controls.exemptions[].expires"},
		{"  jitter: 30s", "serve.jitter"},
	} {
		if !strings.Contains(Template, tc.line+"\n") {
			t.Fatalf("template has no line %q", tc.line)
		}
		cut := strings.Replace(Template, tc.line+"\n", "", 1)
		got := missingFields(t, cut)
		if strings.Join(got, ",") != tc.want {
			t.Errorf("without %q: missing %v, want [%s]", tc.line, got, tc.want)
		}
	}
}

// missingFields lists the settings of config.Config absent from tmpl with
// its examples uncommented.
func missingFields(t *testing.T, tmpl string) []string {
	t.Helper()
	var doc yaml.Node
	if err := yaml.Unmarshal([]byte(uncomment(tmpl)), &doc); err != nil {
		t.Fatalf("template with examples uncommented: %v", err)
	}
	var missing []string
	walk(reflect.TypeOf(config.Config{}), []*yaml.Node{doc.Content[0]}, "", &missing)
	sort.Strings(missing)
	return missing
}

var configPkg = reflect.TypeOf(config.Config{}).PkgPath()

// walk checks that every yaml key of struct type typ is present in at least
// one of nodes (the mapping nodes that hold values of typ), and recurses
// into fields whose type is a struct of the config package, directly or as
// the element of a pointer, slice or map.
func walk(typ reflect.Type, nodes []*yaml.Node, at string, missing *[]string) {
	for i := 0; i < typ.NumField(); i++ {
		f := typ.Field(i)
		name, opts, _ := strings.Cut(f.Tag.Get("yaml"), ",")
		if name == "-" || !f.IsExported() {
			continue
		}
		if opts == "inline" {
			// an inlined struct's keys sit in the same mapping
			walk(deref(f.Type), nodes, at, missing)
			continue
		}
		if name == "" {
			name = strings.ToLower(f.Name)
		}
		path := name
		if at != "" {
			path = at + "." + name
		}
		var values []*yaml.Node
		for _, n := range nodes {
			if v := lookup(n, name); v != nil {
				values = append(values, v)
			}
		}
		if len(values) == 0 {
			*missing = append(*missing, path)
			continue
		}
		ft := f.Type
		for ft.Kind() == reflect.Pointer {
			ft = ft.Elem()
		}
		switch {
		case ft.Kind() == reflect.Struct && ft.PkgPath() == configPkg:
			walk(ft, values, path, missing)
		case ft.Kind() == reflect.Slice && isConfigStruct(ft.Elem()):
			walk(deref(ft.Elem()), children(values, yaml.SequenceNode, false), path+"[]", missing)
		case ft.Kind() == reflect.Map && isConfigStruct(ft.Elem()):
			walk(deref(ft.Elem()), children(values, yaml.MappingNode, true), path+".*", missing)
		}
	}
}

func deref(t reflect.Type) reflect.Type {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	return t
}

func isConfigStruct(t reflect.Type) bool {
	t = deref(t)
	return t.Kind() == reflect.Struct && t.PkgPath() == configPkg
}

// children returns the items of sequences, or the values of mappings.
func children(nodes []*yaml.Node, kind yaml.Kind, mapValues bool) []*yaml.Node {
	var out []*yaml.Node
	for _, n := range nodes {
		if n.Kind != kind {
			continue
		}
		for i, c := range n.Content {
			if mapValues && i%2 == 0 {
				continue
			}
			out = append(out, c)
		}
	}
	return out
}

// lookup returns the value of key in mapping node n, or nil.
func lookup(n *yaml.Node, key string) *yaml.Node {
	if n.Kind != yaml.MappingNode {
		return nil
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		if n.Content[i].Value == key {
			return n.Content[i+1]
		}
	}
	return nil
}

// TestTemplateFitsEightyColumns: the file init writes is read and edited
// in a terminal; no line of it is wider than 80 columns.
func TestTemplateFitsEightyColumns(t *testing.T) {
	for i, l := range strings.Split(Template, "\n") {
		if n := utf8.RuneCountInString(l); n > 80 {
			t.Errorf("line %d, %d columns: %s", i+1, n, l)
		}
	}
}
