package pagerduty

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"time"

	"github.com/shiplog/shiplog/ingest"
	"github.com/shiplog/shiplog/internal/warehouse"
)

// WebhookEvents are the v3 webhook event types StoreWebhook stores.
var WebhookEvents = []string{"incident.triggered", "incident.acknowledged", "incident.resolved"}

// WebhookError is a webhook payload that cannot be stored (not the shape of
// a v3 incident event); the sender should not retry it unchanged.
type WebhookError struct{ Err error }

func (e *WebhookError) Error() string { return e.Err.Error() }
func (e *WebhookError) Unwrap() error { return e.Err }

// WebhookEvent is the envelope of a v3 webhook delivery.
type WebhookEvent struct {
	ID           string          `json:"id"`
	EventType    string          `json:"event_type"`
	ResourceType string          `json:"resource_type"`
	OccurredAt   string          `json:"occurred_at"`
	Data         json.RawMessage `json:"data"`
}

// ParseWebhook reads the envelope of a v3 webhook body ({"event": {…}}).
func ParseWebhook(body []byte) (WebhookEvent, error) {
	var w struct {
		Event *WebhookEvent `json:"event"`
	}
	if err := json.Unmarshal(body, &w); err != nil {
		return WebhookEvent{}, &WebhookError{fmt.Errorf("pagerduty webhook: %v", err)}
	}
	if w.Event == nil {
		return WebhookEvent{}, &WebhookError{fmt.Errorf("pagerduty webhook: event is missing (a v3 webhook body is {\"event\": {…}})")}
	}
	if w.Event.ID == "" {
		return WebhookEvent{}, &WebhookError{fmt.Errorf("pagerduty webhook: event.id is missing")}
	}
	if w.Event.EventType == "" {
		return WebhookEvent{}, &WebhookError{fmt.Errorf("pagerduty webhook: event.event_type is missing")}
	}
	return *w.Event, nil
}

// Stored reports whether StoreWebhook stores events of this type.
func Stored(eventType string) bool {
	for _, e := range WebhookEvents {
		if e == eventType {
			return true
		}
	}
	return false
}

// StoreWebhook stores one v3 webhook event (incident.triggered,
// acknowledged or resolved) in the raw tables, then rebuilds the incidents
// (Map), all in one transaction:
//
//   - the event goes into raw_pagerduty_log_entries as an entry of its
//     incident (type = event type, created_at = occurred_at), replacing the
//     same event id;
//   - the incident object (event.data) goes into raw_pagerduty_incidents
//     (updated_at = occurred_at) when no copy read from the API and no
//     copy from a newer event is stored, so that an incident known only
//     from webhooks is mapped; an API copy is left alone (the next sync
//     reads the incident again and replaces a webhook's copy).
//
// It returns the number of raw rows written. A payload that is not an
// incident event is a *WebhookError.
func (s *Source) StoreWebhook(ctx context.Context, db *warehouse.DB, body []byte) (int64, error) {
	ev, err := ParseWebhook(body)
	if err != nil {
		return 0, err
	}
	if !Stored(ev.EventType) {
		return 0, &WebhookError{fmt.Errorf("pagerduty webhook: event_type %q is not stored (want incident.triggered, incident.acknowledged or incident.resolved)", ev.EventType)}
	}
	var data struct {
		ID        string `json:"id"`
		Type      string `json:"type"`
		CreatedAt string `json:"created_at"`
	}
	if len(ev.Data) == 0 || json.Unmarshal(ev.Data, &data) != nil || data.ID == "" {
		return 0, &WebhookError{fmt.Errorf("pagerduty %s webhook: event.data.id is missing", ev.EventType)}
	}
	occurred, err := time.Parse(time.RFC3339, ev.OccurredAt)
	if err != nil {
		return 0, &WebhookError{fmt.Errorf("pagerduty %s webhook: event.occurred_at %q is not an RFC 3339 time", ev.EventType, ev.OccurredAt)}
	}
	var created any
	if data.CreatedAt != "" {
		t, err := time.Parse(time.RFC3339, data.CreatedAt)
		if err != nil {
			return 0, &WebhookError{fmt.Errorf("pagerduty %s webhook: event.data.created_at %q is not an RFC 3339 time", ev.EventType, data.CreatedAt)}
		}
		created = t.UTC()
	}
	eventJSON, err := json.Marshal(ev)
	if err != nil {
		return 0, err
	}
	now := s.now().UTC()
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return 0, err
	}
	defer tx.Rollback()
	if created == nil {
		// A later event's data may lack created_at: keep the one an
		// earlier event of the incident gave.
		var prev sql.NullTime
		if err := tx.QueryRowContext(ctx, `SELECT max(created_at) FROM raw_pagerduty_incidents WHERE id = ? AND origin = 'webhook'`, data.ID).Scan(&prev); err != nil {
			return 0, err
		}
		if prev.Valid {
			created = prev.Time
		}
	}
	var n int64 = 1
	steps := []struct {
		sql  string
		args []any
	}{
		{`DELETE FROM raw_pagerduty_log_entries WHERE incident_id = ? AND id = ?`, []any{data.ID, ev.ID}},
		{`INSERT INTO raw_pagerduty_log_entries (incident_id, id, type, created_at, origin, payload, fetched_at)
			VALUES (?, ?, ?, ?, 'webhook', ?, ?)`, []any{data.ID, ev.ID, ev.EventType, occurred.UTC(), string(eventJSON), now}},
		// A redelivered older event must not replace newer data.
		{`DELETE FROM raw_pagerduty_incidents WHERE id = ? AND origin = 'webhook' AND updated_at <= ?`, []any{data.ID, occurred.UTC()}},
	}
	for _, st := range steps {
		if _, err := tx.ExecContext(ctx, st.sql, st.args...); err != nil {
			return 0, fmt.Errorf("pagerduty %s webhook: %w", ev.EventType, err)
		}
	}
	res, err := tx.ExecContext(ctx, `INSERT INTO raw_pagerduty_incidents (id, created_at, updated_at, origin, payload, fetched_at)
		SELECT ?, ?, ?, 'webhook', ?, ? WHERE NOT EXISTS (SELECT 1 FROM raw_pagerduty_incidents WHERE id = ?)`,
		data.ID, created, occurred.UTC(), string(ev.Data), now, data.ID)
	if err != nil {
		return 0, fmt.Errorf("pagerduty %s webhook: %w", ev.EventType, err)
	}
	if k, _ := res.RowsAffected(); k > 0 {
		n += k
	}
	if _, err := s.mapTx(ctx, tx, ingest.MapOptions{}); err != nil {
		return 0, err
	}
	if err := tx.Commit(); err != nil {
		return 0, err
	}
	return n, nil
}
