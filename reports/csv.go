package reports

import (
	"bytes"
	"fmt"
	"strings"

	"github.com/shiplog/shiplog/internal/format"
	"github.com/shiplog/shiplog/internal/output"
)

// newPage starts a page of the report for the writer's period, with the
// data's coverage. file is the page's file name; its tables are written
// beside it as CSV (file stem + "-" + the table's heading) when the writer
// writes files.
func (w *writer) newPage(title, subtitle, file string) *page {
	pg := newPage(title, subtitle, w.from, w.to, w.opts.Now)
	if w.csv && file != "" {
		pg.stem = strings.TrimSuffix(file, ".html")
	}
	w.withCoverage(pg)
	pg.freezes = w.opts.Freezes
	if w.cov != nil {
		r := w.cov.Range(periodKinds...)
		if !r.First.IsZero() {
			first, through := day(r.First), day(r.Through)
			pg.covered = func(d string) bool { return d >= first && d <= through }
		}
	}
	return pg
}

// attachCSV writes every row of t (raw values, format.Raw) to a CSV file
// beside the page and links it under ht. Nothing without a stem.
func (pg *page) attachCSV(ht *htmlTable, t *output.Table, heading string) error {
	if pg.stem == "" || ht == nil || t == nil {
		return nil
	}
	name := pg.stem + "-" + slug(heading)
	file := name + ".csv"
	for n := 2; pg.hasCSV(file); n++ {
		file = fmt.Sprintf("%s-%d.csv", name, n)
	}
	var buf bytes.Buffer
	if err := output.WriteCSV(&buf, csvTable(t)); err != nil {
		return fmt.Errorf("reports: %s: %w", file, err)
	}
	pg.csvs = append(pg.csvs, rendered{file: file, body: buf.Bytes()})
	ht.CSV = file
	return nil
}

func (pg *page) hasCSV(file string) bool {
	for _, c := range pg.csvs {
		if c.file == file {
			return true
		}
	}
	return false
}

// csvTable gives a table's columns their kinds by name where it declares
// none, so that rates and hours keep their precision and times are RFC
// 3339.
func csvTable(t *output.Table) *output.Table {
	out := *t
	out.Kinds = map[string]format.Kind{}
	for _, c := range t.Columns {
		out.Kinds[c] = kindOf(t, c, nil)
	}
	return &out
}

// kindOf is what column col of t means: as the table declares, else as
// its name implies (format.KindByName), else a count for whole numbers.
func kindOf(t *output.Table, col string, v any) format.Kind {
	if t != nil {
		if k := t.Kind(col); k != format.Auto {
			return k
		}
	}
	if k := format.KindByName(col); k != format.Auto {
		return k
	}
	switch v.(type) {
	case int, int8, int16, int32, int64, uint8, uint16, uint32, uint64:
		return format.Count
	}
	return format.Auto
}

// cellText renders a value of column col for people, with the formatter
// every command uses: rates as percentages, durations in the largest
// sensible unit, unknown as a dash, never 0.
func cellText(t *output.Table, col string, v any) string {
	return format.Human(kindOf(t, col, v), v)
}

// slug makes a heading safe for a file name: lower case, runs of other
// characters as one "-".
func slug(s string) string {
	var b strings.Builder
	dash := false
	for _, r := range strings.ToLower(s) {
		if r >= 'a' && r <= 'z' || r >= '0' && r <= '9' {
			b.WriteRune(r)
			dash = false
		} else if !dash && b.Len() > 0 {
			b.WriteByte('-')
			dash = true
		}
	}
	out := strings.TrimSuffix(b.String(), "-")
	if len(out) > 48 {
		out = strings.TrimSuffix(out[:48], "-")
	}
	if out == "" {
		out = "table"
	}
	return out
}
