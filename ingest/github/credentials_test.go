package github

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
)

// The API answers the first request with a redirect to another host (a
// second test server, on another port: another origin). The redirect is
// followed, but without the token: the other host never sees it, while
// every request to the configured API carries it.
func TestRedirectToAnotherHostDropsTheToken(t *testing.T) {
	h := newHarness(t)
	var mu sync.Mutex
	var elsewhere []string
	other := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		elsewhere = append(elsewhere, r.Header.Get("Authorization"))
		mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprint(w, "[]")
	}))
	defer other.Close()
	h.fake.fault = func(w http.ResponseWriter, r *http.Request, n int) bool {
		switch n {
		case 1: // to another origin
			http.Redirect(w, r, other.URL+r.URL.RequestURI(), http.StatusFound)
			return true
		case 2: // to the same origin, another path
			http.Redirect(w, r, "/moved"+r.URL.RequestURI(), http.StatusTemporaryRedirect)
			return true
		}
		if strings.HasPrefix(r.URL.Path, "/moved/") {
			r.URL.Path = strings.TrimPrefix(r.URL.Path, "/moved")
		}
		return false
	}
	h.sync(context.Background(), h.source(nil))
	mu.Lock()
	defer mu.Unlock()
	if len(elsewhere) == 0 {
		t.Fatal("the redirect to the other host was not followed")
	}
	for _, a := range elsewhere {
		if a != "" {
			t.Errorf("the other host received Authorization %q", a)
		}
	}
	h.fake.mu.Lock()
	defer h.fake.mu.Unlock()
	if !h.fake.auth["Bearer "+testToken] {
		t.Error("the configured API never received the token")
	}
	for a := range h.fake.auth {
		if a != "Bearer "+testToken {
			t.Errorf("the configured API received Authorization %q (the same-origin redirect must keep the token)", a)
		}
	}
}

// An API that echoes the token in its error body: the token reaches neither
// the error (stderr), the progress log, nor ingest_runs.error.
func TestEchoedTokenIsScrubbed(t *testing.T) {
	for _, status := range []int{401, 403, 422, 500} {
		t.Run(fmt.Sprint(status), func(t *testing.T) {
			h := newHarness(t)
			h.fake.fault = func(w http.ResponseWriter, r *http.Request, n int) bool {
				w.Header().Set("Content-Type", "application/json")
				w.WriteHeader(status)
				fmt.Fprintf(w, `{"message":"token %s is not valid here","errors":[{"message":"%s"}]}`, r.Header.Get("Authorization"), testToken)
				return true
			}
			run, err := h.source(nil).Ingest(context.Background(), h.db, h.log)
			if err == nil {
				t.Fatal("no error")
			}
			// A 401 is explained without the API's words; the others quote them.
			if status != 401 && !strings.Contains(err.Error(), "[redacted]") {
				t.Errorf("error %q does not show the redaction", err)
			}
			var stored string
			if err := h.db.QueryRow(`SELECT error FROM ingest_runs WHERE id = ?`, run.ID).Scan(&stored); err != nil {
				t.Fatal(err)
			}
			for where, text := range map[string]string{"error": err.Error(), "progress": h.log.String(), "ingest_runs.error": stored} {
				if strings.Contains(text, testToken) {
					t.Errorf("the %s holds the token: %s", where, text)
				}
			}
		})
	}
}
