package reports

import (
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
)

// clipJS lists every table cell, chart, tile and notice that reaches past
// the page's content width, and every table wrapper that scrolls
// sideways: what a printed page would cut off.
const clipJS = `(() => {
  const width = document.documentElement.clientWidth;
  const out = {tables: 0, cells: 0, problems: []};
  const where = el => { const s = el.closest('section'); const h = s && s.querySelector('h2'); return h ? h.textContent.trim() : 'header'; };
  for (const wrap of document.querySelectorAll('.tablewrap')) {
    out.tables++;
    if (wrap.scrollWidth > wrap.clientWidth + 1) out.problems.push(where(wrap) + ': a table scrolls sideways (' + wrap.scrollWidth + ' px in ' + wrap.clientWidth + ')');
  }
  for (const el of document.querySelectorAll('th, td, .chart, .chart canvas, .tile, .alert, h1, h2, p')) {
    out.cells++;
    const r = el.getBoundingClientRect();
    if (r.width > 0 && (r.right > width + 0.5 || r.left < -0.5)) {
      out.problems.push(where(el) + ': ' + el.tagName.toLowerCase() + ' "' + el.textContent.trim().slice(0, 40) + '" at ' + Math.round(r.left) + '..' + Math.round(r.right) + ' px, page ' + width + ' px');
    }
  }
  return out;
})()`

// TestEveryPagePrints lays every page of the fixture out as printed on A4
// and Letter (print media at the content width of 12 mm margins) and
// fails when a table, chart or tile reaches past the page or a table
// scrolls sideways; it then prints each page to PDF through Chromium and
// renders the PDF with pdftoppm (SHIPLOG_SCREENSHOTS=DIR keeps the PNGs).
// The same measurement with tables forced wider than the paper must find
// the overflow.
func TestEveryPagePrints(t *testing.T) {
	if testing.Short() {
		t.Skip("browser test skipped in -short mode")
	}
	bctx := newBrowser(t)
	out, res := writeFixture(t)
	shots := os.Getenv("SHIPLOG_SCREENSHOTS")
	pdftoppm, _ := exec.LookPath("pdftoppm")
	pages := 0
	for _, f := range res.Files {
		if !strings.HasSuffix(f, ".html") {
			continue
		}
		pages++
		for _, p := range papers {
			f, p := f, p
			t.Run(f+"/"+p.name, func(t *testing.T) {
				ctx := openAt(t, bctx, filepath.Join(out, f), int64(math.Floor(p.width)), true)
				o, err := chromedp.Run(ctx, chromedp.Evaluate[overflow](clipJS))
				if err != nil {
					t.Fatal(err)
				}
				if o.Cells == 0 {
					t.Fatalf("nothing measured")
				}
				for _, pr := range o.Problems {
					t.Error(pr)
				}
				pctx := openAt(t, bctx, filepath.Join(out, f), 1280, false)
				pdf, err := chromedp.Run(pctx, chromedp.PrintToPDF(chromedp.PDFPaper(p.size)))
				if err != nil {
					t.Fatal(err)
				}
				if len(pdf) < 1000 || !strings.HasPrefix(string(pdf), "%PDF") {
					t.Fatalf("no PDF (%d bytes)", len(pdf))
				}
				if shots == "" || pdftoppm == "" {
					return
				}
				base := filepath.Join(shots, strings.TrimSuffix(f, ".html")+"-"+p.name)
				if err := os.WriteFile(base+".pdf", pdf, 0o644); err != nil {
					t.Fatal(err)
				}
				if b, err := exec.Command(pdftoppm, "-png", "-r", "60", base+".pdf", base).CombinedOutput(); err != nil {
					t.Fatalf("pdftoppm: %v %s", err, b)
				}
			})
		}
	}
	if pages < 7 {
		t.Errorf("only %d pages printed", pages)
	}
	t.Run("a table wider than the paper is caught", func(t *testing.T) {
		ctx := openAt(t, bctx, filepath.Join(out, "leadership.html"), int64(math.Floor(papers[0].width)), true)
		o, err := chromedp.Run(ctx, chromedp.Evaluate[overflow](`(() => {
  const s = document.createElement('style');
  s.textContent = 'table { min-width: 1400px !important } .tablewrap { overflow: visible !important }';
  document.head.appendChild(s);
  return `+clipJS+`;
})()`))
		if err != nil {
			t.Fatal(err)
		}
		if len(o.Problems) == 0 {
			t.Errorf("tables 1400 px wide on A4: no overflow found, the check cannot fail")
		}
	})
}
