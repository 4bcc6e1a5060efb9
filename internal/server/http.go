package server

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"crypto/subtle"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"html/template"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/shiplog/shiplog/internal/access"
)

// Handler returns the HTTP routes:
//
//	GET  /healthz               liveness, never needs a token
//	GET  /metrics               Prometheus text format
//	POST /api/v1/events         canonical events (JSON array or JSON Lines), HMAC-signed
//	POST /webhooks/github       GitHub deployment_status, pull_request, release events
//	POST /webhooks/pagerduty    PagerDuty v3 incident.triggered, acknowledged, resolved events
//	POST /api/v1/cdevents       CDEvents as CloudEvents (structured, batch, binary), signed like events
//	POST /webhooks/gitlab       GitLab merge request, deployment, pipeline, issue events
//	GET  /dashboards/           index of dashboard specs
//	GET  /dashboards/{name}     one dashboard with current data
//	GET  /api/v1/...            the read API (apiRoutes; /api/v1/openapi.json describes it)
//
// Every guarded route names the scope it needs (access): read for pages,
// /metrics and the read API, push for the push API beside its signature.
func (s *Server) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", s.healthz)
	mux.Handle("GET /metrics", s.requireScope(access.Read, promhttp.HandlerFor(s.metrics.reg, promhttp.HandlerOpts{})))
	mux.Handle("POST /api/v1/events", s.requirePush("events", http.HandlerFunc(s.pushEvents)))
	mux.HandleFunc("POST /webhooks/github", s.githubWebhook)
	mux.HandleFunc("POST /webhooks/pagerduty", s.pagerDutyWebhook)
	mux.Handle("POST /api/v1/cdevents", s.requirePush("cdevents", http.HandlerFunc(s.cdevents)))
	mux.HandleFunc("POST /webhooks/gitlab", s.gitlabWebhook)
	mux.Handle("GET /dashboards/{$}", s.requireScope(access.Read, http.HandlerFunc(s.dashboardIndex)))
	mux.Handle("GET /dashboards/assets/{file}", s.requireScope(access.Read, http.HandlerFunc(s.dashboardAsset)))
	mux.Handle("GET /dashboards/{name}", s.requireScope(access.Read, http.HandlerFunc(s.dashboard)))
	s.registerAPI(mux)
	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "/dashboards/", http.StatusFound)
	})
	return s.logRequests(securityHeaders(s.bufferBodies(mux)))
}

// bufferBodies reads the body of every POST in full (readBody: bounded in
// size and, by serve.read_timeout, in time) before the route's handler
// runs, and leaves it on the request, so that deliver hashes exactly the
// bytes the handler authenticated and parsed, whichever way the handler
// reads them.
func (s *Server) bufferBodies(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodPost {
			if _, ok := s.readBody(w, r, endpointOf(r.URL.Path)); !ok {
				return
			}
		}
		h.ServeHTTP(w, r)
	})
}

// endpointOf names an endpoint for /metrics from its path: "events" for
// the push API, the last segment for a webhook (/webhooks/github → github).
func endpointOf(path string) string {
	if path == "/api/v1/events" {
		return "events"
	}
	path = strings.TrimRight(path, "/")
	return path[strings.LastIndexByte(path, '/')+1:]
}

// strictCSP is the policy of every answer that is not an HTML page: it may
// load nothing and be framed by nothing.
const strictCSP = "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'"

// securityHeaders sets on every answer: no MIME sniffing, no framing (the
// dashboards cannot be clickjacked), no referrer sent from a dashboard's
// links, and the strict policy, which the HTML handlers replace by their
// page's own.
func securityHeaders(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hd := w.Header()
		hd.Set("X-Content-Type-Options", "nosniff")
		hd.Set("X-Frame-Options", "DENY")
		hd.Set("Referrer-Policy", "no-referrer")
		hd.Set("Content-Security-Policy", strictCSP)
		h.ServeHTTP(w, r)
	})
}

// pageCSP is the policy of a dashboard page: scripts only from this server
// (ECharts from /dashboards/assets/) and the inline scripts of the page
// templates, by their SHA-256 (Options.PageScripts), so that a script
// injected into a page cannot run; inline styles (the page's and ECharts'
// tooltips); images from the server or data: URLs (ECharts' image export);
// nothing else.
func (s *Server) pageCSP() string {
	src := append([]string{"'self'"}, s.opts.PageScripts...)
	return "default-src 'none'; script-src " + strings.Join(src, " ") +
		"; style-src 'self' 'unsafe-inline'; img-src 'self' data: blob:; font-src 'self' data:; connect-src 'self'" +
		"; frame-ancestors 'none'; base-uri 'none'; form-action 'none'"
}

func (s *Server) healthz(w http.ResponseWriter, r *http.Request) {
	if err := s.opts.DB.PingContext(r.Context()); err != nil {
		http.Error(w, "warehouse unavailable", http.StatusServiceUnavailable)
		return
	}
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	io.WriteString(w, "ok\n")
}

// bearer returns the token of an "Authorization: Bearer <token>" header.
// The scheme is case-insensitive (RFC 9110, section 11.1): "bearer" and
// "BEARER" are the same.
func bearer(header string) (string, bool) {
	scheme, token, ok := strings.Cut(strings.TrimSpace(header), " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return "", false
	}
	token = strings.TrimSpace(token)
	return token, token != ""
}

// deliveryBody is a request body already read in full (readBody), kept
// on the request so that deliver can hash exactly the bytes that were
// authenticated.
type deliveryBody struct {
	*bytes.Reader
	data []byte
}

func (deliveryBody) Close() error { return nil }

// readBody reads a request's body, bounded by serve.max_body_bytes (and in
// time by serve.read_timeout), and leaves it on the request for deliver;
// bufferBodies does so for every POST before its handler runs, so a
// handler may read r.Body as usual. It writes the error answer itself and
// returns ok=false when the request must not be processed.
func (s *Server) readBody(w http.ResponseWriter, r *http.Request, endpoint string) (body []byte, ok bool) {
	if rb, ok := r.Body.(deliveryBody); ok {
		return rb.data, true // read already (bufferBodies)
	}
	limit := s.opts.Config.Serve.MaxBodyBytes
	if limit <= 0 {
		limit = 10 << 20
	}
	if r.ContentLength > limit {
		s.replyError(w, endpoint, http.StatusRequestEntityTooLarge, fmt.Sprintf("body of %d bytes is over the limit of %d bytes (serve.max_body_bytes)", r.ContentLength, limit))
		return nil, false
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, limit))
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			s.replyError(w, endpoint, http.StatusRequestEntityTooLarge, fmt.Sprintf("body is over the limit of %d bytes (serve.max_body_bytes)", limit))
		} else {
			s.replyError(w, endpoint, http.StatusBadRequest, "could not read the whole body (serve.read_timeout or a broken connection)")
		}
		return nil, false
	}
	r.Body = deliveryBody{Reader: bytes.NewReader(body), data: body}
	return body, true
}

// signedDelivery reads a bounded body and checks its HMAC-SHA256 signature
// over the body (GitHub's scheme: sigHeader holds "sha256=<hex>") and its
// delivery id. It writes the error answer itself and returns ok=false when
// the request must not be processed.
func (s *Server) signedDelivery(w http.ResponseWriter, r *http.Request, endpoint, sigHeader, idHeader string) (body []byte, id string, ok bool) {
	if !s.webhooksOn(w, endpoint) {
		return nil, "", false
	}
	if body, ok = s.readBody(w, r, endpoint); !ok {
		return nil, "", false
	}
	sig := r.Header.Get(sigHeader)
	if sig == "" {
		s.replyError(w, endpoint, http.StatusUnauthorized, "missing "+sigHeader+" header (sha256=<hex HMAC-SHA256 of the body>)")
		return nil, "", false
	}
	if !validSignature(s.secret, body, sig) {
		s.replyError(w, endpoint, http.StatusUnauthorized, "the "+sigHeader+" signature does not match the body")
		return nil, "", false
	}
	if idHeader == "" {
		return body, "", true // the endpoint keys its deliveries by ids in the body
	}
	if id, ok = s.deliveryID(w, r, endpoint, idHeader); !ok {
		return nil, "", false
	}
	return body, id, true
}

// PushTolerance is how far X-Shiplog-Timestamp may be from the server's
// clock, either way, for a push to be accepted.
const PushTolerance = 5 * time.Minute

// pushDelivery authenticates a push to /api/v1/events: X-Shiplog-Timestamp
// holds the Unix time of sending, and X-Shiplog-Signature-256 the HMAC-SHA256
// of timestamp + "." + body, so that a captured push stops being accepted
// after PushTolerance (and within it, deliver refuses its body a second
// time). The body-only signature of older senders is accepted only under
// serve.allow_body_only_signatures.
//
// CDEvents (endpoint "cdevents") are signed the same way; they carry their
// ids in the body, so their idHeader is empty.
func (s *Server) pushDelivery(w http.ResponseWriter, r *http.Request, endpoint, idHeader string) (body []byte, id string, ok bool) {
	const sigHeader, tsHeader = "X-Shiplog-Signature-256", "X-Shiplog-Timestamp"
	if !s.webhooksOn(w, endpoint) {
		return nil, "", false
	}
	if body, ok = s.readBody(w, r, endpoint); !ok {
		return nil, "", false
	}
	sig := r.Header.Get(sigHeader)
	if sig == "" {
		s.replyError(w, endpoint, http.StatusUnauthorized, "missing "+sigHeader+` header (sha256=<hex HMAC-SHA256 of timestamp + "." + body>)`)
		return nil, "", false
	}
	ts := r.Header.Get(tsHeader)
	switch {
	case ts == "" && s.opts.Config.Serve.AllowBodyOnlySignatures:
		if !validSignature(s.secret, body, sig) {
			s.replyError(w, endpoint, http.StatusUnauthorized, "the "+sigHeader+" signature does not match the body")
			return nil, "", false
		}
	case ts == "":
		s.replyError(w, endpoint, http.StatusUnauthorized, "missing "+tsHeader+` header: send the Unix time in seconds and sign timestamp + "." + body (body-only signatures need serve.allow_body_only_signatures)`)
		return nil, "", false
	default:
		sent, err := strconv.ParseInt(ts, 10, 64)
		if err != nil || len(ts) > 12 {
			s.replyError(w, endpoint, http.StatusUnauthorized, tsHeader+" must be the Unix time in whole seconds")
			return nil, "", false
		}
		if skew := s.clock.Now().Sub(time.Unix(sent, 0)); skew > PushTolerance || skew < -PushTolerance {
			s.replyError(w, endpoint, http.StatusUnauthorized, fmt.Sprintf("%s is %s away from the server's clock, more than the %s allowed: a push must be sent when it is signed (check the sender's clock)", tsHeader, skew.Abs().Round(time.Second), PushTolerance))
			return nil, "", false
		}
		if !validSignature(s.secret, pushMessage(ts, body), sig) {
			s.replyError(w, endpoint, http.StatusUnauthorized, "the "+sigHeader+` signature does not match timestamp + "." + body`)
			return nil, "", false
		}
	}
	if idHeader == "" {
		return body, "", true
	}
	if id, ok = s.deliveryID(w, r, endpoint, idHeader); !ok {
		return nil, "", false
	}
	return body, id, true
}

func (s *Server) webhooksOn(w http.ResponseWriter, endpoint string) bool {
	if len(s.secret) == 0 {
		s.replyError(w, endpoint, http.StatusServiceUnavailable, fmt.Sprintf("webhooks are disabled: set the variable %s to the shared secret", s.opts.Config.Serve.WebhookSecretEnv))
		return false
	}
	return true
}

func (s *Server) deliveryID(w http.ResponseWriter, r *http.Request, endpoint, idHeader string) (string, bool) {
	id := r.Header.Get(idHeader)
	if id == "" {
		s.replyError(w, endpoint, http.StatusBadRequest, "missing "+idHeader+" header: every delivery needs a unique id")
		return "", false
	}
	if len(id) > 200 {
		s.replyError(w, endpoint, http.StatusBadRequest, idHeader+" is longer than 200 characters")
		return "", false
	}
	if !utf8.ValidString(id) {
		s.replyError(w, endpoint, http.StatusBadRequest, idHeader+" is not valid UTF-8")
		return "", false
	}
	return id, true
}

// validSignature checks "sha256=<hex>" against the message in constant time.
func validSignature(secret, message []byte, header string) bool {
	hexSig, ok := strings.CutPrefix(header, "sha256=")
	if !ok {
		return false
	}
	got, err := hex.DecodeString(hexSig)
	if err != nil {
		return false
	}
	mac := hmac.New(sha256.New, secret)
	mac.Write(message)
	return hmac.Equal(got, mac.Sum(nil))
}

func pushMessage(timestamp string, body []byte) []byte {
	m := make([]byte, 0, len(timestamp)+1+len(body))
	m = append(m, timestamp...)
	m = append(m, '.')
	return append(m, body...)
}

// Sign returns the signature header value of a body signed alone
// ("sha256=<hex>"), GitHub's scheme; tests of webhooks use it.
func Sign(secret, body []byte) string {
	mac := hmac.New(sha256.New, secret)
	mac.Write(body)
	return "sha256=" + hex.EncodeToString(mac.Sum(nil))
}

// SignPush returns the X-Shiplog-Timestamp and X-Shiplog-Signature-256
// values of a push of body sent at t: the signature is the HMAC-SHA256 of
// timestamp + "." + body. CI scripts compute the same (docs/serve.md).
func SignPush(secret []byte, t time.Time, body []byte) (timestamp, signature string) {
	timestamp = strconv.FormatInt(t.Unix(), 10)
	return timestamp, Sign(secret, pushMessage(timestamp, body))
}

type deliveryResult struct {
	Delivery    string `json:"delivery"`
	Records     int64  `json:"records"`
	Duplicate   bool   `json:"duplicate,omitempty"`
	DuplicateOf string `json:"duplicate_of,omitempty"`
	Ignored     string `json:"ignored,omitempty"`
}

// deliver applies one delivery exactly once: under the write lock it checks
// the delivery id, then the SHA-256 of the body (a body already applied is
// a duplicate whatever id it comes with, so a captured delivery resent
// under a new id changes nothing), stores the records (committed before it
// answers), then records the id and the body's hash in one transaction. A
// crash between storing and recording leads, on the sender's retry, to
// storing the same records again, which the idempotent sinks turn into no
// change. The body must have been read with readBody (signedDelivery and
// pushDelivery do); otherwise deliver refuses the request.
func (s *Server) deliver(w http.ResponseWriter, r *http.Request, endpoint, event, id string, store func(ctx context.Context) (int64, error)) {
	rb, ok := r.Body.(deliveryBody)
	if !ok {
		s.replyError(w, endpoint, http.StatusInternalServerError, "server: the delivery's body was not read with readBody")
		return
	}
	sum := sha256.Sum256(rb.data)
	hash := hex.EncodeToString(sum[:])
	s.writeMu.Lock()
	defer s.writeMu.Unlock()
	ctx := r.Context()
	var prev int64
	err := s.opts.DB.QueryRowContext(ctx, `SELECT records FROM webhook_deliveries WHERE endpoint = ? AND delivery_id = ?`, endpoint, id).Scan(&prev)
	switch {
	case err == nil:
		s.reply(w, endpoint, http.StatusOK, deliveryResult{Delivery: id, Records: prev, Duplicate: true})
		return
	case !errors.Is(err, sql.ErrNoRows):
		s.internalError(w, endpoint, "warehouse", err)
		return
	}
	var first string
	err = s.opts.DB.QueryRowContext(ctx, `SELECT b.delivery_id, coalesce(d.records, 0) FROM delivery_bodies AS b
		LEFT JOIN webhook_deliveries AS d USING (endpoint, delivery_id)
		WHERE b.endpoint = ? AND b.body_sha256 = ?`, endpoint, hash).Scan(&first, &prev)
	switch {
	case err == nil:
		s.reply(w, endpoint, http.StatusOK, deliveryResult{Delivery: id, Records: prev, Duplicate: true, DuplicateOf: first})
		return
	case !errors.Is(err, sql.ErrNoRows):
		s.internalError(w, endpoint, "warehouse", err)
		return
	}
	n, err := store(ctx)
	if err != nil {
		var bad *BadRequestError
		if errors.As(err, &bad) {
			s.replyError(w, endpoint, http.StatusBadRequest, bad.Error())
		} else {
			s.internalError(w, endpoint, "store", err)
		}
		return
	}
	var ev any
	if event != "" {
		ev = event
	}
	if err := s.recordDelivery(ctx, endpoint, id, ev, n, hash); err != nil {
		s.internalError(w, endpoint, "record delivery", err)
		return
	}
	s.metrics.webhookRecs.WithLabelValues(endpoint).Add(float64(n))
	s.reply(w, endpoint, http.StatusAccepted, deliveryResult{Delivery: id, Records: n})
}

// recordDelivery notes the delivery id and its body's hash together.
func (s *Server) recordDelivery(ctx context.Context, endpoint, id string, event any, n int64, hash string) error {
	tx, err := s.opts.DB.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	now := s.clock.Now().UTC()
	if _, err := tx.ExecContext(ctx, `INSERT INTO webhook_deliveries VALUES (?, ?, ?, ?, ?)`, endpoint, id, now, event, n); err != nil {
		return err
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO delivery_bodies VALUES (?, ?, ?, ?)`, endpoint, hash, id, now); err != nil {
		return err
	}
	return tx.Commit()
}

// internalError answers 500 without the error's text, which may carry a
// remote service's answer or the warehouse's internals, and writes the text
// to the server's log instead.
func (s *Server) internalError(w http.ResponseWriter, endpoint, what string, err error) {
	fmt.Fprintf(s.opts.Log, "serve: %s: %s: %v\n", endpoint, what, err)
	s.replyError(w, endpoint, http.StatusInternalServerError, what+" failed; the server's log has the details")
}

// BadRequestError marks a sink error caused by the request's content (a
// malformed or invalid record); it is answered 400 with its text.
type BadRequestError struct{ Err error }

func (e *BadRequestError) Error() string { return e.Err.Error() }
func (e *BadRequestError) Unwrap() error { return e.Err }

func (s *Server) reply(w http.ResponseWriter, endpoint string, code int, v any) {
	s.metrics.webhookReqs.WithLabelValues(endpoint, strconv.Itoa(code)).Inc()
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	json.NewEncoder(w).Encode(v)
}

func (s *Server) replyError(w http.ResponseWriter, endpoint string, code int, msg string) {
	s.reply(w, endpoint, code, map[string]string{"error": msg})
}

func (s *Server) pushEvents(w http.ResponseWriter, r *http.Request) {
	body, id, ok := s.pushDelivery(w, r, "events", "X-Shiplog-Delivery")
	if !ok {
		return
	}
	if s.opts.Events == nil && s.opts.EventGroups == nil {
		s.replyError(w, "events", http.StatusNotImplemented, "this server does not accept events")
		return
	}
	lines, err := ToJSONLines(body)
	if err != nil {
		s.replyError(w, "events", http.StatusBadRequest, err.Error())
		return
	}
	if s.opts.EventGroups != nil {
		s.pushGrouped(w, r, id, lines)
		return
	}
	s.deliver(w, r, "events", "", id, func(ctx context.Context) (int64, error) {
		return s.opts.Events(ctx, bytes.NewReader(lines), id)
	})
}

// githubEvents are the GitHub webhook events shiplog stores.
var githubEvents = map[string]bool{"deployment_status": true, "pull_request": true, "release": true, "ping": true}

func (s *Server) githubWebhook(w http.ResponseWriter, r *http.Request) {
	body, id, ok := s.signedDelivery(w, r, "github", "X-Hub-Signature-256", "X-GitHub-Delivery")
	if !ok {
		return
	}
	event := r.Header.Get("X-GitHub-Event")
	if !githubEvents[event] {
		s.reply(w, "github", http.StatusAccepted, deliveryResult{Delivery: id, Ignored: fmt.Sprintf("event %q is not one shiplog stores (deployment_status, pull_request, release)", event)})
		return
	}
	if !json.Valid(body) {
		s.replyError(w, "github", http.StatusBadRequest, "body is not valid JSON")
		return
	}
	if event == "ping" {
		s.reply(w, "github", http.StatusOK, deliveryResult{Delivery: id})
		return
	}
	if s.opts.GitHub == nil {
		s.replyError(w, "github", http.StatusNotImplemented, "this server does not accept GitHub webhooks")
		return
	}
	s.deliver(w, r, "github", event, id, func(ctx context.Context) (int64, error) {
		return s.opts.GitHub(ctx, event, body, id)
	})
}

// gitlabEvents are the X-Gitlab-Event values shiplog stores.
var gitlabEvents = map[string]bool{"Merge Request Hook": true, "Deployment Hook": true, "Pipeline Hook": true, "Issue Hook": true}

// gitlabWebhook takes GitLab's deliveries. GitLab does not sign bodies: it
// sends the secret token configured on the webhook in X-Gitlab-Token,
// compared here in constant time (as SHA-256 digests, so that not even its
// length shows), and a unique X-Gitlab-Event-UUID, the delivery id.
func (s *Server) gitlabWebhook(w http.ResponseWriter, r *http.Request) {
	const ep = "gitlab"
	if s.opts.GitLab == nil {
		s.replyError(w, ep, http.StatusNotImplemented, "this server does not accept GitLab webhooks (configure sources.gitlab)")
		return
	}
	if len(s.gitlabToken) == 0 {
		s.replyError(w, ep, http.StatusServiceUnavailable, "GitLab webhooks are disabled: set the variable named by sources.gitlab.webhook_token_env to the webhook's secret token")
		return
	}
	got, want := sha256.Sum256([]byte(r.Header.Get("X-Gitlab-Token"))), sha256.Sum256(s.gitlabToken)
	if subtle.ConstantTimeCompare(got[:], want[:]) != 1 {
		s.replyError(w, ep, http.StatusUnauthorized, "missing or wrong X-Gitlab-Token")
		return
	}
	id := r.Header.Get("X-Gitlab-Event-UUID")
	if id == "" || len(id) > 200 {
		s.replyError(w, ep, http.StatusBadRequest, "X-Gitlab-Event-UUID must hold the delivery's id (at most 200 characters)")
		return
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, max(s.opts.Config.Serve.MaxBodyBytes, 1)))
	if err != nil {
		s.replyError(w, ep, http.StatusRequestEntityTooLarge, fmt.Sprintf("body is over the limit of %d bytes (serve.max_body_bytes) or unreadable", s.opts.Config.Serve.MaxBodyBytes))
		return
	}
	event := r.Header.Get("X-Gitlab-Event")
	if !gitlabEvents[event] {
		s.reply(w, ep, http.StatusAccepted, deliveryResult{Delivery: id, Ignored: fmt.Sprintf("event %q is not one shiplog stores (Merge Request Hook, Deployment Hook, Pipeline Hook, Issue Hook)", event)})
		return
	}
	if !json.Valid(body) {
		s.replyError(w, ep, http.StatusBadRequest, "body is not valid JSON")
		return
	}
	s.deliver(w, r, ep, event, id, func(ctx context.Context) (int64, error) {
		return s.opts.GitLab(ctx, event, body, id)
	})
}

// ToJSONLines accepts a JSON array of objects or JSON Lines and returns
// JSON Lines, one object per line, keeping the order. A JSON array is
// re-encoded compactly, so line numbers in later errors count its elements.
func ToJSONLines(body []byte) ([]byte, error) {
	trimmed := bytes.TrimSpace(body)
	if len(trimmed) == 0 {
		return nil, errors.New("the body is empty: send a JSON array of events or JSON Lines")
	}
	if trimmed[0] != '[' {
		return body, nil
	}
	var items []json.RawMessage
	if err := json.Unmarshal(trimmed, &items); err != nil {
		return nil, fmt.Errorf("the body starts with '[' but is not a JSON array: %v", err)
	}
	var out bytes.Buffer
	for i, it := range items {
		var buf bytes.Buffer
		if err := json.Compact(&buf, it); err != nil {
			return nil, fmt.Errorf("element %d: %v", i+1, err)
		}
		out.Write(buf.Bytes())
		out.WriteByte('\n')
	}
	return out.Bytes(), nil
}

var indexTmpl = template.Must(template.New("index").Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>shiplog dashboards</title>
<style>body{font-family:system-ui,sans-serif;max-width:48rem;margin:2rem auto;padding:0 1rem}li{margin:.4rem 0}</style>
</head><body><h1>shiplog dashboards</h1>
{{if .}}<ul>{{range .}}<li><a href="/dashboards/{{.Name}}">{{.Title}}</a> <code>{{.Name}}</code></li>{{end}}</ul>
{{else}}<p>No dashboards are available.</p>{{end}}
</body></html>`))

func (s *Server) dashboardIndex(w http.ResponseWriter, r *http.Request) {
	var list []DashboardInfo
	if s.opts.Dashboards != nil {
		list = s.opts.Dashboards.List()
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'")
	indexTmpl.Execute(w, list)
}

func (s *Server) dashboard(w http.ResponseWriter, r *http.Request) {
	if s.opts.Dashboards == nil {
		http.NotFound(w, r)
		return
	}
	name := r.PathValue("name")
	found := false
	for _, d := range s.opts.Dashboards.List() {
		found = found || d.Name == name
	}
	if !found {
		http.Error(w, fmt.Sprintf("no dashboard named %q", name), http.StatusNotFound)
		return
	}
	var buf bytes.Buffer
	if err := s.opts.Dashboards.Render(r.Context(), name, "/dashboards/assets/", &buf); err != nil {
		fmt.Fprintf(s.opts.Log, "serve: dashboard %s: %v\n", name, err)
		http.Error(w, "the dashboard could not be rendered; the server's log has the details", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Content-Security-Policy", s.pageCSP())
	w.Write(buf.Bytes())
}

func (s *Server) dashboardAsset(w http.ResponseWriter, r *http.Request) {
	if s.opts.Dashboards == nil {
		http.NotFound(w, r)
		return
	}
	data, ok := s.opts.Dashboards.Asset(r.PathValue("file"))
	if !ok {
		http.NotFound(w, r)
		return
	}
	if strings.HasSuffix(r.PathValue("file"), ".js") {
		w.Header().Set("Content-Type", "text/javascript; charset=utf-8")
	}
	w.Header().Set("Cache-Control", "max-age=86400")
	w.Write(data)
}
