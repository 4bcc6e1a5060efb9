package server

import (
	"context"
	"strings"
	"testing"

	gitlabsrc "github.com/shiplog/shiplog/ingest/gitlab"
)

const gitlabToken = "gitlab-hook-secret-0123"

func TestGitLabWebhook(t *testing.T) {
	var got []string
	h := startServer(t, func(o *Options) {
		o.Config.Sources.GitLab = &gitlabsrc.Config{Projects: []string{"acme/payments"}, WebhookTokenEnv: "GITLAB_WEBHOOK_TOKEN"}
		getenv := o.Getenv
		o.Getenv = func(k string) string {
			if k == "GITLAB_WEBHOOK_TOKEN" {
				return gitlabToken
			}
			return getenv(k)
		}
		o.GitLab = func(ctx context.Context, event string, body []byte, id string) (int64, error) {
			got = append(got, event+":"+id)
			return 2, nil
		}
	})
	body := `{"object_kind":"deployment","deployment_id":5,"status":"success"}`
	hdr := func(token, uuid, event string) map[string]string {
		m := map[string]string{"X-Gitlab-Event": event}
		if token != "" {
			m["X-Gitlab-Token"] = token
		}
		if uuid != "" {
			m["X-Gitlab-Event-UUID"] = uuid
		}
		return m
	}
	tests := []struct {
		name      string
		body      string
		headers   map[string]string
		code      int
		answerHas string
	}{
		{"delivered", body, hdr(gitlabToken, "u-1", "Deployment Hook"), 202, `"records":2`},
		{"same delivery again", body, hdr(gitlabToken, "u-1", "Deployment Hook"), 200, `"duplicate":true`},
		{"wrong token", body, hdr("gitlab-hook-secret-0124", "u-2", "Deployment Hook"), 401, "X-Gitlab-Token"},
		{"no token", body, hdr("", "u-3", "Deployment Hook"), 401, "X-Gitlab-Token"},
		{"no delivery id", body, hdr(gitlabToken, "", "Deployment Hook"), 400, "X-Gitlab-Event-UUID"},
		{"event not stored", body, hdr(gitlabToken, "u-4", "Push Hook"), 202, "ignored"},
		{"not JSON", "{", hdr(gitlabToken, "u-5", "Pipeline Hook"), 400, "not valid JSON"},
		{"too large", `{"x":"` + strings.Repeat("a", 5000) + `"}`, hdr(gitlabToken, "u-6", "Pipeline Hook"), 413, "serve.max_body_bytes"},
	}
	for _, tt := range tests {
		code, answer := h.post("/webhooks/gitlab", tt.body, "", "", tt.headers)
		if code != tt.code || !strings.Contains(answer, tt.answerHas) {
			t.Errorf("%s: got %d %s, want %d with %q", tt.name, code, answer, tt.code, tt.answerHas)
		}
	}
	if strings.Join(got, ",") != "Deployment Hook:u-1" {
		t.Errorf("sink calls %v, want exactly one for u-1", got)
	}
}

func TestGitLabWebhookNeedsItsToken(t *testing.T) {
	h := startServer(t, func(o *Options) {
		o.Config.Sources.GitLab = &gitlabsrc.Config{Projects: []string{"acme/payments"}, WebhookTokenEnv: "GITLAB_WEBHOOK_TOKEN"}
		o.GitLab = func(ctx context.Context, event string, body []byte, id string) (int64, error) { return 1, nil }
	})
	code, answer := h.post("/webhooks/gitlab", `{}`, "", "", map[string]string{"X-Gitlab-Token": "", "X-Gitlab-Event-UUID": "u", "X-Gitlab-Event": "Issue Hook"})
	if code != 503 || !strings.Contains(answer, "webhook_token_env") {
		t.Errorf("got %d %s, want 503 naming webhook_token_env", code, answer)
	}
}
