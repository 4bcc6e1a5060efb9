package apihttp

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/shiplog/shiplog/ingest"
)

// start is the fake clock's first reading: 2024-03-07T12:00:00Z.
var start = time.Date(2024, 3, 7, 12, 0, 0, 0, time.UTC)

// testPolicy is an API shaped like GitHub's: Limit-Remaining and a Unix
// Limit-Reset for the primary budget, Retry-After for the secondary limit,
// 501 not retried.
var testPolicy = Policy{
	Source:    "test",
	SpentKind: "primary",
	Spent: func(resp *http.Response) (time.Time, bool) {
		return SpentUntil(resp.Header, "Limit-Remaining", "Limit-Reset")
	},
	Limit: func(resp *http.Response, now time.Time) (Limit, bool) {
		if wait, at, ok := RetryAfter(resp.Header.Get("Retry-After"), now); ok {
			return Limit{Kind: "secondary", Wait: wait, Reset: at}, true
		}
		if reset, ok := SpentUntil(resp.Header, "Limit-Remaining", "Limit-Reset"); ok {
			return Limit{Kind: "primary", Wait: UntilReset(reset, now), Reset: reset}, true
		}
		return Limit{}, false
	},
	Retry: func(status int) bool { return status != http.StatusNotImplemented },
}

// answer is one scripted answer of the fake API.
type answer struct {
	status  int
	headers map[string]string
}

// scripted serves the answers in order, then 200 "ok" to every request.
type scripted struct {
	mu      sync.Mutex
	answers []answer
	served  int
}

func (s *scripted) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	n := s.served
	s.served++
	s.mu.Unlock()
	if n >= len(s.answers) {
		fmt.Fprint(w, "ok")
		return
	}
	a := s.answers[n]
	for k, v := range a.headers {
		w.Header().Set(k, v)
	}
	w.WriteHeader(a.status)
	fmt.Fprintf(w, "answer %d", n+1)
}

// unix is the Limit-Reset value of start+d.
func unix(d time.Duration) string { return strconv.FormatInt(start.Add(d).Unix(), 10) }

func spent(reset time.Duration) map[string]string {
	return map[string]string{"Limit-Remaining": "0", "Limit-Reset": unix(reset)}
}

func TestTransport(t *testing.T) {
	const ns = time.Nanosecond // every backoff delay: Base = Max = 1 ns
	// oneKind is an API with one kind of limit and its own words for it.
	oneKind := testPolicy
	oneKind.SpentKind, oneKind.SpentWord, oneKind.ReachedNote = "", "spent", " (429)"
	oneKind.Limit = func(resp *http.Response, now time.Time) (Limit, bool) {
		l, ok := testPolicy.Limit(resp, now)
		l.Kind = ""
		return l, ok
	}
	tests := []struct {
		name    string
		policy  *Policy // testPolicy when nil
		answers []answer
		calls   int // client requests made, one after the other
		noWait  bool
		maxWait time.Duration
		// What the last call returned.
		status int
		err    string
		// Every sleep, in order; the counts; a line of the progress.
		sleeps   []time.Duration
		counts   Counts
		progress string
	}{
		{name: "primary limit waits until the reset, plus a second",
			answers: []answer{{429, spent(30 * time.Second)}}, calls: 1,
			status: 200, sleeps: []time.Duration{31 * time.Second},
			counts:   Counts{Requests: 2, RateLimitWaits: 1},
			progress: "test: primary rate limit reached; waiting 31s\n"},
		{name: "secondary limit waits Retry-After seconds",
			answers: []answer{{403, map[string]string{"Retry-After": "7"}}}, calls: 1,
			status: 200, sleeps: []time.Duration{7 * time.Second},
			counts:   Counts{Requests: 2, RateLimitWaits: 1},
			progress: "test: secondary rate limit reached; waiting 7s\n"},
		{name: "secondary limit waits until a Retry-After date",
			answers: []answer{{429, map[string]string{"Retry-After": start.Add(20 * time.Second).Format(http.TimeFormat)}}}, calls: 1,
			status: 200, sleeps: []time.Duration{20 * time.Second},
			counts: Counts{Requests: 2, RateLimitWaits: 1}},
		{name: "429 without headers backs off",
			answers: []answer{{429, nil}, {429, nil}}, calls: 1,
			status: 200, sleeps: []time.Duration{ns, ns},
			counts:   Counts{Requests: 3, Retries: 2},
			progress: "test: 429 Too Many Requests; retrying in 0s\n"},
		{name: "429 without headers gives up after the backoff's attempts",
			answers: []answer{{429, nil}, {429, nil}, {429, nil}}, calls: 1,
			err:    "test: /x: still answered 429 Too Many Requests after 3 tries",
			sleeps: []time.Duration{ns, ns}, counts: Counts{Requests: 3, Retries: 2}},
		{name: "5xx retried, then the answer",
			answers: []answer{{502, nil}, {503, nil}}, calls: 1,
			status: 200, sleeps: []time.Duration{ns, ns},
			counts:   Counts{Requests: 3, Retries: 2},
			progress: "test: 502 from /x; retrying in 0s\n"},
		{name: "5xx retries are bounded: the last 5xx goes up",
			answers: []answer{{502, nil}, {503, nil}, {500, nil}, {500, nil}}, calls: 1,
			status: 500, sleeps: []time.Duration{ns, ns},
			counts: Counts{Requests: 3, Retries: 2}},
		{name: "a 5xx the policy does not retry goes up at once",
			answers: []answer{{501, nil}}, calls: 1,
			status: 501, counts: Counts{Requests: 1}},
		{name: "a 403 that is no limit goes up at once",
			answers: []answer{{403, nil}}, calls: 1,
			status: 403, counts: Counts{Requests: 1}},
		{name: "no-wait stops at a limit with a RateLimitedError",
			answers: []answer{{429, spent(time.Hour)}}, calls: 1, noWait: true,
			err:    "test: primary rate limit exhausted until 2024-03-07T13:00:00Z; stopped without waiting (--no-wait)",
			counts: Counts{Requests: 1}},
		{name: "no-wait stops before a request when the budget is spent",
			answers: []answer{{200, spent(time.Hour)}}, calls: 3, noWait: true,
			err:    "test: primary rate limit exhausted until 2024-03-07T13:00:00Z; stopped without waiting (--no-wait)",
			counts: Counts{Requests: 1}},
		{name: "304 counted as NotModified",
			answers: []answer{{304, nil}, {304, nil}}, calls: 3,
			status: 200, counts: Counts{Requests: 3, NotModified: 2}},
		{name: "a success that spends the budget makes the next request wait",
			answers: []answer{{200, spent(30 * time.Second)}}, calls: 2,
			status: 200, sleeps: []time.Duration{31 * time.Second},
			counts:   Counts{Requests: 2, RateLimitWaits: 1},
			progress: "test: rate limit spent; waiting 31s for its reset at 2024-03-07T12:00:30Z\n"},
		{name: "a budget whose reset is past needs no wait",
			answers: []answer{{200, spent(-10 * time.Second)}}, calls: 2,
			status: 200, counts: Counts{Requests: 2}},
		{name: "a limit longer than maxWait is an error",
			answers: []answer{{429, spent(30 * time.Second)}}, calls: 1, maxWait: 10 * time.Second,
			err:    "test: primary rate limit resets in 31s, longer than the 10s this run may wait",
			counts: Counts{Requests: 1}},
		{name: "a spent budget longer than maxWait is an error before the request",
			answers: []answer{{200, spent(time.Minute)}}, calls: 2, maxWait: 10 * time.Second,
			err:    "test: primary rate limit resets in 1m1s, longer than the 10s this run may wait",
			counts: Counts{Requests: 1}},
		{name: "a limit within maxWait is waited",
			answers: []answer{{429, spent(9 * time.Second)}}, calls: 1, maxWait: 10 * time.Second,
			status: 200, sleeps: []time.Duration{10 * time.Second},
			counts: Counts{Requests: 2, RateLimitWaits: 1}},
		{name: "eleven limits in a row give up after ten waits",
			answers: repeat(answer{429, map[string]string{"Retry-After": "1"}}, 12), calls: 1,
			err:    "test: /x: rate limited 10 times in a row; giving up",
			sleeps: repeat(time.Second, 10), counts: Counts{Requests: 11, RateLimitWaits: 10}},
		{name: "one kind of limit: the wait in the source's words", policy: &oneKind,
			answers: []answer{{429, map[string]string{"Retry-After": "7"}}}, calls: 1,
			status: 200, sleeps: []time.Duration{7 * time.Second},
			counts:   Counts{Requests: 2, RateLimitWaits: 1},
			progress: "test: rate limit reached (429); waiting 7s\n"},
		{name: "one kind of limit: the stop in the source's words", policy: &oneKind,
			answers: []answer{{429, spent(time.Hour)}}, calls: 1, noWait: true,
			err:    "test: rate limit spent until 2024-03-07T13:00:00Z; stopped without waiting (--no-wait)",
			counts: Counts{Requests: 1}},
		{name: "one kind of limit: maxWait in the source's words", policy: &oneKind,
			answers: []answer{{200, spent(time.Minute)}}, calls: 2, maxWait: 10 * time.Second,
			err:    "test: rate limit resets in 1m1s, longer than the 10s this run may wait",
			counts: Counts{Requests: 1}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := httptest.NewServer(&scripted{answers: tt.answers})
			defer srv.Close()
			clock := &fakeClock{now: start}
			var progress bytes.Buffer
			p := testPolicy
			if tt.policy != nil {
				p = *tt.policy
			}
			tr := New(p)
			tr.Sleep, tr.Now = clock.sleep, clock.Now
			tr.Backoff = ingest.Backoff{Base: ns, Max: ns, Attempts: 3}
			tr.NoWait, tr.MaxWait, tr.Progress = tt.noWait, tt.maxWait, &progress
			client := &http.Client{Transport: tr}

			var resp *http.Response
			var err error
			for i := 0; i < tt.calls && err == nil; i++ {
				resp, err = client.Get(srv.URL + "/x")
				if err == nil {
					io.Copy(io.Discard, resp.Body)
					resp.Body.Close()
				}
			}
			switch {
			case tt.err != "":
				if err == nil || !strings.HasSuffix(err.Error(), tt.err) {
					t.Fatalf("err = %v, want one ending %q", err, tt.err)
				}
			case err != nil:
				t.Fatalf("err = %v", err)
			case resp.StatusCode != tt.status:
				t.Errorf("status %d, want %d", resp.StatusCode, tt.status)
			}
			if fmt.Sprint(clock.slept) != fmt.Sprint(tt.sleeps) {
				t.Errorf("sleeps %v, want %v", clock.slept, tt.sleeps)
			}
			if got := tr.Counts(); got != tt.counts {
				t.Errorf("counts %+v, want %+v", got, tt.counts)
			}
			if !strings.Contains(progress.String(), tt.progress) {
				t.Errorf("progress lacks %q:\n%s", tt.progress, progress.String())
			}
		})
	}
}

func TestRateLimitedError(t *testing.T) {
	srv := httptest.NewServer(&scripted{answers: []answer{{429, spent(time.Hour)}}})
	defer srv.Close()
	tr := New(testPolicy)
	tr.NoWait, tr.Now = true, func() time.Time { return start }
	_, err := (&http.Client{Transport: tr}).Get(srv.URL)
	var rl *RateLimitedError
	if !errors.As(err, &rl) || !IsRateLimited(err) {
		t.Fatalf("err = %v, want a RateLimitedError through the client's wrapping", err)
	}
	want := RateLimitedError{Source: "test", Kind: "primary", Reset: start.Add(time.Hour)}
	if rl.Source != want.Source || rl.Kind != want.Kind || !rl.Reset.Equal(want.Reset) {
		t.Errorf("error %+v, want %+v", *rl, want)
	}
	if IsRateLimited(errors.New("test: 500")) {
		t.Error("IsRateLimited of another error is true")
	}
}

func TestRetryAfter(t *testing.T) {
	tests := []struct {
		v    string
		wait time.Duration
		ok   bool
	}{
		{"7", 7 * time.Second, true},
		{" 120 ", 2 * time.Minute, true},
		{"0", 0, true},
		{start.Add(20 * time.Second).Format(http.TimeFormat), 20 * time.Second, true},
		{start.Add(-time.Minute).Format(http.TimeFormat), 0, true}, // past: no wait
		{"", 0, false},
		{"-1", 0, false},
		{"1.5", 0, false},
		{"soon", 0, false},
	}
	for _, tt := range tests {
		wait, at, ok := RetryAfter(tt.v, start)
		if wait != tt.wait || ok != tt.ok {
			t.Errorf("RetryAfter(%q) = %v, %v; want %v, %v", tt.v, wait, ok, tt.wait, tt.ok)
		}
		if ok && wait > 0 && !at.Equal(start.Add(wait)) {
			t.Errorf("RetryAfter(%q) ends at %v, want %v", tt.v, at, start.Add(wait))
		}
	}
}

// fakeClock records every sleep and moves its time on by it, at once.
type fakeClock struct {
	mu    sync.Mutex
	now   time.Time
	slept []time.Duration
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) sleep(ctx context.Context, d time.Duration) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.slept = append(c.slept, d)
	c.now = c.now.Add(d)
	return ctx.Err()
}

func repeat[T any](v T, n int) []T {
	out := make([]T, n)
	for i := range out {
		out[i] = v
	}
	return out
}
