// Package apihttp is the one home of how shiplog's HTTP API sources wait,
// retry and count: a RoundTripper that sits under a vendor client, counts
// what a run costs, waits out rate limits (or stops cleanly when told not
// to wait), retries transient faults with ingest.Backoff, and the parsing
// of the headers that say how long to wait.
//
// What differs between APIs (which headers carry the remaining budget and
// its reset, which answers are rate limits, what a source calls them) is a
// small Policy; everything else is decided here once, so a fix to waiting
// or retrying reaches every source.
//
// It is a package of its own rather than part of ingest because only the
// API sources need it: ingest keeps the Source contract that the file, git
// and junit sources share as well.
package apihttp

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"sync"
	"time"

	"github.com/shiplog/shiplog/ingest"
)

// Counts says what the requests of a run cost. Requests are all HTTP
// requests sent, retries and waits included; NotModified of them were
// answered 304 (free of rate limit on GitHub and GitLab).
type Counts struct {
	Requests       int64
	NotModified    int64
	RateLimitWaits int64
	Retries        int64
}

// Limit is what one answer says about a rate limit: which kind it is, how
// long to wait before asking again, and when the limit resets (for the
// message of a run that does not wait).
type Limit struct {
	Kind  string // "primary", "secondary"; "" where an API has one kind
	Wait  time.Duration
	Reset time.Time
}

// Policy is what one API's rate limiting looks like to the Transport.
type Policy struct {
	// Source names the source in messages and errors ("github: …").
	Source string
	// Spent reports, from any answer, that the budget of requests is used
	// up until reset, so the next request waits for it before being sent.
	Spent func(resp *http.Response) (reset time.Time, ok bool)
	// SpentKind is the Kind of the limit Spent reports ("primary" on
	// GitHub, "" where an API has one kind of limit).
	SpentKind string
	// Limit is asked about every 4xx answer: ok when it is a rate limit
	// that says how long to wait. A 429 that is not one is retried with
	// the backoff; any other answer goes up to the client as it is.
	Limit func(resp *http.Response, now time.Time) (l Limit, ok bool)
	// Retry reports whether a 5xx status is transient (nil: every 5xx).
	Retry func(status int) bool
	// Clean, when set, edits an answer before the client sees it.
	Clean func(resp *http.Response)
	// SpentWord is how the RateLimitedError says the limit is used up
	// ("exhausted" when empty), and ReachedNote follows "rate limit
	// reached" in the progress line of a wait: each source keeps the
	// wording its users know.
	SpentWord   string
	ReachedNote string
}

// maxLimitWaits bounds the rate-limit waits of one request: an API that
// keeps answering "wait" after its own reset is broken, not busy.
const maxLimitWaits = 10

// Transport is the http.RoundTripper under an API source's client. It
// handles every limit and transient fault itself, so the client only ever
// sees final answers:
//
//   - a rate limit (Policy.Limit): wait what it says, at most MaxWait, or
//     stop with a RateLimitedError when NoWait;
//   - a 429 that says nothing of when to come back, 5xx answers
//     (Policy.Retry) and network errors: bounded exponential backoff with
//     jitter (Backoff);
//   - an answer that leaves the budget spent (Policy.Spent): the next
//     request waits for the reset before it is sent.
//
// Set the exported fields before the first request; New gives defaults.
// Where a credential is involved, the source puts ingest.Credentials above
// or below the Transport; the Transport never sees or adds one itself.
type Transport struct {
	Base     http.RoundTripper
	Policy   Policy
	Sleep    func(context.Context, time.Duration) error
	Now      func() time.Time
	Backoff  ingest.Backoff
	NoWait   bool
	Progress io.Writer
	// MaxWait caps a single rate-limit wait; a longer one is an error
	// (0 = no cap).
	MaxWait time.Duration

	mu        sync.Mutex
	counts    Counts
	exhausted bool
	reset     time.Time
}

// New returns a Transport for p over http.DefaultTransport that really
// sleeps, reads the real clock, uses ingest.DefaultBackoff, waits at rate
// limits and writes no progress.
func New(p Policy) *Transport {
	return &Transport{
		Base:     http.DefaultTransport,
		Policy:   p,
		Sleep:    ingest.Sleep,
		Now:      time.Now,
		Backoff:  ingest.DefaultBackoff,
		Progress: io.Discard,
	}
}

// Counts returns what the requests so far cost.
func (t *Transport) Counts() Counts {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.counts
}

// RoundTrip sends req until it has a final answer.
func (t *Transport) RoundTrip(req *http.Request) (*http.Response, error) {
	ctx := req.Context()
	p := &t.Policy
	tries, limitWaits := 0, 0
	for {
		if err := t.waitForReset(ctx); err != nil {
			return nil, err
		}
		t.count(func(c *Counts) { c.Requests++ })
		resp, err := t.Base.RoundTrip(req.Clone(ctx))
		tries++
		if err != nil {
			if ctx.Err() != nil || tries >= t.Backoff.Attempts {
				return nil, err
			}
			if err := t.retryAfterBackoff(ctx, tries, "network error on "+req.URL.Path); err != nil {
				return nil, err
			}
			continue
		}
		if p.Spent != nil {
			if reset, ok := p.Spent(resp); ok {
				t.mu.Lock()
				t.exhausted, t.reset = true, reset
				t.mu.Unlock()
			}
		}
		status := resp.StatusCode
		if status == http.StatusNotModified {
			t.count(func(c *Counts) { c.NotModified++ })
			return t.clean(resp), nil
		}
		if status >= 400 && status < 500 {
			l, ok := Limit{}, false
			if p.Limit != nil {
				l, ok = p.Limit(resp, t.Now())
			}
			switch {
			case ok:
				drain(resp)
				limitWaits++
				if limitWaits > maxLimitWaits {
					return nil, fmt.Errorf("%s: %s: rate limited %d times in a row; giving up", p.Source, req.URL.Path, limitWaits-1)
				}
				if err := t.waitLimit(ctx, l); err != nil {
					return nil, err
				}
				tries = 0
				continue
			case status == http.StatusTooManyRequests:
				drain(resp)
				if tries >= t.Backoff.Attempts {
					return nil, fmt.Errorf("%s: %s: still answered 429 Too Many Requests after %d tries", p.Source, req.URL.Path, tries)
				}
				if err := t.retryAfterBackoff(ctx, tries, "429 Too Many Requests"); err != nil {
					return nil, err
				}
				continue
			}
		}
		if status >= 500 && (p.Retry == nil || p.Retry(status)) {
			if tries >= t.Backoff.Attempts {
				return resp, nil
			}
			drain(resp)
			if err := t.retryAfterBackoff(ctx, tries, fmt.Sprintf("%d from %s", status, req.URL.Path)); err != nil {
				return nil, err
			}
			continue
		}
		return t.clean(resp), nil
	}
}

// waitLimit waits what a rate-limit answer asks, or says why it will not.
func (t *Transport) waitLimit(ctx context.Context, l Limit) error {
	if t.NoWait {
		return t.stopped(l.Kind, l.Reset)
	}
	if err := t.tooLong(l.Kind, l.Wait); err != nil {
		return err
	}
	t.count(func(c *Counts) { c.RateLimitWaits++ })
	fmt.Fprintf(t.Progress, "%s: %srate limit reached%s; waiting %s\n", t.Policy.Source, kindPrefix(l.Kind), t.Policy.ReachedNote, l.Wait.Round(time.Second))
	if err := t.Sleep(ctx, l.Wait); err != nil {
		return err
	}
	t.mu.Lock()
	t.exhausted = false
	t.mu.Unlock()
	return nil
}

// waitForReset holds a request while a previous answer said the budget is
// spent (Policy.Spent).
func (t *Transport) waitForReset(ctx context.Context) error {
	t.mu.Lock()
	exhausted, reset := t.exhausted, t.reset
	t.mu.Unlock()
	if !exhausted {
		return nil
	}
	wait := reset.Sub(t.Now()) + time.Second
	if wait <= 0 {
		t.mu.Lock()
		t.exhausted = false
		t.mu.Unlock()
		return nil
	}
	kind := t.Policy.SpentKind
	if t.NoWait {
		return t.stopped(kind, reset)
	}
	if err := t.tooLong(kind, wait); err != nil {
		return err
	}
	t.count(func(c *Counts) { c.RateLimitWaits++ })
	fmt.Fprintf(t.Progress, "%s: rate limit spent; waiting %s for its reset at %s\n", t.Policy.Source, wait.Round(time.Second), reset.UTC().Format(time.RFC3339))
	if err := t.Sleep(ctx, wait); err != nil {
		return err
	}
	t.mu.Lock()
	t.exhausted = false
	t.mu.Unlock()
	return nil
}

func (t *Transport) stopped(kind string, reset time.Time) error {
	word := t.Policy.SpentWord
	if word == "" {
		word = "exhausted"
	}
	return &RateLimitedError{Source: t.Policy.Source, Kind: kind, Reset: reset, word: word}
}

// tooLong refuses a wait longer than MaxWait.
func (t *Transport) tooLong(kind string, wait time.Duration) error {
	if t.MaxWait > 0 && wait > t.MaxWait {
		return fmt.Errorf("%s: %srate limit resets in %s, longer than the %s this run may wait", t.Policy.Source, kindPrefix(kind), wait.Round(time.Second), t.MaxWait)
	}
	return nil
}

func (t *Transport) retryAfterBackoff(ctx context.Context, attempt int, why string) error {
	d := t.Backoff.Delay(attempt)
	t.count(func(c *Counts) { c.Retries++ })
	fmt.Fprintf(t.Progress, "%s: %s; retrying in %s\n", t.Policy.Source, why, d.Round(time.Millisecond))
	return t.Sleep(ctx, d)
}

func (t *Transport) count(f func(*Counts)) {
	t.mu.Lock()
	f(&t.counts)
	t.mu.Unlock()
}

func (t *Transport) clean(resp *http.Response) *http.Response {
	if t.Policy.Clean != nil {
		t.Policy.Clean(resp)
	}
	return resp
}

// drain reads what is left of an answer that is not passed on (up to 1 MiB,
// so the connection can be reused) and closes it.
func drain(resp *http.Response) {
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<20))
	resp.Body.Close()
}

func kindPrefix(kind string) string {
	if kind == "" {
		return ""
	}
	return kind + " "
}

// RateLimitedError is returned when a rate limit is spent and the source
// was told not to wait (--no-wait). The run stops cleanly: what was
// committed stays, and the next run resumes from the saved cursors.
type RateLimitedError struct {
	Source string    // the source's name
	Kind   string    // "primary", "secondary", or "" where an API has one kind
	Reset  time.Time // when the limit resets
	word   string
}

func (e *RateLimitedError) Error() string {
	word := e.word
	if word == "" {
		word = "exhausted"
	}
	return fmt.Sprintf("%s: %srate limit %s until %s; stopped without waiting (--no-wait)", e.Source, kindPrefix(e.Kind), word, e.Reset.UTC().Format(time.RFC3339))
}

// IsRateLimited reports whether err (possibly wrapped by net/url and the
// client) is a stop at a spent limit.
func IsRateLimited(err error) bool {
	var rl *RateLimitedError
	return errors.As(err, &rl)
}
