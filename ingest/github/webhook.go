package github

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/shiplog/shiplog/ingest"
	"github.com/shiplog/shiplog/internal/warehouse"
)

// WebhookEvents are the webhook events StoreWebhook accepts.
var WebhookEvents = []string{"deployment_status", "pull_request", "release"}

// WebhookError is a webhook payload that cannot be stored (not the shape of
// its event); the sender should not retry it unchanged.
type WebhookError struct{ Err error }

func (e *WebhookError) Error() string { return e.Err.Error() }
func (e *WebhookError) Unwrap() error { return e.Err }

// webhook holds the parts of a deployment_status, pull_request or release
// delivery that are stored. The objects have the shapes of the REST API's,
// so they go into the raw tables as they are and the same SQL maps them.
type webhook struct {
	Action     string `json:"action"`
	Repository struct {
		FullName string `json:"full_name"`
	} `json:"repository"`
	Deployment       json.RawMessage `json:"deployment"`
	DeploymentStatus json.RawMessage `json:"deployment_status"`
	PullRequest      json.RawMessage `json:"pull_request"`
	Release          json.RawMessage `json:"release"`
}

// StoreWebhook stores one GitHub webhook delivery into the raw tables as a
// sync would have stored the same objects, then rebuilds the canonical rows
// (Map), all in one transaction. event is the X-GitHub-Event header:
//
//   - deployment_status: payload.deployment replaces the stored deployment
//     of that id, payload.deployment_status is added to (or replaces, by
//     id) its statuses;
//   - pull_request: payload.pull_request replaces the stored pull request of
//     that number; its commits, reviews and files are kept, and its
//     updated_at is left empty so that the next sync fetches them again;
//   - release: payload.release replaces the stored release of that id, or
//     removes it when the action is "deleted".
//
// It returns the number of raw rows written. A payload that is not the
// event's shape is a *WebhookError.
func (s *Source) StoreWebhook(ctx context.Context, db *warehouse.DB, event string, body []byte) (int64, error) {
	if !utf8.Valid(body) {
		// Go's JSON reader lets invalid UTF-8 through; the warehouse does not.
		return 0, &WebhookError{fmt.Errorf("github %s webhook: the payload is not valid UTF-8", event)}
	}
	var w webhook
	if err := json.Unmarshal(body, &w); err != nil {
		return 0, &WebhookError{fmt.Errorf("github %s webhook: %v", event, err)}
	}
	repo := w.Repository.FullName
	if repo == "" {
		return 0, &WebhookError{fmt.Errorf("github %s webhook: repository.full_name is missing", event)}
	}
	need := func(name string, raw json.RawMessage) error {
		if len(raw) == 0 || string(raw) == "null" {
			return &WebhookError{fmt.Errorf("github %s webhook: %s is missing", event, name)}
		}
		return nil
	}
	now := s.now().UTC()
	var n int64
	var store func(tx *sql.Tx) error
	switch event {
	case "deployment_status":
		if err := need("deployment", w.Deployment); err != nil {
			return 0, err
		}
		if err := need("deployment_status", w.DeploymentStatus); err != nil {
			return 0, err
		}
		var d idHead
		if err := json.Unmarshal(w.Deployment, &d); err != nil || d.ID == 0 {
			return 0, &WebhookError{fmt.Errorf("github deployment_status webhook: deployment.id: %v", errOrMissing(err))}
		}
		var st idHead
		if err := json.Unmarshal(w.DeploymentStatus, &st); err != nil || st.ID == 0 {
			return 0, &WebhookError{fmt.Errorf("github deployment_status webhook: deployment_status.id: %v", errOrMissing(err))}
		}
		store = func(tx *sql.Tx) error {
			if _, err := tx.ExecContext(ctx, `DELETE FROM raw_github_deployments WHERE repo = ? AND id = ?`, repo, d.ID); err != nil {
				return err
			}
			if _, err := tx.ExecContext(ctx, `INSERT INTO raw_github_deployments VALUES (?, ?, ?, ?, ?)`, repo, d.ID, nullTime(d.CreatedAt), string(w.Deployment), now); err != nil {
				return err
			}
			if _, err := tx.ExecContext(ctx, `DELETE FROM raw_github_deployment_statuses WHERE repo = ? AND deployment_id = ? AND id = ?`, repo, d.ID, st.ID); err != nil {
				return err
			}
			_, err := tx.ExecContext(ctx, `INSERT INTO raw_github_deployment_statuses VALUES (?, ?, ?, ?, ?)`, repo, d.ID, st.ID, string(w.DeploymentStatus), now)
			n = 2
			return err
		}
	case "pull_request":
		if err := need("pull_request", w.PullRequest); err != nil {
			return 0, err
		}
		var p pullHead
		if err := json.Unmarshal(w.PullRequest, &p); err != nil || p.Number == 0 {
			return 0, &WebhookError{fmt.Errorf("github pull_request webhook: pull_request.number: %v", errOrMissing(err))}
		}
		store = func(tx *sql.Tx) error {
			if _, err := tx.ExecContext(ctx, `DELETE FROM raw_github_pulls WHERE repo = ? AND number = ?`, repo, p.Number); err != nil {
				return err
			}
			// updated_at NULL: a sync sees the pull request as changed and
			// fetches its commits, reviews and files.
			_, err := tx.ExecContext(ctx, `INSERT INTO raw_github_pulls VALUES (?, ?, NULL, ?, ?)`, repo, p.Number, string(w.PullRequest), now)
			n = 1
			return err
		}
	case "release":
		if err := need("release", w.Release); err != nil {
			return 0, err
		}
		var r idHead
		if err := json.Unmarshal(w.Release, &r); err != nil || r.ID == 0 {
			return 0, &WebhookError{fmt.Errorf("github release webhook: release.id: %v", errOrMissing(err))}
		}
		store = func(tx *sql.Tx) error {
			if _, err := tx.ExecContext(ctx, `DELETE FROM raw_github_releases WHERE repo = ? AND id = ?`, repo, r.ID); err != nil {
				return err
			}
			if w.Action == "deleted" {
				return nil
			}
			_, err := tx.ExecContext(ctx, `INSERT INTO raw_github_releases VALUES (?, ?, ?, ?)`, repo, r.ID, string(w.Release), now)
			n = 1
			return err
		}
	default:
		return 0, &WebhookError{fmt.Errorf("github webhook: event %q is not stored (want deployment_status, pull_request or release)", event)}
	}
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return 0, err
	}
	defer tx.Rollback()
	if err := store(tx); err != nil {
		return 0, fmt.Errorf("github %s webhook: %w", event, err)
	}
	if _, err := s.mapTx(ctx, tx, ingest.MapOptions{}); err != nil {
		// The raw tables mapped before this delivery: a value the mapping
		// cannot take (a missing created_at, a number out of range) came
		// with it. The sender should not retry it unchanged.
		if payloadFault(err) {
			return 0, &WebhookError{fmt.Errorf("github %s webhook: the payload cannot be mapped: %s", event, firstLine(err.Error()))}
		}
		return 0, err
	}
	if err := tx.Commit(); err != nil {
		return 0, err
	}
	return n, nil
}

func errOrMissing(err error) error {
	if err != nil {
		return err
	}
	return fmt.Errorf("missing")
}

func nullTime(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return t
}

// payloadFault reports whether a mapping error comes from a value (DuckDB's
// constraint, conversion and range errors) rather than from the mapping
// or the database.
func payloadFault(err error) bool {
	msg := err.Error()
	for _, kind := range []string{"Constraint Error", "Conversion Error", "Out of Range Error", "Invalid Input Error"} {
		if strings.Contains(msg, kind) {
			return true
		}
	}
	return false
}

func firstLine(s string) string {
	s, _, _ = strings.Cut(s, "\n")
	return s
}
