package reports

import (
	"bytes"
	"embed"
	"fmt"
	"html/template"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"time"

	"github.com/shiplog/shiplog/internal/output"
)

//go:embed templates/*.tmpl
var templateFS embed.FS

var pageTmpl = template.Must(template.New("").ParseFS(templateFS, "templates/*.tmpl"))

// page is everything one HTML file shows. Strings are plain text; the
// template escapes them.
type page struct {
	Title    string
	Subtitle string
	Period   string
	Now      string
	// PeriodNote says how the period was chosen when it was not given.
	PeriodNote string
	// Notice says, in words, that the period has no or partial data.
	Notice string
	// Stale warns that the warehouse has not been ingested for too long.
	Stale string
	// DataLine is the data's range in one line; CoverageTable the range
	// per source and kind (at the end of the page).
	DataLine      string
	CoverageTable *htmlTable
	coverageRaw   *output.Table
	// TileGroups are the headline tiles in DORA's groups (leadership).
	TileGroups []tileGroup
	// Score is the quick-check-style score (leadership, optional).
	Score *score
	// Commentary is the rendered Markdown commentary (leadership).
	Commentary template.HTML
	// Facts are label/value lines under the heading (audit: fingerprint).
	Facts []fact
	// Summary is the plain-language reading of the numbers.
	Summary []string
	// Risks are the top risks, one sentence each.
	Risks      []string
	RisksTitle string
	Tiles      []tile
	Blocks     []block
	Script     string
	// Cover replaces the header with a cover page (audit).
	Cover *cover
	// ChartHeights size charts whose height depends on their data.
	ChartHeights []chartHeight

	charts int
	// stem names the CSV files of the page's tables ("" = no CSV files);
	// csvs collects them until the page is added.
	stem string
	csvs []rendered
	// from and to are the period; covered says whether the data covers a
	// day (YYYY-MM-DD; nil: every day); freezes are shaded on day axes.
	from, to time.Time
	covered  func(day string) bool
	freezes  []Freeze
}

// tileGroup is a row of tiles under a heading.
type tileGroup struct {
	Title, Text string
	Tiles       []tile
}

// chartHeight is the CSS height of one chart, by element id.
type chartHeight struct {
	ID string
	Px int
}

type fact struct{ Label, Value string }

// tile is one headline number.
type tile struct {
	Label string
	Value string
	// Detail is a second line (p90, counts).
	Detail string
	// Tier is elite, high, medium, low or "" (no tier).
	Tier string
	// Change is the comparison with the previous period: an arrow and a
	// verdict in words (Verdict: better, worse, no material change, not
	// comparable), so that it reads the same printed in black and white;
	// Better/Worse colour it as a second signal.
	Change        string
	Verdict       string
	Arrow         string
	Better, Worse bool
	// Target is the configured target and whether it was met.
	Target    string
	TargetMet bool
	TargetBad bool
	// Score is the quick-check-style points of the metric ("" = none).
	Score string
	// Basis says which figure the tier rests on (deployment frequency).
	Basis string
}

// block is one section: a heading, a sentence, a chart or tiles, and the
// table equivalent.
type block struct {
	Heading string
	Text    string
	Tiles   []tile
	Chart   *chartView
	Table   *htmlTable
	// TableOpen shows the table instead of folding it under the chart.
	TableOpen bool
	// Empty replaces chart and table when there are no rows.
	Empty string
	// Status is a pass/fail badge next to the heading (audit).
	Status string
	// Evidence is a findings table split over lines (audit).
	Evidence *evidenceTable
	// Notes are sentences under the table (coverage of its periods).
	Notes []string

	raw *output.Table // the rows of Table, raw, for its CSV file
}

type chartView struct {
	ID     string
	Option template.JS
	Label  string
}

type htmlTable struct {
	Columns []string
	Rows    [][]cell
	// More counts rows left out by a limit.
	More int
	// CSV is the file beside the page with every row of the table.
	CSV string

	body     template.HTML // Body, once rendered
	bodyDone bool
}

type cell struct {
	Text string
	Href string
	Num  bool
	Tier string
	// Label and Break are used by evidence tables: the column's label (a
	// narrow screen shows it beside the value) and whether the value may
	// break anywhere.
	Label string
	Break bool
}

// Body renders the rows of the table as the "table" template in
// page.html.tmpl does, byte for byte, without the template's reflection:
// tables of findings or releases can run to a hundred thousand rows. A
// table with links is left to the template (Body is then empty), which
// also checks and escapes URLs.
func (t *htmlTable) Body() template.HTML {
	if !t.bodyDone {
		t.body, t.bodyDone = t.renderBody(), true
	}
	return t.body
}

func (t *htmlTable) renderBody() template.HTML {
	var n int
	for _, r := range t.Rows {
		for _, c := range r {
			if c.Href != "" {
				return ""
			}
			n += len(c.Text) + len(c.Tier) + 24
		}
		n += 6
	}
	var b strings.Builder
	b.Grow(n)
	for _, r := range t.Rows {
		b.WriteString("<tr>")
		for _, c := range r {
			if c.Num {
				b.WriteString(`<td class="num">`)
			} else {
				b.WriteString("<td>")
			}
			if c.Tier != "" {
				b.WriteString(`<span class="badge `)
				htmlEscaper.WriteString(&b, c.Tier)
				b.WriteString(`">`)
				htmlEscaper.WriteString(&b, c.Text)
				b.WriteString("</span>")
			} else {
				htmlEscaper.WriteString(&b, c.Text)
			}
			b.WriteString("</td>")
		}
		b.WriteString("</tr>\n")
	}
	return template.HTML(b.String())
}

// htmlEscaper escapes text for element content and quoted attribute values
// as html/template does for a string there.
var htmlEscaper = strings.NewReplacer(
	"\x00", "\uFFFD",
	`"`, "&#34;",
	"&", "&amp;",
	"'", "&#39;",
	"+", "&#43;",
	"<", "&lt;",
	">", "&gt;",
)

func newPage(title, subtitle string, from, to, now time.Time) *page {
	return &page{
		Title:    title,
		Subtitle: subtitle,
		Period:   periodText(from, to),
		Now:      now.UTC().Format("2006-01-02 15:04 UTC"),
		Script:   EChartsPath,
		from:     from,
		to:       to,
	}
}

// periodText shows [from, to) as people read it: the last day included.
func periodText(from, to time.Time) string {
	last := to.Add(-time.Nanosecond)
	if from.Equal(monthStart(from)) && to.Equal(monthStart(to)) && to.Equal(from.AddDate(0, 1, 0)) {
		return from.Format("January 2006")
	}
	return day(from) + " to " + day(last)
}

func (p *page) render() ([]byte, error) {
	// A page is mostly its tables and chart options: size the buffer for
	// them up front rather than growing it through a page of tens of MB.
	size := 64 << 10
	for _, b := range p.Blocks {
		if b.Table != nil {
			size += len(b.Table.Body())
		}
		if b.Chart != nil {
			size += len(b.Chart.Option)
		}
	}
	var buf bytes.Buffer
	buf.Grow(size)
	if err := pageTmpl.ExecuteTemplate(&buf, "page.html.tmpl", p); err != nil {
		return nil, fmt.Errorf("reports: render %q: %w", p.Title, err)
	}
	return buf.Bytes(), nil
}

type indexEntry struct {
	File, Title string
}

var titleRE = regexp.MustCompile(`(?s)<title>(.*?)</title>`)

// index links every page in the output folder: those of this run and any
// written there before.
func (w *writer) index() ([]byte, error) {
	seen := map[string]bool{}
	var entries []indexEntry
	for _, p := range w.pages {
		seen[p.file] = true
		entries = append(entries, indexEntry{File: p.file, Title: p.title})
	}
	old, _ := filepath.Glob(filepath.Join(w.opts.Out, "*.html"))
	sort.Strings(old)
	for _, path := range old {
		name := filepath.Base(path)
		if name == "index.html" || seen[name] {
			continue
		}
		title := name
		if b, err := os.ReadFile(path); err == nil {
			if m := titleRE.FindSubmatch(b); m != nil {
				title = unescape(string(m[1]))
			}
		}
		entries = append(entries, indexEntry{File: name, Title: title})
	}
	sort.SliceStable(entries, func(i, j int) bool {
		ri, rj := indexRank(entries[i].File), indexRank(entries[j].File)
		if ri != rj {
			return ri < rj
		}
		return entries[i].File < entries[j].File
	})
	var buf bytes.Buffer
	cov := &page{}
	w.withCoverage(cov)
	err := pageTmpl.ExecuteTemplate(&buf, "index.html.tmpl", map[string]any{
		"Now":        w.opts.Now.Format("2006-01-02 15:04 UTC"),
		"Period":     periodText(w.from, w.to),
		"PeriodNote": cov.PeriodNote,
		"DataLine":   cov.DataLine,
		"Stale":      cov.Stale,
		"Notice":     cov.Notice,
		"Entries":    entries,
	})
	if err != nil {
		return nil, fmt.Errorf("reports: render index: %w", err)
	}
	return buf.Bytes(), nil
}

// indexRank orders the index: the organisation's leadership page, the team
// pages, retrospectives, audits, dashboards, anything else.
func indexRank(file string) int {
	for i, prefix := range []string{"leadership.html", "leadership-", "retro", "audit", "dashboard-"} {
		if strings.HasPrefix(file, prefix) {
			return i
		}
	}
	return 9
}

var unescaper = strings.NewReplacer("&lt;", "<", "&gt;", ">", "&#34;", `"`, "&#39;", "'", "&quot;", `"`, "&amp;", "&")

func unescape(s string) string { return unescaper.Replace(s) }
