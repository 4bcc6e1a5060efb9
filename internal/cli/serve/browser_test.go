//go:build duckdb_arrow

package serve

import (
	"context"
	"os"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/log"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"

	"github.com/shiplog/shiplog/internal/warehouse"
)

// A live dashboard renders under its Content-Security-Policy in headless
// Chromium: ECharts loads from /dashboards/assets/, the page's own script
// runs and paints every chart, the browser reports no violation, and a
// script added to the page afterwards (as an injection would) is blocked.
func TestDashboardRendersUnderCSP(t *testing.T) {
	exe := ""
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			exe = p
			break
		}
	}
	if exe == "" {
		if os.Getenv("CI") != "" {
			t.Fatal("chromium not found and CI is set")
		}
		t.Skip("chromium not found")
	}
	dir := t.TempDir()
	ctx := context.Background()
	db, err := warehouse.Open(ctx, dir+"/w.duckdb", warehouse.Options{})
	if err != nil {
		t.Fatal(err)
	}
	// Four months of deployments: a month the data only partly covers is
	// not drawn, so the first one starts on the first day of its month.
	recs := `{"kind":"deployment","id":"d0","service":"web","environment":"production","status":"success","finished_at":"2026-08-01T10:00:00Z"}
{"kind":"deployment","id":"d4","service":"api","environment":"production","status":"success","finished_at":"2026-09-10T10:00:00Z"}
{"kind":"deployment","id":"d5","service":"web","environment":"production","status":"success","finished_at":"2026-10-15T10:00:00Z"}
{"kind":"deployment","id":"d1","service":"web","environment":"production","status":"success","finished_at":"2026-11-20T10:00:00Z"}
{"kind":"deployment","id":"d2","service":"web","environment":"production","status":"failure","finished_at":"2026-11-21T10:00:00Z"}
{"kind":"deployment","id":"d3","service":"api","environment":"production","status":"success","finished_at":"2026-11-22T10:00:00Z"}
`
	if _, err := EventSink(db, time.Now)(ctx, strings.NewReader(recs), "seed"); err != nil {
		t.Fatal(err)
	}
	db.Close()
	r := startIn(t, dir, "transform")
	deadline := time.Now().Add(30 * time.Second)
	for r.remote(`SELECT count(*) AS n FROM ingest_runs WHERE source = 'transform' AND status = 'success'`) != "n\n1\n" {
		if time.Now().After(deadline) {
			t.Fatalf("transform did not run:\n%s", r.stderr)
		}
		time.Sleep(200 * time.Millisecond)
	}

	actx, cancelA := chromedp.NewExecAllocator(ctx, chromedp.ExecPath(exe), chromedp.Headless, chromedp.NoSandbox,
		chromedp.DisableGPU, chromedp.NoFirstRun, chromedp.NoDefaultBrowserCheck, chromedp.UserDataDir(t.TempDir()),
		chromedp.Flag("disable-dev-shm-usage", true), chromedp.WindowSize(1280, 900))
	defer cancelA()
	bctx, cancelB := chromedp.NewContext(actx)
	defer cancelB()
	if err := chromedp.Do(bctx); err != nil {
		t.Fatalf("start chromium: %v", err)
	}
	var mu sync.Mutex
	var problems []string
	err = chromedp.Listen(bctx, func(ev any) {
		mu.Lock()
		defer mu.Unlock()
		switch e := ev.(type) {
		case *log.EventEntryAdded:
			// The browser's own request for /favicon.ico is not the page's.
			if e.Entry.Level == log.EntryLevelError && !strings.HasSuffix(e.Entry.URL, "/favicon.ico") {
				problems = append(problems, "log: "+e.Entry.Text+" "+e.Entry.URL)
			}
		case *runtime.EventExceptionThrown:
			problems = append(problems, "exception: "+e.ExceptionDetails.Text)
		case *runtime.EventConsoleAPICalled:
			if e.Type == runtime.ConsoleAPICalledTypeError {
				problems = append(problems, "console error")
			}
		case *network.EventLoadingFailed:
			problems = append(problems, "request failed: "+e.ErrorText)
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, step := range []error{
		func() error { _, err := chromedp.Call(bctx, network.Enable, network.EnableParams{}); return err }(),
		func() error { _, err := chromedp.Call(bctx, log.Enable, cdp.Empty{}); return err }(),
		func() error { _, err := chromedp.Call(bctx, runtime.Enable, cdp.Empty{}); return err }(),
		func() error {
			_, err := chromedp.Call(bctx, network.SetExtraHTTPHeaders, network.SetExtraHTTPHeadersParams{Headers: network.Headers{"Authorization": "Bearer " + token}})
			return err
		}(),
	} {
		if step != nil {
			t.Fatal(step)
		}
	}
	tctx, cancelT := context.WithTimeout(bctx, 60*time.Second)
	defer cancelT()
	if err := chromedp.Do(tctx,
		chromedp.Navigate(r.base+"/dashboards/leadership"),
		chromedp.WaitReady(chromedp.CSS("body")),
		chromedp.Sleep(800*time.Millisecond),
	); err != nil {
		t.Fatalf("load the dashboard: %v", err)
	}
	counts, err := chromedp.Run(tctx, chromedp.Evaluate[[]int](`(() => {
		const els = document.querySelectorAll('[data-echart]');
		let painted = 0;
		for (const el of els) {
			const c = el.querySelector('canvas');
			if (!c || !c.width) continue;
			const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
			for (let i = 3; i < d.length; i += 4) if (d[i] !== 0) { painted++; break; }
		}
		return [els.length, painted, (window.shiplogCharts || []).length];
	})()`))
	if err != nil {
		t.Fatal(err)
	}
	if counts[0] == 0 || counts[1] != counts[0] || counts[2] != counts[0] {
		t.Errorf("charts in the page %d, painted %d, initialised %d; want all", counts[0], counts[1], counts[2])
	}
	mu.Lock()
	if len(problems) > 0 {
		t.Errorf("the browser reported: %v", problems)
	}
	problems = nil
	mu.Unlock()

	// A script injected after the fact is refused by the policy.
	if _, err := chromedp.Run(tctx, chromedp.Evaluate[bool](`(() => { const s = document.createElement('script'); s.textContent = 'window.injected = true'; document.body.appendChild(s); return true; })()`)); err != nil {
		t.Fatal(err)
	}
	time.Sleep(300 * time.Millisecond)
	injected, err := chromedp.Run(tctx, chromedp.Evaluate[bool](`window.injected === true`))
	if err != nil {
		t.Fatal(err)
	}
	if injected {
		t.Error("an injected inline script ran")
	}
	mu.Lock()
	blocked := strings.Contains(strings.Join(problems, "\n"), "Content Security Policy")
	mu.Unlock()
	if !blocked {
		t.Errorf("the browser did not report the blocked script: %v", problems)
	}
}
