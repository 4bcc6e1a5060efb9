package drift

import (
	"context"
	"testing"

	"github.com/shiplog/shiplog/ingest/file"
	"github.com/shiplog/shiplog/internal/warehouse"
)

// loadFixture loads a canonical JSON Lines fixture with the product's own
// file loader, so the fixture is checked exactly as a user's file would be.
func loadFixture(t *testing.T, db *warehouse.DB, path string) {
	t.Helper()
	if _, err := file.Load(context.Background(), db, []string{path}, file.Options{}); err != nil {
		t.Fatalf("load fixture %s: %v", path, err)
	}
}
