package reports

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/shiplog/shiplog/internal/output"
)

// batchData is fakeData that also answers metrics filters in batches.
type batchData struct {
	*fakeData
	batches [][]string
}

func (d *batchData) MetricsMany(ctx context.Context, fs []MetricsFilter) ([]*output.Table, error) {
	var names []string
	for _, f := range fs {
		names = append(names, fmt.Sprintf("%s %s %s..%s %v", f.Level, f.By, day(f.From), day(f.To), f.Teams))
	}
	d.mu.Lock()
	d.batches = append(d.batches, names)
	d.mu.Unlock()
	if d.failOn == "batch" {
		return nil, fmt.Errorf("batch failed")
	}
	out := make([]*output.Table, len(fs))
	for i, f := range fs {
		t, err := d.fakeData.Metrics(ctx, f)
		if err != nil {
			return nil, err
		}
		out[i] = t
	}
	// Those answers are not calls one by one.
	d.mu.Lock()
	var keep []string
	drop := len(fs)
	for i := len(d.fakeData.calls) - 1; i >= 0; i-- {
		c := d.fakeData.calls[i]
		if drop > 0 && strings.HasPrefix(c, "metrics ") {
			drop--
			continue
		}
		keep = append([]string{c}, keep...)
	}
	d.fakeData.calls = keep
	d.mu.Unlock()
	return out, nil
}

// TestLeadershipBatch checks that with a data layer that answers batches
// the leadership report asks for its metrics in one batch — the teams, the
// organisation and the services for October 2026 and September 2026 and the
// twelve monthly trend periods at organisation and team level — asks for
// nothing one by one, and writes the same pages as without batches.
func TestLeadershipBatch(t *testing.T) {
	plain := newFixture(t)
	outPlain := t.TempDir()
	if _, err := Write(context.Background(), plain, Options{Out: outPlain, Now: fixedNow}, Kinds...); err != nil {
		t.Fatal(err)
	}
	batch := &batchData{fakeData: newFixture(t)}
	outBatch := t.TempDir()
	if _, err := Write(context.Background(), batch, Options{Out: outBatch, Now: fixedNow}, Kinds...); err != nil {
		t.Fatal(err)
	}
	want := []string{
		"team  2026-10-01..2026-11-01 []",
		"org  2026-10-01..2026-11-01 []",
		"service  2026-10-01..2026-11-01 []",
		"team  2026-09-01..2026-10-01 []",
		"org  2026-09-01..2026-10-01 []",
		"service  2026-09-01..2026-10-01 []",
		"team week 2026-10-01..2026-11-01 []",
		"org week 2026-10-01..2026-11-01 []",
		"org month 2025-11-01..2026-11-01 []",
		"team month 2025-11-01..2026-11-01 []",
	}
	if len(batch.batches) != 1 || strings.Join(batch.batches[0], "\n") != strings.Join(want, "\n") {
		t.Errorf("batches:\n%q\nwant one:\n%q", batch.batches, want)
	}
	// The fixture's service tables have no row for the services of either
	// team, so each team page asks for its services on its own, with or
	// without batches (see metrics); nothing else is asked one by one.
	alone := []string{
		"metrics service  2026-10-01..2026-11-01 [core <platform>]",
		"metrics service  2026-09-01..2026-10-01 [core <platform>]",
		"metrics service  2026-10-01..2026-11-01 [payments]",
		"metrics service  2026-09-01..2026-10-01 [payments]",
	}
	var got []string
	for _, c := range batch.calls {
		if strings.HasPrefix(c, "metrics ") {
			got = append(got, c)
		}
	}
	if strings.Join(got, "\n") != strings.Join(alone, "\n") {
		t.Errorf("metrics asked one by one after the batch:\n%q\nwant\n%q", got, alone)
	}
	inPlain := map[string]bool{}
	for _, c := range plain.calls {
		inPlain[c] = true
	}
	for _, c := range alone {
		if !inPlain[c] {
			t.Errorf("%s: not asked without batches either", c)
		}
	}
	pages, _ := filepath.Glob(filepath.Join(outPlain, "*.html"))
	if len(pages) < 4 {
		t.Fatalf("only %d pages", len(pages))
	}
	for _, p := range pages {
		a, _ := os.ReadFile(p)
		b, err := os.ReadFile(filepath.Join(outBatch, filepath.Base(p)))
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(a, b) {
			t.Errorf("%s differs with batches", filepath.Base(p))
		}
	}
}

func TestLeadershipBatchFails(t *testing.T) {
	out := filepath.Join(t.TempDir(), "out")
	data := &batchData{fakeData: newFixture(t)}
	data.failOn = "batch"
	if _, err := Write(context.Background(), data, Options{Out: out, Now: fixedNow}, Kinds...); err == nil || !strings.Contains(err.Error(), "batch failed") {
		t.Fatalf("error %v, want the batch's", err)
	}
	if _, err := os.Stat(out); !os.IsNotExist(err) {
		t.Errorf("%s was created", out)
	}
}
