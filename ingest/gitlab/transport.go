package gitlab

import (
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

// Stats counts what a run cost and wrote. Requests are all HTTP requests
// sent; NotModified of them were answered 304.
type Stats struct {
	Requests       int64
	NotModified    int64
	RateLimitWaits int64
	Retries        int64
	// Rows written per raw table in this run.
	Rows map[string]int64
	// Deleted counts raw rows a full sync (--full) removed because the
	// server no longer lists them, per raw table.
	Deleted map[string]int64
	// Skipped lists the projects left out of this run, each with its reason
	// (not found, or no access).
	Skipped []string
	// Partial is set when the run stopped early at a spent rate limit
	// (NoWait) with its cursors saved.
	Partial bool
}

// RateLimitedError is returned when the rate limit is spent and the source
// was told not to wait. The run stops cleanly: what was committed stays,
// and the next run resumes from the saved cursors.
type RateLimitedError struct {
	Reset time.Time
}

func (e *RateLimitedError) Error() string {
	return fmt.Sprintf("gitlab: rate limit spent until %s; stopped without waiting (--no-wait)", e.Reset.UTC().Format(time.RFC3339))
}

// transport sits under the client-go client (whose own retries and limiter
// are turned off) and handles limits and transient faults itself, so the
// client only sees final answers:
//
//   - 429 Too Many Requests: wait Retry-After (seconds or an HTTP date),
//     else until RateLimit-Reset (+1 s), else back off; stop instead when
//     noWait;
//   - 5xx and network errors: bounded exponential backoff with jitter;
//   - a success that leaves RateLimit-Remaining at 0: the next request waits
//     for RateLimit-Reset before it is sent.
//
// 401, 403 and 404 are final: the source explains them.
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
		t.count(func(s *Stats) { s.Requests++ })
		resp, err := t.base.RoundTrip(req.Clone(ctx))
		tries++
		if err != nil {
			if ctx.Err() != nil || tries >= t.backoff.Attempts {
				return nil, err
			}
			if err := t.retryAfterBackoff(ctx, tries, "network error on "+req.URL.Path); err != nil {
				return nil, err
			}
			continue
		}
		t.noteRate(resp)
		switch {
		case resp.StatusCode == http.StatusNotModified:
			t.count(func(s *Stats) { s.NotModified++ })
			return resp, nil
		case resp.StatusCode == http.StatusTooManyRequests:
			wait, resetAt, known := t.limitWait(resp)
			drain(resp)
			if !known {
				if tries >= t.backoff.Attempts {
					return nil, fmt.Errorf("gitlab: %s: still answered 429 Too Many Requests after %d tries", req.URL.Path, tries)
				}
				if err := t.retryAfterBackoff(ctx, tries, "429 Too Many Requests"); err != nil {
					return nil, err
				}
				continue
			}
			limitWaits++
			if limitWaits > maxLimitWaits {
				return nil, fmt.Errorf("gitlab: %s: rate limited %d times in a row; giving up", req.URL.Path, limitWaits-1)
			}
			if t.noWait {
				return nil, &RateLimitedError{Reset: resetAt}
			}
			if t.maxWait > 0 && wait > t.maxWait {
				return nil, fmt.Errorf("gitlab: rate limit resets in %s, longer than the %s this run may wait", wait.Round(time.Second), t.maxWait)
			}
			t.count(func(s *Stats) { s.RateLimitWaits++ })
			fmt.Fprintf(t.progress, "gitlab: rate limit reached (429); waiting %s\n", wait.Round(time.Second))
			if err := t.sleep(ctx, wait); err != nil {
				return nil, err
			}
			t.mu.Lock()
			t.exhausted = false
			t.mu.Unlock()
			tries = 0
			continue
		case resp.StatusCode >= 500 && resp.StatusCode != http.StatusNotImplemented:
			if tries >= t.backoff.Attempts {
				return resp, nil
			}
			drain(resp)
			if err := t.retryAfterBackoff(ctx, tries, fmt.Sprintf("%d from %s", resp.StatusCode, req.URL.Path)); err != nil {
				return nil, err
			}
			continue
		}
		return resp, nil
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
	fmt.Fprintf(t.progress, "gitlab: %s; retrying in %s\n", why, d.Round(time.Millisecond))
	return t.sleep(ctx, d)
}

// waitForReset holds a request while a previous answer said the limit is
// spent (RateLimit-Remaining: 0).
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
		return &RateLimitedError{Reset: reset}
	}
	if t.maxWait > 0 && wait > t.maxWait {
		return fmt.Errorf("gitlab: rate limit resets in %s, longer than the %s this run may wait", wait.Round(time.Second), t.maxWait)
	}
	t.count(func(s *Stats) { s.RateLimitWaits++ })
	fmt.Fprintf(t.progress, "gitlab: rate limit spent; waiting %s for its reset at %s\n", wait.Round(time.Second), reset.UTC().Format(time.RFC3339))
	if err := t.sleep(ctx, wait); err != nil {
		return err
	}
	t.mu.Lock()
	t.exhausted = false
	t.mu.Unlock()
	return nil
}

// noteRate remembers a spent limit from a successful answer.
func (t *transport) noteRate(resp *http.Response) {
	if resp.StatusCode == http.StatusTooManyRequests || strings.TrimSpace(resp.Header.Get("RateLimit-Remaining")) != "0" {
		return
	}
	reset, err := strconv.ParseInt(strings.TrimSpace(resp.Header.Get("RateLimit-Reset")), 10, 64)
	if err != nil {
		return
	}
	t.mu.Lock()
	t.exhausted = true
	t.reset = time.Unix(reset, 0)
	t.mu.Unlock()
}

// limitWait says how long a 429 asks to wait: Retry-After (seconds or an
// HTTP date), else until RateLimit-Reset plus a second against clock skew.
// known is false when the answer says neither.
func (t *transport) limitWait(resp *http.Response) (wait time.Duration, resetAt time.Time, known bool) {
	now := t.now()
	if v := strings.TrimSpace(resp.Header.Get("Retry-After")); v != "" {
		if secs, err := strconv.ParseInt(v, 10, 64); err == nil && secs >= 0 {
			return time.Duration(secs) * time.Second, now.Add(time.Duration(secs) * time.Second), true
		}
		if at, err := http.ParseTime(v); err == nil {
			return max(at.Sub(now), 0), at, true
		}
	}
	if reset, err := strconv.ParseInt(strings.TrimSpace(resp.Header.Get("RateLimit-Reset")), 10, 64); err == nil {
		at := time.Unix(reset, 0)
		return max(at.Sub(now)+time.Second, 0), at, true
	}
	if at, err := http.ParseTime(resp.Header.Get("RateLimit-ResetTime")); err == nil {
		return max(at.Sub(now)+time.Second, 0), at, true
	}
	return 0, time.Time{}, false
}

func drain(resp *http.Response) {
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<20))
	resp.Body.Close()
}

// isRateLimited reports whether err (possibly wrapped by net/url and the
// client) is a stop at a spent limit.
func isRateLimited(err error) bool {
	var rl *RateLimitedError
	return errors.As(err, &rl)
}
