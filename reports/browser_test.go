package reports

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/log"
	"github.com/chromedp/cdproto/network"
	cdppage "github.com/chromedp/cdproto/page"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"
)

// chromium finds the browser. Without one the test skips, unless CI is
// set: CI installs the Debian package chromium and must not pass silently.
func chromium(t *testing.T) string {
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome", "google-chrome-stable"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	if os.Getenv("CI") != "" {
		t.Fatal("chromium not found and CI is set: install the Debian package chromium")
	}
	t.Skip("chromium not found: install the Debian package chromium to run the browser test (it fails instead of skipping when CI is set)")
	return ""
}

func newBrowser(t *testing.T) context.Context {
	exe := chromium(t)
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(exe),
		chromedp.Headless,
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.NoDefaultBrowserCheck,
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(1280, 900),
	}
	actx, cancelA := chromedp.NewExecAllocator(context.Background(), opts...)
	bctx, cancelB := chromedp.NewContext(actx)
	t.Cleanup(func() { cancelB(); cancelA() })
	if err := chromedp.Do(bctx); err != nil {
		t.Fatalf("start chromium: %v", err)
	}
	return bctx
}

// pageLoad is what one page did in the browser.
type pageLoad struct {
	problems []string // console errors, exceptions, failed requests, dialogs
	charts   []chartState
	images   int
	text     string
}

type chartState struct {
	ID      string `json:"id"`
	Series  int    `json:"series"`
	Painted bool   `json:"painted"`
}

const inspectJS = `(() => {
  const out = [];
  for (const el of document.querySelectorAll('[data-echart]')) {
    const inst = (window.echarts && echarts.getInstanceByDom(el)) || null;
    const canvas = el.querySelector('canvas');
    let painted = false;
    if (canvas && canvas.width > 0 && canvas.height > 0) {
      const d = canvas.getContext('2d').getImageData(0, 0, canvas.width, canvas.height).data;
      for (let i = 3; i < d.length; i += 4) { if (d[i] !== 0) { painted = true; break; } }
    }
    out.push({id: el.id, series: inst ? (inst.getOption().series || []).length : -1, painted: painted});
  }
  return out;
})()`

func loadPage(t *testing.T, bctx context.Context, path string, shot string) pageLoad {
	t.Helper()
	ctx, cancel := chromedp.NewContext(bctx)
	defer cancel()
	var mu sync.Mutex
	var res pageLoad
	var dialogs []string
	add := func(s string) {
		mu.Lock()
		res.problems = append(res.problems, s)
		mu.Unlock()
	}
	err := chromedp.Listen(ctx, func(ev any) {
		switch e := ev.(type) {
		case *runtime.EventConsoleAPICalled:
			if e.Type == runtime.ConsoleAPICalledTypeError || e.Type == runtime.ConsoleAPICalledTypeAssert {
				var parts []string
				for _, a := range e.Args {
					parts = append(parts, string(a.Value)+a.Description)
				}
				add("console error: " + strings.Join(parts, " "))
			}
		case *runtime.EventExceptionThrown:
			d := e.ExceptionDetails
			msg := d.Text
			if d.Exception != nil {
				msg += " " + d.Exception.Description
			}
			add("exception: " + msg)
		case *log.EventEntryAdded:
			if e.Entry.Level == log.EntryLevelError {
				add("log error: " + e.Entry.Text + " " + e.Entry.URL)
			}
		case *network.EventLoadingFailed:
			add(fmt.Sprintf("request failed: %s (%s)", e.ErrorText, e.Type))
		case *cdppage.EventJavascriptDialogOpening:
			mu.Lock()
			dialogs = append(dialogs, e.Message)
			mu.Unlock()
			add("dialog opened: " + e.Message)
		}
	})
	if err != nil {
		t.Fatalf("listen: %v", err)
	}
	// An alert blocks the page: close any from another goroutine.
	dialogEvents := chromedp.Events(ctx, cdppage.JavascriptDialogOpening)
	go func() {
		for _, err := range dialogEvents {
			if err != nil {
				return
			}
			chromedp.Call(ctx, cdppage.HandleJavaScriptDialog, cdppage.HandleJavaScriptDialogParams{Accept: false})
		}
	}()
	if _, err := chromedp.Call(ctx, network.Enable, network.EnableParams{}); err != nil {
		t.Fatal(err)
	}
	if _, err := chromedp.Call(ctx, log.Enable, cdp.Empty{}); err != nil {
		t.Fatal(err)
	}
	if _, err := chromedp.Call(ctx, runtime.Enable, cdp.Empty{}); err != nil {
		t.Fatal(err)
	}
	abs, err := filepath.Abs(path)
	if err != nil {
		t.Fatal(err)
	}
	tctx, cancelT := context.WithTimeout(ctx, 60*time.Second)
	defer cancelT()
	if err := chromedp.Do(tctx,
		chromedp.Navigate("file://"+filepath.ToSlash(abs)),
		chromedp.WaitReady(chromedp.CSS("body")),
		chromedp.Sleep(300*time.Millisecond),
	); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	charts, err := chromedp.Run(tctx, chromedp.Evaluate[[]chartState](inspectJS))
	if err != nil {
		t.Fatalf("%s: inspect charts: %v", path, err)
	}
	images, err := chromedp.Run(tctx, chromedp.Evaluate[int](`document.querySelectorAll('img').length`))
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	text, err := chromedp.Run(tctx, chromedp.Evaluate[string](`document.body.innerText`))
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	res.text = text
	if shot != "" {
		buf, err := chromedp.Run(tctx, chromedp.FullScreenshot(100))
		if err != nil {
			t.Fatalf("%s: screenshot: %v", path, err)
		}
		if err := os.WriteFile(shot, buf, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	mu.Lock()
	defer mu.Unlock()
	res.charts = charts
	res.images = images
	return res
}

// TestBrowser opens every page of the fixture from file:// in headless
// Chromium: no console error, no failed request, no dialog, no injected
// element, and every chart drawn with its series.
func TestBrowser(t *testing.T) {
	if testing.Short() {
		t.Skip("browser test skipped in -short mode")
	}
	bctx := newBrowser(t)
	out, res := writeFixture(t)
	shots := os.Getenv("SHIPLOG_SCREENSHOTS")
	pages := 0
	for _, f := range res.Files {
		if !strings.HasSuffix(f, ".html") {
			continue
		}
		pages++
		f := f
		t.Run(f, func(t *testing.T) {
			shot := ""
			if shots != "" {
				shot = filepath.Join(shots, strings.TrimSuffix(f, ".html")+".png")
			}
			pl := loadPage(t, bctx, filepath.Join(out, f), shot)
			for _, p := range pl.problems {
				t.Errorf("%s", p)
			}
			if pl.images != 0 {
				t.Errorf("%d <img> elements in the page (the data injected markup)", pl.images)
			}
			if f == "retro.html" && !strings.Contains(pl.text, injection) {
				t.Errorf("the injected title is not shown as text")
			}
			html, _ := os.ReadFile(filepath.Join(out, f))
			if want := strings.Count(string(html), "data-echart>"); len(pl.charts) != want {
				t.Errorf("%d charts found in the DOM, %d in the HTML", len(pl.charts), want)
			}
			for _, c := range pl.charts {
				if c.Series < 1 {
					t.Errorf("chart %s: no ECharts instance or no series (%d)", c.ID, c.Series)
				}
				if !c.Painted {
					t.Errorf("chart %s: the canvas is blank", c.ID)
				}
			}
		})
	}
	if pages < 7 {
		t.Errorf("only %d pages checked", pages)
	}

	// The harness itself must see a broken page: the same retro page
	// without its assets folder fails to load the script, so the charts
	// cannot be drawn.
	t.Run("broken page is caught", func(t *testing.T) {
		dir := t.TempDir()
		b, err := os.ReadFile(filepath.Join(out, "retro.html"))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, "retro.html"), b, 0o644); err != nil {
			t.Fatal(err)
		}
		pl := loadPage(t, bctx, filepath.Join(dir, "retro.html"), "")
		var failed, exception bool
		for _, p := range pl.problems {
			failed = failed || strings.HasPrefix(p, "request failed")
			exception = exception || strings.HasPrefix(p, "exception")
		}
		if !failed || !exception {
			t.Errorf("missing script not reported: %q", pl.problems)
		}
		for _, c := range pl.charts {
			if c.Series > 0 || c.Painted {
				t.Errorf("chart %s reported drawn without ECharts", c.ID)
			}
		}
	})
}
