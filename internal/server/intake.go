package server

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
)

// PagerDutyWebhooks receives PagerDuty v3 webhooks on /webhooks/pagerduty.
type PagerDutyWebhooks struct {
	// Secret is the signing secret of the webhook subscription.
	Secret []byte
	// Stored reports whether an event type is stored; others are answered
	// 202 and left out.
	Stored func(eventType string) bool
	// Store stores one delivery and returns the raw rows written; a
	// *BadRequestError for a body that is not an incident event.
	Store func(ctx context.Context, body []byte) (int64, error)
}

// CDEventsDelivery is one checked request to /api/v1/cdevents.
type CDEventsDelivery struct {
	// ID is the delivery's key for exactly-once: "SOURCE ID" of its one
	// event, or a hash of every event's key for a batch.
	ID string
	// Event labels the delivery in webhook_deliveries: the CDEvents type,
	// or "batch".
	Event string
	// Ignored counts events of types shiplog does not map.
	Ignored int
	// Store writes the events (those stored before are left out) and
	// returns how many were new; nil when no event is to be stored.
	Store func(ctx context.Context) (int64, error)
	// Events are the events to store, for Options.CDEventGroups.
	Events any
}

// CDEventsSink parses and checks a request of CloudEvents carrying
// CDEvents (structured, batched or binary mode). A *BadRequestError names
// the event and field at fault; nothing is written before Store.
type CDEventsSink func(header http.Header, body []byte) (*CDEventsDelivery, error)

// pagerDutyWebhook answers POST /webhooks/pagerduty: a v3 webhook whose
// X-PagerDuty-Signature holds an HMAC-SHA256 of the body under the
// subscription's secret, keyed for exactly-once by event.id.
func (s *Server) pagerDutyWebhook(w http.ResponseWriter, r *http.Request) {
	const endpoint = "pagerduty"
	pd := s.opts.PagerDuty
	if pd == nil || len(pd.Secret) == 0 {
		s.replyError(w, endpoint, http.StatusServiceUnavailable, "PagerDuty webhooks are off: configure sources.pagerduty and set the variable named by its webhook_secret_env")
		return
	}
	body, ok := s.readBounded(w, r, endpoint)
	if !ok {
		return
	}
	if !validPagerDutySignature(pd.Secret, body, r.Header.Get("X-PagerDuty-Signature")) {
		s.replyError(w, endpoint, http.StatusUnauthorized, "no X-PagerDuty-Signature v1= signature matches the body and the subscription's secret")
		return
	}
	var env struct {
		Event struct {
			ID        string `json:"id"`
			EventType string `json:"event_type"`
		} `json:"event"`
	}
	if err := json.Unmarshal(body, &env); err != nil || env.Event.ID == "" {
		s.replyError(w, endpoint, http.StatusBadRequest, "the body is not a v3 webhook event (event.id is missing)")
		return
	}
	if !pd.Stored(env.Event.EventType) {
		s.reply(w, endpoint, http.StatusAccepted, deliveryResult{Delivery: env.Event.ID,
			Ignored: fmt.Sprintf("event_type %q is not one shiplog stores (incident.triggered, incident.acknowledged, incident.resolved)", env.Event.EventType)})
		return
	}
	s.deliver(w, r, endpoint, env.Event.EventType, env.Event.ID, func(ctx context.Context) (int64, error) {
		return pd.Store(ctx, body)
	})
}

// validPagerDutySignature checks X-PagerDuty-Signature: one or more
// comma-separated "v1=<hex>" values (several while a secret is rotated), any
// of which may match; other versions are skipped.
func validPagerDutySignature(secret, body []byte, header string) bool {
	mac := hmac.New(sha256.New, secret)
	mac.Write(body)
	want := mac.Sum(nil)
	for _, part := range strings.Split(header, ",") {
		v, ok := strings.CutPrefix(strings.TrimSpace(part), "v1=")
		if !ok {
			continue
		}
		if got, err := hex.DecodeString(v); err == nil && hmac.Equal(got, want) {
			return true
		}
	}
	return false
}

// cdevents answers POST /api/v1/cdevents, signed like the push API.
func (s *Server) cdevents(w http.ResponseWriter, r *http.Request) {
	const endpoint = "cdevents"
	body, _, ok := s.pushDelivery(w, r, endpoint, "")
	if !ok {
		return
	}
	if s.opts.CDEvents == nil {
		s.replyError(w, endpoint, http.StatusNotImplemented, "this server does not accept CDEvents")
		return
	}
	d, err := s.opts.CDEvents(r.Header, body)
	if err != nil {
		var bad *BadRequestError
		if errors.As(err, &bad) {
			s.replyError(w, endpoint, http.StatusBadRequest, bad.Error())
		} else {
			s.replyError(w, endpoint, http.StatusInternalServerError, err.Error())
		}
		return
	}
	if d.Store == nil {
		s.reply(w, endpoint, http.StatusAccepted, deliveryResult{Delivery: d.ID, Ignored: fmt.Sprintf("%d event(s) of types shiplog does not map", d.Ignored)})
		return
	}
	if s.opts.CDEventGroups != nil {
		s.cdeventsGrouped(w, r, d)
		return
	}
	s.deliver(w, r, endpoint, d.Event, d.ID, d.Store)
}

// readBounded reads a body of at most serve.max_body_bytes, answering 413
// itself when it is larger.
func (s *Server) readBounded(w http.ResponseWriter, r *http.Request, endpoint string) ([]byte, bool) {
	limit := s.opts.Config.Serve.MaxBodyBytes
	if limit <= 0 {
		limit = 10 << 20
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, limit))
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			s.replyError(w, endpoint, http.StatusRequestEntityTooLarge, fmt.Sprintf("body is over the limit of %d bytes (serve.max_body_bytes)", limit))
		} else {
			s.replyError(w, endpoint, http.StatusBadRequest, "could not read the body: "+err.Error())
		}
		return nil, false
	}
	return body, true
}
