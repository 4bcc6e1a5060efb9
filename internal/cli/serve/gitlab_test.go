package serve

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	gitlabsrc "github.com/shiplog/shiplog/ingest/gitlab"
	"github.com/shiplog/shiplog/internal/config"
	"github.com/shiplog/shiplog/internal/iostreams"
	"github.com/shiplog/shiplog/internal/server"
	"github.com/shiplog/shiplog/internal/warehouse"
)

// With sources.gitlab, serve has a gitlab job and stores GitLab webhook
// deliveries through the source: a deployment event becomes a canonical
// deployment, a malformed one is a bad request.
func TestGitLabJobAndWebhookSink(t *testing.T) {
	ctx := context.Background()
	db, err := warehouse.OpenMemory(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	cfg := config.Default()
	cfg.Sources.GitLab = &gitlabsrc.Config{Projects: []string{"acme/payments"}}
	cfg.Schedules = map[string]string{"gitlab": "*/15 * * * *"}
	ios, _, _, _ := iostreams.Test()
	w, err := wire(db, cfg, &Options{IO: ios, Getenv: getenv, Now: time.Now})
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, j := range w.jobs {
		names = append(names, j.Name)
	}
	if strings.Join(names, ",") != "gitlab,transform,reports" || !w.ingest["gitlab"] || w.gitlab == nil {
		t.Fatalf("jobs %v, ingest %v, gitlab sink set %v", names, w.ingest, w.gitlab != nil)
	}
	body := `{"object_kind":"deployment","status":"success","status_changed_at":"2024-03-07 10:15:00 +0100","deployment_id":7,
		"environment":"production","project":{"path_with_namespace":"acme/payments"},"ref":"main","user":{"username":"alice"},
		"commit_url":"https://gitlab.example.com/acme/payments/-/commit/0123456789abcdef0123456789abcdef01234567"}`
	n, err := w.gitlab(ctx, "Deployment Hook", []byte(body), "u-1")
	if err != nil || n != 1 {
		t.Fatalf("stored %d, %v", n, err)
	}
	var id, env, status string
	if err := db.QueryRow(`SELECT id, environment, status FROM deployments WHERE source = 'gitlab'`).Scan(&id, &env, &status); err != nil {
		t.Fatal(err)
	}
	if id != "acme/payments/deployments/7" || env != "production" || status != "success" {
		t.Errorf("deployment %s %s %s", id, env, status)
	}
	_, err = w.gitlab(ctx, "Deployment Hook", []byte(`{"object_kind":"deployment","project":{"path_with_namespace":"acme/payments"}}`), "u-2")
	var bad *server.BadRequestError
	if !errors.As(err, &bad) || !strings.Contains(err.Error(), "deployment_id is missing") {
		t.Errorf("err = %v, want a bad request naming deployment_id", err)
	}
}
