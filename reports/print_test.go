package reports

import (
	"context"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/chromedp"

	"github.com/shiplog/shiplog/dashboards"
	"github.com/shiplog/shiplog/internal/output"
)

// Paper sizes and the audit page's @page margin (12 mm), in CSS pixels (96
// to the inch): the width a printed page lays its content out in.
const (
	pxPerMM      = 96 / 25.4
	auditMarginM = 12
)

var papers = []struct {
	name  string
	size  chromedp.PaperSize
	width float64 // content width in CSS px
}{
	{"A4", chromedp.PaperA4, (210 - 2*auditMarginM) * pxPerMM},
	{"Letter", chromedp.PaperLetter, 8.5*96 - 2*auditMarginM*pxPerMM},
}

// openAt loads a page in a new tab with a viewport width and, when print is
// set, with print media emulated, as the page is laid out on paper.
func openAt(t *testing.T, bctx context.Context, path string, width int64, print bool) context.Context {
	t.Helper()
	ctx, cancel := chromedp.NewContext(bctx)
	t.Cleanup(cancel)
	abs, err := filepath.Abs(path)
	if err != nil {
		t.Fatal(err)
	}
	tctx, cancelT := context.WithTimeout(ctx, 60*time.Second)
	t.Cleanup(cancelT)
	media := ""
	if print {
		media = "print"
	}
	if err := chromedp.Do(tctx,
		chromedp.EmulateViewport(width, 1000),
		chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
			_, err := cdp.Call(ctx, tg, emulation.SetEmulatedMedia, emulation.SetEmulatedMediaParams{Media: media})
			return err
		}),
		chromedp.Navigate("file://"+filepath.ToSlash(abs)),
		chromedp.WaitReady(chromedp.CSS("body")),
		chromedp.Sleep(300*time.Millisecond),
	); err != nil {
		t.Fatalf("%s at %d px: %v", path, width, err)
	}
	return tctx
}

// overflowJS lists every cell of a table (evidence tables, the controls'
// outcome classes, the cover) that reaches past the page's content width,
// and every table wrapper that scrolls sideways; it also counts the
// evidence tables, the other tables and the cells it measured.
const overflowJS = `(() => {
  const width = document.documentElement.clientWidth;
  const out = {tables: 0, cells: 0, others: 0, problems: []};
  for (const table of document.querySelectorAll('table')) {
    if (table.classList.contains('evidence')) out.tables++; else out.others++;
    const section = table.closest('section');
    const where = section ? section.querySelector('h2').textContent.trim() : '?';
    const wrap = table.closest('.tablewrap');
    if (wrap && wrap.scrollWidth > wrap.clientWidth + 1) {
      out.problems.push(where + ': the table scrolls sideways (' + wrap.scrollWidth + ' px in ' + wrap.clientWidth + ')');
    }
    for (const cell of table.querySelectorAll('th, td')) {
      out.cells++;
      const r = cell.getBoundingClientRect();
      if (r.right > width + 0.5 || r.left < -0.5) {
        out.problems.push(where + ': "' + cell.textContent.trim() + '" at ' + Math.round(r.left) + '..' + Math.round(r.right) + ' px, page ' + width + ' px');
      }
    }
  }
  return out;
})()`

type overflow struct {
	Tables, Cells, Others int
	Problems              []string
}

// TestAuditEvidenceFitsThePage lays the audit page out as printed on A4
// and Letter (print media, the page's content width) and on a 1400 px
// screen, and checks that no evidence table is wider than the page: every
// cell of every findings and evidence table lies within it. The fixture's
// gate-override control has 17 columns with a 40-digit hash, a long link
// and a JSON list. The same measurement on the page with wrapping turned
// off must find the overflow.
func TestAuditEvidenceFitsThePage(t *testing.T) {
	if testing.Short() {
		t.Skip("browser test skipped in -short mode")
	}
	bctx := newBrowser(t)
	out, _ := writeFixture(t)
	page := filepath.Join(out, "audit.html")
	type view struct {
		name  string
		width int64
		print bool
	}
	views := []view{{"screen 1400 px", 1400, false}}
	for _, p := range papers {
		views = append(views, view{"print " + p.name, int64(math.Floor(p.width)), true})
	}
	for _, v := range views {
		t.Run(v.name, func(t *testing.T) {
			ctx := openAt(t, bctx, page, v.width, v.print)
			o, err := chromedp.Run(ctx, chromedp.Evaluate[overflow](overflowJS))
			if err != nil {
				t.Fatal(err)
			}
			// Findings of 3 controls, the row counts and the ingest runs;
			// the gate-override table alone has 18 header and 18 body cells.
			// and the other tables: the cover's controls, the controls'
			// outcome classes (11 columns) and the rest.
			if o.Tables != 5 || o.Cells < 36 || o.Others < 2 {
				t.Fatalf("measured %d evidence tables, %d other tables and %d cells, want 5 and at least 2", o.Tables, o.Others, o.Cells)
			}
			for _, p := range o.Problems {
				t.Error(p)
			}
			if v.width == 1400 {
				// The columns the issue found hidden are on screen.
				seen, err := chromedp.Run(ctx, chromedp.Evaluate[[]string](`[...document.querySelectorAll('table.evidence th')]
  .filter(th => th.getBoundingClientRect().right <= window.innerWidth).map(th => th.textContent)`))
				if err != nil {
					t.Fatal(err)
				}
				for _, want := range []string{"Decision", "Decided by", "Rule", "Override reason", "Failed criteria", "Deployment url"} {
					if !contains(seen, want) {
						t.Errorf("column %q not visible at 1400 px (visible: %q)", want, seen)
					}
				}
			}
			// The harness must see an overflow: without wrapping the hash
			// and the link no longer fit.
			o, err = chromedp.Run(ctx, chromedp.Evaluate[overflow](`(() => {
  const s = document.createElement('style');
  s.textContent = 'table.evidence td { white-space: nowrap !important; overflow-wrap: normal !important }';
  document.head.appendChild(s);
  return `+overflowJS+`;
})()`))
			if err != nil {
				t.Fatal(err)
			}
			if len(o.Problems) == 0 {
				t.Errorf("with wrapping off, no overflow was found: the check cannot fail")
			}
		})
	}
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// TestAuditPrintedPDF prints the audit page to PDF on A4 and Letter paper
// through Chromium and reads the text back with pdftotext (poppler, which
// drops what lies off the page): every header and every value of the
// widest finding must be there. Long values wrap inside their cell, so
// the text is compared with white space removed.
func TestAuditPrintedPDF(t *testing.T) {
	if testing.Short() {
		t.Skip("browser test skipped in -short mode")
	}
	pdftotext, err := exec.LookPath("pdftotext")
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal("pdftotext not found and CI is set: install the Debian package poppler-utils")
		}
		t.Skip("pdftotext not found (Debian package poppler-utils)")
	}
	bctx := newBrowser(t)
	out, _ := writeFixture(t)
	var want []string
	for i, c := range gateOverrideColumns {
		want = append(want, label(c))
		want = append(want, evidenceCell(c, gateOverrideRow[i]).Text)
	}
	squeeze := func(s string) string { return strings.Join(strings.Fields(s), "") }
	for _, p := range papers {
		t.Run(p.name, func(t *testing.T) {
			ctx := openAt(t, bctx, filepath.Join(out, "audit.html"), 1280, false)
			pdf, err := chromedp.Run(ctx, chromedp.PrintToPDF(chromedp.PDFPaper(p.size)))
			if err != nil {
				t.Fatal(err)
			}
			file := filepath.Join(t.TempDir(), "audit.pdf")
			if err := os.WriteFile(file, pdf, 0o644); err != nil {
				t.Fatal(err)
			}
			if dir := os.Getenv("SHIPLOG_SCREENSHOTS"); dir != "" {
				os.WriteFile(filepath.Join(dir, "audit-"+p.name+".pdf"), pdf, 0o644)
			}
			text, err := exec.Command(pdftotext, "-raw", file, "-").Output()
			if err != nil {
				t.Fatal(err)
			}
			got := squeeze(string(text))
			start := strings.Index(got, "gate-overridefail")
			if start < 0 {
				t.Fatalf("no gate-override section in the PDF text")
			}
			for _, w := range want {
				if !strings.Contains(got[start:], squeeze(w)) {
					t.Errorf("%q is not on the printed page", w)
				}
			}
		})
	}
}

// chartTextJS lists the text the first chart of the page drew (ECharts
// keeps every drawn label in its display list; a label it hid for lack of
// room is not there), with each one's box.
const chartTextJS = `(() => {
  const el = document.querySelector('[data-echart]');
  const zr = echarts.getInstanceByDom(el).getZr();
  const out = {width: zr.getWidth(), height: zr.getHeight(), texts: []};
  for (const d of zr.storage.getDisplayList(true)) {
    if (!d.style || typeof d.style.text !== 'string' || d.ignore || d.invisible) continue;
    const r = d.getBoundingRect().clone();
    if (d.transform) r.applyTransform(d.transform);
    out.texts.push({text: d.style.text, x: r.x, y: r.y, w: r.width, h: r.height});
  }
  return out;
})()`

type chartTexts struct {
	Width, Height float64
	Texts         []struct {
		Text       string
		X, Y, W, H float64
	}
}

// labelled returns the texts equal to one of names, by name.
func (c chartTexts) labelled(names []string) map[string][]int {
	out := map[string][]int{}
	for i, tx := range c.Texts {
		for _, n := range names {
			if tx.Text == n {
				out[n] = append(out[n], i)
			}
		}
	}
	return out
}

// TestControlsChartLabels checks in the browser that the controls chart
// draws every control's name once, on rows that do not overlap and inside
// the chart, and the count of the control failing 1 of 500. The same check
// on the chart the page had before (stacked bars, controls along the x
// axis, at a laptop width) must find names missing.
func TestControlsChartLabels(t *testing.T) {
	if testing.Short() {
		t.Skip("browser test skipped in -short mode")
	}
	bctx := newBrowser(t)
	out, _ := writeFixture(t)
	var names []string
	for _, r := range newFixture(t).audit {
		names = append(names, r.Control)
	}
	for _, width := range []int64{1400, 400} {
		ctx := openAt(t, bctx, filepath.Join(out, "audit.html"), width, false)
		c, err := chromedp.Run(ctx, chromedp.Evaluate[chartTexts](chartTextJS))
		if err != nil {
			t.Fatal(err)
		}
		found := c.labelled(names)
		var rows []float64
		for _, n := range names {
			if len(found[n]) != 1 {
				t.Errorf("%d px: control %q drawn %d times", width, n, len(found[n]))
				continue
			}
			tx := c.Texts[found[n][0]]
			if tx.X < 0 || tx.X+tx.W > c.Width || tx.Y < 0 || tx.Y+tx.H > c.Height {
				t.Errorf("%d px: label %q at (%.0f,%.0f) %0.fx%.0f leaves the %.0fx%.0f chart", width, n, tx.X, tx.Y, tx.W, tx.H, c.Width, c.Height)
			}
			rows = append(rows, tx.Y)
		}
		// Labels of 15 px type on rows at least 20 px apart do not overlap.
		for i := 1; i < len(rows); i++ {
			if rows[i]-rows[i-1] < 20 {
				t.Errorf("%d px: labels %q and %q are %.0f px apart", width, names[i-1], names[i], rows[i]-rows[i-1])
			}
		}
		// deployer-not-allowed failed 1 of 500: both counts are drawn on
		// its row.
		for _, v := range []string{"500", "1"} {
			ok := false
			for _, tx := range c.Texts {
				ok = ok || tx.Text == v && len(rows) > 2 && math.Abs(tx.Y-rows[2]) < 3
			}
			if !ok {
				t.Errorf("%d px: no %q on the deployer-not-allowed row", width, v)
			}
		}
	}

	// The old chart: the check must see its missing labels.
	t.Run("old chart is caught", func(t *testing.T) {
		dir := t.TempDir()
		os.MkdirAll(filepath.Join(dir, "assets"), 0o755)
		os.WriteFile(filepath.Join(dir, EChartsPath), echartsJS, 0o644)
		long := []string{"unapproved-production-change", "self-approval", "emergency-without-review", "unreviewed-change",
			"outside-window", "plan-vs-actual", "rollback-authority", "deployer-not-allowed", "gate-override"}
		tbl := &output.Table{Columns: []string{"control", "passed", "failed"}}
		for _, n := range long {
			tbl.Rows = append(tbl.Rows, []any{n, int64(500), int64(1)})
		}
		pg := newPage("old", "", oct, nov, fixedNow)
		b, err := pg.renderPanel(dashboards.Panel{Title: "Controls", Query: "audit", Chart: dashboards.StackedBar, X: "control", Y: []string{"passed", "failed"}}, tbl)
		if err != nil {
			t.Fatal(err)
		}
		pg.Blocks = []block{b}
		body, err := pg.render()
		if err != nil {
			t.Fatal(err)
		}
		os.WriteFile(filepath.Join(dir, "old.html"), body, 0o644)
		ctx := openAt(t, bctx, filepath.Join(dir, "old.html"), 1000, false)
		c, err := chromedp.Run(ctx, chromedp.Evaluate[chartTexts](chartTextJS))
		if err != nil {
			t.Fatal(err)
		}
		if n := len(c.labelled(long)); n == len(long) {
			t.Errorf("all %d labels of the old chart reported drawn", n)
		}
	})
}
