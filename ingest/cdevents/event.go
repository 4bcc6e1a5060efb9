// Package cdevents reads CDEvents (https://cdevents.dev) carried by
// CloudEvents 1.0: the deployments, rollbacks, pipeline outcomes, incidents
// and merged changes that deploy tools (Argo CD, Tekton, Jenkins,
// Spinnaker, Keptn) and monitors emit.
//
// Events arrive over HTTP (`shiplog serve`, POST /api/v1/cdevents, in
// structured, batched or binary mode) or from JSON Lines files (`shiplog
// ingest cdevents FILE`). Each event is checked against the JSON schema of
// its type at the pinned spec version (schema/), stored as received in
// raw_cdevents keyed by its CloudEvents source and id (a replayed event is
// not stored twice), and the SQL in sql/ rebuilds the rows WHERE source =
// 'cdevents' of deployments, incidents and changes; see docs/cdevents.md.
package cdevents

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"mime"
	"net/http"
	"strings"
	"time"
)

// Name is the source's name in ingest_runs and the canonical source column.
const Name = "cdevents"

// Types are the CDEvents types shiplog stores, at the pinned spec version,
// with their schema files. Other dev.cdevents types are accepted and left
// out (see Ignored); a known event type of another version is refused.
var Types = map[string]string{
	"dev.cdevents.service.deployed.0.2.0":     "servicedeployed.json",
	"dev.cdevents.service.upgraded.0.2.0":     "serviceupgraded.json",
	"dev.cdevents.service.rolledback.0.2.0":   "servicerolledback.json",
	"dev.cdevents.service.removed.0.2.0":      "serviceremoved.json",
	"dev.cdevents.pipelinerun.finished.0.2.0": "pipelinerunfinished.json",
	"dev.cdevents.incident.detected.0.2.0":    "incidentdetected.json",
	"dev.cdevents.incident.reported.0.2.0":    "incidentreported.json",
	"dev.cdevents.incident.resolved.0.2.0":    "incidentresolved.json",
	"dev.cdevents.change.merged.0.2.0":        "changemerged.json",
}

// Content types of the CloudEvents HTTP binding.
const (
	StructuredType = "application/cloudevents+json"
	BatchType      = "application/cloudevents-batch+json"
)

// Event is one CloudEvent carrying a CDEvent. Source and ID (ce-source,
// ce-id) are its idempotency key.
type Event struct {
	ID     string
	Source string
	Type   string
	Time   string // ce-time, optional
	// Data is the CDEvent: context, subject, customData.
	Data json.RawMessage
	// Where names the event in errors: "event 2 of the batch", "events.jsonl:4".
	Where string
	// Origin is stored with the event: the delivery or FILE:LINE it came by.
	Origin string
}

// Key is the event's idempotency key, "source id".
func (e Event) Key() string { return e.Source + " " + e.ID }

// Error is a request or event that shiplog refuses: Where names the event
// (empty for the whole request), Field the attribute or JSON field.
type Error struct {
	Where string
	Field string
	Msg   string
}

func (e *Error) Error() string {
	var b strings.Builder
	if e.Where != "" {
		b.WriteString(e.Where + ": ")
	}
	if e.Field != "" {
		b.WriteString(e.Field + ": ")
	}
	b.WriteString(e.Msg)
	return b.String()
}

// cloudEvent is the structured-mode JSON form of a CloudEvent.
type cloudEvent struct {
	SpecVersion     *string         `json:"specversion"`
	ID              *string         `json:"id"`
	Source          *string         `json:"source"`
	Type            *string         `json:"type"`
	Time            string          `json:"time"`
	DataContentType string          `json:"datacontenttype"`
	Data            json.RawMessage `json:"data"`
	DataBase64      string          `json:"data_base64"`
}

// ParseRequest reads the CloudEvents of one HTTP request: structured mode
// (Content-Type application/cloudevents+json, one event), batched mode
// (application/cloudevents-batch+json, a JSON array of events) or binary
// mode (ce-specversion, ce-id, ce-source, ce-type and optional ce-time
// headers, the CDEvent as a JSON body).
func ParseRequest(h http.Header, body []byte) ([]Event, error) {
	mt, _, err := mime.ParseMediaType(h.Get("Content-Type"))
	if err != nil && h.Get("Content-Type") != "" {
		return nil, &Error{Field: "Content-Type", Msg: fmt.Sprintf("%q is not a media type", h.Get("Content-Type"))}
	}
	switch {
	case mt == StructuredType:
		ev, err := parseStructured(body, "the event")
		if err != nil {
			return nil, err
		}
		return []Event{ev}, nil
	case mt == BatchType:
		var items []json.RawMessage
		if err := json.Unmarshal(body, &items); err != nil {
			return nil, &Error{Msg: "a batch must be a JSON array of CloudEvents: " + err.Error()}
		}
		if len(items) == 0 {
			return nil, &Error{Msg: "the batch is empty"}
		}
		out := make([]Event, 0, len(items))
		for i, it := range items {
			ev, err := parseStructured(it, fmt.Sprintf("event %d of the batch", i+1))
			if err != nil {
				return nil, err
			}
			out = append(out, ev)
		}
		return out, nil
	case h.Get("ce-specversion") != "":
		ev, err := parseBinary(h, body)
		if err != nil {
			return nil, err
		}
		return []Event{ev}, nil
	default:
		return nil, &Error{Field: "Content-Type", Msg: fmt.Sprintf("%q with no ce-specversion header: send CloudEvents in structured mode (%s), batched mode (%s) or binary mode (ce-* headers and the CDEvent as the body)",
			h.Get("Content-Type"), StructuredType, BatchType)}
	}
}

// parseStructured reads one CloudEvent in its JSON form.
func parseStructured(raw []byte, where string) (Event, error) {
	var ce cloudEvent
	dec := json.NewDecoder(bytes.NewReader(raw))
	if err := dec.Decode(&ce); err != nil {
		return Event{}, &Error{Where: where, Msg: "not a CloudEvent in JSON: " + err.Error()}
	}
	ev := Event{Where: where, Time: ce.Time}
	for _, a := range []struct {
		name string
		v    *string
		dst  *string
	}{{"specversion", ce.SpecVersion, nil}, {"id", ce.ID, &ev.ID}, {"source", ce.Source, &ev.Source}, {"type", ce.Type, &ev.Type}} {
		if a.v == nil || *a.v == "" {
			return Event{}, &Error{Where: where, Field: a.name, Msg: "missing (a CloudEvent needs specversion, id, source and type)"}
		}
		if a.dst != nil {
			*a.dst = *a.v
		}
	}
	if *ce.SpecVersion != "1.0" {
		return Event{}, &Error{Where: where, Field: "specversion", Msg: fmt.Sprintf("%q: only CloudEvents 1.0 is accepted", *ce.SpecVersion)}
	}
	switch {
	case len(ce.Data) > 0 && string(ce.Data) != "null":
		if ce.DataContentType != "" && !isJSON(ce.DataContentType) {
			return Event{}, &Error{Where: where, Field: "datacontenttype", Msg: fmt.Sprintf("%q: a CDEvent is JSON (application/json)", ce.DataContentType)}
		}
		ev.Data = ce.Data
	case ce.DataBase64 != "":
		b, err := base64.StdEncoding.DecodeString(ce.DataBase64)
		if err != nil {
			return Event{}, &Error{Where: where, Field: "data_base64", Msg: "not base64: " + err.Error()}
		}
		ev.Data = b
	default:
		return Event{}, &Error{Where: where, Field: "data", Msg: "missing: the CDEvent goes in data"}
	}
	if !json.Valid(ev.Data) {
		return Event{}, &Error{Where: where, Field: "data", Msg: "not valid JSON"}
	}
	return ev, nil
}

// parseBinary reads a binary-mode CloudEvent from its headers and body.
func parseBinary(h http.Header, body []byte) (Event, error) {
	where := "the event"
	if v := h.Get("ce-specversion"); v != "1.0" {
		return Event{}, &Error{Where: where, Field: "ce-specversion", Msg: fmt.Sprintf("%q: only CloudEvents 1.0 is accepted", v)}
	}
	ev := Event{ID: h.Get("ce-id"), Source: h.Get("ce-source"), Type: h.Get("ce-type"), Time: h.Get("ce-time"), Data: body, Where: where}
	for name, v := range map[string]string{"ce-id": ev.ID, "ce-source": ev.Source, "ce-type": ev.Type} {
		if v == "" {
			return Event{}, &Error{Where: where, Field: name, Msg: "missing header (binary mode needs ce-specversion, ce-id, ce-source and ce-type)"}
		}
	}
	if ct := h.Get("Content-Type"); ct != "" && !isJSON(ct) {
		return Event{}, &Error{Where: where, Field: "Content-Type", Msg: fmt.Sprintf("%q: the CDEvent body is JSON (application/json)", ct)}
	}
	if !json.Valid(body) {
		return Event{}, &Error{Where: where, Field: "body", Msg: "not valid JSON: the body is the CDEvent"}
	}
	return ev, nil
}

func isJSON(ct string) bool {
	mt, _, err := mime.ParseMediaType(ct)
	return err == nil && (mt == "application/json" || strings.HasSuffix(mt, "+json"))
}

// ParseLine reads one line of a JSON Lines file: a CloudEvent in structured
// mode ({"specversion": "1.0", …, "data": {CDEvent}}) or a bare CDEvent
// ({"context": …, "subject": …}), whose context id, source and type then
// stand for the CloudEvent's.
func ParseLine(line []byte, where string) (Event, error) {
	var probe struct {
		SpecVersion json.RawMessage `json:"specversion"`
		Context     *struct {
			ID     string `json:"id"`
			Source string `json:"source"`
			Type   string `json:"type"`
		} `json:"context"`
	}
	if err := json.Unmarshal(line, &probe); err != nil {
		return Event{}, &Error{Where: where, Msg: "not a JSON object: " + err.Error()}
	}
	if probe.SpecVersion != nil || probe.Context == nil {
		return parseStructured(line, where)
	}
	return Event{ID: probe.Context.ID, Source: probe.Context.Source, Type: probe.Context.Type, Data: append(json.RawMessage(nil), line...), Where: where}, nil
}

// cdevent is the part of a CDEvent checked against its CloudEvent.
type cdevent struct {
	Context struct {
		ID        string `json:"id"`
		Source    string `json:"source"`
		Type      string `json:"type"`
		Timestamp string `json:"timestamp"`
	} `json:"context"`
	Subject struct {
		ID      string `json:"id"`
		Content struct {
			Service    *struct{ ID string } `json:"service"`
			ArtifactID string               `json:"artifactId"`
			Repository *struct{ ID string } `json:"repository"`
		} `json:"content"`
	} `json:"subject"`
	CustomData json.RawMessage `json:"customData"`
}

// Ignored reports whether ev is a CDEvent of a type shiplog does not store
// (a taskrun, build or artifact event, say). Such events are answered as
// accepted and left out, so a producer can send its whole stream.
func Ignored(ev Event) bool {
	if _, ok := Types[ev.Type]; ok {
		return false
	}
	return strings.HasPrefix(ev.Type, "dev.cdevents.") && knownPredicate(ev.Type) == ""
}

// knownPredicate returns the accepted type with the same subject and
// predicate as t at another version, or "".
func knownPredicate(t string) string {
	stem := strings.TrimRight(t, "0123456789.") + "."
	for k := range Types {
		if strings.HasPrefix(k, stem) && strings.Trim(k[len(stem):], "0123456789.") == "" {
			return k
		}
	}
	return ""
}

// Check validates one event that is not Ignored: a type of the pinned spec
// version, a CDEvent that its schema accepts, a context that names the
// same id, source and type as the CloudEvent, and what shiplog needs to
// map it (a service for an incident, a repository or service for a
// change). The error names the field.
func (v *Validator) Check(ev Event) error {
	if !strings.HasPrefix(ev.Type, "dev.cdevents.") {
		return &Error{Where: ev.Where, Field: "type", Msg: fmt.Sprintf("%q is not a CDEvents type (dev.cdevents.…)", ev.Type)}
	}
	if _, ok := Types[ev.Type]; !ok {
		return &Error{Where: ev.Where, Field: "type", Msg: fmt.Sprintf("%q is not of CDEvents spec v%s: send %s", ev.Type, SpecVersion, knownPredicate(ev.Type))}
	}
	if ev.Time != "" {
		if _, err := time.Parse(time.RFC3339, ev.Time); err != nil {
			return &Error{Where: ev.Where, Field: "time", Msg: fmt.Sprintf("%q is not an RFC 3339 time", ev.Time)}
		}
	}
	if err := v.validate(ev); err != nil {
		return err
	}
	var c cdevent
	if err := json.Unmarshal(ev.Data, &c); err != nil {
		return &Error{Where: ev.Where, Field: "data", Msg: err.Error()}
	}
	for _, m := range []struct{ field, cdevent, ce string }{
		{"context.id", c.Context.ID, ev.ID}, {"context.source", c.Context.Source, ev.Source}, {"context.type", c.Context.Type, ev.Type},
	} {
		if m.cdevent != m.ce {
			return &Error{Where: ev.Where, Field: m.field, Msg: fmt.Sprintf("%q differs from the CloudEvent's %q (the binding requires them equal)", m.cdevent, m.ce)}
		}
	}
	switch {
	case strings.HasPrefix(ev.Type, "dev.cdevents.incident."):
		if (c.Subject.Content.Service == nil || c.Subject.Content.Service.ID == "") && c.Subject.Content.ArtifactID == "" {
			return &Error{Where: ev.Where, Field: "subject.content.service", Msg: "missing: shiplog needs the service (or an artifactId naming it) to attribute the incident"}
		}
	case strings.HasPrefix(ev.Type, "dev.cdevents.change.merged."):
		var cd struct{ Service string }
		_ = json.Unmarshal(c.CustomData, &cd)
		if (c.Subject.Content.Repository == nil || c.Subject.Content.Repository.ID == "") && cd.Service == "" {
			return &Error{Where: ev.Where, Field: "subject.content.repository", Msg: "missing: shiplog needs the repository (or customData.service) to name the change's service"}
		}
	}
	return nil
}

// Accepted splits events into those to store and the number left out
// (Ignored), checking every one to store; the first fault is returned and
// nothing should then be stored. An event repeated in the same batch (same
// source and id) is kept once, as a replay would be.
func (v *Validator) Accepted(events []Event) ([]Event, int, error) {
	var keep []Event
	ignored := 0
	seen := map[string]bool{}
	for _, ev := range events {
		if Ignored(ev) {
			ignored++
			continue
		}
		if err := v.Check(ev); err != nil {
			return nil, 0, err
		}
		if seen[ev.Key()] {
			continue
		}
		seen[ev.Key()] = true
		keep = append(keep, ev)
	}
	return keep, ignored, nil
}
