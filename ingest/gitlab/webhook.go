package gitlab

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/shiplog/shiplog/ingest"
	"github.com/shiplog/shiplog/internal/warehouse"
)

// WebhookEvents are the X-Gitlab-Event values StoreWebhook accepts.
var WebhookEvents = []string{"Merge Request Hook", "Deployment Hook", "Pipeline Hook", "Issue Hook"}

// WebhookError is a webhook payload that cannot be stored (not the shape of
// its event); the sender should not retry it unchanged.
type WebhookError struct{ Err error }

func (e *WebhookError) Error() string { return e.Err.Error() }
func (e *WebhookError) Unwrap() error { return e.Err }

// webhook holds the parts of a delivery that are read to store it.
type webhook struct {
	ObjectKind string `json:"object_kind"`
	Project    struct {
		Path string `json:"path_with_namespace"`
	} `json:"project"`
	ObjectAttributes json.RawMessage   `json:"object_attributes"`
	Builds           []json.RawMessage `json:"builds"`
	// Deployment events are flat.
	DeploymentID    int64  `json:"deployment_id"`
	Status          string `json:"status"`
	StatusChangedAt string `json:"status_changed_at"`
}

type attrs struct {
	ID        int64             `json:"id"`
	IID       int64             `json:"iid"`
	State     string            `json:"state"`
	Status    string            `json:"status"`
	Type      string            `json:"type"`
	UpdatedAt string            `json:"updated_at"`
	Labels    []json.RawMessage `json:"labels"`
}

// StoreWebhook stores one GitLab webhook delivery into the raw tables with
// origin 'webhook', then rebuilds the canonical rows (Map), all in one
// transaction. The kind comes from the body's object_kind:
//
//   - merge_request: a merged merge request's object_attributes, unless a
//     row fetched from the API is stored for it (merged is final, and the
//     API row has the author, commits, approvals and notes); its commits,
//     approvals and notes are kept, and updated_at is left empty so that
//     the next sync fetches the merge request again;
//   - deployment: the event's body, unless the API row stored for that
//     deployment is as recent or finished;
//   - pipeline: object_attributes and its builds (jobs, with their
//     environment), unless the API row stored for it is finished;
//   - issue: object_attributes of an incident (type Incident or the
//     configured label) when incidents are configured, unless the stored row
//     is as recent.
//
// Deliveries for projects outside the configuration, of other kinds, of
// merge requests not merged or issues that are not incidents store nothing
// (0, nil). It returns the number of raw rows written. A payload that is not
// the shape of its kind is a *WebhookError.
func (s *Source) StoreWebhook(ctx context.Context, db *warehouse.DB, body []byte) (int64, error) {
	var w webhook
	if err := json.Unmarshal(body, &w); err != nil {
		return 0, &WebhookError{fmt.Errorf("gitlab webhook: body: %v", err)}
	}
	kind := w.ObjectKind
	if kind == "" {
		return 0, &WebhookError{errors.New("gitlab webhook: object_kind is missing")}
	}
	project := w.Project.Path
	if project == "" {
		return 0, &WebhookError{fmt.Errorf("gitlab %s webhook: project.path_with_namespace is missing", kind)}
	}
	if !s.configured(project) {
		return 0, nil
	}
	var a attrs
	if kind != "deployment" {
		if len(w.ObjectAttributes) == 0 || w.ObjectAttributes[0] != '{' {
			return 0, &WebhookError{fmt.Errorf("gitlab %s webhook: object_attributes is missing", kind)}
		}
		if err := json.Unmarshal(w.ObjectAttributes, &a); err != nil {
			return 0, &WebhookError{fmt.Errorf("gitlab %s webhook: object_attributes: %v", kind, err)}
		}
	}
	now := s.now().UTC()
	var store func(tx *sql.Tx) (int64, error)
	switch kind {
	case "merge_request":
		if a.IID == 0 {
			return 0, &WebhookError{errors.New("gitlab merge_request webhook: object_attributes.iid is missing")}
		}
		if a.State != "merged" {
			return 0, nil
		}
		store = func(tx *sql.Tx) (int64, error) {
			if fromAPI, err := exists(ctx, tx, `SELECT 1 FROM raw_gitlab_merge_requests WHERE project = ? AND iid = ? AND origin = 'api'`, project, a.IID); err != nil || fromAPI {
				return 0, err
			}
			return replace(ctx, tx, "raw_gitlab_merge_requests", "iid", project, a.IID, s.scrub(w.ObjectAttributes), now)
		}
	case "deployment":
		if w.DeploymentID == 0 {
			return 0, &WebhookError{errors.New("gitlab deployment webhook: deployment_id is missing")}
		}
		changed, err := parseWebhookTime(w.StatusChangedAt)
		if err != nil {
			return 0, &WebhookError{fmt.Errorf("gitlab deployment webhook: status_changed_at: %v", err)}
		}
		store = func(tx *sql.Tx) (int64, error) {
			newer, err := exists(ctx, tx, `SELECT 1 FROM raw_gitlab_deployments WHERE project = ? AND id = ? AND origin = 'api'
				AND (updated_at >= ? OR (payload->>'$.status') IN ('success', 'failed', 'canceled', 'skipped'))`, project, w.DeploymentID, changed)
			if err != nil || newer {
				return 0, err
			}
			return replace(ctx, tx, "raw_gitlab_deployments", "id", project, w.DeploymentID, s.scrub(body), now)
		}
	case "pipeline":
		if a.ID == 0 {
			return 0, &WebhookError{errors.New("gitlab pipeline webhook: object_attributes.id is missing")}
		}
		type build struct {
			ID int64 `json:"id"`
		}
		ids := make([]int64, len(w.Builds))
		for i, b := range w.Builds {
			var v build
			if err := json.Unmarshal(b, &v); err != nil || v.ID == 0 {
				return 0, &WebhookError{fmt.Errorf("gitlab pipeline webhook: builds[%d].id is missing", i)}
			}
			ids[i] = v.ID
		}
		store = func(tx *sql.Tx) (int64, error) {
			final, err := exists(ctx, tx, `SELECT 1 FROM raw_gitlab_pipelines WHERE project = ? AND id = ? AND origin = 'api'
				AND (payload->>'$.status') IN ('success', 'failed', 'canceled', 'skipped')`, project, a.ID)
			if err != nil || final {
				return 0, err
			}
			n, err := replace(ctx, tx, "raw_gitlab_pipelines", "id", project, a.ID, s.scrub(w.ObjectAttributes), now)
			if err != nil {
				return 0, err
			}
			if _, err := tx.ExecContext(ctx, `DELETE FROM raw_gitlab_jobs WHERE project = ? AND pipeline_id = ?`, project, a.ID); err != nil {
				return 0, err
			}
			for i, b := range w.Builds {
				if _, err := tx.ExecContext(ctx, `INSERT INTO raw_gitlab_jobs VALUES (?, ?, ?, 'webhook', ?, ?)`, project, a.ID, ids[i], s.scrub(b), now); err != nil {
					return 0, err
				}
			}
			return n + int64(len(w.Builds)), nil
		}
	case "issue":
		if a.IID == 0 {
			return 0, &WebhookError{errors.New("gitlab issue webhook: object_attributes.iid is missing")}
		}
		if !s.incidentsOf(project) || !s.isIncident(a) {
			return 0, nil
		}
		updated, err := parseWebhookTime(a.UpdatedAt)
		if err != nil {
			return 0, &WebhookError{fmt.Errorf("gitlab issue webhook: object_attributes.updated_at: %v", err)}
		}
		store = func(tx *sql.Tx) (int64, error) {
			newer, err := exists(ctx, tx, `SELECT 1 FROM raw_gitlab_issues WHERE project = ? AND iid = ? AND updated_at >= ?`, project, a.IID, updated)
			if err != nil || newer {
				return 0, err
			}
			return replace(ctx, tx, "raw_gitlab_issues", "iid", project, a.IID, s.scrub(w.ObjectAttributes), now)
		}
	default:
		return 0, nil
	}
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return 0, err
	}
	defer tx.Rollback()
	n, err := store(tx)
	if err != nil {
		return 0, fmt.Errorf("gitlab %s webhook: %w", kind, err)
	}
	if n == 0 {
		return 0, nil
	}
	if _, err := s.mapTx(ctx, tx, ingest.MapOptions{}); err != nil {
		return 0, err
	}
	if err := tx.Commit(); err != nil {
		return 0, err
	}
	return n, nil
}

// configured reports whether project is one the source reads: listed in
// projects, or inside a group and passing include/exclude.
func (s *Source) configured(project string) bool {
	for _, p := range s.cfg.Projects {
		if strings.EqualFold(p, project) {
			return true
		}
	}
	for _, g := range s.cfg.Groups {
		rest, ok := strings.CutPrefix(strings.ToLower(project), strings.ToLower(g)+"/")
		if !ok || (!*s.cfg.Subgroups && strings.Contains(rest, "/")) {
			continue
		}
		if s.cfg.selected(project) {
			return true
		}
	}
	return false
}

// isIncident reports whether an issue event is of an incident: type
// Incident (with incidents.issue_type) or carrying incidents.label.
func (s *Source) isIncident(a attrs) bool {
	in := s.cfg.Incidents
	if *in.IssueType && strings.EqualFold(a.Type, "incident") {
		return true
	}
	if in.Label == "" {
		return false
	}
	for _, l := range a.Labels {
		var v struct {
			Title string `json:"title"`
		}
		if json.Unmarshal(l, &v) == nil && strings.EqualFold(v.Title, in.Label) {
			return true
		}
	}
	return false
}

func exists(ctx context.Context, tx *sql.Tx, q string, args ...any) (bool, error) {
	var one int
	err := tx.QueryRowContext(ctx, q, args...).Scan(&one)
	if errors.Is(err, sql.ErrNoRows) {
		return false, nil
	}
	return err == nil, err
}

// replace puts one webhook object in a raw table keyed by (project, key),
// with updated_at NULL so that the next sync fetches it from the API.
func replace(ctx context.Context, tx *sql.Tx, table, keyCol, project string, key int64, payload string, now time.Time) (int64, error) {
	if _, err := tx.ExecContext(ctx, `DELETE FROM `+table+` WHERE project = ? AND `+keyCol+` = ?`, project, key); err != nil {
		return 0, err
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO `+table+` VALUES (?, ?, NULL, 'webhook', ?, ?)`, project, key, payload, now); err != nil {
		return 0, err
	}
	return 1, nil
}

// parseWebhookTime reads the time formats of webhook bodies
// ("2013-12-03T17:23:34Z", "2016-08-12 15:23:28 UTC",
// "2021-04-28 21:50:00 +0200").
func parseWebhookTime(s string) (time.Time, error) {
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02 15:04:05 MST", "2006-01-02 15:04:05 -0700"} {
		if t, err := time.Parse(layout, s); err == nil {
			return t.UTC(), nil
		}
	}
	return time.Time{}, fmt.Errorf("%q is not a time", s)
}
