package github

import (
	"crypto/sha1"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// fakeGitHub imitates the parts of the GitHub REST API the source uses. It
// serves testdata/api/<path>.json for GET /<path>, paginating arrays (or the
// array inside an object answer) by per_page and page with a Link header as
// GitHub writes it, and answers 304 when If-None-Match matches the page's
// ETag. Rate-limit headers count down from 5000 per counted request; 304s
// are not counted, as on GitHub.
type fakeGitHub struct {
	t      testing.TB
	srv    *httptest.Server
	mu     sync.Mutex
	routes map[string][]byte
	// fault, when set, may answer a request instead of the route (n is the
	// 1-based number of the request).
	fault     func(w http.ResponseWriter, r *http.Request, n int) bool
	requests  int
	remaining int
	reset     time.Time
	paths     []string
	auth      map[string]bool
}

func newFakeGitHub(t testing.TB) *fakeGitHub {
	t.Helper()
	f := newFake(t, map[string][]byte{})
	root := filepath.Join("testdata", "api")
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(p, ".json") {
			return err
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, p)
		f.routes["/"+strings.TrimSuffix(filepath.ToSlash(rel), ".json")] = b
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return f
}

// newFake serves routes (path → JSON body).
func newFake(t testing.TB, routes map[string][]byte) *fakeGitHub {
	f := &fakeGitHub{t: t, routes: routes, remaining: 1 << 30, reset: time.Unix(1709812800, 0), auth: map[string]bool{}}
	f.srv = httptest.NewServer(http.HandlerFunc(f.serve))
	t.Cleanup(f.srv.Close)
	return f
}

// set replaces the answer of path (GET /path) with v marshalled.
func (f *fakeGitHub) set(path string, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		f.t.Fatal(err)
	}
	f.mu.Lock()
	f.routes[path] = b
	f.mu.Unlock()
}

// list returns the array served at path (or inside key of an object).
func (f *fakeGitHub) list(path, key string) []map[string]any {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []map[string]any
	if key == "" {
		json.Unmarshal(f.routes[path], &out)
		return out
	}
	var obj map[string]json.RawMessage
	json.Unmarshal(f.routes[path], &obj)
	json.Unmarshal(obj[key], &out)
	return out
}

func (f *fakeGitHub) count() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.requests
}

func (f *fakeGitHub) serve(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	f.requests++
	n := f.requests
	f.paths = append(f.paths, r.URL.Path)
	f.auth[r.Header.Get("Authorization")] = true
	fault := f.fault
	body, ok := f.routes[r.URL.Path]
	f.mu.Unlock()
	if r.Method != http.MethodGet {
		http.Error(w, `{"message":"Method not allowed"}`, http.StatusMethodNotAllowed)
		return
	}
	if fault != nil && fault(w, r, n) {
		return
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("X-RateLimit-Limit", "5000")
	setDefault(w, "X-RateLimit-Reset", strconv.FormatInt(f.reset.Unix(), 10))
	w.Header().Set("X-RateLimit-Resource", "core")
	if !ok {
		f.mu.Lock()
		f.remaining--
		setDefault(w, "X-RateLimit-Remaining", strconv.Itoa(f.remaining))
		f.mu.Unlock()
		w.WriteHeader(http.StatusNotFound)
		fmt.Fprint(w, `{"message":"Not Found","documentation_url":"https://docs.github.com/rest","status":"404"}`)
		return
	}
	page, _ := strconv.Atoi(r.URL.Query().Get("page"))
	perPage, _ := strconv.Atoi(r.URL.Query().Get("per_page"))
	if page < 1 {
		page = 1
	}
	if perPage < 1 {
		perPage = 30
	}
	out, last := paginate(body, page, perPage)
	sum := sha1.Sum(out)
	etag := `W/"` + hex.EncodeToString(sum[:]) + `"`
	w.Header().Set("ETag", etag)
	if last > 1 {
		w.Header().Set("Link", linkHeader(f.srv.URL, r, page, last))
	}
	f.mu.Lock()
	if r.Header.Get("If-None-Match") == etag {
		setDefault(w, "X-RateLimit-Remaining", strconv.Itoa(f.remaining))
		f.mu.Unlock()
		w.WriteHeader(http.StatusNotModified)
		return
	}
	f.remaining--
	setDefault(w, "X-RateLimit-Remaining", strconv.Itoa(f.remaining))
	f.mu.Unlock()
	w.Write(out)
}

// paginate cuts the array in body (or the one array inside an object, as in
// {"total_count": n, "workflow_runs": [...]}) to one page.
func paginate(body []byte, page, perPage int) ([]byte, int) {
	var arr []json.RawMessage
	if json.Unmarshal(body, &arr) == nil {
		cut, last := cutPage(arr, page, perPage)
		b, _ := json.Marshal(cut)
		return b, last
	}
	var obj map[string]json.RawMessage
	if json.Unmarshal(body, &obj) != nil {
		return body, 1
	}
	for k, v := range obj {
		if len(v) > 0 && v[0] == '[' && json.Unmarshal(v, &arr) == nil && k != "pull_requests" && k != "referenced_workflows" {
			cut, last := cutPage(arr, page, perPage)
			b, _ := json.Marshal(cut)
			obj[k] = b
			out, _ := json.Marshal(obj)
			return out, last
		}
	}
	return body, 1
}

func cutPage(arr []json.RawMessage, page, perPage int) ([]json.RawMessage, int) {
	last := (len(arr) + perPage - 1) / perPage
	if last == 0 {
		last = 1
	}
	lo := min((page-1)*perPage, len(arr))
	hi := min(lo+perPage, len(arr))
	return append([]json.RawMessage{}, arr[lo:hi]...), last
}

func linkHeader(base string, r *http.Request, page, last int) string {
	link := func(p int, rel string) string {
		q := r.URL.Query()
		q.Set("page", strconv.Itoa(p))
		return fmt.Sprintf(`<%s%s?%s>; rel="%s"`, base, r.URL.Path, q.Encode(), rel)
	}
	var parts []string
	if page > 1 {
		parts = append(parts, link(page-1, "prev"))
	}
	if page < last {
		parts = append(parts, link(page+1, "next"))
	}
	parts = append(parts, link(last, "last"), link(1, "first"))
	return strings.Join(parts, ", ")
}

// setDefault sets a header unless a fault already set it.
func setDefault(w http.ResponseWriter, k, v string) {
	if w.Header().Get(k) == "" {
		w.Header().Set(k, v)
	}
}
