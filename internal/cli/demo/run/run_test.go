package run

import (
	"bufio"
	"bytes"
	"context"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/shiplog/shiplog/audit"
	"github.com/shiplog/shiplog/internal/canonical"
	"github.com/shiplog/shiplog/internal/demo"
	"github.com/shiplog/shiplog/internal/iostreams"
	"github.com/shiplog/shiplog/internal/warehouse"
)

// TestDemoEndToEnd runs `shiplog demo` as a user would and checks what it
// promises: every embedded record in the warehouse, the marts built, one
// headline row per team, every report written, and the governance findings
// the demo organisation was built to contain (the table in
// internal/demo/README.md, written when the data was planted).
func TestDemoEndToEnd(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end demo: skipped with -short")
	}
	ctx := context.Background()
	dir := t.TempDir()
	ios, _, stdout, stderr := iostreams.Test()
	now := func() time.Time { return time.Date(2026, 11, 26, 9, 0, 0, 0, time.UTC) }
	p, err := Run(ctx, &Options{IO: ios, Now: now, Dir: dir})
	if err != nil {
		t.Fatalf("demo: %v\n%s", err, stderr)
	}

	// The headline table: a header and one row per team of the README.
	lines := strings.Split(strings.TrimSpace(stdout.String()), "\n")
	var teams []string
	for _, l := range lines[3:] {
		teams = append(teams, strings.Fields(l)[0])
	}
	if got := strings.Join(teams, ","); got != "data,identity,payments,platform,storefront" {
		t.Errorf("headline teams %s\n%s", got, stdout)
	}
	for _, want := range []string{p.Warehouse, p.Index, "Try next:"} {
		if !strings.Contains(stderr.String(), want) {
			t.Errorf("stderr does not say %q", want)
		}
	}

	db, err := warehouse.Open(ctx, p.Warehouse, warehouse.Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()

	// Every record of the embedded files is in its canonical table.
	for _, k := range canonical.Kinds {
		want := embeddedLines(t, k.Name)
		var got int
		if err := db.QueryRow(`SELECT count(*) FROM ` + k.Table).Scan(&got); err != nil {
			t.Fatal(err)
		}
		if got != want {
			t.Errorf("%s: %d rows, want the %d lines of the embedded file", k.Table, got, want)
		}
	}
	var marts int
	// a mart is a table or a view (fct_changes is a view of fct_change_rows)
	db.QueryRow(`SELECT count(*) FROM information_schema.tables WHERE table_schema = 'main' AND table_name IN ('fct_deployments','fct_changes','fct_failures','fct_incidents')`).Scan(&marts)
	if marts != 4 {
		t.Errorf("%d of the 4 core marts exist", marts)
	}

	// Reports: the index and each page it links.
	index, err := os.ReadFile(p.Index)
	if err != nil {
		t.Fatal(err)
	}
	for _, page := range []string{"leadership.html", "retro.html", "audit.html", "leadership-payments.html"} {
		if !bytes.Contains(index, []byte(page)) {
			t.Errorf("index does not link %s", page)
		}
		if _, err := os.Stat(filepath.Join(p.Reports, page)); err != nil {
			t.Error(err)
		}
	}

	// Governance: each control finds exactly the records planted for it.
	res, err := audit.Run(ctx, db, Config(), audit.Options{Now: now()})
	if err != nil {
		t.Fatal(err)
	}
	got := map[string][]string{}
	for _, c := range res.Controls {
		tab := res.FindingsTable(c)
		for _, r := range tab.Rows {
			// plan-vs-actual names what its subject is: "deployment:…".
			id := r[0].(string)
			for _, prefix := range []string{"change_request:", "deployment:"} {
				id = strings.TrimPrefix(id, prefix)
			}
			got[c.Name] = append(got[c.Name], id)
		}
		sort.Strings(got[c.Name])
	}
	want := plantedViolations(t)
	for control, ids := range want {
		if strings.Join(got[control], " ") != strings.Join(ids, " ") {
			t.Errorf("%s: found %v, planted %v", control, got[control], ids)
		}
	}
	// The gate decisions the demo records leave one release deployed after
	// a NO-GO without an override reason, and one override.
	var noGoFindings, overrides int
	db.QueryRow(`SELECT count(*) FROM gate_decisions WHERE decision = 'override' AND override_reason IS NOT NULL`).Scan(&overrides)
	noGoFindings = len(got["gate-override"])
	if overrides != 1 || noGoFindings < 1 {
		t.Errorf("gate: %d overrides, %d gate-override findings; want 1 and at least 1", overrides, noGoFindings)
	}

	// A second run rebuilds the same warehouse: same headline.
	ios2, _, stdout2, _ := iostreams.Test()
	if _, err := Run(ctx, &Options{IO: ios2, Now: now, Dir: t.TempDir(), NoReports: true}); err != nil {
		t.Fatal(err)
	}
	if stdout2.String() != stdout.String() {
		t.Errorf("a second demo run printed different metrics:\n%s\nvs\n%s", stdout2, stdout)
	}
}

func embeddedLines(t *testing.T, kind string) int {
	t.Helper()
	f, err := demo.Embedded().Open(demo.FileName(kind))
	if err != nil {
		if os.IsNotExist(err) || strings.Contains(err.Error(), fs.ErrNotExist.Error()) {
			return 0
		}
		t.Fatal(err)
	}
	defer f.Close()
	n := 0
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<24)
	for sc.Scan() {
		if strings.TrimSpace(sc.Text()) != "" {
			n++
		}
	}
	return n
}

// plantedViolations reads the table of planted violations from the demo
// generator's README: | `control` | `record` | what |.
func plantedViolations(t *testing.T) map[string][]string {
	t.Helper()
	b, err := os.ReadFile("../../../demo/README.md")
	if err != nil {
		t.Fatal(err)
	}
	re := regexp.MustCompile("^\\| `([a-z-]+)` \\| `([^`]+)` \\|")
	out := map[string][]string{}
	for _, l := range strings.Split(string(b), "\n") {
		if m := re.FindStringSubmatch(l); m != nil {
			out[m[1]] = append(out[m[1]], m[2])
		}
	}
	if len(out) < 8 {
		t.Fatalf("read only %d controls from the README", len(out))
	}
	for k := range out {
		sort.Strings(out[k])
	}
	return out
}
