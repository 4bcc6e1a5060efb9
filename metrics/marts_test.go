package metrics

import (
	"context"
	"errors"
	"testing"

	"github.com/shiplog/shiplog/internal/config"
	"github.com/shiplog/shiplog/internal/warehouse"
	"github.com/shiplog/shiplog/transform"
)

// Before the first transform the metrics say so plainly; afterwards (even
// with no data at all) they answer.
func TestMetricsBeforeTransform(t *testing.T) {
	ctx := context.Background()
	db, err := warehouse.OpenMemory(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	calls := map[string]func() error{
		"Compute": func() error { _, err := Compute(ctx, db, config.Default(), Filter{}); return err },
		"View":    func() error { _, err := View(ctx, db, "mttr", Filter{}); return err },
		"Explain": func() error { _, err := Explain(ctx, db, "lead-time", Filter{}); return err },
	}
	for name, call := range calls {
		if err := call(); !errors.Is(err, ErrNoMarts) {
			t.Errorf("%s before transform: %v, want ErrNoMarts", name, err)
		}
	}
	if err := transform.Run(ctx, db, config.Default(), transform.Options{}); err != nil {
		t.Fatal(err)
	}
	for name, call := range calls {
		if err := call(); err != nil {
			t.Errorf("%s after transform: %v", name, err)
		}
	}
	// Marts built by a shiplog without the metric macros: the calls fail on
	// the missing macro, and say to run the transform.
	for _, m := range macros {
		if _, err := db.ExecContext(ctx, "DROP MACRO TABLE "+m); err != nil {
			t.Fatal(err)
		}
	}
	for name, call := range calls {
		if err := call(); !errors.Is(err, ErrNoMarts) {
			t.Errorf("%s without the macros: %v, want ErrNoMarts", name, err)
		}
	}
}
