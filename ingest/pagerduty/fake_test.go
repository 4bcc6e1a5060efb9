package pagerduty_test

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// fakePagerDuty serves /incidents and /incidents/{id}/log_entries the way
// the REST API v2 does: classic offset paging with limit, offset and more,
// since/until on creation time, sorted by created_at, the token checked in
// "Authorization: Token token=…" and the version in Accept. Payloads come
// from testdata/ as recorded shapes; tests change them between runs.
type fakePagerDuty struct {
	t     testing.TB
	srv   *httptest.Server
	token string

	mu        sync.Mutex
	incidents map[string]json.RawMessage
	logs      map[string][]json.RawMessage
	requests  []*http.Request // copies, in order
	// fail, when set, may answer a request itself (by its 1-based number).
	fail func(n int, w http.ResponseWriter, r *http.Request) bool
	// logPage is the log entries' page size (default 100).
	logPage int
}

const testToken = "pd-test-token-7c1e"

func newFake(t testing.TB) *fakePagerDuty {
	t.Helper()
	f := &fakePagerDuty{t: t, token: testToken, incidents: map[string]json.RawMessage{}, logs: map[string][]json.RawMessage{}, logPage: 100}
	var list []json.RawMessage
	readJSON(t, "testdata/incidents.json", &list)
	for _, raw := range list {
		var h struct{ ID string }
		if err := json.Unmarshal(raw, &h); err != nil {
			t.Fatal(err)
		}
		f.incidents[h.ID] = raw
		var entries []json.RawMessage
		readJSON(t, filepath.Join("testdata", "log_entries", h.ID+".json"), &entries)
		f.logs[h.ID] = entries
	}
	f.srv = httptest.NewServer(f)
	t.Cleanup(f.srv.Close)
	return f
}

func readJSON(t testing.TB, path string, v any) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, v); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
}

// setFail sets (or with nil clears) the failure injection; requests of an
// ended run may still be in flight.
func (f *fakePagerDuty) setFail(fn func(n int, w http.ResponseWriter, r *http.Request) bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.fail = fn
}

// set replaces one field of a stored incident.
func (f *fakePagerDuty) set(id string, fields map[string]any) {
	f.mu.Lock()
	defer f.mu.Unlock()
	var m map[string]any
	if err := json.Unmarshal(f.incidents[id], &m); err != nil {
		f.t.Fatal(err)
	}
	for k, v := range fields {
		m[k] = v
	}
	b, _ := json.Marshal(m)
	f.incidents[id] = b
}

func (f *fakePagerDuty) addLog(id string, entry map[string]any) {
	f.mu.Lock()
	defer f.mu.Unlock()
	b, _ := json.Marshal(entry)
	f.logs[id] = append(f.logs[id], b)
}

// paths returns the requests so far as "path?query" (query decoded).
func (f *fakePagerDuty) paths() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []string
	for _, r := range f.requests {
		q, _ := url.QueryUnescape(r.URL.RawQuery)
		out = append(out, r.URL.Path+"?"+q)
	}
	return out
}

func (f *fakePagerDuty) reset() {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.requests = nil
}

func pdError(w http.ResponseWriter, status, code int, msg string, errs ...string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	b, _ := json.Marshal(map[string]any{"error": map[string]any{"message": msg, "code": code, "errors": errs}})
	w.Write(b)
}

func (f *fakePagerDuty) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	f.requests = append(f.requests, r.Clone(r.Context()))
	n := len(f.requests)
	fail := f.fail
	f.mu.Unlock()
	if fail != nil && fail(n, w, r) {
		return
	}
	if r.Method != http.MethodGet {
		pdError(w, http.StatusMethodNotAllowed, 2100, "Method not allowed")
		return
	}
	if r.Header.Get("Authorization") != "Token token="+f.token {
		pdError(w, http.StatusUnauthorized, 2006, "Authentication failed: Token token="+strings.TrimPrefix(r.Header.Get("Authorization"), "Token token="))
		return
	}
	if r.Header.Get("Accept") != "application/vnd.pagerduty+json;version=2" {
		pdError(w, http.StatusBadRequest, 2001, "Invalid Input Provided", "Accept must ask for version 2")
		return
	}
	q := r.URL.Query()
	limit, offset := 25, 0
	if v := q.Get("limit"); v != "" {
		limit, _ = strconv.Atoi(v)
	}
	if v := q.Get("offset"); v != "" {
		offset, _ = strconv.Atoi(v)
	}
	if limit < 1 || limit > 100 || offset < 0 || offset+limit > 10000 {
		pdError(w, http.StatusBadRequest, 2001, "Invalid Input Provided", "Offset must be less than 10000.")
		return
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	switch {
	case r.URL.Path == "/incidents":
		since, err1 := time.Parse(time.RFC3339, q.Get("since"))
		until, err2 := time.Parse(time.RFC3339, q.Get("until"))
		if err1 != nil || err2 != nil || until.Sub(since) > 183*24*time.Hour || until.Before(since) {
			pdError(w, http.StatusBadRequest, 2001, "Invalid Input Provided", "Date range must be at most 6 months.")
			return
		}
		if q.Get("sort_by") != "created_at:asc" {
			f.t.Errorf("sort_by = %q", q.Get("sort_by"))
		}
		type row struct {
			created time.Time
			raw     json.RawMessage
		}
		var rows []row
		for _, raw := range f.incidents {
			var h struct {
				CreatedAt string `json:"created_at"`
				Status    string `json:"status"`
			}
			json.Unmarshal(raw, &h)
			// A broken created_at (a bad-payload test) is served in any range.
			created, err := time.Parse(time.RFC3339, h.CreatedAt)
			if err == nil && (created.Before(since) || !created.Before(until)) {
				continue
			}
			if st := q["statuses[]"]; len(st) > 0 && !contains(st, h.Status) {
				continue
			}
			rows = append(rows, row{created, raw})
		}
		sort.Slice(rows, func(i, j int) bool { return rows[i].created.Before(rows[j].created) })
		items := []json.RawMessage{}
		for i := offset; i < len(rows) && i < offset+limit; i++ {
			items = append(items, rows[i].raw)
		}
		writeJSON(w, map[string]any{"incidents": items, "limit": limit, "offset": offset, "more": offset+limit < len(rows), "total": nil})
	case strings.HasPrefix(r.URL.Path, "/incidents/") && strings.HasSuffix(r.URL.Path, "/log_entries"):
		id := strings.TrimSuffix(strings.TrimPrefix(r.URL.Path, "/incidents/"), "/log_entries")
		entries, ok := f.logs[id]
		if !ok {
			pdError(w, http.StatusNotFound, 2100, "Not Found")
			return
		}
		if limit > f.logPage {
			limit = f.logPage
		}
		items := []json.RawMessage{}
		for i := offset; i < len(entries) && i < offset+limit; i++ {
			items = append(items, entries[i])
		}
		writeJSON(w, map[string]any{"log_entries": items, "limit": limit, "offset": offset, "more": offset+limit < len(entries), "total": nil})
	default:
		pdError(w, http.StatusNotFound, 2100, "Not Found")
	}
}

func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	b, _ := json.Marshal(v)
	w.Write(b)
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}
