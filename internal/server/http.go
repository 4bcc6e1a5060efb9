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

	"github.com/prometheus/client_golang/prometheus/promhttp"
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
func (s *Server) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", s.healthz)
	mux.Handle("GET /metrics", s.requireToken(promhttp.HandlerFor(s.metrics.reg, promhttp.HandlerOpts{})))
	mux.HandleFunc("POST /api/v1/events", s.pushEvents)
	mux.HandleFunc("POST /webhooks/github", s.githubWebhook)
	mux.HandleFunc("POST /webhooks/pagerduty", s.pagerDutyWebhook)
	mux.HandleFunc("POST /api/v1/cdevents", s.cdevents)
	mux.HandleFunc("POST /webhooks/gitlab", s.gitlabWebhook)
	mux.Handle("GET /dashboards/{$}", s.requireToken(http.HandlerFunc(s.dashboardIndex)))
	mux.Handle("GET /dashboards/assets/{file}", s.requireToken(http.HandlerFunc(s.dashboardAsset)))
	mux.Handle("GET /dashboards/{name}", s.requireToken(http.HandlerFunc(s.dashboard)))
	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "/dashboards/", http.StatusFound)
	})
	return mux
}

func (s *Server) healthz(w http.ResponseWriter, r *http.Request) {
	if err := s.opts.DB.PingContext(r.Context()); err != nil {
		http.Error(w, "warehouse unavailable", http.StatusServiceUnavailable)
		return
	}
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	io.WriteString(w, "ok\n")
}

// requireToken guards an endpoint with the bearer token when the server is
// reachable from other hosts. On loopback the endpoints are open, as for any
// local tool; with a token configured they always check it.
func (s *Server) requireToken(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if s.token == "" && s.local {
			h.ServeHTTP(w, r)
			return
		}
		got, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
		if !ok || subtle.ConstantTimeCompare([]byte(got), []byte(s.token)) != 1 {
			w.Header().Set("WWW-Authenticate", `Bearer realm="shiplog"`)
			http.Error(w, "a valid bearer token is required (Authorization: Bearer <token>)", http.StatusUnauthorized)
			return
		}
		h.ServeHTTP(w, r)
	})
}

// signedDelivery reads a bounded body and checks its HMAC-SHA256 signature
// and delivery id. It writes the error answer itself and returns ok=false
// when the request must not be processed. An empty idHeader leaves the
// delivery id to the endpoint (CDEvents carry theirs in the body).
func (s *Server) signedDelivery(w http.ResponseWriter, r *http.Request, endpoint, sigHeader, idHeader string) (body []byte, id string, ok bool) {
	reply := func(code int, msg string) {
		s.metrics.webhookReqs.WithLabelValues(endpoint, strconv.Itoa(code)).Inc()
		http.Error(w, msg, code)
	}
	if len(s.secret) == 0 {
		reply(http.StatusServiceUnavailable, fmt.Sprintf("webhooks are disabled: set the variable %s to the shared secret", s.opts.Config.Serve.WebhookSecretEnv))
		return nil, "", false
	}
	limit := s.opts.Config.Serve.MaxBodyBytes
	if limit <= 0 {
		limit = 10 << 20
	}
	if r.ContentLength > limit {
		reply(http.StatusRequestEntityTooLarge, fmt.Sprintf("body of %d bytes is over the limit of %d bytes (serve.max_body_bytes)", r.ContentLength, limit))
		return nil, "", false
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, limit))
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			reply(http.StatusRequestEntityTooLarge, fmt.Sprintf("body is over the limit of %d bytes (serve.max_body_bytes)", limit))
		} else {
			reply(http.StatusBadRequest, "could not read the body: "+err.Error())
		}
		return nil, "", false
	}
	sig := r.Header.Get(sigHeader)
	if sig == "" {
		reply(http.StatusUnauthorized, "missing "+sigHeader+" header (sha256=<hex HMAC-SHA256 of the body>)")
		return nil, "", false
	}
	if !validSignature(s.secret, body, sig) {
		reply(http.StatusUnauthorized, "the "+sigHeader+" signature does not match the body")
		return nil, "", false
	}
	if idHeader == "" {
		return body, "", true // the endpoint keys its deliveries by ids in the body
	}
	id = r.Header.Get(idHeader)
	if id == "" {
		reply(http.StatusBadRequest, "missing "+idHeader+" header: every delivery needs a unique id")
		return nil, "", false
	}
	if len(id) > 200 {
		reply(http.StatusBadRequest, idHeader+" is longer than 200 characters")
		return nil, "", false
	}
	return body, id, true
}

// validSignature checks "sha256=<hex>" against the body in constant time.
func validSignature(secret, body []byte, header string) bool {
	hexSig, ok := strings.CutPrefix(header, "sha256=")
	if !ok {
		return false
	}
	got, err := hex.DecodeString(hexSig)
	if err != nil {
		return false
	}
	mac := hmac.New(sha256.New, secret)
	mac.Write(body)
	return hmac.Equal(got, mac.Sum(nil))
}

// Sign returns the signature header value for body ("sha256=<hex>"); CI
// scripts and tests use the same computation.
func Sign(secret, body []byte) string {
	mac := hmac.New(sha256.New, secret)
	mac.Write(body)
	return "sha256=" + hex.EncodeToString(mac.Sum(nil))
}

type deliveryResult struct {
	Delivery  string `json:"delivery"`
	Records   int64  `json:"records"`
	Duplicate bool   `json:"duplicate,omitempty"`
	Ignored   string `json:"ignored,omitempty"`
}

// deliver applies one delivery exactly once: under the write lock it checks
// the delivery id, stores the records (committed before it answers), then
// records the id. A crash between storing and recording leads, on the
// sender's retry, to storing the same records again, which the idempotent
// sinks turn into no change.
func (s *Server) deliver(w http.ResponseWriter, r *http.Request, endpoint, event, id string, store func(ctx context.Context) (int64, error)) {
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
		s.replyError(w, endpoint, http.StatusInternalServerError, "warehouse: "+err.Error())
		return
	}
	n, err := store(ctx)
	if err != nil {
		var bad *BadRequestError
		if errors.As(err, &bad) {
			s.replyError(w, endpoint, http.StatusBadRequest, bad.Error())
		} else {
			s.replyError(w, endpoint, http.StatusInternalServerError, err.Error())
		}
		return
	}
	var ev any
	if event != "" {
		ev = event
	}
	if _, err := s.opts.DB.ExecContext(ctx, `INSERT INTO webhook_deliveries VALUES (?, ?, ?, ?, ?)`,
		endpoint, id, s.clock.Now().UTC(), ev, n); err != nil {
		s.replyError(w, endpoint, http.StatusInternalServerError, "record delivery: "+err.Error())
		return
	}
	s.metrics.webhookRecs.WithLabelValues(endpoint).Add(float64(n))
	s.reply(w, endpoint, http.StatusAccepted, deliveryResult{Delivery: id, Records: n})
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
	body, id, ok := s.signedDelivery(w, r, "events", "X-Shiplog-Signature-256", "X-Shiplog-Delivery")
	if !ok {
		return
	}
	if s.opts.Events == nil {
		s.replyError(w, "events", http.StatusNotImplemented, "this server does not accept events")
		return
	}
	lines, err := ToJSONLines(body)
	if err != nil {
		s.replyError(w, "events", http.StatusBadRequest, err.Error())
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
		http.Error(w, "render dashboard: "+err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
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
