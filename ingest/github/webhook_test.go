package github

import (
	"context"
	"database/sql"
	"errors"
	"os"
	"testing"
	"time"
)

func TestStoreWebhookDeploymentStatus(t *testing.T) {
	h := newHarness(t)
	ctx := context.Background()
	src := h.source(testConfig("https://api.github.invalid/"), WithClock(func() time.Time { return time.Date(2026, 11, 20, 12, 0, 0, 0, time.UTC) }))
	read := func(name string) []byte {
		b, err := os.ReadFile("testdata/webhooks/" + name)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	count := func() int {
		var n int
		if err := h.db.QueryRowContext(ctx, `SELECT count(*) FROM deployments WHERE source = 'github'`).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}

	n, err := src.StoreWebhook(ctx, h.db, "deployment_status", read("deployment_status_in_progress.json"))
	if err != nil || n != 2 {
		t.Fatalf("in_progress: n=%d err=%v", n, err)
	}
	if c := count(); c != 0 {
		t.Fatalf("an in_progress deployment must not be canonical yet, got %d rows", c)
	}
	for i := 0; i < 2; i++ { // the second time is a redelivery: nothing doubles
		if _, err := src.StoreWebhook(ctx, h.db, "deployment_status", read("deployment_status_success.json")); err != nil {
			t.Fatal(err)
		}
	}
	var raws, statuses int
	h.db.QueryRowContext(ctx, `SELECT (SELECT count(*) FROM raw_github_deployments), (SELECT count(*) FROM raw_github_deployment_statuses)`).Scan(&raws, &statuses)
	if raws != 1 || statuses != 2 {
		t.Fatalf("raw rows: %d deployments, %d statuses; want 1 and 2", raws, statuses)
	}
	if c := count(); c != 1 {
		t.Fatalf("want one canonical deployment, got %d", c)
	}
	// Expected values worked out in testdata/webhooks/README.md.
	var id, service, env, status, version, sha, by, url string
	var started, finished time.Time
	err = h.db.QueryRowContext(ctx, `SELECT id, service, environment, started_at, finished_at, status, version, commit_sha, triggered_by, url
		FROM deployments WHERE source = 'github'`).Scan(&id, &service, &env, &started, &finished, &status, &version, &sha, &by, &url)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"acme/payments/deployments/1234567", "payments", "production", "success", "v2.4.1", "4f2c1b0e9d8a7c6b5a4f3e2d1c0b9a8f7e6d5c4b", "alice", "https://ci.example.com/runs/55"}
	got := []string{id, service, env, status, version, sha, by, url}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("column %d: got %q, want %q", i, got[i], want[i])
		}
	}
	if !started.Equal(time.Date(2026, 11, 20, 9, 55, 0, 0, time.UTC)) || !finished.Equal(time.Date(2026, 11, 20, 10, 4, 30, 0, time.UTC)) {
		t.Errorf("started %v finished %v", started, finished)
	}
}

func TestStoreWebhookReleaseAndPull(t *testing.T) {
	h := newHarness(t)
	ctx := context.Background()
	src := h.source(testConfig("https://api.github.invalid/"))
	rel := `{"action":"published","release":{"id":77,"tag_name":"v3.0.0","target_commitish":"main","name":"3.0","draft":false,"prerelease":false,
		"created_at":"2026-11-19T08:00:00Z","published_at":"2026-11-19T09:30:00Z","author":{"login":"bob"},"html_url":"https://github.com/acme/web/releases/tag/v3.0.0"},
		"repository":{"full_name":"acme/web"}}`
	if _, err := src.StoreWebhook(ctx, h.db, "release", []byte(rel)); err != nil {
		t.Fatal(err)
	}
	// acme/web ships by release; its first service is web; no environment → production.
	var id, service, env string
	var finished time.Time
	if err := h.db.QueryRowContext(ctx, `SELECT id, service, environment, finished_at FROM deployments WHERE source = 'github'`).Scan(&id, &service, &env, &finished); err != nil {
		t.Fatal(err)
	}
	if id != "acme/web@v3.0.0" || service != "web" || env != "production" || !finished.Equal(time.Date(2026, 11, 19, 9, 30, 0, 0, time.UTC)) {
		t.Errorf("release deployment: %s %s %s %v", id, service, env, finished)
	}
	del := `{"action":"deleted","release":{"id":77,"tag_name":"v3.0.0"},"repository":{"full_name":"acme/web"}}`
	if _, err := src.StoreWebhook(ctx, h.db, "release", []byte(del)); err != nil {
		t.Fatal(err)
	}
	var n int
	h.db.QueryRowContext(ctx, `SELECT count(*) FROM deployments WHERE source = 'github'`).Scan(&n)
	if n != 0 {
		t.Errorf("deleted release still maps to %d deployments", n)
	}

	pr := `{"action":"closed","number":12,"pull_request":{"number":12,"state":"closed","title":"Fix","updated_at":"2026-11-19T10:00:00Z","merged_at":"2026-11-19T10:00:00Z","created_at":"2026-11-18T10:00:00Z","user":{"login":"carol"},"base":{"ref":"main"},"head":{"ref":"fix","sha":"abc"}},"repository":{"full_name":"acme/payments"}}`
	if _, err := src.StoreWebhook(ctx, h.db, "pull_request", []byte(pr)); err != nil {
		t.Fatal(err)
	}
	var upd sql.NullTime
	if err := h.db.QueryRowContext(ctx, `SELECT updated_at FROM raw_github_pulls WHERE repo = 'acme/payments' AND number = 12`).Scan(&upd); err != nil {
		t.Fatal(err)
	}
	if upd.Valid {
		t.Errorf("updated_at should be empty so that a sync fetches the commits, got %v", upd.Time)
	}
}

func TestStoreWebhookBadPayload(t *testing.T) {
	h := newHarness(t)
	src := h.source(testConfig("https://api.github.invalid/"))
	for _, c := range []struct{ event, body string }{
		{"deployment_status", `{"repository":{"full_name":"acme/web"},"deployment":{"id":1}}`},
		{"release", `{"release":{"id":1}}`},
		{"pull_request", `not json`},
		{"push", `{"repository":{"full_name":"acme/web"}}`},
	} {
		_, err := src.StoreWebhook(context.Background(), h.db, c.event, []byte(c.body))
		var we *WebhookError
		if !errors.As(err, &we) {
			t.Errorf("%s %s: want a WebhookError, got %v", c.event, c.body, err)
		}
	}
}
