package server

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/jonboulle/clockwork"
)

// A push is signed over its timestamp and body; one sent more than five
// minutes from the server's clock is refused, and the body-only signature
// of older senders only passes under serve.allow_body_only_signatures.
func TestPushTimestamp(t *testing.T) {
	now := time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC)
	clock := clockwork.NewFakeClockAt(now)
	h := startServer(t, func(o *Options) { o.Clock = clock })
	body := `{"kind":"deployment","id":"d1","service":"api","environment":"production","finished_at":"2026-03-01T10:00:00Z","status":"success"}`
	at := func(t time.Time) map[string]string {
		ts, sig := SignPush([]byte(secret), t, []byte(body))
		return map[string]string{"X-Shiplog-Timestamp": ts, "X-Shiplog-Signature-256": sig}
	}
	tests := []struct {
		name     string
		headers  map[string]string
		wantCode int
		wantText string
	}{
		{"six minutes old", at(now.Add(-6 * time.Minute)), 401, "is 6m0s away from the server's clock, more than the 5m0s allowed"},
		{"six minutes ahead", at(now.Add(6 * time.Minute)), 401, "is 6m0s away"},
		{"no timestamp", map[string]string{"X-Shiplog-Signature-256": Sign([]byte(secret), []byte(body))}, 401, "missing X-Shiplog-Timestamp"},
		{"not a number", map[string]string{"X-Shiplog-Timestamp": "yesterday", "X-Shiplog-Signature-256": Sign([]byte(secret), []byte(body))}, 401, "Unix time in whole seconds"},
		{"body-only signature with a timestamp", map[string]string{"X-Shiplog-Timestamp": strconv.FormatInt(now.Unix(), 10), "X-Shiplog-Signature-256": Sign([]byte(secret), []byte(body))}, 401, "does not match timestamp"},
		// A signature over another timestamp: the attacker moved the header.
		{"timestamp moved", map[string]string{"X-Shiplog-Timestamp": strconv.FormatInt(now.Unix(), 10), "X-Shiplog-Signature-256": at(now.Add(-10 * time.Minute))["X-Shiplog-Signature-256"]}, 401, "does not match"},
		{"four minutes old", at(now.Add(-4 * time.Minute)), 202, `"records":1`},
	}
	for i, tt := range tests {
		code, got := h.post("/api/v1/events", body, "", "ts-"+strconv.Itoa(i), tt.headers)
		if code != tt.wantCode || !strings.Contains(got, tt.wantText) {
			t.Errorf("%s: %d %s, want %d with %q", tt.name, code, got, tt.wantCode, tt.wantText)
		}
	}

	// An old sender, allowed explicitly.
	h2 := startServer(t, func(o *Options) { o.Clock = clock; o.Config.Serve.AllowBodyOnlySignatures = true })
	if code, got := h2.post("/api/v1/events", body, Sign([]byte(secret), []byte(body)), "old-1", nil); code != 202 {
		t.Errorf("body-only signature allowed: %d %s", code, got)
	}
}

// A captured push resent under a new delivery id (its timestamp still
// fresh) is a duplicate: it does not roll a deployment back. The same holds
// for a GitHub webhook and for a body-only push.
func TestReplayUnderNewDeliveryID(t *testing.T) {
	h := startServer(t, nil)
	failed := `{"kind":"deployment","id":"d1","service":"api","environment":"production","finished_at":"2026-03-01T10:00:00Z","status":"failure"}`
	fixed := `{"kind":"deployment","id":"d1","service":"api","environment":"production","finished_at":"2026-03-01T10:00:00Z","status":"success"}`
	captured := signPush(failed)
	if code, got := h.post("/api/v1/events", failed, "", "ci-1", captured); code != 202 {
		t.Fatalf("first push: %d %s", code, got)
	}
	if code, got := h.push(fixed, "ci-2"); code != 202 {
		t.Fatalf("second push: %d %s", code, got)
	}
	code, got := h.post("/api/v1/events", failed, "", "attacker-1", captured)
	if code != 200 || !strings.Contains(got, `"duplicate":true`) || !strings.Contains(got, `"duplicate_of":"ci-1"`) || !strings.Contains(got, `"records":1`) {
		t.Errorf("replay under a new id: %d %s, want a duplicate of ci-1", code, got)
	}
	var status string
	h.db.QueryRow(`SELECT status FROM deployments WHERE id = 'd1'`).Scan(&status)
	if status != "success" {
		t.Errorf("d1 is %q after the replay, want success", status)
	}
	if n := h.count(`SELECT count(*) FROM webhook_deliveries WHERE delivery_id = 'attacker-1'`); n != 0 {
		t.Errorf("the replay was recorded as a delivery")
	}

	var calls int
	gh := startServer(t, func(o *Options) {
		o.GitHub = func(ctx context.Context, event string, body []byte, id string) (int64, error) { calls++; return 1, nil }
	})
	body := `{"action":"created","deployment_status":{"id":7,"state":"failure"},"deployment":{"id":1}}`
	ev := map[string]string{"X-GitHub-Event": "deployment_status"}
	gh.post("/webhooks/github", body, Sign([]byte(secret), []byte(body)), "gh-1", ev)
	code, got = gh.post("/webhooks/github", body, Sign([]byte(secret), []byte(body)), "gh-2", ev)
	if code != 200 || !strings.Contains(got, `"duplicate_of":"gh-1"`) || calls != 1 {
		t.Errorf("github replay under a new id: %d %s, sink called %d times", code, got, calls)
	}
}

// deliver hashes the bytes readBody kept; an endpoint that reads its body
// some other way is refused rather than deduplicated on nothing.
func TestDeliverNeedsReadBody(t *testing.T) {
	h := startServer(t, nil)
	req := httptest.NewRequest("POST", "/webhooks/x", strings.NewReader("{}"))
	w := httptest.NewRecorder()
	h.srv.deliver(w, req, "x", "", "id-1", func(context.Context) (int64, error) {
		t.Error("store ran")
		return 0, nil
	})
	if w.Code != http.StatusInternalServerError {
		t.Errorf("got %d, want 500", w.Code)
	}
}

// An endpoint that reads its body its own way (as a GitLab or PagerDuty
// handler may) still gets replays refused: bufferBodies kept the bytes.
func TestDeliverAfterTheHandlerReadTheBody(t *testing.T) {
	h := startServer(t, nil)
	stored := 0
	handler := h.srv.bufferBodies(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		if len(body) == 0 {
			t.Error("the handler read an empty body")
		}
		h.srv.deliver(w, r, "custom", "", r.Header.Get("X-Id"), func(context.Context) (int64, error) { stored++; return 1, nil })
	}))
	for i, id := range []string{"a", "b"} {
		req := httptest.NewRequest("POST", "/webhooks/custom", strings.NewReader(`{"event":1}`))
		req.Header.Set("X-Id", id)
		w := httptest.NewRecorder()
		handler.ServeHTTP(w, req)
		want := []int{http.StatusAccepted, http.StatusOK}[i]
		if w.Code != want {
			t.Errorf("delivery %s: %d %s, want %d", id, w.Code, w.Body, want)
		}
	}
	if stored != 1 {
		t.Errorf("stored %d times, want once", stored)
	}
}
