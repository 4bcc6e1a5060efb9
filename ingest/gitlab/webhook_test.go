package gitlab

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func hook(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", "webhooks", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// The deliveries in testdata/webhooks are described in testdata/README.md.
func TestWebhooksAreStoredAndMapped(t *testing.T) {
	h := newHarness(t)
	s := h.source(nil)
	h.mustSync(s)
	ctx := context.Background()
	store := func(name string) int64 {
		t.Helper()
		n, err := s.StoreWebhook(ctx, h.db, hook(t, name))
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		return n
	}
	for name, want := range map[string]int64{
		"merge_request_merged.json":     1,
		"merge_request_opened.json":     0, // not merged
		"deployment_success.json":       1,
		"deployment_old.json":           0, // the API row of 200 is finished
		"pipeline_success.json":         3, // the pipeline and its 2 builds
		"issue_incident.json":           1,
		"issue_plain.json":              0, // not an incident
		"deployment_other_project.json": 0, // not a configured project
	} {
		if n := store(name); n != want {
			t.Errorf("%s: %d raw rows written, want %d", name, n, want)
		}
	}
	got := h.rows(`SELECT id, coalesce(author, 'NULL'), ` + ts("opened_at") + `, ` + ts("merged_at") + `, ` + ts("first_commit_at") + `,
		merge_commit_sha, CAST(labels AS VARCHAR), approvals FROM changes WHERE id = 'acme/payments!14'`)
	compareRows(t, got, [][]string{{"acme/payments!14", "NULL", "2024-03-07T09:00:00Z", "2024-03-07T11:00:00Z", "2024-03-07T09:00:00Z", fsha("M14"), "[perf]", "0"}})
	got = h.rows(`SELECT id, environment, status, ` + ts("finished_at") + `, ` + ts("started_at") + `, coalesce(version, 'NULL'), commit_sha,
		triggered_by, url, coalesce(extra->>'$.gitlab_environment', 'NULL')
		FROM deployments WHERE id IN ('acme/payments/deployments/202', 'acme/platform/web/jobs/7202', 'acme/payments/deployments/200') ORDER BY id`)
	compareRows(t, got, [][]string{
		{"acme/payments/deployments/200", "production", "success", "2024-03-02T15:19:00Z", "2024-03-02T15:11:00Z", "main", fsha("D200"), "alice", "https://gitlab.example.com/acme/payments/-/jobs/900", "NULL"},
		{"acme/payments/deployments/202", "production", "success", "2024-03-07T09:15:00Z", "NULL", "main", fsha("D202"), "alice", "https://gitlab.example.com/acme/payments/-/jobs/902", "prod"},
		{"acme/platform/web/jobs/7202", "production", "success", "2024-03-07T10:19:00Z", "2024-03-07T10:11:00Z", "main", fsha("W72"), "erin", "NULL", "NULL"},
	})
	got = h.rows(`SELECT id, service, severity, title, ` + ts("opened_at") + `, ` + ts("resolved_at") + ` FROM incidents WHERE id = 'acme/payments#10'`)
	compareRows(t, got, [][]string{{"acme/payments#10", "cards", "sev2", "Card payments declined", "2024-03-07T11:00:00Z", "NULL"}})

	// The same delivery again leaves the warehouse as it was.
	before := h.dump()
	store("deployment_success.json")
	store("pipeline_success.json")
	if after := h.dump(); after != before {
		t.Errorf("storing deliveries again changed the warehouse:\n%s", diff(before, after))
	}
	// A later sync that lists the merge request again replaces the webhook
	// row with the API's, with its details.
	if n := h.rows(`SELECT count(*) FROM raw_gitlab_merge_requests WHERE origin = 'webhook'`)[0][0]; n != "1" {
		t.Errorf("%s webhook merge requests stored, want 1", n)
	}
}

func TestBadWebhookIsNamed(t *testing.T) {
	h := newHarness(t)
	s := h.source(nil)
	for _, tt := range []struct{ body, want string }{
		{`not json`, "gitlab webhook: body:"},
		{`{"project": {"path_with_namespace": "acme/payments"}}`, "gitlab webhook: object_kind is missing"},
		{`{"object_kind": "deployment", "status": "success"}`, "gitlab deployment webhook: project.path_with_namespace is missing"},
		{`{"object_kind": "deployment", "project": {"path_with_namespace": "acme/payments"}, "status": "success"}`, "gitlab deployment webhook: deployment_id is missing"},
		{`{"object_kind": "deployment", "deployment_id": 5, "project": {"path_with_namespace": "acme/payments"}, "status_changed_at": "yesterday"}`, `gitlab deployment webhook: status_changed_at: "yesterday" is not a time`},
		{`{"object_kind": "merge_request", "project": {"path_with_namespace": "acme/payments"}, "object_attributes": {"state": "merged"}}`, "gitlab merge_request webhook: object_attributes.iid is missing"},
		{`{"object_kind": "pipeline", "project": {"path_with_namespace": "acme/payments"}, "object_attributes": {"id": 9}, "builds": [{"name": "x"}]}`, "gitlab pipeline webhook: builds[0].id is missing"},
	} {
		_, err := s.StoreWebhook(context.Background(), h.db, []byte(tt.body))
		var we *WebhookError
		if !errors.As(err, &we) || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: err = %v, want a WebhookError containing %q", tt.body, err, tt.want)
		}
	}
	if n := h.rows(`SELECT (SELECT count(*) FROM raw_gitlab_deployments) + (SELECT count(*) FROM raw_gitlab_merge_requests)`)[0][0]; n != "0" {
		t.Errorf("%s rows stored from bad deliveries", n)
	}
}
