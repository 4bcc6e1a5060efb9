package reports

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// coverageCase writes every report of the fixture with a coverage and a
// period, and returns the folder.
func coverageCase(t *testing.T, first, ingest, from, to time.Time) string {
	t.Helper()
	fx := newFixture(t)
	fx.cov = fixtureCoverage(fixedNow, first, time.Date(2026, 10, 31, 0, 0, 0, 0, time.UTC), ingest)
	out := t.TempDir()
	if _, err := Write(context.Background(), covData{fx}, Options{Out: out, Now: fixedNow, From: from, To: to}, Kinds...); err != nil {
		t.Fatal(err)
	}
	return out
}

func readPages(t *testing.T, dir string, min int) map[string]string {
	t.Helper()
	files, _ := filepath.Glob(filepath.Join(dir, "*.html"))
	out := map[string]string{}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		out[filepath.Base(f)] = string(b)
	}
	if len(out) < min {
		t.Fatalf("only %d pages written", len(out))
	}
	return out
}

var aug1 = time.Date(2026, 8, 1, 0, 0, 0, 0, time.UTC)

// The last successful ingest on 1 November, read on 15 November: 14 days,
// over the 7-day limit. Every page, the index and the audit cover say so.
func TestStaleWarehouseOnEveryPage(t *testing.T) {
	pages := readPages(t, coverageCase(t, aug1, ts("2026-11-01T00:00:00Z"), time.Time{}, time.Time{}), 6)
	want := "Stale data: the last successful ingest was 14 days ago (2026-11-01 00:00 UTC), over the 7.0 days limit (reports.stale_after)."
	for name, body := range pages {
		if !strings.Contains(body, want) {
			t.Errorf("%s does not flag the stale warehouse", name)
		}
	}
	// Ingested the day before: no page is flagged.
	for name, body := range readPages(t, coverageCase(t, aug1, ts("2026-11-14T00:00:00Z"), time.Time{}, time.Time{}), 6) {
		if strings.Contains(body, "Stale data") {
			t.Errorf("%s flags a fresh warehouse", name)
		}
	}
}

// March 2026, before the data (1 August onwards): every page says there is
// no data; no tile shows a zero or a tier; the summary does not say "made
// no production deployments".
func TestPeriodBeforeAnyData(t *testing.T) {
	pages := readPages(t, coverageCase(t, aug1, ts("2026-11-14T00:00:00Z"), time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC), time.Date(2026, 4, 1, 0, 0, 0, 0, time.UTC)), 4)
	for name, body := range pages {
		if !strings.Contains(body, "No data for this period: nothing in this period; deployments run 2026-08-01 to 2026-10-31.") {
			t.Errorf("%s does not say the period has no data", name)
		}
	}
	org := pages["leadership.html"]
	for _, want := range []string{
		"There is no deployment data for March 2026 (nothing in this period; deployments run 2026-08-01 to 2026-10-31), so no metric is shown",
		`<div class="value">no data</div>`,
		"No data for this period, so there is nothing to compare.",
	} {
		if !strings.Contains(org, want) {
			t.Errorf("leadership.html lacks %q", want)
		}
	}
	tiles := org[strings.Index(org, `<section class="group">`):strings.Index(org, "Top risks")]
	for _, bad := range []string{"made no production deployments", `class="badge`, `<div class="value">0</div>`, "previous period"} {
		if strings.Contains(tiles, bad) {
			t.Errorf("the tiles of an empty period show %q", bad)
		}
	}
}

// Data from 10 September: September is partial, October complete (the
// default). The comparison with September is marked, neither better nor
// worse.
func TestPartialPreviousPeriod(t *testing.T) {
	pages := readPages(t, coverageCase(t, time.Date(2026, 9, 10, 0, 0, 0, 0, time.UTC), ts("2026-11-14T00:00:00Z"), time.Time{}, time.Time{}), 6)
	org := pages["leadership.html"]
	for _, want := range []string{
		"Period: October 2026 (the last complete month with deployment data",
		`<div class="change"><span class="arrow" aria-hidden="true">▲</span> <strong>not comparable</strong>: up 4 from 20 in the previous period, which has partial data (deployments begin 2026-09-10)</div>`,
		"The previous period is partial (deployments begin 2026-09-10): rises against it may not be like for like.",
	} {
		if !strings.Contains(org, want) {
			t.Errorf("leadership.html lacks %q", want)
		}
	}
	if strings.Contains(org, "change better") || strings.Contains(org, "change worse") {
		t.Errorf("a comparison with a partial period is called better or worse")
	}
	if strings.Contains(org, "Partial period:") {
		t.Errorf("October is complete but called partial")
	}
}
