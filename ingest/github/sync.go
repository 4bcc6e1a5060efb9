package github

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"path"
	"strconv"
	"strings"
	"time"

	"github.com/shiplog/shiplog/ingest"
	"github.com/shiplog/shiplog/internal/warehouse"
)

// repoSync fetches one repository's endpoints. State scopes are
// "owner/name:endpoint"; keys are "cursor" and "etag".
type repoSync struct {
	s     *Source
	db    *warehouse.DB
	state *ingest.State
}

func (r *repoSync) sync(ctx context.Context, repo string) error {
	if err := r.pulls(ctx, repo); err != nil {
		return err
	}
	if err := r.deployments(ctx, repo); err != nil {
		return err
	}
	if r.s.releasesShip(repo) {
		if err := r.releases(ctx, repo); err != nil {
			return err
		}
	}
	if len(r.s.cfg.DeployWorkflows) > 0 {
		if err := r.workflowRuns(ctx, repo); err != nil {
			return err
		}
	}
	return nil
}

func (s *Source) releasesShip(repo string) bool {
	for _, r := range s.cfg.ReleasesAsDeployments {
		if r == "*" || strings.EqualFold(r, repo) {
			return true
		}
	}
	return false
}

// services returns the services a repository hosts (config, else its name).
func (s *Source) services(repo string) []string {
	for k, v := range s.cfg.Services {
		if strings.EqualFold(k, repo) {
			return v
		}
	}
	_, name, _ := strings.Cut(repo, "/")
	return []string{name}
}

// pageFunc handles one page of a list; returning stop ends the walk.
type pageFunc func(items rawList) (stop bool, err error)

// walk reads a list page by page (Link header) from page 1, sending etag with
// the first request. It returns the first page's ETag, or notModified when
// the list is unchanged. key names the array inside an object answer
// ("workflow_runs"); "" means the answer is the array.
func (r *repoSync) walk(ctx context.Context, repo, p string, q url.Values, etag, key string, fn pageFunc) (newETag string, notModified bool, err error) {
	page := 1
	for page != 0 {
		qq := url.Values{}
		for k, v := range q {
			qq[k] = v
		}
		qq.Set("page", strconv.Itoa(page))
		send := ""
		if page == 1 {
			send = etag
		}
		var items rawList
		var obj map[string]json.RawMessage
		var target any = &items
		if key != "" {
			target = &obj
		}
		resp, err := r.s.get(ctx, repo, p, qq, send, target)
		if errors.Is(err, errNotModified) {
			return etag, true, nil
		}
		if err != nil {
			return "", false, err
		}
		if key != "" {
			if raw, ok := obj[key]; ok {
				if err := json.Unmarshal(raw, &items); err != nil {
					return "", false, fmt.Errorf("github: %s: %s: %q is not a list: %w", repo, p, key, err)
				}
			}
		}
		if page == 1 {
			newETag = resp.Header.Get("ETag")
		}
		stop, err := fn(items)
		if err != nil {
			return "", false, err
		}
		if stop {
			break
		}
		page = resp.NextPage
	}
	return newETag, false, nil
}

// all reads every page of a list into one slice.
func (r *repoSync) all(ctx context.Context, repo, p string, etag string) (items rawList, newETag string, notModified bool, err error) {
	newETag, notModified, err = r.walk(ctx, repo, p, nil, etag, "", func(page rawList) (bool, error) {
		items = append(items, page...)
		return false, nil
	})
	return items, newETag, notModified, err
}

func (r *repoSync) tx(ctx context.Context, fn func(*sql.Tx) error) error {
	tx, err := r.db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	if err := fn(tx); err != nil {
		tx.Rollback()
		return err
	}
	return tx.Commit()
}

func (r *repoSync) get(ctx context.Context, scope, key string) (string, error) {
	return r.state.Get(ctx, scope, key)
}

func (r *repoSync) added(table string, n int) {
	r.s.mu.Lock()
	r.s.stats.Rows[table] += int64(n)
	r.s.mu.Unlock()
}

// --- pull requests -----------------------------------------------------------

type pullHead struct {
	Number    int64     `json:"number"`
	UpdatedAt time.Time `json:"updated_at"`
}

// pulls walks pull requests by updated_at, newest first, down to the cursor
// (the newest updated_at of the last complete walk). A pull request whose
// stored copy has the same updated_at is skipped, so a walk resumed after an
// interruption costs only the list pages. A page of pull requests is
// committed with their commits, reviews and files (and, when a request fails
// midway, the part of the page already fetched); cursor and ETag are saved
// only when the walk is complete.
func (r *repoSync) pulls(ctx context.Context, repo string) error {
	scope := repo + ":pulls"
	cursorText, err := r.get(ctx, scope, "cursor")
	if err != nil {
		return err
	}
	etag, err := r.get(ctx, scope, "etag")
	if err != nil {
		return err
	}
	var cursor time.Time
	if cursorText != "" {
		if cursor, err = time.Parse(time.RFC3339Nano, cursorText); err != nil {
			return fmt.Errorf("github: %s: stored pulls cursor %q: %w", repo, cursorText, err)
		}
	}
	var top time.Time
	multi := len(r.s.services(repo)) > 1
	stored, err := r.storedPulls(ctx, repo)
	if err != nil {
		return err
	}
	p := "repos/" + repo + "/pulls"
	q := url.Values{"state": {"all"}, "sort": {"updated"}, "direction": {"desc"}}
	newETag, notModified, err := r.walk(ctx, repo, p, q, etag, "", func(items rawList) (bool, error) {
		var batch []pullData
		stop := false
		for _, raw := range items {
			var h pullHead
			if err := json.Unmarshal(raw, &h); err != nil {
				return false, fmt.Errorf("github: %s: pull request payload: %w", repo, err)
			}
			if h.UpdatedAt.After(top) {
				top = h.UpdatedAt
			}
			if !cursor.IsZero() && h.UpdatedAt.Before(cursor) {
				stop = true
				break
			}
			if prev, ok := stored[h.Number]; ok && prev.Equal(h.UpdatedAt) {
				continue // unchanged, or stored by an interrupted run
			}
			d, err := r.pullDetails(ctx, repo, h, raw, multi)
			if err != nil {
				// Keep what this page already fetched: the resumed run skips it.
				if perr := r.putPulls(context.WithoutCancel(ctx), repo, batch, stored); perr != nil {
					return false, errors.Join(err, perr)
				}
				return false, err
			}
			batch = append(batch, d)
		}
		if err := r.putPulls(ctx, repo, batch, stored); err != nil {
			return false, err
		}
		return stop, nil
	})
	if err != nil || notModified {
		return err
	}
	return r.tx(ctx, func(tx *sql.Tx) error {
		if !top.IsZero() && top.After(cursor) {
			if err := r.state.Set(ctx, tx, scope, "cursor", top.UTC().Format(time.RFC3339Nano)); err != nil {
				return err
			}
		}
		return r.state.Set(ctx, tx, scope, "etag", newETag)
	})
}

// storedPulls returns the updated_at of every stored pull request of repo.
func (r *repoSync) storedPulls(ctx context.Context, repo string) (map[int64]time.Time, error) {
	rows, err := r.db.QueryContext(ctx, `SELECT number, updated_at FROM raw_github_pulls WHERE repo = ?`, repo)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := map[int64]time.Time{}
	for rows.Next() {
		var n int64
		var t sql.NullTime
		if err := rows.Scan(&n, &t); err != nil {
			return nil, err
		}
		out[n] = t.Time
	}
	return out, rows.Err()
}

type pullData struct {
	head                    pullHead
	raw                     json.RawMessage
	commits, reviews, files rawList
}

func (r *repoSync) pullDetails(ctx context.Context, repo string, h pullHead, raw json.RawMessage, multi bool) (pullData, error) {
	d := pullData{head: h, raw: raw}
	base := fmt.Sprintf("repos/%s/pulls/%d", repo, h.Number)
	what := fmt.Sprintf("%s#%d", repo, h.Number)
	var err error
	if d.commits, _, _, err = r.all(ctx, what, base+"/commits", ""); err != nil {
		return d, err
	}
	if d.reviews, _, _, err = r.all(ctx, what, base+"/reviews", ""); err != nil {
		return d, err
	}
	if multi {
		if d.files, _, _, err = r.all(ctx, what, base+"/files", ""); err != nil {
			return d, err
		}
	}
	return d, nil
}

// putPulls replaces a page's pull requests with their commits, reviews and
// files in one transaction, and notes them in stored.
func (r *repoSync) putPulls(ctx context.Context, repo string, batch []pullData, stored map[int64]time.Time) error {
	if len(batch) == 0 {
		return nil
	}
	now := r.s.now().UTC()
	var old []any
	var pulls, commits, reviews, files [][]any
	for _, d := range batch {
		n := d.head.Number
		if _, ok := stored[n]; ok {
			old = append(old, n)
		}
		pulls = append(pulls, []any{repo, n, d.head.UpdatedAt, string(d.raw), now})
		for i, c := range d.commits {
			var v struct {
				SHA string `json:"sha"`
			}
			if err := json.Unmarshal(c, &v); err != nil {
				return fmt.Errorf("github: %s#%d: commit payload: %w", repo, n, err)
			}
			commits = append(commits, []any{repo, n, i, v.SHA, string(c), now})
		}
		for _, rv := range d.reviews {
			var v struct {
				ID int64 `json:"id"`
			}
			if err := json.Unmarshal(rv, &v); err != nil {
				return fmt.Errorf("github: %s#%d: review payload: %w", repo, n, err)
			}
			reviews = append(reviews, []any{repo, n, v.ID, string(rv), now})
		}
		for _, f := range d.files {
			var v struct {
				Filename string `json:"filename"`
			}
			if err := json.Unmarshal(f, &v); err != nil {
				return fmt.Errorf("github: %s#%d: file payload: %w", repo, n, err)
			}
			files = append(files, []any{repo, n, v.Filename, string(f), now})
		}
	}
	err := r.tx(ctx, func(tx *sql.Tx) error {
		tables := []string{"raw_github_pulls", "raw_github_pull_commits", "raw_github_reviews", "raw_github_pull_files"}
		if len(old) > 0 {
			for _, t := range tables {
				q := `DELETE FROM ` + t + ` WHERE repo = ? AND number IN (` + placeholders(len(old)) + `)`
				if _, err := tx.ExecContext(ctx, q, append([]any{repo}, old...)...); err != nil {
					return err
				}
			}
		}
		for i, rows := range [][][]any{pulls, commits, reviews, files} {
			if err := insertRows(ctx, tx, tables[i], rows); err != nil {
				return err
			}
			r.added(tables[i], len(rows))
		}
		return nil
	})
	if err != nil {
		return err
	}
	for _, d := range batch {
		stored[d.head.Number] = d.head.UpdatedAt
	}
	return nil
}

func placeholders(n int) string {
	return strings.TrimSuffix(strings.Repeat("?, ", n), ", ")
}

// insertRows inserts rows (all of one width) with multi-row VALUES
// statements of at most 500 rows.
func insertRows(ctx context.Context, tx *sql.Tx, table string, rows [][]any) error {
	const chunk = 500
	for len(rows) > 0 {
		n := min(chunk, len(rows))
		tuple := "(" + placeholders(len(rows[0])) + ")"
		q := `INSERT INTO ` + table + ` VALUES ` + strings.TrimSuffix(strings.Repeat(tuple+", ", n), ", ")
		args := make([]any, 0, n*len(rows[0]))
		for _, r := range rows[:n] {
			args = append(args, r...)
		}
		if _, err := tx.ExecContext(ctx, q, args...); err != nil {
			return fmt.Errorf("insert into %s: %w", table, err)
		}
		rows = rows[n:]
	}
	return nil
}

// --- deployments -------------------------------------------------------------

type idHead struct {
	ID        int64     `json:"id"`
	CreatedAt time.Time `json:"created_at"`
}

// deployments walks deployments newest first down to the last seen id,
// fetching the statuses of each new one, then asks again (with the ETag of
// their statuses) for the statuses of stored deployments that are not
// finished and were created within the recheck window.
func (r *repoSync) deployments(ctx context.Context, repo string) error {
	scope := repo + ":deployments"
	cursor, etag, err := r.idCursor(ctx, scope)
	if err != nil {
		return err
	}
	var top int64
	fetched := map[int64]bool{}
	stored := map[int64]bool{}
	rows, err := r.db.QueryContext(ctx, `SELECT id FROM raw_github_deployments WHERE repo = ?`, repo)
	if err != nil {
		return err
	}
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			rows.Close()
			return err
		}
		stored[id] = true
	}
	rows.Close()
	newETag, notModified, err := r.walk(ctx, repo, "repos/"+repo+"/deployments", nil, etag, "", func(items rawList) (bool, error) {
		var batch []deploymentData
		stop := false
		for _, raw := range items {
			var h idHead
			if err := json.Unmarshal(raw, &h); err != nil {
				return false, fmt.Errorf("github: %s: deployment payload: %w", repo, err)
			}
			top = max(top, h.ID)
			if h.ID <= cursor {
				stop = true
				break
			}
			if stored[h.ID] {
				continue // stored by an interrupted run; the recheck below covers its statuses
			}
			d := deploymentData{head: h, raw: raw}
			var err error
			d.statuses, d.etag, _, err = r.all(ctx, fmt.Sprintf("%s deployment %d", repo, h.ID), fmt.Sprintf("repos/%s/deployments/%d/statuses", repo, h.ID), "")
			if err != nil {
				// Keep what this page already fetched: the resumed run skips it.
				if perr := r.putDeployments(context.WithoutCancel(ctx), repo, batch, true); perr != nil {
					return false, errors.Join(err, perr)
				}
				return false, err
			}
			batch = append(batch, d)
		}
		if err := r.putDeployments(ctx, repo, batch, true); err != nil {
			return false, err
		}
		for _, d := range batch {
			fetched[d.head.ID] = true
			stored[d.head.ID] = true
		}
		return stop, nil
	})
	if err != nil {
		return err
	}
	if !notModified {
		if err := r.tx(ctx, func(tx *sql.Tx) error {
			if top > cursor {
				if err := r.state.Set(ctx, tx, scope, "cursor", strconv.FormatInt(top, 10)); err != nil {
					return err
				}
			}
			return r.state.Set(ctx, tx, scope, "etag", newETag)
		}); err != nil {
			return err
		}
	}
	// Recheck unfinished deployments.
	since := r.s.now().Add(-r.s.cfg.RecheckWindow.D())
	rows, err = r.db.QueryContext(ctx, `
		SELECT d.id FROM raw_github_deployments d
		WHERE d.repo = ? AND d.created_at >= ?
		  AND NOT EXISTS (
		    SELECT 1 FROM raw_github_deployment_statuses s
		    WHERE s.repo = d.repo AND s.deployment_id = d.id
		      AND (s.payload->>'$.state') IN ('success', 'failure', 'error'))
		ORDER BY d.id`, repo, since)
	if err != nil {
		return err
	}
	var ids []int64
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			rows.Close()
			return err
		}
		if !fetched[id] {
			ids = append(ids, id)
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}
	for _, id := range ids {
		sscope := fmt.Sprintf("%s:deployments/%d/statuses", repo, id)
		etag, err := r.get(ctx, sscope, "etag")
		if err != nil {
			return err
		}
		if err := r.deployment(ctx, repo, id, etag); err != nil {
			return err
		}
	}
	return nil
}

type deploymentData struct {
	head     idHead
	raw      json.RawMessage
	statuses rawList
	etag     string
}

// deployment asks again for a stored deployment's statuses with their ETag
// and replaces them when they changed.
func (r *repoSync) deployment(ctx context.Context, repo string, id int64, etag string) error {
	statuses, newETag, notModified, err := r.all(ctx, fmt.Sprintf("%s deployment %d", repo, id), fmt.Sprintf("repos/%s/deployments/%d/statuses", repo, id), etag)
	if err != nil || notModified {
		return err
	}
	return r.putDeployments(ctx, repo, []deploymentData{{head: idHead{ID: id}, statuses: statuses, etag: newETag}}, false)
}

// putDeployments commits deployments (when withDeployment) with their
// statuses and the statuses' ETags in one transaction.
func (r *repoSync) putDeployments(ctx context.Context, repo string, batch []deploymentData, withDeployment bool) error {
	if len(batch) == 0 {
		return nil
	}
	now := r.s.now().UTC()
	var deps, statuses [][]any
	var ids []any
	for _, d := range batch {
		ids = append(ids, d.head.ID)
		if withDeployment {
			deps = append(deps, []any{repo, d.head.ID, d.head.CreatedAt, string(d.raw), now})
		}
		for _, st := range d.statuses {
			var v idHead
			if err := json.Unmarshal(st, &v); err != nil {
				return fmt.Errorf("github: %s deployment %d: status payload: %w", repo, d.head.ID, err)
			}
			statuses = append(statuses, []any{repo, d.head.ID, v.ID, string(st), now})
		}
	}
	return r.tx(ctx, func(tx *sql.Tx) error {
		if !withDeployment {
			if _, err := tx.ExecContext(ctx, `DELETE FROM raw_github_deployment_statuses WHERE repo = ? AND deployment_id IN (`+placeholders(len(ids))+`)`, append([]any{repo}, ids...)...); err != nil {
				return err
			}
		}
		if err := insertRows(ctx, tx, "raw_github_deployments", deps); err != nil {
			return err
		}
		if err := insertRows(ctx, tx, "raw_github_deployment_statuses", statuses); err != nil {
			return err
		}
		r.added("raw_github_deployments", len(deps))
		r.added("raw_github_deployment_statuses", len(statuses))
		for _, d := range batch {
			// Finished deployments are never asked again: keep ETags only for
			// the others (an upsert per deployment is the costliest write here).
			if finished(d.statuses) {
				continue
			}
			if err := r.state.Set(ctx, tx, fmt.Sprintf("%s:deployments/%d/statuses", repo, d.head.ID), "etag", d.etag); err != nil {
				return err
			}
		}
		return nil
	})
}

// finished reports whether statuses hold a final state (the SQL mapping
// decides which one is the outcome).
func finished(statuses rawList) bool {
	for _, st := range statuses {
		var v struct {
			State string `json:"state"`
		}
		if json.Unmarshal(st, &v) == nil && (v.State == "success" || v.State == "failure" || v.State == "error") {
			return true
		}
	}
	return false
}

func (r *repoSync) idCursor(ctx context.Context, scope string) (int64, string, error) {
	c, err := r.get(ctx, scope, "cursor")
	if err != nil {
		return 0, "", err
	}
	etag, err := r.get(ctx, scope, "etag")
	if err != nil {
		return 0, "", err
	}
	var cursor int64
	if c != "" {
		if cursor, err = strconv.ParseInt(c, 10, 64); err != nil {
			return 0, "", fmt.Errorf("github: stored cursor of %s %q: %w", scope, c, err)
		}
	}
	return cursor, etag, nil
}

// --- releases ----------------------------------------------------------------

// releases reads every page of releases when the first page's ETag changed:
// a draft published later keeps its old id, so an id cursor would miss it.
// Releases are few; an unchanged list costs one 304.
func (r *repoSync) releases(ctx context.Context, repo string) error {
	scope := repo + ":releases"
	etag, err := r.get(ctx, scope, "etag")
	if err != nil {
		return err
	}
	items, newETag, notModified, err := r.all(ctx, repo, "repos/"+repo+"/releases", etag)
	if err != nil || notModified {
		return err
	}
	now := r.s.now().UTC()
	return r.tx(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `DELETE FROM raw_github_releases WHERE repo = ?`, repo); err != nil {
			return err
		}
		for _, raw := range items {
			var h idHead
			if err := json.Unmarshal(raw, &h); err != nil {
				return fmt.Errorf("github: %s: release payload: %w", repo, err)
			}
			if _, err := tx.ExecContext(ctx, `INSERT INTO raw_github_releases VALUES (?, ?, ?, ?)`, repo, h.ID, string(raw), now); err != nil {
				return err
			}
		}
		r.added("raw_github_releases", len(items))
		return r.state.Set(ctx, tx, scope, "etag", newETag)
	})
}

// --- workflow runs -----------------------------------------------------------

type workflow struct {
	ID   int64  `json:"id"`
	Name string `json:"name"`
	Path string `json:"path"`
}

// workflowRuns finds the repository's workflows named in deploy_workflows
// (by name, or by file name such as deploy.yml) and walks each one's runs
// newest first down to the last seen id; runs not yet completed are asked
// again within the recheck window.
func (r *repoSync) workflowRuns(ctx context.Context, repo string) error {
	scope := repo + ":workflows"
	etag, err := r.get(ctx, scope, "etag")
	if err != nil {
		return err
	}
	var wfs []workflow
	newETag, notModified, err := r.walk(ctx, repo, "repos/"+repo+"/actions/workflows", nil, etag, "workflows", func(items rawList) (bool, error) {
		for _, raw := range items {
			var w workflow
			if err := json.Unmarshal(raw, &w); err != nil {
				return false, fmt.Errorf("github: %s: workflow payload: %w", repo, err)
			}
			for _, want := range r.s.cfg.DeployWorkflows {
				if w.Name == want || path.Base(w.Path) == want {
					wfs = append(wfs, w)
					break
				}
			}
		}
		return false, nil
	})
	if err != nil {
		return err
	}
	if notModified {
		// The list is unchanged: use the workflows matched last time.
		saved, err := r.get(ctx, scope, "matched")
		if err != nil {
			return err
		}
		if err := json.Unmarshal([]byte(saved), &wfs); err != nil {
			return fmt.Errorf("github: %s: stored workflows %q: %w", repo, saved, err)
		}
	} else {
		b, _ := json.Marshal(wfs)
		if err := r.tx(ctx, func(tx *sql.Tx) error {
			if err := r.state.Set(ctx, tx, scope, "matched", string(b)); err != nil {
				return err
			}
			return r.state.Set(ctx, tx, scope, "etag", newETag)
		}); err != nil {
			return err
		}
	}
	fetched := map[int64]bool{}
	for _, w := range wfs {
		if err := r.runs(ctx, repo, w, fetched); err != nil {
			return err
		}
	}
	// Runs listed just now are asked again too: the list gives no per-run
	// ETag, and this one lets the next run's check be a free 304.
	return r.recheckRuns(ctx, repo)
}

func (r *repoSync) runs(ctx context.Context, repo string, w workflow, fetched map[int64]bool) error {
	scope := fmt.Sprintf("%s:workflows/%d/runs", repo, w.ID)
	cursor, etag, err := r.idCursor(ctx, scope)
	if err != nil {
		return err
	}
	var top int64
	p := fmt.Sprintf("repos/%s/actions/workflows/%d/runs", repo, w.ID)
	q := url.Values{"exclude_pull_requests": {"true"}}
	newETag, notModified, err := r.walk(ctx, repo, p, q, etag, "workflow_runs", func(items rawList) (bool, error) {
		now := r.s.now().UTC()
		stop := false
		var keep []json.RawMessage
		var heads []idHead
		for _, raw := range items {
			var h idHead
			if err := json.Unmarshal(raw, &h); err != nil {
				return false, fmt.Errorf("github: %s: workflow run payload: %w", repo, err)
			}
			top = max(top, h.ID)
			if h.ID <= cursor {
				stop = true
				break
			}
			keep = append(keep, raw)
			heads = append(heads, h)
			fetched[h.ID] = true
		}
		return stop, r.tx(ctx, func(tx *sql.Tx) error {
			for i, raw := range keep {
				if err := putRun(ctx, tx, repo, w.ID, heads[i], raw, now); err != nil {
					return err
				}
			}
			r.added("raw_github_workflow_runs", len(keep))
			return nil
		})
	})
	if err != nil || notModified {
		return err
	}
	return r.tx(ctx, func(tx *sql.Tx) error {
		if top > cursor {
			if err := r.state.Set(ctx, tx, scope, "cursor", strconv.FormatInt(top, 10)); err != nil {
				return err
			}
		}
		return r.state.Set(ctx, tx, scope, "etag", newETag)
	})
}

func putRun(ctx context.Context, tx *sql.Tx, repo string, workflowID int64, h idHead, raw json.RawMessage, now time.Time) error {
	if _, err := tx.ExecContext(ctx, `DELETE FROM raw_github_workflow_runs WHERE repo = ? AND id = ?`, repo, h.ID); err != nil {
		return err
	}
	_, err := tx.ExecContext(ctx, `INSERT INTO raw_github_workflow_runs VALUES (?, ?, ?, ?, ?, ?)`, repo, h.ID, workflowID, h.CreatedAt, string(raw), now)
	return err
}

func (r *repoSync) recheckRuns(ctx context.Context, repo string) error {
	since := r.s.now().Add(-r.s.cfg.RecheckWindow.D())
	rows, err := r.db.QueryContext(ctx, `SELECT id, workflow_id FROM raw_github_workflow_runs
		WHERE repo = ? AND created_at >= ? AND coalesce(payload->>'$.status', '') <> 'completed' ORDER BY id`, repo, since)
	if err != nil {
		return err
	}
	type run struct{ id, wf int64 }
	var runs []run
	for rows.Next() {
		var x run
		if err := rows.Scan(&x.id, &x.wf); err != nil {
			rows.Close()
			return err
		}
		runs = append(runs, x)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}
	for _, x := range runs {
		scope := fmt.Sprintf("%s:runs/%d", repo, x.id)
		etag, err := r.get(ctx, scope, "etag")
		if err != nil {
			return err
		}
		var raw json.RawMessage
		resp, err := r.s.get(ctx, repo, fmt.Sprintf("repos/%s/actions/runs/%d", repo, x.id), url.Values{"per_page": {"1"}}, etag, &raw)
		if errors.Is(err, errNotModified) {
			continue
		}
		if err != nil {
			return err
		}
		var h idHead
		if err := json.Unmarshal(raw, &h); err != nil {
			return fmt.Errorf("github: %s: workflow run payload: %w", repo, err)
		}
		now := r.s.now().UTC()
		if err := r.tx(ctx, func(tx *sql.Tx) error {
			if err := putRun(ctx, tx, repo, x.wf, h, raw, now); err != nil {
				return err
			}
			r.added("raw_github_workflow_runs", 1)
			return r.state.Set(ctx, tx, scope, "etag", resp.Header.Get("ETag"))
		}); err != nil {
			return err
		}
	}
	return nil
}
