package github

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/shiplog/shiplog/ingest"
)

// Stats counts what a run cost. Requests are all HTTP requests sent;
// NotModified of them were answered 304 (free of rate limit).
type Stats struct {
	Requests       int64
	NotModified    int64
	RateLimitWaits int64
	Retries        int64
	// Rows written per raw table in this run.
	Rows map[string]int64
	// Partial is set when the run stopped early at an exhausted rate limit
	// (NoWait) with its cursors saved.
	Partial bool
}

// RateLimitedError is returned when the rate limit is exhausted and the
// source was told not to wait. The run stops cleanly: what was committed
// stays, and the next run resumes from the saved cursors.
type RateLimitedError struct {
	Reset time.Time
	Kind  string // primary, secondary
}

func (e *RateLimitedError) Error() string {
	return fmt.Sprintf("github: %s rate limit exhausted until %s; stopped without waiting (--no-wait)", e.Kind, e.Reset.UTC().Format(time.RFC3339))
}

// transport is the http.RoundTripper under the go-github client. It counts
// requests and handles every form of limit and transient fault itself, so
// that go-github only ever sees final answers (the token is added below it,
// by ingest.Credentials, to requests for the configured API only):
//
//   - primary rate limit (403 or 429 with X-RateLimit-Remaining: 0): wait
//     until X-RateLimit-Reset, or stop when noWait;
//   - secondary rate limit (403 or 429 with Retry-After, or a 403 whose body
//     names the secondary limit): wait Retry-After (60 s when absent);
//   - 429 without either header (go-github v60 does not see 429 as a rate
//     limit) and 5xx: bounded exponential backoff with jitter;
//   - a success that leaves X-RateLimit-Remaining at 0: the next request waits
//     for the reset before it is sent.
type transport struct {
	base     http.RoundTripper
	sleep    func(context.Context, time.Duration) error
	now      func() time.Time
	backoff  ingest.Backoff
	noWait   bool
	progress io.Writer
	// maxWait caps a single rate-limit wait; a longer one is an error.
	maxWait time.Duration

	mu        sync.Mutex
	stats     *Stats
	exhausted bool
	reset     time.Time
}

const maxLimitWaits = 10

func (t *transport) RoundTrip(req *http.Request) (*http.Response, error) {
	ctx := req.Context()
	tries, limitWaits := 0, 0
	for {
		if err := t.waitForReset(ctx); err != nil {
			return nil, err
		}
		r := req.Clone(ctx)
		t.count(func(s *Stats) { s.Requests++ })
		resp, err := t.base.RoundTrip(r)
		tries++
		if err != nil {
			if ctx.Err() != nil || tries >= t.backoff.Attempts {
				return nil, err
			}
			if err := t.retryAfterBackoff(ctx, tries, fmt.Sprintf("network error on %s", req.URL.Path)); err != nil {
				return nil, err
			}
			continue
		}
		t.noteRate(resp)
		switch {
		case resp.StatusCode == http.StatusNotModified:
			t.count(func(s *Stats) { s.NotModified++ })
			return t.clean(resp), nil
		case resp.StatusCode == http.StatusForbidden || resp.StatusCode == http.StatusTooManyRequests:
			kind, wait, resetAt := t.classifyLimit(resp)
			if kind == "" && resp.StatusCode == http.StatusForbidden {
				return resp, nil // a permission problem, not a limit
			}
			drain(resp)
			if kind == "" { // bare 429
				if tries >= t.backoff.Attempts {
					return nil, fmt.Errorf("github: %s: still answered 429 Too Many Requests after %d tries", req.URL.Path, tries)
				}
				if err := t.retryAfterBackoff(ctx, tries, "429 Too Many Requests"); err != nil {
					return nil, err
				}
				continue
			}
			limitWaits++
			if limitWaits > maxLimitWaits {
				return nil, fmt.Errorf("github: %s: rate limited %d times in a row; giving up", req.URL.Path, limitWaits-1)
			}
			if t.noWait {
				return nil, &RateLimitedError{Reset: resetAt, Kind: kind}
			}
			if t.maxWait > 0 && wait > t.maxWait {
				return nil, fmt.Errorf("github: %s rate limit resets in %s, longer than the %s this run may wait", kind, wait.Round(time.Second), t.maxWait)
			}
			t.count(func(s *Stats) { s.RateLimitWaits++ })
			fmt.Fprintf(t.progress, "github: %s rate limit reached; waiting %s\n", kind, wait.Round(time.Second))
			if err := t.sleep(ctx, wait); err != nil {
				return nil, err
			}
			t.mu.Lock()
			t.exhausted = false
			t.mu.Unlock()
			tries = 0
			continue
		case resp.StatusCode >= 500:
			if tries >= t.backoff.Attempts {
				return resp, nil
			}
			drain(resp)
			if err := t.retryAfterBackoff(ctx, tries, fmt.Sprintf("%d from %s", resp.StatusCode, req.URL.Path)); err != nil {
				return nil, err
			}
			continue
		}
		return t.clean(resp), nil
	}
}

func (t *transport) count(f func(*Stats)) {
	t.mu.Lock()
	f(t.stats)
	t.mu.Unlock()
}

func (t *transport) retryAfterBackoff(ctx context.Context, attempt int, why string) error {
	d := t.backoff.Delay(attempt)
	t.count(func(s *Stats) { s.Retries++ })
	fmt.Fprintf(t.progress, "github: %s; retrying in %s\n", why, d.Round(time.Millisecond))
	return t.sleep(ctx, d)
}

// waitForReset holds a request while a previous answer said the primary
// limit is spent.
func (t *transport) waitForReset(ctx context.Context) error {
	t.mu.Lock()
	exhausted, reset := t.exhausted, t.reset
	t.mu.Unlock()
	if !exhausted {
		return nil
	}
	wait := reset.Sub(t.now()) + time.Second
	if wait <= 0 {
		t.mu.Lock()
		t.exhausted = false
		t.mu.Unlock()
		return nil
	}
	if t.noWait {
		return &RateLimitedError{Reset: reset, Kind: "primary"}
	}
	if t.maxWait > 0 && wait > t.maxWait {
		return fmt.Errorf("github: primary rate limit resets in %s, longer than the %s this run may wait", wait.Round(time.Second), t.maxWait)
	}
	t.count(func(s *Stats) { s.RateLimitWaits++ })
	fmt.Fprintf(t.progress, "github: rate limit spent; waiting %s for its reset at %s\n", wait.Round(time.Second), reset.UTC().Format(time.RFC3339))
	if err := t.sleep(ctx, wait); err != nil {
		return err
	}
	t.mu.Lock()
	t.exhausted = false
	t.mu.Unlock()
	return nil
}

func (t *transport) noteRate(resp *http.Response) {
	rem := resp.Header.Get("X-RateLimit-Remaining")
	if rem != "0" {
		return
	}
	reset, err := strconv.ParseInt(resp.Header.Get("X-RateLimit-Reset"), 10, 64)
	if err != nil {
		return
	}
	t.mu.Lock()
	t.exhausted = true
	t.reset = time.Unix(reset, 0)
	t.mu.Unlock()
}

// classifyLimit tells a rate-limit answer from a permission error and says
// how long to wait.
func (t *transport) classifyLimit(resp *http.Response) (kind string, wait time.Duration, resetAt time.Time) {
	now := t.now()
	if v := resp.Header.Get("Retry-After"); v != "" {
		if secs, err := strconv.ParseInt(strings.TrimSpace(v), 10, 64); err == nil && secs >= 0 {
			return "secondary", time.Duration(secs) * time.Second, now.Add(time.Duration(secs) * time.Second)
		}
		if at, err := http.ParseTime(v); err == nil {
			return "secondary", max(at.Sub(now), 0), at
		}
	}
	if resp.Header.Get("X-RateLimit-Remaining") == "0" {
		if reset, err := strconv.ParseInt(resp.Header.Get("X-RateLimit-Reset"), 10, 64); err == nil {
			// One second more than the reset, against clock skew.
			return "primary", max(time.Unix(reset, 0).Sub(now)+time.Second, 0), time.Unix(reset, 0)
		}
		return "primary", time.Minute, now.Add(time.Minute)
	}
	if resp.StatusCode == http.StatusForbidden {
		body, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
		resp.Body.Close()
		resp.Body = io.NopCloser(bytes.NewReader(body))
		if bytes.Contains(bytes.ToLower(body), []byte("secondary rate limit")) {
			return "secondary", time.Minute, now.Add(time.Minute)
		}
	}
	return "", 0, time.Time{}
}

// clean hides a spent X-RateLimit-Remaining from go-github: the transport
// waits for the reset itself, and go-github v60 would otherwise refuse the
// next call without sending it.
func (t *transport) clean(resp *http.Response) *http.Response {
	if resp.Header.Get("X-RateLimit-Remaining") == "0" {
		resp.Header.Del("X-RateLimit-Remaining")
	}
	return resp
}

func drain(resp *http.Response) {
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<20))
	resp.Body.Close()
}

// isRateLimited reports whether err (possibly wrapped by net/url and
// go-github) is a stop at an exhausted limit.
func isRateLimited(err error) bool {
	var rl *RateLimitedError
	return errors.As(err, &rl)
}
