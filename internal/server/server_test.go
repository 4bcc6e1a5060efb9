package server

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jonboulle/clockwork"

	"github.com/shiplog/shiplog/internal/config"
	"github.com/shiplog/shiplog/internal/warehouse"
)

const secret = "s3cret-for-tests"

// testSink stores pushed deployment events in the canonical table, one
// INSERT per record: enough to test the server's delivery contract (the
// product wires the canonical file loader here).
func testSink(db *warehouse.DB) EventSink {
	return func(ctx context.Context, body io.Reader, id string) (int64, error) {
		sc := bufio.NewScanner(body)
		var recs []map[string]any
		line := 0
		for sc.Scan() {
			line++
			if strings.TrimSpace(sc.Text()) == "" {
				continue
			}
			var m map[string]any
			if err := json.Unmarshal(sc.Bytes(), &m); err != nil {
				return 0, &BadRequestError{Err: fmt.Errorf("line %d: %v", line, err)}
			}
			if m["kind"] != "deployment" || m["id"] == nil {
				return 0, &BadRequestError{Err: fmt.Errorf("line %d: field kind: only deployments with an id are accepted here", line)}
			}
			recs = append(recs, m)
		}
		tx, err := db.BeginTx(ctx, nil)
		if err != nil {
			return 0, err
		}
		defer tx.Rollback()
		for _, m := range recs {
			if _, err := tx.ExecContext(ctx, `DELETE FROM deployments WHERE source = 'push' AND id = ?`, m["id"]); err != nil {
				return 0, err
			}
			if _, err := tx.ExecContext(ctx, `INSERT INTO deployments (id, service, environment, finished_at, status, source)
				VALUES (?, ?, ?, ?::TIMESTAMPTZ, ?, 'push')`, m["id"], m["service"], m["environment"], m["finished_at"], m["status"]); err != nil {
				return 0, err
			}
		}
		return int64(len(recs)), tx.Commit()
	}
}

type harness struct {
	t      *testing.T
	db     *warehouse.DB
	srv    *Server
	base   string
	cancel context.CancelFunc
	done   chan error
}

func startServer(t *testing.T, mutate func(*Options)) *harness {
	t.Helper()
	ctx := context.Background()
	// Sealed as `shiplog serve` opens it: no file but the warehouse and
	// the spool folder.
	db, err := warehouse.Open(ctx, filepath.Join(t.TempDir(), "w.duckdb"), warehouse.Options{Sandbox: true, SpoolDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	cfg := config.Default()
	cfg.Serve.MaxBodyBytes = 4096
	env := map[string]string{"SHIPLOG_WEBHOOK_SECRET": secret}
	httpLn, _ := net.Listen("tcp", "127.0.0.1:0")
	flightLn, _ := net.Listen("tcp", "127.0.0.1:0")
	opts := Options{
		DB: db, Config: cfg, Log: io.Discard,
		Getenv:       func(k string) string { return env[k] },
		Events:       testSink(db),
		HTTPListener: httpLn, FlightListener: flightLn,
	}
	if mutate != nil {
		mutate(&opts)
	}
	srv, err := New(opts)
	if err != nil {
		t.Fatal(err)
	}
	rctx, cancel := context.WithCancel(ctx)
	h := &harness{t: t, db: db, srv: srv, cancel: cancel, done: make(chan error, 1)}
	go func() { h.done <- srv.Run(rctx) }()
	h.base = "http://" + httpLn.Addr().String()
	waitHTTP(t, h.base+"/healthz")
	t.Cleanup(h.stop)
	return h
}

func (h *harness) stop() {
	if h.cancel == nil {
		return
	}
	h.cancel()
	select {
	case <-h.done:
	case <-time.After(20 * time.Second):
		h.t.Error("server did not stop within 20s")
	}
	h.cancel = nil
	h.db.Close()
}

func waitHTTP(t *testing.T, url string) {
	for i := 0; i < 100; i++ {
		resp, err := http.Get(url)
		if err == nil {
			resp.Body.Close()
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("server at %s never answered", url)
}

func (h *harness) post(path, body, sig, delivery string, extra map[string]string) (int, string) {
	req, _ := http.NewRequest("POST", h.base+path, strings.NewReader(body))
	if sig != "" {
		name := "X-Shiplog-Signature-256"
		if strings.HasPrefix(path, "/webhooks/github") {
			name = "X-Hub-Signature-256"
		}
		req.Header.Set(name, sig)
	}
	if delivery != "" {
		name := "X-Shiplog-Delivery"
		if strings.HasPrefix(path, "/webhooks/github") {
			name = "X-GitHub-Delivery"
		}
		req.Header.Set(name, delivery)
	}
	for k, v := range extra {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		h.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func (h *harness) count(q string) int {
	var n int
	if err := h.db.QueryRow(q).Scan(&n); err != nil {
		h.t.Fatal(err)
	}
	return n
}

const twoDeployments = `[
 {"kind":"deployment","id":"d1","service":"api","environment":"production","finished_at":"2026-03-01T10:00:00+02:00","status":"success"},
 {"kind":"deployment","id":"d2","service":"api","environment":"production","finished_at":"2026-03-02T10:00:00Z","status":"failure"}
]`

// signPush signs body as a push sent now: the headers of pushDelivery.
func signPush(body string) map[string]string {
	ts, sig := SignPush([]byte(secret), time.Now(), []byte(body))
	return map[string]string{"X-Shiplog-Timestamp": ts, "X-Shiplog-Signature-256": sig}
}

func (h *harness) push(body, delivery string) (int, string) {
	h.t.Helper()
	return h.post("/api/v1/events", body, "", delivery, signPush(body))
}

func TestPushEvents(t *testing.T) {
	h := startServer(t, nil)
	now := strconv.FormatInt(time.Now().Unix(), 10)
	signed := func(b string) map[string]string { return signPush(b) }
	tests := []struct {
		name      string
		body      string
		headers   map[string]string
		delivery  string
		wantCode  int
		wantText  string
		wantDepls int
	}{
		{"unsigned", twoDeployments, nil, "a", 401, "missing X-Shiplog-Signature-256", 0},
		{"wrong secret", twoDeployments, map[string]string{"X-Shiplog-Timestamp": now, "X-Shiplog-Signature-256": Sign([]byte("other"), []byte(now+"."+twoDeployments))}, "a", 401, "does not match", 0},
		{"signature of another body", twoDeployments, signed("[]"), "a", 401, "does not match", 0},
		{"no delivery id", twoDeployments, signed(twoDeployments), "", 400, "X-Shiplog-Delivery", 0},
		{"oversized", strings.Repeat(" ", 5000) + twoDeployments, signed(strings.Repeat(" ", 5000) + twoDeployments), "big", 413, "over the limit of 4096 bytes", 0},
		{"malformed array", `[{"kind":"deployment",]`, signed(`[{"kind":"deployment",]`), "m1", 400, "not a JSON array", 0},
		{"invalid record", `{"kind":"incident","id":"i1"}`, signed(`{"kind":"incident","id":"i1"}`), "m2", 400, "line 1: field kind", 0},
		{"good array", twoDeployments, signed(twoDeployments), "del-1", 202, `"records":2`, 2},
		{"replayed delivery", twoDeployments, signed(twoDeployments), "del-1", 200, `"duplicate":true`, 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, body := h.post("/api/v1/events", tt.body, "", tt.delivery, tt.headers)
			if code != tt.wantCode || !strings.Contains(body, tt.wantText) {
				t.Fatalf("got %d %q, want %d containing %q", code, body, tt.wantCode, tt.wantText)
			}
			if n := h.count(`SELECT count(*) FROM deployments`); n != tt.wantDepls {
				t.Fatalf("deployments = %d, want %d", n, tt.wantDepls)
			}
		})
	}
	// Times are stored in UTC: 10:00+02:00 is 08:00Z.
	var hour int
	h.db.QueryRow(`SELECT hour(finished_at AT TIME ZONE 'UTC') FROM deployments WHERE id = 'd1'`).Scan(&hour)
	if hour != 8 {
		t.Errorf("d1 finished at hour %d UTC, want 8", hour)
	}
	// A replay must not have applied twice; the malformed ones left no
	// delivery record, so the sender may fix and resend them.
	if n := h.count(`SELECT count(*) FROM webhook_deliveries`); n != 1 {
		t.Errorf("webhook_deliveries = %d, want 1", n)
	}
	// JSON Lines with a fresh delivery id replaces rows by key (idempotent sink).
	jl := `{"kind":"deployment","id":"d1","service":"api","environment":"production","finished_at":"2026-03-01T08:00:00Z","status":"success"}` + "\n"
	if code, body := h.push(jl, "del-2"); code != 202 {
		t.Fatalf("json lines: %d %s", code, body)
	}
	if n := h.count(`SELECT count(*) FROM deployments`); n != 2 {
		t.Errorf("after re-push deployments = %d, want 2", n)
	}
	metrics := h.get("/metrics")
	for _, want := range []string{
		`shiplog_webhook_requests_total{code="202",endpoint="events"} 2`,
		`shiplog_webhook_requests_total{code="401",endpoint="events"} 3`,
		`shiplog_webhook_requests_total{code="200",endpoint="events"} 1`,
		`shiplog_webhook_records_total{endpoint="events"} 3`,
	} {
		if !strings.Contains(metrics, want) {
			t.Errorf("/metrics lacks %q", want)
		}
	}
}

func (h *harness) get(path string) string {
	resp, err := http.Get(h.base + path)
	if err != nil {
		h.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return string(b)
}

func TestGitHubWebhook(t *testing.T) {
	var got []string
	h := startServer(t, func(o *Options) {
		o.GitHub = func(ctx context.Context, event string, body []byte, id string) (int64, error) {
			got = append(got, event+":"+id)
			return 1, nil
		}
	})
	body := `{"action":"created","deployment_status":{"state":"success"},"deployment":{"id":1}}`
	sig := Sign([]byte(secret), []byte(body))
	ev := map[string]string{"X-GitHub-Event": "deployment_status"}
	if code, b := h.post("/webhooks/github", body, sig, "gh-1", ev); code != 202 {
		t.Fatalf("got %d %s", code, b)
	}
	if code, _ := h.post("/webhooks/github", body, sig, "gh-1", ev); code != 200 {
		t.Fatalf("replay: got %d, want 200", code)
	}
	// The Shiplog signature header is not GitHub's: refused.
	req, _ := http.NewRequest("POST", h.base+"/webhooks/github", strings.NewReader(body))
	req.Header.Set("X-Shiplog-Signature-256", sig)
	req.Header.Set("X-GitHub-Delivery", "gh-2")
	resp, _ := http.DefaultClient.Do(req)
	resp.Body.Close()
	if resp.StatusCode != 401 {
		t.Errorf("wrong signature header: got %d, want 401", resp.StatusCode)
	}
	if code, b := h.post("/webhooks/github", body, sig, "gh-3", map[string]string{"X-GitHub-Event": "issues"}); code != 202 || !strings.Contains(b, "ignored") {
		t.Errorf("unhandled event: got %d %s", code, b)
	}
	if strings.Join(got, ",") != "deployment_status:gh-1" {
		t.Errorf("sink calls %v, want exactly one for gh-1", got)
	}
}

func TestTokenRequiredOffLoopback(t *testing.T) {
	// Refuse to start on a non-loopback address without a token.
	ctx := context.Background()
	db, err := warehouse.OpenMemory(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	cfg := config.Default()
	cfg.Serve.Listen = "0.0.0.0:0"
	cfg.Serve.FlightSQL = ""
	srv, err := New(Options{DB: db, Config: cfg, Getenv: func(string) string { return "" }})
	if err != nil {
		t.Fatal(err)
	}
	err = srv.Run(ctx)
	if err == nil || !strings.Contains(err.Error(), "needs a token: set the variable SHIPLOG_TOKEN") {
		t.Fatalf("got %v, want a refusal naming SHIPLOG_TOKEN", err)
	}

	// With a token every endpoint but /healthz checks it.
	h := startServer(t, func(o *Options) {
		env := map[string]string{"SHIPLOG_WEBHOOK_SECRET": secret, "SHIPLOG_TOKEN": "tok"}
		o.Getenv = func(k string) string { return env[k] }
	})
	for path, want := range map[string]int{"/healthz": 200, "/metrics": 401, "/dashboards/": 401} {
		resp, err := http.Get(h.base + path)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != want {
			t.Errorf("GET %s without token: %d, want %d", path, resp.StatusCode, want)
		}
	}
	req, _ := http.NewRequest("GET", h.base+"/metrics", nil)
	req.Header.Set("Authorization", "Bearer tok")
	resp, _ := http.DefaultClient.Do(req)
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Errorf("GET /metrics with token: %d, want 200", resp.StatusCode)
	}
}

func TestScheduleFiresUnderFakeClock(t *testing.T) {
	clock := clockwork.NewFakeClockAt(time.Date(2026, 11, 2, 9, 59, 0, 0, time.UTC))
	var ingests, transforms atomic.Int32
	ran := make(chan string, 10)
	h := startServer(t, func(o *Options) {
		o.Clock = clock
		o.Config.Schedules = map[string]string{"github": "*/15 * * * *"}
		o.Jobs = []Job{
			{Name: "github", Ingest: true, Run: func(ctx context.Context) (int64, error) {
				ingests.Add(1)
				ran <- "github"
				return 5, nil
			}},
			{Name: "transform", Run: func(ctx context.Context) (int64, error) {
				transforms.Add(1)
				ran <- "transform"
				return 0, nil
			}},
		}
	})
	// Nothing before 10:00.
	clock.BlockUntilContext(context.Background(), 1)
	clock.Advance(30 * time.Second)
	select {
	case j := <-ran:
		t.Fatalf("job %s ran before it was due", j)
	case <-time.After(200 * time.Millisecond):
	}
	clock.Advance(31 * time.Second) // 10:00:01
	for _, want := range []string{"github", "transform"} {
		select {
		case got := <-ran:
			if got != want {
				t.Fatalf("ran %s, want %s (the transform follows a successful ingest)", got, want)
			}
		case <-time.After(5 * time.Second):
			t.Fatalf("%s did not run at 10:00", want)
		}
	}
	// The transform run is in the ledger; the ingest records its own runs.
	deadline := time.Now().Add(2 * time.Second)
	for h.count(`SELECT count(*) FROM ingest_runs WHERE source = 'transform' AND status = 'success'`) != 1 {
		if time.Now().After(deadline) {
			t.Fatal("transform run not recorded in ingest_runs")
		}
		time.Sleep(20 * time.Millisecond)
	}
	m := h.get("/metrics")
	if !strings.Contains(m, `shiplog_job_runs_total{job="github",status="success"} 1`) ||
		!strings.Contains(m, `shiplog_job_rows_written_total{job="github"} 5`) {
		t.Errorf("/metrics does not show the github run:\n%s", m)
	}
	if ingests.Load() != 1 || transforms.Load() != 1 {
		t.Errorf("ingests=%d transforms=%d, want 1 and 1", ingests.Load(), transforms.Load())
	}
}

func TestUnknownScheduleIsAnError(t *testing.T) {
	db, _ := warehouse.OpenMemory(context.Background())
	defer db.Close()
	cfg := config.Default()
	cfg.Schedules = map[string]string{"gitlab": "@hourly"}
	_, err := New(Options{DB: db, Config: cfg, Getenv: func(string) string { return "" }, Jobs: []Job{{Name: "github"}}})
	if err == nil || !strings.Contains(err.Error(), "schedules.gitlab: no such job (known: github)") {
		t.Fatalf("got %v", err)
	}
}

// Cancelling the server (what SIGTERM does) while a job writes lets the job
// abort at its next check, rolls back its open batch, and leaves a file that
// re-opens with every committed batch and nothing of the aborted one.
func TestShutdownMidJobLeavesConsistentFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "w.duckdb")
	ctx := context.Background()
	db, err := warehouse.Open(ctx, path, warehouse.Options{})
	if err != nil {
		t.Fatal(err)
	}
	started := make(chan struct{})
	job := Job{Name: "loader", Ingest: true, Run: func(ctx context.Context) (int64, error) {
		var n int64
		for batch := 0; ; batch++ {
			tx, err := db.BeginTx(ctx, nil)
			if err != nil {
				return n, err
			}
			for i := 0; i < 10; i++ {
				if _, err := tx.ExecContext(ctx, `INSERT INTO teams (id, source) VALUES (?, 'loader')`, fmt.Sprintf("b%d-%d", batch, i)); err != nil {
					tx.Rollback()
					return n, err
				}
			}
			if batch == 2 {
				close(started)
			}
			if ctx.Err() != nil { // the batch is not committed
				tx.Rollback()
				return n, ctx.Err()
			}
			if err := tx.Commit(); err != nil {
				return n, err
			}
			n += 10
		}
	}}
	cfg := config.Default()
	cfg.Serve.FlightSQL = ""
	ln, _ := net.Listen("tcp", "127.0.0.1:0")
	srv, err := New(Options{DB: db, Config: cfg, Getenv: func(string) string { return "" }, Jobs: []Job{job}, HTTPListener: ln})
	if err != nil {
		t.Fatal(err)
	}
	rctx, cancel := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- srv.Run(rctx) }()
	waitHTTP(t, "http://"+ln.Addr().String()+"/healthz")
	jobDone := make(chan error, 1)
	go func() { jobDone <- srv.RunJob(rctx, "loader") }()
	<-started
	cancel()
	if err := <-jobDone; err == nil {
		t.Fatal("the job was not told to stop")
	}
	<-done
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	db, err = warehouse.Open(ctx, path, warehouse.Options{})
	if err != nil {
		t.Fatalf("re-open after shutdown: %v", err)
	}
	defer db.Close()
	var rows, partial int
	db.QueryRow(`SELECT count(*), count(*) FILTER (WHERE true) % 10 FROM teams`).Scan(&rows, &partial)
	if rows < 20 || partial != 0 {
		t.Errorf("after shutdown: %d rows (remainder %d), want whole batches of 10 and at least 2 of them", rows, partial)
	}
}

func TestToJSONLines(t *testing.T) {
	got, err := ToJSONLines([]byte(" [ {\"a\": 1},\n {\"b\": [1, 2]} ] "))
	if err != nil {
		t.Fatal(err)
	}
	if want := "{\"a\":1}\n{\"b\":[1,2]}\n"; string(got) != want {
		t.Errorf("got %q, want %q", got, want)
	}
	jl := []byte("{\"a\":1}\n{\"b\":2}\n")
	if got, _ := ToJSONLines(jl); !bytes.Equal(got, jl) {
		t.Errorf("JSON Lines changed: %q", got)
	}
	if _, err := ToJSONLines([]byte("  ")); err == nil {
		t.Error("empty body accepted")
	}
}
