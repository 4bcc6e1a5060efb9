//go:build duckdb_arrow

package serve

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/shiplog/shiplog/internal/cli/audit"
	"github.com/shiplog/shiplog/internal/cli/query"
	"github.com/shiplog/shiplog/internal/config"
	"github.com/shiplog/shiplog/internal/iostreams"
	"github.com/shiplog/shiplog/internal/server"
	"github.com/shiplog/shiplog/internal/warehouse"
)

const (
	secret = "hook-secret-for-tests"
	token  = "query-token-for-tests"
)

var env = map[string]string{"SHIPLOG_WEBHOOK_SECRET": secret, "SHIPLOG_TOKEN": token}

func getenv(k string) string { return env[k] }

type running struct {
	t       *testing.T
	dbPath  string
	cfg     *config.Config
	base    string
	flight  string
	cancel  context.CancelFunc
	done    chan error
	stderr  *bytes.Buffer
	stopped bool
}

// start runs the serve command's Run function on listeners on port 0 with
// a fresh warehouse file.
func start(t *testing.T, runNow ...string) *running {
	t.Helper()
	return startIn(t, t.TempDir(), runNow...)
}

func startIn(t *testing.T, dir string, runNow ...string) *running {
	t.Helper()
	return startWith(t, dir, nil, runNow...)
}

// startWith is startIn with the configuration changed by mutate first.
func startWith(t *testing.T, dir string, mutate func(*config.Config), runNow ...string) *running {
	t.Helper()
	cfg := config.Default()
	cfg.Sources.GitHub = &config.GitHub{APIURL: "http://127.0.0.1:1/", Repos: []string{"acme/payments"},
		Deployments: config.GitHubDeployments{ProductionEnvironments: []string{"production", "prod"}}}
	cfg.Serve.ReportsDir = filepath.Join(dir, "reports")
	if mutate != nil {
		mutate(cfg)
	}
	httpLn, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	flightLn, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ios, _, _, stderr := iostreams.Test()
	r := &running{t: t, dbPath: filepath.Join(dir, "w.duckdb"), cfg: cfg, done: make(chan error, 1), stderr: stderr,
		base: "http://" + httpLn.Addr().String(), flight: flightLn.Addr().String()}
	opts := &Options{
		IO:     ios,
		Config: func() (*config.Config, error) { return cfg, nil },
		WarehouseWith: func(ctx context.Context, o warehouse.Options) (*warehouse.DB, error) {
			if !o.Sandbox || o.SpoolDir == "" {
				t.Errorf("serve opened the warehouse unsealed: %+v", o)
			}
			return warehouse.Open(ctx, r.dbPath, o)
		},
		Getenv:       getenv,
		Now:          func() time.Time { return time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC) },
		HTTPListener: httpLn, FlightListener: flightLn,
		RunNow: runNow,
	}
	ctx, cancel := context.WithCancel(context.Background())
	r.cancel = cancel
	go func() { r.done <- Run(ctx, opts) }()
	for i := 0; ; i++ {
		resp, err := http.Get(r.base + "/healthz")
		if err == nil {
			resp.Body.Close()
			break
		}
		if i == 200 {
			t.Fatalf("serve never answered: %v\n%s", err, stderr)
		}
		time.Sleep(25 * time.Millisecond)
	}
	t.Cleanup(r.stop)
	return r
}

func (r *running) stop() {
	if r.stopped {
		return
	}
	r.stopped = true
	r.cancel()
	select {
	case err := <-r.done:
		if err != nil {
			r.t.Errorf("serve returned %v", err)
		}
	case <-time.After(20 * time.Second):
		r.t.Fatal("serve did not return within 20s of cancellation")
	}
}

func (r *running) post(path, event, delivery, body string) (int, string) {
	r.t.Helper()
	req, _ := http.NewRequest("POST", r.base+path, strings.NewReader(body))
	if event != "" {
		req.Header.Set("X-Hub-Signature-256", server.Sign([]byte(secret), []byte(body)))
		req.Header.Set("X-GitHub-Event", event)
		req.Header.Set("X-GitHub-Delivery", delivery)
	} else {
		ts, sig := server.SignPush([]byte(secret), time.Now(), []byte(body))
		req.Header.Set("X-Shiplog-Timestamp", ts)
		req.Header.Set("X-Shiplog-Signature-256", sig)
		req.Header.Set("X-Shiplog-Delivery", delivery)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		r.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// remote runs `shiplog query --server` and returns its CSV output.
func (r *running) remote(sql string) string {
	r.t.Helper()
	ios, _, out, _ := iostreams.Test()
	err := query.Run(context.Background(), &query.Options{
		IO: ios, Config: func() (*config.Config, error) { return r.cfg, nil }, Getenv: getenv,
		Server: r.flight, SQL: sql, Format: "csv",
		Warehouse: func(context.Context) (*warehouse.DB, error) {
			r.t.Fatal("query --server opened the warehouse file")
			return nil, nil
		},
	})
	if err != nil {
		r.t.Fatalf("query --server %q: %v", sql, err)
	}
	return out.String()
}

func TestServeEndToEnd(t *testing.T) {
	// --run-now transform builds the marts the audit's controls read.
	r := start(t, "transform")

	// Two canonical deployments pushed as a JSON array.
	push := `[{"kind":"deployment","id":"web-4711","service":"web","environment":"production","status":"success","finished_at":"2026-11-26T10:04:00Z","commit_sha":"abc123"},
	{"kind":"deployment","id":"api-9","service":"api","environment":"staging","status":"failure","finished_at":"2026-11-26T09:00:00+01:00"}]`
	code, body := r.post("/api/v1/events", "", "ci-1", push)
	if code != http.StatusAccepted || !strings.Contains(body, `"records":2`) {
		t.Fatalf("push: %d %s", code, body)
	}
	// The same delivery again is a duplicate; a bad record is a 400 naming line and field.
	if code, body = r.post("/api/v1/events", "", "ci-1", push); code != http.StatusOK || !strings.Contains(body, `"duplicate":true`) {
		t.Fatalf("redelivery: %d %s", code, body)
	}
	bad := `{"kind":"deployment","id":"x","service":"web","environment":"production","status":"maybe","finished_at":"2026-11-26T10:04:00Z"}`
	code, body = r.post("/api/v1/events", "", "ci-2", bad)
	if code != http.StatusBadRequest || !strings.Contains(body, "push:ci-2: line 1") || !strings.Contains(body, `field \"status\"`) {
		t.Fatalf("bad record: %d %s", code, body)
	}

	// Read back over Flight SQL. 09:00+01:00 is 08:00 UTC.
	got := r.remote(`SELECT id, service, environment, status, strftime(finished_at AT TIME ZONE 'UTC', '%Y-%m-%d %H:%M') AS at, source FROM deployments ORDER BY id`)
	want := "id,service,environment,status,at,source\n" +
		"api-9,api,staging,failure,2026-11-26 08:00,push\n" +
		"web-4711,web,production,success,2026-11-26 10:04,push\n"
	if got != want {
		t.Errorf("query --server:\n%s\nwant:\n%s", got, want)
	}

	// A GitHub deployment_status delivery becomes a canonical deployment
	// (values worked out in ingest/github/testdata/webhooks/README.md).
	for i, f := range []string{"deployment_status_in_progress.json", "deployment_status_success.json"} {
		b, err := os.ReadFile(filepath.Join("..", "..", "..", "ingest", "github", "testdata", "webhooks", f))
		if err != nil {
			t.Fatal(err)
		}
		if code, body := r.post("/webhooks/github", "deployment_status", "gh-"+string(rune('a'+i)), string(b)); code != http.StatusAccepted {
			t.Fatalf("webhook %s: %d %s", f, code, body)
		}
	}
	got = r.remote(`SELECT id, service, environment, status, version, triggered_by, strftime(finished_at AT TIME ZONE 'UTC', '%H:%M:%S') AS at FROM deployments WHERE source = 'github'`)
	want = "id,service,environment,status,version,triggered_by,at\n" +
		"acme/payments/deployments/1234567,payments,production,success,v2.4.1,alice,10:04:30\n"
	if got != want {
		t.Errorf("webhook deployment:\n%s\nwant:\n%s", got, want)
	}
	// An event shiplog does not store is acknowledged and ignored; a
	// payload without its object is a 400.
	if code, body := r.post("/webhooks/github", "deployment_status", "gh-x", `{"repository":{"full_name":"acme/payments"}}`); code != http.StatusBadRequest || !strings.Contains(body, "deployment is missing") {
		t.Errorf("bad webhook: %d %s", code, body)
	}

	// The dashboards index lists the built-in specs; the ECharts asset is served.
	for path, want := range map[string]string{"/dashboards/": "/dashboards/teams", "/dashboards/assets/echarts.min.js": "echarts"} {
		req, _ := http.NewRequest("GET", r.base+path, nil)
		req.Header.Set("Authorization", "Bearer "+token)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK || !strings.Contains(string(b), want) {
			t.Errorf("GET %s: %d, %d bytes, want %q in it", path, resp.StatusCode, len(b), want)
		}
	}

	// A wrong token is refused by the query endpoint.
	if _, err := server.RemoteQuery(context.Background(), r.flight, "wrong", "SELECT 1"); err == nil {
		t.Error("a wrong token was accepted")
	}

	// audit --server runs the controls remotely: one control, JSON. The
	// controls read the marts: wait for the transform started at launch.
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(100 * time.Millisecond) {
		got := r.remote(`SELECT count(*) AS n FROM ingest_runs WHERE source = 'transform' AND status = 'success'`)
		if got == "n\n1\n" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no transform: %q\n%s", got, r.stderr)
		}
	}
	ios, _, out, _ := iostreams.Test()
	err := audit.Run(context.Background(), &audit.Options{
		IO: ios, Config: func() (*config.Config, error) { return r.cfg, nil }, Getenv: getenv,
		Server: r.flight, Controls: []string{"deployer-not-allowed"}, Format: "json",
		Warehouse: func(context.Context) (*warehouse.DB, error) {
			t.Fatal("audit --server opened the warehouse file")
			return nil, nil
		},
	})
	if err != nil {
		t.Fatalf("audit --server: %v", err)
	}
	var doc struct {
		Controls []struct {
			Name string `json:"name"`
		} `json:"controls"`
	}
	if err := json.Unmarshal(out.Bytes(), &doc); err != nil || len(doc.Controls) != 1 || doc.Controls[0].Name != "deployer-not-allowed" {
		t.Errorf("audit --server output: %v\n%s", err, out)
	}

	// Stop (as SIGTERM does through the command context) and re-open the
	// file: the three deployments are there.
	r.stop()
	db, err := warehouse.Open(context.Background(), r.dbPath, warehouse.Options{ReadOnly: true})
	if err != nil {
		t.Fatalf("re-open after stop: %v", err)
	}
	defer db.Close()
	var n, deliveries int
	db.QueryRow(`SELECT (SELECT count(*) FROM deployments), (SELECT count(*) FROM webhook_deliveries)`).Scan(&n, &deliveries)
	if n != 3 || deliveries != 3 {
		t.Errorf("after stop: %d deployments, %d deliveries; want 3 and 3 (ci-1, gh-a, gh-b)", n, deliveries)
	}
	if !strings.Contains(r.stderr.String(), "serve: stopped") {
		t.Errorf("stderr: %s", r.stderr)
	}
}

func TestRunNowUnknownJob(t *testing.T) {
	ios, _, _, _ := iostreams.Test()
	dir := t.TempDir()
	cfg := config.Default()
	err := Run(context.Background(), &Options{
		IO: ios, Config: func() (*config.Config, error) { return cfg, nil }, Getenv: getenv,
		Warehouse: func(ctx context.Context) (*warehouse.DB, error) {
			return warehouse.Open(ctx, filepath.Join(dir, "w.duckdb"), warehouse.Options{})
		},
		Listen: "127.0.0.1:0", FlightSQL: "off", RunNow: []string{"github"},
	})
	// No sources are configured: only reports and transform exist.
	if err == nil || !strings.Contains(err.Error(), "--run-now github: no such job (known: reports, transform)") {
		t.Errorf("err = %v", err)
	}
}

// TestRunNowTransform: --run-now transform builds the marts from what the
// warehouse holds, and the run is recorded in ingest_runs.
func TestRunNowTransform(t *testing.T) {
	dir := t.TempDir()
	ctx := context.Background()
	db, err := warehouse.Open(ctx, filepath.Join(dir, "w.duckdb"), warehouse.Options{})
	if err != nil {
		t.Fatal(err)
	}
	recs := `{"kind":"deployment","id":"d1","service":"web","environment":"production","status":"success","finished_at":"2026-11-20T10:00:00Z"}
{"kind":"deployment","id":"d2","service":"web","environment":"production","status":"success","finished_at":"2026-11-21T10:00:00Z"}
{"kind":"deployment","id":"d3","service":"web","environment":"staging","status":"success","finished_at":"2026-11-21T11:00:00Z"}
{"kind":"deployment","id":"d4","service":"web","environment":"production","status":"success","finished_at":"2026-11-21T12:00:00Z","rollback_of":"d2"}
`
	if _, err := EventSink(db, time.Now)(ctx, strings.NewReader(recs), "seed"); err != nil {
		t.Fatal(err)
	}
	db.Close()

	r := startIn(t, dir, "transform", "reports")
	deadline := time.Now().Add(30 * time.Second)
	for {
		got := r.remote(`SELECT string_agg(source || ' ' || status, ' / ' ORDER BY id) AS runs FROM ingest_runs WHERE source IN ('transform', 'reports')`)
		if got == "runs\ntransform success / reports success\n" {
			break
		}
		if strings.Contains(got, "failed") || time.Now().After(deadline) {
			t.Fatalf("transform run: %q\n%s", got, r.stderr)
		}
		time.Sleep(200 * time.Millisecond)
	}
	// Four deployments, three in production (d1, d2, d4); d2 failed because
	// d4 rolls it back (DESIGN.md, change failure rate).
	got := r.remote(`SELECT count(*) AS n, count(*) FILTER (WHERE is_production) AS prod, string_agg(deployment_id, ' ') FILTER (WHERE is_failed) AS failed FROM fct_deployments`)
	if got != "n,prod,failed\n4,3,d2\n" {
		t.Errorf("fct_deployments after --run-now transform:\n%s", got)
	}
	// The reports job wrote the site; a dashboard renders with live data.
	if _, err := os.Stat(filepath.Join(r.cfg.Serve.ReportsDir, "index.html")); err != nil {
		t.Errorf("reports job: %v", err)
	}
	req, _ := http.NewRequest("GET", r.base+"/dashboards/leadership", nil)
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	page, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || !strings.Contains(string(page), "assets/echarts.min.js") {
		t.Errorf("GET /dashboards/leadership: %d\n%.300s", resp.StatusCode, page)
	}
}

// A scheduled source job reports the rows its runs wrote (they reach
// /metrics as shiplog_job_rows_written_total), the same count ingest_runs
// records; a second run writes the same rows again.
func TestSourceJobReportsRows(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	events := filepath.Join(dir, "events.jsonl")
	// 3 records: a team, a service, a deployment.
	if err := os.WriteFile(events, []byte(`{"kind":"team","id":"pay","name":"Payments"}
{"kind":"service","id":"web","name":"Web","team":"pay"}
{"kind":"deployment","id":"d1","service":"web","environment":"production","status":"success","finished_at":"2026-11-20T10:00:00Z"}
`), 0o644); err != nil {
		t.Fatal(err)
	}
	db, err := warehouse.Open(ctx, filepath.Join(dir, "w.duckdb"), warehouse.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	cfg := config.Default()
	cfg.Sources.Files = []config.Files{{Paths: []string{events}}}
	ios, _, _, _ := iostreams.Test()
	w, err := wire(db, cfg, &Options{IO: ios, Getenv: getenv, Now: time.Now})
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 2; i++ {
		var rows int64
		found := false
		for _, j := range w.jobs {
			if j.Name == "files" {
				found = true
				if rows, err = j.Run(ctx); err != nil {
					t.Fatal(err)
				}
			}
		}
		if !found || rows != 3 {
			t.Fatalf("run %d: files job wrote %d rows (found %v), want 3", i+1, rows, found)
		}
	}
	var n int64
	if err := db.QueryRow(`SELECT sum(rows_written) FROM ingest_runs WHERE source = 'file' AND status = 'success'`).Scan(&n); err != nil || n != 6 {
		t.Errorf("ingest_runs holds %d rows written, %v; want 6", n, err)
	}
}

// A push with invalid UTF-8 is a bad record: 400 naming its line and field,
// nothing stored, no DuckDB internals in the answer.
func TestPushInvalidUTF8(t *testing.T) {
	r := start(t)
	body := `{"kind":"deployment","id":"d1","service":"web","environment":"production","status":"success","finished_at":"2026-11-26T10:04:00Z"}` + "\n" +
		`{"kind":"deployment","id":"d2","service":"w` + "\xff" + `eb","environment":"production","status":"success","finished_at":"2026-11-26T10:04:00Z"}` + "\n"
	code, got := r.post("/api/v1/events", "", "utf-1", body)
	if code != http.StatusBadRequest || !strings.Contains(got, `push:utf-1: line 2: field \"service\": invalid UTF-8 (byte 0xff at byte 44 of the line)`) {
		t.Errorf("got %d %s", code, got)
	}
	for _, internal := range []string{"Invalid Input Error", "Possible Solution", "delimiter"} {
		if strings.Contains(got, internal) {
			t.Errorf("the answer shows DuckDB's internals: %s", got)
		}
	}
	if got := r.remote(`SELECT count(*) AS n FROM deployments`); got != "n\n0\n" {
		t.Errorf("deployments after the refused push: %q", got)
	}
}

// The files job runs in serve's sealed instance: it reads the folder of
// its sources.files pattern and decompresses a .gz input into the spool
// folder, the only places DuckDB may read; a reader of the same instance
// still cannot read that folder through a query.
func TestFilesJobUnderSeal(t *testing.T) {
	dir := t.TempDir()
	data := filepath.Join(dir, "data")
	if err := os.Mkdir(data, 0o755); err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(data, "teams.jsonl"), []byte(`{"kind":"team","id":"payments"}`+"\n"), 0o644)
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	zw.Write([]byte(`{"kind":"deployment","id":"d1","service":"web","environment":"production","status":"success","finished_at":"2026-11-26T10:04:00Z"}` + "\n"))
	zw.Close()
	os.WriteFile(filepath.Join(data, "deployments.jsonl.gz"), gz.Bytes(), 0o644)
	r := startWith(t, dir, func(c *config.Config) {
		c.Sources.Files = []config.Files{{Paths: []string{filepath.Join(data, "*.jsonl"), filepath.Join(data, "*.jsonl.gz")}}}
	}, "files")
	deadline := time.Now().Add(30 * time.Second)
	for {
		got := r.remote(`SELECT (SELECT count(*) FROM teams) AS teams, (SELECT count(*) FROM deployments) AS deployments`)
		if got == "teams,deployments\n1,1\n" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("files job: %q\n%s", got, r.stderr)
		}
		time.Sleep(200 * time.Millisecond)
	}
	_, err := server.RemoteQuery(context.Background(), r.flight, token, "SELECT * FROM read_text('"+filepath.Join(data, "teams.jsonl")+"')")
	if err == nil || !strings.Contains(err.Error(), "read_text reads files") {
		t.Errorf("a query read the data folder: %v", err)
	}
}
