package transform

import (
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"testing"
)

// One home for every rule: what counts as production, approved, failed …
// is decided in transform/models and carried on the marts; everything
// else reads the marts. This guard scans the repository's SQL files and
// the SQL inside Go strings outside the places that may touch the
// canonical tables, and fails on
//
//   - a canonical table named as a relation (after FROM, JOIN, INTO,
//     UPDATE), unless the same text defines a CTE of that name;
//   - a decision literal used as a rule: 'prod' or 'approved' anywhere in
//     SQL, 'production' compared with something (=, <>, IN (…),
//     list_contains), lower(environment) (re-keying environment names),
//     $production (the production list taken as a parameter, to re-split);
//   - in Go, a comparison (==, !=, case, strings.EqualFold) with
//     "production", "prod" or "approved".
//
// A word in a comment, a column that happens to be called changes, or
// 'production' as a label a query gives its rows (THEN 'production') is
// not a violation; TestGuardFindsPlantedViolations holds the guard to
// that.

// canonicalTables are the tables of DESIGN.md's canonical format.
var canonicalTables = []string{"teams", "services", "deployments", "changes", "commits", "incidents",
	"change_requests", "approvals", "support_tickets", "test_runs", "adoption", "release_plans"}

// homes may name canonical tables and decide rules: the models, the
// sources and their SQL mappings (the file loader among them), the schema
// (migrations and the canonical field list), the demo generator that
// writes source files, export, which copies the canonical tables as they
// are, test fixtures and the crash trial, and the model runner, which
// reads them only for the run values the models declare (which sources fed
// a table, the latest deployment month the macros' tests run on) and, in
// incremental.go, to find which partitions changed and which services
// reference each other (it decides no rule: the models it reruns do). Test
// files are never scanned: tests build fixtures in the canonical tables.
var homes = []string{
	"transform/models/",
	"ingest/",
	"internal/warehouse/migrations/",
	"internal/canonical/",
	"internal/demo/",
	"export/",
	"internal/fixture/",   // fixtures for tests, written as sources would
	"internal/killtrial/", // the crash trial checks the stored rows themselves
	"transform/transform.go",
	"transform/incremental.go",
}

var (
	lineComment = regexp.MustCompile(`--[^\n]*`)
	// relation: FROM / JOIN / INTO / UPDATE followed by a (possibly
	// schema-qualified) name
	relationRE = regexp.MustCompile(`(?i)\b(?:from|join|into|update)\s+(?:main\.)?([a-z_][a-z0-9_]*)\b`)
	// a CTE definition: name [(cols)] AS [NOT] [MATERIALIZED] (
	cteRE       = regexp.MustCompile(`(?i)\b([a-z_][a-z0-9_]*)\s*(?:\([^()]*\))?\s+as\s+(?:not\s+)?(?:materialized\s+)?\(`)
	prodAnyRE   = regexp.MustCompile(`(?i)'prod'`)
	approvedRE  = regexp.MustCompile(`(?i)'approved'`)
	prodCompare = regexp.MustCompile(`(?i)(?:=|<>|!=)\s*'production'|'production'\s*(?:=|<>|!=)|\bin\s*\([^()]*'production'|list_contains\s*\([^()]*'production'`)
	lowerEnvRE  = regexp.MustCompile(`(?i)lower\s*\(\s*(?:[a-z_]+\.)?environment\s*\)`)
	prodParamRE = regexp.MustCompile(`(?i)\$production\b`)
	// looksSQL tells a Go string holding SQL (or a fragment of a statement)
	// from prose such as a command's help text
	looksSQL = regexp.MustCompile(`(?is)\bselect\b|\binsert\s+into\b|\bdelete\s+from\b|\bupdate\s+\w+\s+set\b|\bfrom\b.*\bwhere\b`)
)

// sqlViolations returns what text (SQL) breaks, one message each.
func sqlViolations(text string) []string {
	text = lineComment.ReplaceAllString(text, "")
	ctes := map[string]bool{}
	for _, m := range cteRE.FindAllStringSubmatch(text, -1) {
		ctes[strings.ToLower(m[1])] = true
	}
	var out []string
	for _, m := range relationRE.FindAllStringSubmatch(text, -1) {
		name := strings.ToLower(m[1])
		for _, c := range canonicalTables {
			if name == c && !ctes[name] {
				out = append(out, "reads canonical table "+name)
			}
		}
	}
	for _, re := range []*regexp.Regexp{prodAnyRE, approvedRE, prodCompare, lowerEnvRE, prodParamRE} {
		for _, m := range re.FindAllString(text, -1) {
			out = append(out, "decides a rule: "+strings.Join(strings.Fields(m), " "))
		}
	}
	return out
}

var decisionWords = map[string]bool{"production": true, "prod": true, "approved": true}

// goViolations returns what a Go file breaks: SQL in its string literals,
// and comparisons with a decision word.
func goViolations(path string, src []byte) ([]string, error) {
	fset := token.NewFileSet()
	f, err := parser.ParseFile(fset, path, src, 0)
	if err != nil {
		return nil, err
	}
	var out []string
	at := func(n ast.Node, msg string) {
		out = append(out, fmt.Sprintf("line %d: %s", fset.Position(n.Pos()).Line, msg))
	}
	word := func(e ast.Expr) (string, bool) {
		lit, ok := e.(*ast.BasicLit)
		if !ok || lit.Kind != token.STRING {
			return "", false
		}
		s, err := strconv.Unquote(lit.Value)
		return s, err == nil && decisionWords[strings.ToLower(s)]
	}
	ast.Inspect(f, func(n ast.Node) bool {
		switch x := n.(type) {
		case *ast.BasicLit:
			if x.Kind == token.STRING {
				if s, err := strconv.Unquote(x.Value); err == nil && looksSQL.MatchString(s) {
					for _, v := range sqlViolations(s) {
						at(x, v)
					}
				}
			}
		case *ast.BinaryExpr:
			if x.Op == token.EQL || x.Op == token.NEQ {
				for _, e := range []ast.Expr{x.X, x.Y} {
					if w, ok := word(e); ok {
						at(x, fmt.Sprintf("decides a rule: compares with %q", w))
					}
				}
			}
		case *ast.CaseClause:
			for _, e := range x.List {
				if w, ok := word(e); ok {
					at(x, fmt.Sprintf("decides a rule: case %q", w))
				}
			}
		case *ast.CallExpr:
			if sel, ok := x.Fun.(*ast.SelectorExpr); ok && sel.Sel.Name == "EqualFold" {
				for _, a := range x.Args {
					if w, ok := word(a); ok {
						at(x, fmt.Sprintf("decides a rule: EqualFold with %q", w))
					}
				}
			}
		}
		return true
	})
	return out, nil
}

// scanRepository returns every violation under root, as "path: message".
func scanRepository(root string) ([]string, error) {
	var out []string
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel := filepath.ToSlash(strings.TrimPrefix(path, root+string(filepath.Separator)))
		if d.IsDir() {
			if strings.HasPrefix(d.Name(), ".") && path != root || d.Name() == "testdata" || d.Name() == "node_modules" {
				return filepath.SkipDir
			}
			for _, h := range homes {
				if rel+"/" == h {
					return filepath.SkipDir
				}
			}
			return nil
		}
		for _, h := range homes {
			if rel == h {
				return nil
			}
		}
		var found []string
		switch {
		case strings.HasSuffix(rel, "_test.go"):
			return nil
		case strings.HasSuffix(rel, ".go"):
			src, err := os.ReadFile(path)
			if err != nil {
				return err
			}
			if found, err = goViolations(rel, src); err != nil {
				return err
			}
		case strings.HasSuffix(rel, ".sql"):
			src, err := os.ReadFile(path)
			if err != nil {
				return err
			}
			found = sqlViolations(string(src))
		}
		for _, v := range found {
			out = append(out, rel+": "+v)
		}
		return nil
	})
	sort.Strings(out)
	return out, err
}

func TestEveryRuleHasOneHome(t *testing.T) {
	root, err := filepath.Abs("..")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(root, "go.mod")); err != nil {
		t.Fatalf("repository root not found at %s: %v", root, err)
	}
	found, err := scanRepository(root)
	if err != nil {
		t.Fatal(err)
	}
	if len(found) > 0 {
		t.Errorf("outside transform/models and the sources, code re-decides a rule or reads a canonical table; read the marts instead:\n  %s",
			strings.Join(found, "\n  "))
	}
}

// TestGuardFindsPlantedViolations: the guard catches each kind of
// violation, and passes what only looks like one.
func TestGuardFindsPlantedViolations(t *testing.T) {
	sqlCases := []struct {
		name, sql string
		want      int
	}{
		{"reads deployments", "select * from deployments where status = 'success'", 1},
		{"joins change_requests", "select d.id from fct_deployments d\n  JOIN change_requests cr on cr.id = d.change_request", 1},
		{"schema-qualified", "select count(*) from main.approvals", 1},
		{"production list", "select * from fct_deployments where lower(environment) in ('production', 'prod')", 3},
		{"production compared", "select * from x where environment = 'production'", 1},
		{"production in a list_contains", "select list_contains(['production', 'live'], environment) from x", 1},
		{"approved status", "select id from fct_change_requests where status = 'approved'", 1},
		{"the production list re-split", "select * from fct_deployments where list_contains(string_split($production, ','), environment)", 1},
		{"reads marts", "select * from fct_deployments d join dim_services s using (service) where d.is_production", 0},
		{"a CTE named like a table", "with deployments as (select * from fct_deployments) select * from deployments", 0},
		{"a label, not a rule", "select case when is_production then 'production' else environment end from fct_deployments", 0},
		{"words in comments", "-- reads deployments from changes where environment = 'prod'\nselect 1", 0},
		{"a column called changes", "select len(changes) as n, unnest(changes) from fct_x", 0},
		{"a table whose name starts like one", "select * from deployments_archive join changes_seen using (id)", 0},
	}
	for _, tc := range sqlCases {
		if got := sqlViolations(tc.sql); len(got) != tc.want {
			t.Errorf("%s: %d violations %v, want %d", tc.name, len(got), got, tc.want)
		}
	}

	goCases := []struct {
		name, src string
		want      int
	}{
		{"SQL in a string", "package p\nconst q = `SELECT * FROM incidents WHERE severity = 'sev1'`\n", 1},
		{"comparison", "package p\nfunc f(env string) bool { return env == \"production\" }\n", 1},
		{"case", "package p\nfunc f(s string) int { switch s { case \"approved\": return 1 }; return 0 }\n", 1},
		{"EqualFold", "package p\nimport \"strings\"\nfunc f(s string) bool { return strings.EqualFold(s, \"Prod\") }\n", 1},
		{"a default value is no rule", "package p\nvar envs = []string{\"production\", \"prod\"}\n", 0},
		{"help text is prose", "package p\nconst help = `Load JUnit XML reports into test_runs (one run per suite)`\n", 0},
		{"a fragment of a statement", "package p\nconst from = `FROM test_runs WHERE service = $service`\n", 1},
		{"marts", "package p\nconst q = `SELECT count(*) FROM fct_deployments WHERE is_production`\n", 0},
	}
	for _, tc := range goCases {
		got, err := goViolations(tc.name+".go", []byte(tc.src))
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != tc.want {
			t.Errorf("%s: %d violations %v, want %d", tc.name, len(got), got, tc.want)
		}
	}

	// Planted in a copy of a repository: a control reading a canonical
	// table is found, while the same file under transform/models (a home)
	// is not.
	root := t.TempDir()
	write := func(rel, body string) {
		p := filepath.Join(root, rel)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	planted := "-- name: x\nselect id from deployments where environment in ('production', 'prod')\n"
	write("queries/controls/x.sql", planted)
	write("transform/models/staging/stg_x.sql", planted)
	write("gate/gate_test.go", "package gate\nconst q = `select * from deployments`\n")
	found, err := scanRepository(root)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{
		"queries/controls/x.sql: decides a rule: 'prod'",
		"queries/controls/x.sql: decides a rule: in ('production'",
		"queries/controls/x.sql: reads canonical table deployments",
	}
	if strings.Join(found, "\n") != strings.Join(want, "\n") {
		t.Errorf("planted:\n%s\nwant:\n%s", strings.Join(found, "\n"), strings.Join(want, "\n"))
	}
}
