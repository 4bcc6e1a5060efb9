package github

import (
	"context"
	"errors"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/shiplog/shiplog/internal/warehouse"
)

var (
	fuzzOnce sync.Once
	fuzzWH   *warehouse.DB
	fuzzErr  error
)

// FuzzStoreWebhook: whatever a delivery's body, StoreWebhook stores it or
// answers a *WebhookError (a 400 to the sender), never another error (a
// 500, which the sender would retry forever) and never a panic.
func FuzzStoreWebhook(f *testing.F) {
	for _, name := range []string{"deployment_status_success.json", "deployment_status_in_progress.json"} {
		if b, err := os.ReadFile("testdata/webhooks/" + name); err == nil {
			f.Add(uint8(0), b)
		}
	}
	f.Add(uint8(1), []byte(`{"action":"closed","repository":{"full_name":"acme/payments"},"pull_request":{"number":7,"merged_at":"2026-03-01T10:00:00Z"}}`))
	f.Add(uint8(2), []byte(`{"action":"published","repository":{"full_name":"acme/web"},"release":{"id":3,"tag_name":"v1","published_at":"2026-03-01T10:00:00Z"}}`))
	f.Add(uint8(2), []byte(`{"action":"deleted","repository":{"full_name":"acme/web"},"release":{"id":3}}`))
	f.Add(uint8(0), []byte(`{"repository":{"full_name":"a/b"},"deployment":{"id":1e300},"deployment_status":{"id":-1,"state":7}}`))
	f.Fuzz(func(t *testing.T, which uint8, body []byte) {
		fuzzOnce.Do(func() { fuzzWH, fuzzErr = warehouse.OpenMemory(context.Background()) })
		if fuzzErr != nil {
			t.Fatal(fuzzErr)
		}
		src, err := New(testConfig("http://127.0.0.1:1/"), nil, WithClock(func() time.Time { return fixedNow }))
		if err != nil {
			t.Fatal(err)
		}
		event := WebhookEvents[int(which)%len(WebhookEvents)]
		_, err = src.StoreWebhook(context.Background(), fuzzWH, event, body)
		var we *WebhookError
		if err != nil && !errors.As(err, &we) {
			t.Fatalf("%s: not a payload error: %v", event, err)
		}
	})
}
