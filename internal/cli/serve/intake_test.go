//go:build duckdb_arrow

package serve

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/shiplog/shiplog/internal/config"
	"github.com/shiplog/shiplog/internal/iostreams"
	"github.com/shiplog/shiplog/internal/server"
	"github.com/shiplog/shiplog/internal/warehouse"
)

const pdSecret = "pd-subscription-secret"

// startIntake runs serve with sources.pagerduty and sources.cdevents set.
func startIntake(t *testing.T) *running {
	t.Helper()
	dir := t.TempDir()
	cfg := config.Default()
	cfg.Sources.PagerDuty = &config.PagerDuty{Services: map[string]string{"PIJ90N7": "checkout"}, WebhookSecretEnv: "PD_HOOK_SECRET"}
	cfg.Sources.CDEvents = &config.CDEvents{Environments: map[string]string{"prod-eu-1": "production"}}
	cfg.Serve.ReportsDir = filepath.Join(dir, "reports")
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
	vars := map[string]string{"SHIPLOG_WEBHOOK_SECRET": secret, "SHIPLOG_TOKEN": token, "PD_HOOK_SECRET": pdSecret}
	opts := &Options{
		IO:     ios,
		Config: func() (*config.Config, error) { return cfg, nil },
		Warehouse: func(ctx context.Context) (*warehouse.DB, error) {
			return warehouse.Open(ctx, r.dbPath, warehouse.Options{})
		},
		Getenv:       func(k string) string { return vars[k] },
		Now:          func() time.Time { return time.Date(2026, 3, 10, 12, 0, 0, 0, time.UTC) },
		HTTPListener: httpLn, FlightListener: flightLn,
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

func (r *running) send(path, body string, headers map[string]string) (int, string) {
	r.t.Helper()
	req, _ := http.NewRequest("POST", r.base+path, strings.NewReader(body))
	for k, v := range headers {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		r.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// specEvent reads a conformance example of the pinned CDEvents spec and
// gives it its own id, subject, environment and timestamp.
func specEvent(t *testing.T, name, id, subject, env, at string) map[string]any {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "..", "..", "ingest", "cdevents", "testdata", "spec", name+".json"))
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	c := m["context"].(map[string]any)
	c["id"], c["timestamp"] = id, at
	s := m["subject"].(map[string]any)
	s["id"] = subject
	s["content"].(map[string]any)["environment"] = map[string]any{"id": env}
	return m
}

func jsonOf(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

func TestServeCDEvents(t *testing.T) {
	r := startIntake(t)
	signed := func(body string, h map[string]string) map[string]string {
		ts, sig := server.SignPush([]byte(secret), time.Now(), []byte(body))
		out := map[string]string{"X-Shiplog-Timestamp": ts, "X-Shiplog-Signature-256": sig}
		for k, v := range h {
			out[k] = v
		}
		return out
	}
	// Binary mode: the CloudEvent attributes in ce-* headers, the CDEvent
	// (the spec's service.deployed example) as the body.
	dep := specEvent(t, "service_deployed", "e-1", "service/checkout", "prod-eu-1", "2026-03-02T11:00:00Z")
	body := jsonOf(dep)
	bin := map[string]string{"Content-Type": "application/json", "ce-specversion": "1.0", "ce-id": "e-1",
		"ce-source": "/event/source/123", "ce-type": "dev.cdevents.service.deployed.0.2.0", "ce-time": "2026-03-02T11:00:00Z"}
	if code, b := r.send("/api/v1/cdevents", body, signed(body, bin)); code != http.StatusAccepted || !strings.Contains(b, `"records":1`) {
		t.Fatalf("binary: %d %s", code, b)
	}
	// Structured batch: an upgrade, then a rollback of the same service and
	// environment (the spec's examples).
	up := specEvent(t, "service_upgraded", "e-2", "service/checkout", "prod-eu-1", "2026-03-03T09:00:00Z")
	rb := specEvent(t, "service_rolledback", "e-3", "service/checkout", "prod-eu-1", "2026-03-03T09:30:00Z")
	wrap := func(ev map[string]any) map[string]any {
		c := ev["context"].(map[string]any)
		return map[string]any{"specversion": "1.0", "id": c["id"], "source": c["source"], "type": c["type"], "time": c["timestamp"],
			"datacontenttype": "application/json", "data": ev}
	}
	batch := jsonOf([]any{wrap(up), wrap(rb)})
	bh := map[string]string{"Content-Type": "application/cloudevents-batch+json"}
	if code, b := r.send("/api/v1/cdevents", batch, signed(batch, bh)); code != http.StatusAccepted || !strings.Contains(b, `"records":2`) {
		t.Fatalf("batch: %d %s", code, b)
	}
	// Structured, one event: e-2 again, in another request: nothing new.
	one := jsonOf(wrap(up))
	sh := map[string]string{"Content-Type": "application/cloudevents+json"}
	if code, b := r.send("/api/v1/cdevents", one, signed(one, sh)); code != http.StatusAccepted || !strings.Contains(b, `"records":0`) {
		t.Errorf("replayed event: %d %s", code, b)
	}
	// Invalid: environment without id → 400 naming the field, nothing written.
	bad := specEvent(t, "service_deployed", "e-4", "service/checkout", "prod-eu-1", "2026-03-04T10:00:00Z")
	delete(bad["subject"].(map[string]any)["content"].(map[string]any)["environment"].(map[string]any), "id")
	badBatch := jsonOf([]any{wrap(specEvent(t, "service_deployed", "e-5", "service/web", "prod-eu-1", "2026-03-04T10:00:00Z")), wrap(bad)})
	if code, b := r.send("/api/v1/cdevents", badBatch, signed(badBatch, bh)); code != http.StatusBadRequest ||
		!strings.Contains(b, "event 2 of the batch: subject.content.environment.id: missing") {
		t.Errorf("invalid: %d %s", code, b)
	}
	// Unsigned: refused.
	if code, _ := r.send("/api/v1/cdevents", body, bin); code != http.StatusUnauthorized {
		t.Errorf("unsigned: %d, want 401", code)
	}

	// e-1, e-2, e-3 stored once each; e-5 of the refused batch not at all.
	// Rows worked out by hand: all three at checkout/production (prod-eu-1
	// mapped), the spec's oci digest as version; e-3 rolls back e-2.
	got := r.remote(`SELECT id, service, environment, strftime(timezone('UTC', finished_at), '%Y-%m-%d %H:%M') AS finished, status, is_rollback,
		coalesce(rollback_of, '-') AS rollback_of, version FROM deployments WHERE source = 'cdevents' ORDER BY id`)
	digest := "sha256:0b31b1c02ff458ad9b7b81cbdf8f028bd54699fa151f221d1e8de6817db93427"
	want := "id,service,environment,finished,status,is_rollback,rollback_of,version\n" +
		"e-1,checkout,production,2026-03-02 11:00,success,false,-," + digest + "\n" +
		"e-2,checkout,production,2026-03-03 09:00,success,false,-," + digest + "\n" +
		"e-3,checkout,production,2026-03-03 09:30,success,true,e-2," + digest + "\n"
	if got != want {
		t.Errorf("deployments:\n%s\nwant:\n%s", got, want)
	}
	if got := r.remote(`SELECT count(*) AS n FROM raw_cdevents`); got != "n\n3\n" {
		t.Errorf("raw events: %q, want 3", got)
	}
	if got := r.remote(`SELECT count(*) AS n FROM webhook_deliveries WHERE endpoint = 'cdevents'`); got != "n\n3\n" {
		t.Errorf("deliveries: %q, want 3 (binary, batch, single)", got)
	}
}

func pdSignature(secret, body string) string {
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write([]byte(body))
	return "v1=" + hex.EncodeToString(mac.Sum(nil))
}

func TestServePagerDutyWebhook(t *testing.T) {
	r := startIntake(t)
	read := func(name string) string {
		b, err := os.ReadFile(filepath.Join("..", "..", "..", "ingest", "pagerduty", "testdata", "webhooks", name))
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}
	trig, ack := read("triggered.json"), read("acknowledged.json")
	if code, b := r.send("/webhooks/pagerduty", trig, map[string]string{"X-PagerDuty-Signature": pdSignature(pdSecret, trig)}); code != http.StatusAccepted {
		t.Fatalf("triggered: %d %s", code, b)
	}
	// During a secret rotation PagerDuty signs with both secrets.
	rotated := pdSignature("the-old-secret", ack) + "," + pdSignature(pdSecret, ack)
	if code, b := r.send("/webhooks/pagerduty", ack, map[string]string{"X-PagerDuty-Signature": rotated}); code != http.StatusAccepted {
		t.Fatalf("acknowledged, rotated: %d %s", code, b)
	}
	if code, _ := r.send("/webhooks/pagerduty", ack, map[string]string{"X-PagerDuty-Signature": pdSignature("the-old-secret", ack)}); code != http.StatusUnauthorized {
		t.Errorf("old secret alone: %d, want 401", code)
	}
	got := r.remote(`SELECT id, service, severity, strftime(timezone('UTC', opened_at), '%H:%M') AS opened,
		strftime(timezone('UTC', acknowledged_at), '%H:%M') AS acked FROM incidents WHERE source = 'pagerduty'`)
	if want := "id,service,severity,opened,acked\nQ1WEBHK,checkout,sev1,11:00,11:06\n"; got != want {
		t.Errorf("incidents:\n%s\nwant:\n%s", got, want)
	}
}
