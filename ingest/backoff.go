package ingest

import (
	"context"
	"math/rand/v2"
	"time"
)

// Backoff computes bounded exponential delays with full jitter.
type Backoff struct {
	Base     time.Duration // first delay's upper bound
	Max      time.Duration // cap of any delay
	Attempts int           // tries in all, including the first
}

// DefaultBackoff retries 5 times, from up to 1 s to at most 30 s.
var DefaultBackoff = Backoff{Base: time.Second, Max: 30 * time.Second, Attempts: 5}

// Delay returns the wait before retry number attempt (1 for the first retry).
func (b Backoff) Delay(attempt int) time.Duration {
	d := b.Base << (attempt - 1)
	if d > b.Max || d <= 0 {
		d = b.Max
	}
	return time.Duration(rand.Int64N(int64(d)) + 1)
}

// Sleep waits d or until ctx ends.
func Sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}
