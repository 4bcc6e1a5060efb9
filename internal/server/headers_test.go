package server

import (
	"context"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/shiplog/shiplog/internal/config"
)

type oneDashboard struct{}

func (oneDashboard) List() []DashboardInfo { return []DashboardInfo{{Name: "d", Title: "D"}} }
func (oneDashboard) Render(_ context.Context, name, assets string, w io.Writer) error {
	_, err := io.WriteString(w, "<!DOCTYPE html><title>d</title><script>var x = 1;</script>")
	return err
}
func (oneDashboard) Asset(string) ([]byte, bool) { return nil, false }

// Every answer forbids sniffing and framing and sends no referrer; HTML
// pages carry their own policy, which allows the configured inline scripts
// and nothing from elsewhere.
func TestSecurityHeaders(t *testing.T) {
	h := startServer(t, func(o *Options) {
		o.Dashboards = oneDashboard{}
		o.PageScripts = []string{"'sha256-abc='"}
	})
	for path, csp := range map[string]string{
		"/healthz":      "default-src 'none'; frame-ancestors 'none'",
		"/metrics":      "default-src 'none'; frame-ancestors 'none'",
		"/dashboards/":  "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'",
		"/dashboards/d": "default-src 'none'; script-src 'self' 'sha256-abc='; style-src 'self' 'unsafe-inline'; img-src 'self' data: blob:; font-src 'self' data:; connect-src 'self'; frame-ancestors 'none'",
		"/dashboards/x": "default-src 'none'; frame-ancestors 'none'",
	} {
		resp, err := http.Get(h.base + path)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		hd := resp.Header
		if hd.Get("X-Content-Type-Options") != "nosniff" || hd.Get("X-Frame-Options") != "DENY" || hd.Get("Referrer-Policy") != "no-referrer" {
			t.Errorf("%s: headers %v", path, hd)
		}
		if got := hd.Get("Content-Security-Policy"); !strings.HasPrefix(got, csp) || !strings.Contains(got, "base-uri 'none'; form-action 'none'") {
			t.Errorf("%s: Content-Security-Policy %q, want it to start with %q", path, got, csp)
		}
	}
}

// The bearer scheme is case-insensitive (RFC 9110 section 11.1); other
// schemes and empty tokens are refused.
func TestBearerScheme(t *testing.T) {
	h := startServer(t, func(o *Options) {
		env := map[string]string{"SHIPLOG_WEBHOOK_SECRET": secret, "SHIPLOG_TOKEN": "tok-123"}
		o.Getenv = func(k string) string { return env[k] }
	})
	for header, want := range map[string]int{
		"Bearer tok-123":    200,
		"bearer tok-123":    200,
		"BEARER tok-123":    200,
		"Bearer  tok-123 ":  200,
		"Bearer tok-12":     401,
		"Basic tok-123":     401,
		"Bearertok-123":     401,
		"Bearer ":           401,
		"tok-123":           401,
		"Bearer tok-123 xx": 401,
	} {
		req, _ := http.NewRequest("GET", h.base+"/metrics", nil)
		req.Header.Set("Authorization", header)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != want {
			t.Errorf("Authorization %q: %d, want %d", header, resp.StatusCode, want)
		}
	}
}

// Slow clients are cut off: one trickling its headers at
// serve.read_header_timeout, one trickling a body (a byte every 200 ms) at
// serve.read_timeout, and a kept-alive connection left idle at
// serve.idle_timeout.
func TestSlowClientsAreCut(t *testing.T) {
	h := startServer(t, func(o *Options) {
		o.Config.Serve.ReadHeaderTimeout = config.Duration(500 * time.Millisecond)
		o.Config.Serve.ReadTimeout = config.Duration(time.Second)
		o.Config.Serve.IdleTimeout = config.Duration(time.Second)
	})
	addr := strings.TrimPrefix(h.base, "http://")
	// closedWithin writes the first part, then trickles the rest, and
	// returns how long the server kept the connection open.
	closedWithin := func(first string, trickle string) time.Duration {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		start := time.Now()
		io.WriteString(c, first)
		closed := make(chan struct{})
		go func() {
			io.Copy(io.Discard, c) // returns when the server closes
			close(closed)
		}()
		for i := 0; i < len(trickle); i++ {
			select {
			case <-closed:
				return time.Since(start)
			case <-time.After(200 * time.Millisecond):
			}
			if _, err := c.Write([]byte{trickle[i]}); err != nil {
				break
			}
		}
		select {
		case <-closed:
		case <-time.After(10 * time.Second):
		}
		return time.Since(start)
	}
	body := strings.Repeat("x", 100)
	var wg sync.WaitGroup
	results := make([]time.Duration, 4)
	for i, c := range []struct{ first, trickle string }{
		{"POST /api/v1/events HTTP/1.1\r\n", "Host: x\r\nContent-Length: 100\r\n\r\n" + body},
		{"POST /api/v1/events HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n", body},
		{"POST /api/v1/events HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n", body},
		{"POST /api/v1/events HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n", body},
	} {
		wg.Add(1)
		go func() { defer wg.Done(); results[i] = closedWithin(c.first, c.trickle) }()
	}
	wg.Wait()
	if results[0] > 2*time.Second {
		t.Errorf("slow headers held the connection %s (read_header_timeout 500ms)", results[0])
	}
	for i, d := range results[1:] {
		if d > 3*time.Second {
			t.Errorf("slow body %d held the connection %s (read_timeout 1s)", i+1, d)
		}
	}

	// An idle kept-alive connection is closed after idle_timeout.
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	io.WriteString(c, "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
	start := time.Now()
	c.SetReadDeadline(time.Now().Add(10 * time.Second))
	io.Copy(io.Discard, c)
	if d := time.Since(start); d > 3*time.Second {
		t.Errorf("an idle connection stayed open %s (idle_timeout 1s)", d)
	}
}
