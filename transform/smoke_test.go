package transform

import (
	"context"
	"os"
	"testing"

	"github.com/shiplog/shiplog/internal/config"
	"github.com/shiplog/shiplog/internal/warehouse"
)

func TestSmokeEmpty(t *testing.T) {
	ctx := context.Background()
	db, err := warehouse.OpenMemory(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if err := Run(ctx, db, config.Default(), Options{Progress: os.Stderr}); err != nil {
		t.Fatal(err)
	}
}
