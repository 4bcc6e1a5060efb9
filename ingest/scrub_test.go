package ingest

import (
	"context"
	"errors"
	"fmt"
	"testing"
)

func TestScrubError(t *testing.T) {
	if ScrubError(nil, "secret-1") != nil {
		t.Error("nil became an error")
	}
	plain := errors.New("nothing to hide")
	if ScrubError(plain, "secret-1") != plain {
		t.Error("an error with nothing to redact was wrapped")
	}
	inner := fmt.Errorf("remote said secret-1 twice: secret-1: %w", context.DeadlineExceeded)
	err := ScrubError(inner, "secret-1", "abc")
	if got, want := err.Error(), "remote said [redacted] twice: [redacted]: context deadline exceeded"; got != want {
		t.Errorf("got %q, want %q", got, want)
	}
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Error("the chain was lost")
	}
}
