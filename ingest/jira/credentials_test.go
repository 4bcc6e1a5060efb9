package jira

import (
	"encoding/base64"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/shiplog/shiplog/internal/config"
)

// The site answers its first request with a redirect to another host (a
// second server: another origin). The redirect is followed without the
// credential, for both the bearer (Data Center) and the Basic (Cloud)
// forms; the configured site keeps receiving it.
func TestRedirectToAnotherHostDropsTheCredential(t *testing.T) {
	for _, flavor := range []string{"datacenter", "cloud"} {
		t.Run(flavor, func(t *testing.T) {
			var mu sync.Mutex
			var elsewhere, home []string
			other := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				mu.Lock()
				elsewhere = append(elsewhere, r.Header.Get("Authorization"))
				mu.Unlock()
				jiraError(w, http.StatusNotFound, "nothing here")
			}))
			defer other.Close()
			var n atomic.Int32
			h := newHarness(t, flavor, func(h *harness, cfg *config.Jira) {
				front := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
					mu.Lock()
					home = append(home, r.Header.Get("Authorization"))
					mu.Unlock()
					if n.Add(1) == 1 {
						http.Redirect(w, r, other.URL+r.URL.RequestURI(), http.StatusFound)
						return
					}
					h.fake.ServeHTTP(w, r)
				}))
				t.Cleanup(front.Close)
				cfg.URL = front.URL
			})
			h.sync(t)
			mu.Lock()
			defer mu.Unlock()
			if len(elsewhere) == 0 {
				t.Fatal("the redirect was not followed")
			}
			for _, a := range elsewhere {
				if a != "" {
					t.Errorf("the other host received Authorization %q", a)
				}
			}
			for _, a := range home {
				if a != h.fake.auth {
					t.Errorf("the configured site received Authorization %q, want %q", a, h.fake.auth)
				}
			}
		})
	}
}

// A site that echoes the credential in its error body: neither the token
// nor the Basic credential made of it reaches the error, whatever the
// status.
func TestEchoedCredentialIsScrubbed(t *testing.T) {
	basic := base64.StdEncoding.EncodeToString([]byte("ops-bot@acme.com:s3cret-token"))
	for _, flavor := range []string{"datacenter", "cloud"} {
		for _, status := range []int{400, 401, 403, 418, 503} {
			t.Run(fmt.Sprintf("%s/%d", flavor, status), func(t *testing.T) {
				h := newHarness(t, flavor, func(h *harness, cfg *config.Jira) {
					front := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
						if status == 400 {
							w.WriteHeader(status)
							fmt.Fprintf(w, "<html>bad request from %s</html>", r.Header.Get("Authorization"))
							return
						}
						jiraError(w, status, "credential "+r.Header.Get("Authorization")+" (s3cret-token) refused")
					}))
					t.Cleanup(front.Close)
					cfg.URL = front.URL
				})
				_, err := h.sync(t)
				if err == nil {
					t.Fatal("no error")
				}
				msg := err.Error() + "\n" + h.log.String()
				if strings.Contains(msg, "s3cret-token") || strings.Contains(msg, basic) {
					t.Errorf("the credential reached the error or the log: %s", msg)
				}
				if !strings.Contains(err.Error(), "[redacted]") {
					t.Errorf("error %q does not show the redaction", err)
				}
			})
		}
	}
}
