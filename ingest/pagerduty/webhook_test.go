package pagerduty_test

import (
	"context"
	"errors"
	"os"
	"strings"
	"testing"

	"github.com/shiplog/shiplog/ingest/pagerduty"
)

func webhookBody(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile("testdata/webhooks/" + name)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// Q1WEBHK is known only from webhooks: triggered 11:00 (data.created_at
// 11:00), acknowledged 11:06, resolved 11:48; service PIJ90N7 → checkout,
// priority P1 → sev1.
func TestWebhookEventsMapAnIncident(t *testing.T) {
	ctx := context.Background()
	h := newHarness(t, nil)
	steps := []struct {
		file string
		want string
	}{
		{"triggered.json", "Q1WEBHK|checkout|sev1|Checkout error rate above 5%|2026-03-08 11:00:00|NULL|NULL|triggered|high|P1|https://acme.pagerduty.com/incidents/Q1WEBHK|1301"},
		{"acknowledged.json", "Q1WEBHK|checkout|sev1|Checkout error rate above 5%|2026-03-08 11:00:00|2026-03-08 11:06:00|NULL|acknowledged|high|P1|https://acme.pagerduty.com/incidents/Q1WEBHK|1301"},
		{"resolved.json", "Q1WEBHK|checkout|sev1|Checkout error rate above 5%|2026-03-08 11:00:00|2026-03-08 11:06:00|2026-03-08 11:48:00|resolved|high|P1|https://acme.pagerduty.com/incidents/Q1WEBHK|1301"},
	}
	for _, st := range steps {
		n, err := h.src.StoreWebhook(ctx, h.db, webhookBody(t, st.file))
		if err != nil {
			t.Fatalf("%s: %v", st.file, err)
		}
		if n < 1 {
			t.Errorf("%s: %d rows written", st.file, n)
		}
		check(t, st.file, incidentRows(t, h.db), []string{st.want})
	}
	// The same event again changes nothing.
	before := dump(t, h.db)
	if _, err := h.src.StoreWebhook(ctx, h.db, webhookBody(t, "acknowledged.json")); err != nil {
		t.Fatal(err)
	}
	if after := dump(t, h.db); after != before {
		t.Errorf("a redelivered event changed the warehouse")
	}
	check(t, "raw", rows(t, h.db, `SELECT origin, count(*) FROM raw_pagerduty_log_entries GROUP BY origin`), []string{"webhook|3"})
}

func TestWebhookThenSync(t *testing.T) {
	ctx := context.Background()
	h := newHarness(t, nil)
	// PL0W9AA, triggered in the API's copy, is acknowledged by a webhook
	// after the sync: the event is newer than the copy's last status change.
	if _, err := h.sync(t); err != nil {
		t.Fatal(err)
	}
	body := strings.NewReplacer("Q1WEBHK", "PL0W9AA", "2026-03-08T11:06:00.000Z", "2026-03-06T06:00:00.000Z").Replace(string(webhookBody(t, "acknowledged.json")))
	if _, err := h.src.StoreWebhook(ctx, h.db, []byte(body)); err != nil {
		t.Fatal(err)
	}
	check(t, "PL0W9AA", rows(t, h.db, `SELECT id, title, `+ts("acknowledged_at")+`, extra->>'status' FROM incidents WHERE id = 'PL0W9AA'`),
		[]string{"PL0W9AA|Disk almost full on db-3|2026-03-06 06:00:00|acknowledged"})
	// The API copy was kept (title unchanged above), the event stored beside it.
	check(t, "origins", rows(t, h.db, `SELECT origin FROM raw_pagerduty_incidents WHERE id = 'PL0W9AA'`), []string{"api"})

	// A webhook-only incident is replaced by the API's copy at the next sync.
	if _, err := h.src.StoreWebhook(ctx, h.db, webhookBody(t, "triggered.json")); err != nil {
		t.Fatal(err)
	}
	check(t, "webhook copy", rows(t, h.db, `SELECT origin FROM raw_pagerduty_incidents WHERE id = 'Q1WEBHK'`), []string{"webhook"})
}

func TestWebhookRefusesOtherShapes(t *testing.T) {
	ctx := context.Background()
	h := newHarness(t, nil)
	for name, body := range map[string]string{
		"priority_updated": string(webhookBody(t, "priority_updated.json")),
		"not json":         `{"event":`,
		"no event":         `{"messages": []}`,
		"no data id":       `{"event":{"id":"E1","event_type":"incident.triggered","occurred_at":"2026-03-08T11:00:00Z","data":{}}}`,
		"bad time":         `{"event":{"id":"E1","event_type":"incident.triggered","occurred_at":"soon","data":{"id":"Q1"}}}`,
	} {
		_, err := h.src.StoreWebhook(ctx, h.db, []byte(body))
		var we *pagerduty.WebhookError
		if !errors.As(err, &we) {
			t.Errorf("%s: error %v, want a WebhookError", name, err)
		}
	}
	check(t, "nothing stored", rows(t, h.db, `SELECT count(*) FROM raw_pagerduty_log_entries`), []string{"0"})
}
