package demo

import (
	"bytes"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"
	"testing/fstest"
	"time"

	"github.com/shiplog/shiplog/internal/canonical"
)

var (
	defaultOnce sync.Once
	defaultDir  string
	defaultErr  error
)

// defaultData generates the default dataset once for all tests.
func defaultData(t *testing.T) string {
	t.Helper()
	defaultOnce.Do(func() {
		defaultDir, defaultErr = os.MkdirTemp("", "shiplog-demo-test-")
		if defaultErr == nil {
			_, defaultErr = Write(defaultDir, DefaultOptions())
		}
	})
	if defaultErr != nil {
		t.Fatal(defaultErr)
	}
	return defaultDir
}

var (
	parsedOnce sync.Once
	parsed     dataset
)

// defaultDataset is the default dataset read back and validated, once.
func defaultDataset(t *testing.T) dataset {
	t.Helper()
	dir := defaultData(t)
	parsedOnce.Do(func() { parsed = readDataset(t, dir) })
	if parsed == nil {
		t.Fatal("default dataset did not validate")
	}
	return parsed
}

func TestMain(m *testing.M) {
	code := m.Run()
	if defaultDir != "" {
		os.RemoveAll(defaultDir)
	}
	os.Exit(code)
}

func TestWriteIsDeterministic(t *testing.T) {
	a := defaultData(t)
	b := t.TempDir()
	counts, err := Write(b, DefaultOptions())
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range canonical.Kinds {
		x, _ := os.ReadFile(filepath.Join(a, FileName(k.Name)))
		y, _ := os.ReadFile(filepath.Join(b, FileName(k.Name)))
		if !bytes.Equal(x, y) {
			t.Errorf("%s differs between two runs with the same options", k.Name)
		}
		if n := bytes.Count(y, []byte("\n")); n != counts[k.Name] {
			t.Errorf("%s: %d lines, Write reported %d", k.Name, n, counts[k.Name])
		}
		if counts[k.Name] == 0 {
			t.Errorf("%s: no rows", k.Name)
		}
	}
	// Another seed gives another history.
	c := t.TempDir()
	o := DefaultOptions()
	o.Seed = 7
	if _, err := Write(c, o); err != nil {
		t.Fatal(err)
	}
	x, _ := os.ReadFile(filepath.Join(a, "deployment.jsonl"))
	y, _ := os.ReadFile(filepath.Join(c, "deployment.jsonl"))
	if bytes.Equal(x, y) {
		t.Error("seed 7 produced the same deployments as seed 42")
	}
}

func TestEmbeddedEqualsGenerator(t *testing.T) {
	dir := defaultData(t)
	fsys := Embedded()
	if err := fstest.TestFS(fsys, EmbeddedFiles()...); err != nil {
		t.Fatal(err)
	}
	entries, err := fs.ReadDir(fsys, ".")
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != len(canonical.Kinds) {
		t.Fatalf("embedded %d files, want one per kind (%d)", len(entries), len(canonical.Kinds))
	}
	for _, name := range EmbeddedFiles() {
		got, err := fs.ReadFile(fsys, name)
		if err != nil {
			t.Fatal(err)
		}
		want, _ := os.ReadFile(filepath.Join(dir, name))
		if !bytes.Equal(got, want) {
			t.Errorf("embedded %s differs from Write(DefaultOptions()): run `go generate ./internal/demo`", name)
		}
	}
	total := 0
	raw, _ := fs.ReadDir(data, "data")
	for _, e := range raw {
		info, _ := e.Info()
		total += int(info.Size())
	}
	if total > 1<<20 {
		t.Errorf("embedded data is %d bytes compressed; keep it under 1 MiB", total)
	}
	out := t.TempDir()
	paths, err := ExtractEmbedded(out)
	if err != nil {
		t.Fatal(err)
	}
	if len(paths) != len(canonical.Kinds) || filepath.Base(paths[0]) != "team.jsonl" {
		t.Errorf("ExtractEmbedded = %v, want one file per kind in load order", paths)
	}
}

func TestDefaultOptionsFixed(t *testing.T) {
	o := DefaultOptions()
	start, end := o.span()
	if !end.Equal(time.Date(2026, 10, 31, 23, 59, 59, 0, time.UTC)) || !start.Equal(time.Date(2026, 5, 1, 0, 0, 0, 0, time.UTC)) {
		t.Errorf("span = %v → %v, want 2026-05-01 → 2026-10-31T23:59:59Z", start, end)
	}
	fz := Freezes(o)
	if got := fz[0].Start.Format(time.DateOnly) + "/" + fz[0].End.Format(time.DateOnly); got != "2026-09-25/2026-09-29" {
		t.Errorf("quarter-close freeze = %s", got)
	}
	if got := fz[1].Start.Format(time.DateOnly) + "/" + fz[1].End.Format(time.DateOnly); got != "2026-12-19/2027-01-04" {
		t.Errorf("year-end freeze = %s", got)
	}
}

func TestOptionsValidate(t *testing.T) {
	bad := []Options{
		{Teams: 0, Services: 1, Months: 1, End: DefaultEnd},
		{Teams: 1, Services: 0, Months: 1, End: DefaultEnd},
		{Teams: 1, Services: 1, Months: 0, End: DefaultEnd},
		{Teams: 1, Services: 1, Months: 1},
		{Teams: 1, Services: 1, Months: 1, End: DefaultEnd, Scale: -1},
	}
	for _, o := range bad {
		dir := t.TempDir()
		if _, err := Write(dir, o); err == nil {
			t.Errorf("Write(%+v) succeeded", o)
		}
		if left, _ := os.ReadDir(dir); len(left) != 0 {
			t.Errorf("Write(%+v) left %d files behind", o, len(left))
		}
	}
}

// TestReferences checks that every reference in the default dataset and in
// a scaled one points at a record that exists, and that keys are unique.
func TestReferences(t *testing.T) {
	checkReferences(t, defaultDataset(t))
	dirs := map[string]string{}
	scaled := t.TempDir()
	o := DefaultOptions()
	o.Scale, o.Months = 2.5, 2
	if _, err := Write(scaled, o); err != nil {
		t.Fatal(err)
	}
	dirs["scale 2.5"] = scaled
	small := t.TempDir()
	if _, err := Write(small, Options{Seed: 3, Teams: 2, Services: 3, Months: 2, End: DefaultEnd}); err != nil {
		t.Fatal(err)
	}
	dirs["small"] = small
	tiny := t.TempDir()
	if _, err := Write(tiny, Options{Seed: 1, Teams: 1, Services: 1, Months: 1, End: time.Date(2025, 3, 1, 12, 0, 0, 0, time.FixedZone("CET", 3600))}); err != nil {
		t.Fatal(err)
	}
	dirs["one service"] = tiny
	odd := t.TempDir()
	if _, err := Write(odd, Options{Seed: 99, Teams: 7, Services: 30, Months: 2, End: DefaultEnd, Scale: 0.5}); err != nil {
		t.Fatal(err)
	}
	dirs["7 teams 30 services at half scale"] = odd
	for name, dir := range dirs {
		t.Run(name, func(t *testing.T) { checkReferences(t, readDataset(t, dir)) })
	}
}

func checkReferences(t *testing.T, ds dataset) {
	for _, k := range canonical.Kinds {
		seen := map[string]bool{}
		for _, r := range ds[k.Name] {
			var key []string
			for _, f := range k.Key {
				key = append(key, r.str(f))
			}
			id := strings.Join(key, "|")
			if seen[id] {
				t.Errorf("%s:%d: duplicate %s key %s", r.file, r.line, k.Name, id)
			}
			seen[id] = true
		}
	}
	teams := ds.index("team", "id")
	services := ds.index("service", "id")
	deps := ds.index("deployment", "id")
	incidents := ds.index("incident", "id")
	crs := ds.index("change_request", "id")
	changes := ds.index("change", "id")
	commits := map[string]bool{}
	for _, c := range ds["commit"] {
		commits[c.str("repo")+"@"+c.str("sha")] = true
	}
	for _, c := range ds["commit"] {
		for _, p := range c.strs("parents") {
			if !commits[c.str("repo")+"@"+p] {
				t.Errorf("%s:%d: parent %s not in %s", c.file, c.line, p, c.str("repo"))
			}
		}
	}
	for _, s := range ds["service"] {
		if _, ok := teams[s.str("team")]; !ok {
			t.Errorf("%s:%d: team %s missing", s.file, s.line, s.str("team"))
		}
		for _, d := range s.strs("depends_on") {
			if _, ok := services[d]; !ok {
				t.Errorf("%s:%d: depends on missing %s", s.file, s.line, d)
			}
		}
	}
	for _, c := range ds["change"] {
		repo := c.str("repo")
		for _, sha := range append(c.strs("commit_shas"), c.str("merge_commit_sha")) {
			if sha != "" && !commits[repo+"@"+sha] {
				t.Errorf("%s:%d: commit %s not in %s", c.file, c.line, sha, repo)
			}
		}
		fc, op, fr, ap, mg := c.time("first_commit_at"), c.time("opened_at"), c.time("first_review_at"), c.time("approved_at"), c.time("merged_at")
		if (!op.IsZero() && op.Before(fc)) || (!fr.IsZero() && fr.Before(op)) || (!ap.IsZero() && ap.Before(fr)) || (!mg.IsZero() && mg.Before(ap)) {
			t.Errorf("%s:%d: review timeline out of order", c.file, c.line)
		}
		if !fr.IsZero() && contains(c.strs("reviewers"), c.str("author")) {
			t.Errorf("%s:%d: author reviewed their own change", c.file, c.line)
		}
	}
	byService := map[string][]record{}
	for _, d := range ds["deployment"] {
		svc, ok := services[d.str("service")]
		if !ok {
			t.Errorf("%s:%d: service %s missing", d.file, d.line, d.str("service"))
			continue
		}
		byService[d.str("service")] = append(byService[d.str("service")], d)
		if d.time("finished_at").Before(d.time("started_at")) {
			t.Errorf("%s:%d: finished before it started", d.file, d.line)
		}
		if sha := d.str("commit_sha"); sha != "" && !commits[svc.str("repo")+"@"+sha] {
			t.Errorf("%s:%d: commit %s not in %s", d.file, d.line, sha, svc.str("repo"))
		}
		if of := d.str("rollback_of"); of != "" {
			o, ok := deps[of]
			if !ok || o.str("service") != d.str("service") || !o.time("finished_at").Before(d.time("started_at")) {
				t.Errorf("%s:%d: rollback_of %s is not an earlier deployment of %s", d.file, d.line, of, d.str("service"))
			}
		}
		if of := d.str("hotfix_of"); of != "" {
			o, okd := deps[of]
			i, oki := incidents[of]
			if !(okd && o.str("service") == d.str("service")) && !(oki && i.str("service") == d.str("service")) {
				t.Errorf("%s:%d: hotfix_of %s is neither a deployment nor an incident of %s", d.file, d.line, of, d.str("service"))
			}
			if !strings.HasSuffix(d.str("version"), "-hotfix") {
				t.Errorf("%s:%d: hotfix version %s", d.file, d.line, d.str("version"))
			}
		}
		if cr := d.str("change_request"); cr != "" {
			if _, ok := crs[cr]; !ok {
				t.Errorf("%s:%d: change request %s missing", d.file, d.line, cr)
			}
		}
		for _, ch := range d.strs("changes") {
			c, ok := changes[ch]
			if !ok && !commits[svc.str("repo")+"@"+ch] || ok && c.str("service") != d.str("service") {
				t.Errorf("%s:%d: change %s is neither a change of the service nor a commit of its repository", d.file, d.line, ch)
			}
		}
	}
	for svc, list := range byService {
		for i := 1; i < len(list); i++ {
			if list[i].time("started_at").Before(list[i-1].time("started_at")) {
				t.Errorf("%s: deployments not in time order at %s", svc, list[i].str("id"))
			}
		}
	}
	for _, a := range ds["approval"] {
		if _, ok := crs[a.str("change_request")]; !ok {
			t.Errorf("%s:%d: change request %s missing", a.file, a.line, a.str("change_request"))
		}
	}
	for _, c := range ds["change_request"] {
		for _, s := range c.strs("services") {
			if _, ok := services[s]; !ok {
				t.Errorf("%s:%d: service %s missing", c.file, c.line, s)
			}
		}
	}
	for _, i := range ds["incident"] {
		svc, ok := services[i.str("service")]
		if !ok {
			t.Errorf("%s:%d: service missing", i.file, i.line)
			continue
		}
		if c := i.str("caused_by_deployment"); c != "" {
			if d, ok := deps[c]; !ok || d.str("service") != i.str("service") || i.time("opened_at").Before(d.time("finished_at")) {
				t.Errorf("%s:%d: caused_by_deployment %s is not an earlier deployment of the service", i.file, i.line, c)
			}
		}
		if sha := i.str("root_cause_sha"); sha != "" && !commits[svc.str("repo")+"@"+sha] {
			t.Errorf("%s:%d: root cause %s not in %s", i.file, i.line, sha, svc.str("repo"))
		}
		if r := i.time("resolved_at"); !r.IsZero() && r.Before(i.time("opened_at")) {
			t.Errorf("%s:%d: resolved before opened", i.file, i.line)
		}
	}
	for _, kind := range []string{"support_ticket", "test_run", "adoption", "release_plan"} {
		for _, r := range ds[kind] {
			if _, ok := services[r.str("service")]; !ok {
				t.Errorf("%s:%d: service %s missing", r.file, r.line, r.str("service"))
			}
		}
	}
	for _, s := range ds["support_ticket"] {
		if i := s.str("incident"); i != "" {
			if _, ok := incidents[i]; !ok {
				t.Errorf("%s:%d: incident %s missing", s.file, s.line, i)
			}
		}
	}
	for _, tr := range ds["test_run"] {
		if tr.num("passed")+tr.num("failed")+tr.num("skipped") != tr.num("tests") {
			t.Errorf("%s:%d: passed+failed+skipped != tests", tr.file, tr.line)
		}
	}
}

func sortedKeys(m map[string]bool) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// BenchmarkWrite measures generation speed at scale 10 (about 120
// services, six months) and reports rows per second.
func BenchmarkWrite(b *testing.B) {
	o := DefaultOptions()
	o.Scale = 10
	var rows int
	for i := 0; i < b.N; i++ {
		dir := b.TempDir()
		counts, err := Write(dir, o)
		if err != nil {
			b.Fatal(err)
		}
		rows = 0
		for _, n := range counts {
			rows += n
		}
	}
	b.ReportMetric(float64(rows), "rows")
	b.ReportMetric(float64(rows)*float64(b.N)/b.Elapsed().Seconds(), "rows/s")
}

func TestCalendarFreezes(t *testing.T) {
	got := CalendarFreezes(DefaultOptions())
	if len(got) != 2 || got[0].Name != "quarter-close" || got[0].Start != "2026-09-25T00:00:00Z" || got[0].End != "2026-09-29T00:00:00Z" ||
		got[1].Start != "2026-12-19T00:00:00Z" || got[1].End != "2027-01-04T00:00:00Z" {
		t.Errorf("CalendarFreezes = %+v", got)
	}
}
