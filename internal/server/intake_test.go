package server

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"
)

func pdSign(secret, body string) string {
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write([]byte(body))
	return "v1=" + hex.EncodeToString(mac.Sum(nil))
}

func TestValidPagerDutySignature(t *testing.T) {
	body := `{"event":{"id":"E1","event_type":"incident.triggered"}}`
	good, old := pdSign("pd-secret", body), pdSign("old-secret", body)
	tests := []struct {
		name   string
		header string
		want   bool
	}{
		{"good", good, true},
		{"rotated: old and new, new second", old + "," + good, true},
		{"rotated: new first, spaces", good + ", " + old, true},
		{"only the old secret", old, false},
		{"another body", pdSign("pd-secret", body+" "), false},
		{"no v1 prefix", strings.TrimPrefix(good, "v1="), false},
		{"other version only", "v2=" + strings.TrimPrefix(good, "v1="), false},
		{"not hex", "v1=zz", false},
		{"empty", "", false},
	}
	for _, tc := range tests {
		if got := validPagerDutySignature([]byte("pd-secret"), []byte(body), tc.header); got != tc.want {
			t.Errorf("%s: %v, want %v", tc.name, got, tc.want)
		}
	}
}

func TestPagerDutyWebhook(t *testing.T) {
	var stored []string
	h := startServer(t, func(o *Options) {
		o.PagerDuty = &PagerDutyWebhooks{
			Secret: []byte("pd-secret"),
			Stored: func(e string) bool { return e == "incident.triggered" },
			Store: func(ctx context.Context, body []byte) (int64, error) {
				if strings.Contains(string(body), "broken") {
					return 0, &BadRequestError{Err: errors.New("pagerduty webhook: event.data.id is missing")}
				}
				stored = append(stored, string(body))
				return 2, nil
			},
		}
	})
	post := func(body, sig string) (int, string) {
		return h.post("/webhooks/pagerduty", body, "", "", map[string]string{"X-PagerDuty-Signature": sig})
	}
	body := `{"event":{"id":"01DEN5BM","event_type":"incident.triggered","data":{"id":"Q1"}}}`
	if code, b := post(body, pdSign("pd-secret", body)); code != http.StatusAccepted || !strings.Contains(b, `"records":2`) {
		t.Fatalf("good signature: %d %s", code, b)
	}
	// The same event id again: answered, not stored twice.
	if code, b := post(body, pdSign("old", body)+","+pdSign("pd-secret", body)); code != http.StatusOK || !strings.Contains(b, `"duplicate":true`) {
		t.Errorf("redelivery during rotation: %d %s", code, b)
	}
	if code, _ := post(body, pdSign("wrong", body)); code != http.StatusUnauthorized {
		t.Errorf("bad signature: %d, want 401", code)
	}
	other := `{"event":{"id":"01DEN5XX","event_type":"incident.priority_updated","data":{"id":"Q1"}}}`
	if code, b := post(other, pdSign("pd-secret", other)); code != http.StatusAccepted || !strings.Contains(b, "ignored") {
		t.Errorf("other event type: %d %s", code, b)
	}
	broken := `{"event":{"id":"01DEN5YY","event_type":"incident.triggered","data":{"broken":true}}}`
	if code, b := post(broken, pdSign("pd-secret", broken)); code != http.StatusBadRequest || !strings.Contains(b, "event.data.id") {
		t.Errorf("bad payload: %d %s", code, b)
	}
	if len(stored) != 1 {
		t.Errorf("stored %d deliveries, want 1", len(stored))
	}
	if n := h.count(`SELECT count(*) FROM webhook_deliveries WHERE endpoint = 'pagerduty'`); n != 1 {
		t.Errorf("%d deliveries recorded, want 1", n)
	}
}

func TestPagerDutyWebhookOffWithoutSecret(t *testing.T) {
	h := startServer(t, func(o *Options) { o.PagerDuty = &PagerDutyWebhooks{} })
	if code, b := h.post("/webhooks/pagerduty", `{}`, "", "", nil); code != http.StatusServiceUnavailable || !strings.Contains(b, "webhook_secret_env") {
		t.Errorf("no secret: %d %s", code, b)
	}
}

func TestCDEventsEndpoint(t *testing.T) {
	calls := 0
	h := startServer(t, func(o *Options) {
		o.CDEvents = func(hdr http.Header, body []byte) (*CDEventsDelivery, error) {
			if strings.Contains(string(body), "invalid") {
				return nil, &BadRequestError{Err: errors.New("the event: subject.content.environment.id: missing")}
			}
			if strings.Contains(string(body), "taskrun") {
				return &CDEventsDelivery{ID: "/tekton tr-1", Ignored: 1}, nil
			}
			return &CDEventsDelivery{ID: hdr.Get("ce-source") + " " + hdr.Get("ce-id"), Event: hdr.Get("ce-type"),
				Store: func(ctx context.Context) (int64, error) { calls++; return 1, nil }}, nil
		}
	})
	bin := map[string]string{"ce-specversion": "1.0", "ce-id": "e-1", "ce-source": "/argocd", "ce-type": "dev.cdevents.service.deployed.0.2.0", "Content-Type": "application/json"}
	body := `{"context":{}}`
	// Signed like the push API, with no X-Shiplog-Delivery: the events carry their ids.
	if code, b := h.post("/api/v1/cdevents", body, "", "", merge(bin, signPush(body))); code != http.StatusAccepted {
		t.Fatalf("signed: %d %s", code, b)
	}
	if code, b := h.post("/api/v1/cdevents", body, "", "", merge(bin, signPush(body))); code != http.StatusOK || !strings.Contains(b, "duplicate") {
		t.Errorf("replay: %d %s", code, b)
	}
	if code, _ := h.post("/api/v1/cdevents", body, "", "", merge(bin, signPushWith("nope", body))); code != http.StatusUnauthorized {
		t.Errorf("bad signature: %d, want 401", code)
	}
	if code, _ := h.post("/api/v1/cdevents", body, "", "", bin); code != http.StatusUnauthorized {
		t.Errorf("unsigned: %d, want 401", code)
	}
	inv := `{"invalid":true}`
	if code, b := h.post("/api/v1/cdevents", inv, "", "", merge(bin, signPush(inv))); code != http.StatusBadRequest || !strings.Contains(b, "subject.content.environment.id") {
		t.Errorf("invalid: %d %s", code, b)
	}
	tr := `{"taskrun":true}`
	if code, b := h.post("/api/v1/cdevents", tr, "", "", merge(bin, signPush(tr))); code != http.StatusAccepted || !strings.Contains(b, "ignored") {
		t.Errorf("ignored: %d %s", code, b)
	}
	if calls != 1 {
		t.Errorf("store called %d times, want 1", calls)
	}
}

// merge returns the headers of a and b in one map.
func merge(a, b map[string]string) map[string]string {
	out := map[string]string{}
	for k, v := range a {
		out[k] = v
	}
	for k, v := range b {
		out[k] = v
	}
	return out
}

// signPushWith signs body as a push sent now with another secret.
func signPushWith(key, body string) map[string]string {
	ts, sig := SignPush([]byte(key), time.Now(), []byte(body))
	return map[string]string{"X-Shiplog-Timestamp": ts, "X-Shiplog-Signature-256": sig}
}
