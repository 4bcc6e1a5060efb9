package gitlab

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"

	retryablehttp "github.com/hashicorp/go-retryablehttp"
	gl "gitlab.com/gitlab-org/api/client-go/v2"

	"github.com/shiplog/shiplog/ingest"
	"github.com/shiplog/shiplog/internal/warehouse"
)

// projectSync fetches one project's resources. State scopes are
// "group/name:resource"; keys are "cursor" (the newest updated_at of the
// last complete walk) and "etag" ("<updated_after> <ETag>" of the first
// page of that walk's query).
type projectSync struct {
	s     *Source
	db    *warehouse.DB
	state *ingest.State
	since time.Time
}

func (r *projectSync) sync(ctx context.Context, project string) error {
	if err := r.mergeRequests(ctx, project); err != nil {
		return err
	}
	if err := r.deployments(ctx, project); err != nil {
		return err
	}
	if r.s.cfg.Pipelines != nil {
		if err := r.pipelines(ctx, project); err != nil {
			return err
		}
	}
	if r.s.incidentsOf(project) {
		if err := r.incidents(ctx, project); err != nil {
			return err
		}
	}
	return nil
}

// incidentsOf reports whether incidents are read from project.
func (s *Source) incidentsOf(project string) bool {
	in := s.cfg.Incidents
	if in == nil {
		return false
	}
	if len(in.Projects) == 0 {
		return true
	}
	for _, p := range in.Projects {
		if strings.EqualFold(p, project) {
			return true
		}
	}
	return false
}

// head is what the walk reads of every listed object.
type head struct {
	ID        int64     `json:"id"`
	IID       int64     `json:"iid"`
	UpdatedAt time.Time `json:"updated_at"`
	Status    string    `json:"status"`
}

// listing is one incremental list of a project.
type listing struct {
	resource string // state scope suffix
	what     string // for messages: "merge request"
	path     string // API path relative to /api/v4
	// opt builds the client-go options of the list (order, filters); walk
	// adds updated_after itself, to the millisecond.
	opt func(perPage int64) any
	// key picks the natural key of an object (id or iid).
	key func(head) int64
	// page stores one page; it is called for every page in order.
	page func(ctx context.Context, raws []json.RawMessage, heads []head) error
}

// walk reads a listing from the newest update down to the cursor, page by
// page. The cursor is the newest updated_at of the last complete walk; the
// list is asked with updated_after just past it (GitLab's bound is
// inclusive), so a walk with nothing new lists nothing. The first page is
// sent with the ETag of the same query when one is known, and a 304 ends
// the walk at once. It returns the keys it saw and whether the list was
// unchanged.
//
// The cursor is saved only when the walk is complete, in one transaction
// with the ETag of the next run's query: after moving the cursor the walk
// asks that query once (one small request in a run that found something),
// so that a following run with nothing new is answered 304 and writes
// nothing.
func (r *projectSync) walk(ctx context.Context, project string, l listing) (seen map[int64]bool, notModified bool, err error) {
	scope := project + ":" + l.resource
	var cursor time.Time
	var savedETag string
	if !r.s.full {
		c, err := r.state.Get(ctx, scope, "cursor")
		if err != nil {
			return nil, false, err
		}
		if c != "" {
			if cursor, err = time.Parse(time.RFC3339Nano, c); err != nil {
				return nil, false, fmt.Errorf("gitlab: %s: stored %s cursor %q: %w", project, l.resource, c, err)
			}
		}
		if savedETag, err = r.state.Get(ctx, scope, "etag"); err != nil {
			return nil, false, err
		}
	}
	after := r.after(cursor)
	send := ""
	if k, e, ok := strings.Cut(savedETag, " "); ok && k == afterKey(after) {
		send = e
	}
	seen = map[int64]bool{}
	var top time.Time
	var firstETag string
	var next []gl.RequestOptionFunc
	for first := true; ; first = false {
		var items rawList
		etag := ""
		if first {
			etag = send
		}
		resp, err := r.s.get(ctx, project, l.path, l.opt(r.s.perPage), etag, &items, append([]gl.RequestOptionFunc{withAfter(after)}, next...)...)
		if first && errors.Is(err, errNotModified) {
			return seen, true, nil
		}
		if err != nil {
			return nil, false, err
		}
		if first {
			firstETag = resp.Header.Get("ETag")
		}
		heads := make([]head, len(items))
		for i, raw := range items {
			if err := json.Unmarshal(raw, &heads[i]); err != nil {
				return nil, false, fmt.Errorf("gitlab: %s: %s payload (item %d of %s): %w", project, l.what, i+1, l.path, err)
			}
			if l.key(heads[i]) == 0 {
				return nil, false, fmt.Errorf("gitlab: %s: %s payload (item %d of %s) has no id", project, l.what, i+1, l.path)
			}
			seen[l.key(heads[i])] = true
			if heads[i].UpdatedAt.After(top) {
				top = heads[i].UpdatedAt
			}
		}
		if err := l.page(ctx, items, heads); err != nil {
			return nil, false, err
		}
		n, ok := gl.WithNext(resp)
		if !ok || len(items) == 0 {
			break
		}
		next = []gl.RequestOptionFunc{n}
	}
	newCursor, etagKey := cursor, afterKey(after)
	if top.After(cursor) {
		// Learn the ETag of the next run's query (nothing after the new
		// cursor, unless something changed while this walk ran).
		newCursor = top
		nextAfter := r.after(newCursor)
		etagKey, firstETag = afterKey(nextAfter), ""
		var items rawList
		resp, err := r.s.get(ctx, project, l.path, l.opt(r.s.perPage), "", &items, withAfter(nextAfter))
		if err != nil {
			return nil, false, err
		}
		if len(items) == 0 {
			firstETag = resp.Header.Get("ETag")
		}
	}
	err = r.tx(ctx, func(tx *sql.Tx) error {
		if newCursor.After(cursor) {
			if err := r.state.Set(ctx, tx, scope, "cursor", newCursor.UTC().Format(time.RFC3339Nano)); err != nil {
				return err
			}
		}
		if firstETag == "" {
			return nil
		}
		return setIfChanged(ctx, r.state, tx, scope, "etag", etagKey+" "+firstETag)
	})
	return seen, false, err
}

// after is the updated_after bound of a listing: just past the cursor, or
// the configured since for a first sync, or none.
func (r *projectSync) after(cursor time.Time) *time.Time {
	switch {
	case !cursor.IsZero():
		t := cursor.Add(time.Millisecond)
		return &t
	case !r.since.IsZero():
		t := r.since
		return &t
	}
	return nil
}

func afterKey(after *time.Time) string {
	if after == nil {
		return "-"
	}
	return after.UTC().Format(afterLayout)
}

// afterLayout writes updated_after to the millisecond, the precision of
// GitLab's timestamps (client-go's query encoding would drop the
// fraction, and the bound is inclusive).
const afterLayout = "2006-01-02T15:04:05.000Z07:00"

// withAfter sets updated_after on a list request (nothing when after is nil).
func withAfter(after *time.Time) gl.RequestOptionFunc {
	return func(req *retryablehttp.Request) error {
		if after == nil {
			return nil
		}
		q := req.URL.Query()
		q.Set("updated_after", after.UTC().Format(afterLayout))
		req.URL.RawQuery = q.Encode()
		return nil
	}
}

// all reads every page of a detail list. A 404 (the object went away
// between the list and this request) is an empty list.
func (r *projectSync) all(ctx context.Context, what, p string, opt func(perPage int64) any) (rawList, error) {
	var out rawList
	var next []gl.RequestOptionFunc
	for {
		var items rawList
		resp, err := r.s.get(ctx, what, p, opt(r.s.perPage), "", &items, next...)
		var nf *notFoundError
		if errors.As(err, &nf) {
			return nil, nil
		}
		if err != nil {
			return nil, err
		}
		out = append(out, items...)
		n, ok := gl.WithNext(resp)
		if !ok || len(items) == 0 {
			return out, nil
		}
		next = []gl.RequestOptionFunc{n}
	}
}

// one reads a single object; a 404 gives nil.
func (r *projectSync) one(ctx context.Context, what, p string) (json.RawMessage, error) {
	var raw json.RawMessage
	_, err := r.s.get(ctx, what, p, nil, "", &raw)
	var nf *notFoundError
	if errors.As(err, &nf) {
		return nil, nil
	}
	return raw, err
}

func (r *projectSync) tx(ctx context.Context, fn func(*sql.Tx) error) error {
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

func (r *projectSync) added(table string, n int) {
	if n == 0 {
		return
	}
	r.s.mu.Lock()
	r.s.stats.Rows[table] += int64(n)
	r.s.mu.Unlock()
}

// stored returns the updated_at of the stored rows of a project's raw table
// (NULL, for a webhook row, is the zero time: never equal to a listed one).
func (r *projectSync) stored(ctx context.Context, table, key, project string) (map[int64]time.Time, error) {
	rows, err := r.db.QueryContext(ctx, `SELECT `+key+`, updated_at FROM `+table+` WHERE project = ?`, project)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := map[int64]time.Time{}
	for rows.Next() {
		var k int64
		var t sql.NullTime
		if err := rows.Scan(&k, &t); err != nil {
			return nil, err
		}
		out[k] = t.Time
	}
	return out, rows.Err()
}

// unchanged reports whether a listed object is stored with the same
// updated_at (and so needs no request and no write).
func (r *projectSync) unchanged(stored map[int64]time.Time, key int64, updated time.Time) bool {
	prev, ok := stored[key]
	return ok && !r.s.full && !prev.IsZero() && prev.Equal(updated)
}

// ordered is the order of every incremental list: newest update first, so
// that an object updated during a walk moves to a page already read (read
// again next time) rather than past the end.
func ordered() (*string, *string) { return gl.Ptr("updated_at"), gl.Ptr("desc") }

func projectPathOf(project string) string { return "projects/" + gl.PathEscape(project) }

// --- merge requests ----------------------------------------------------------

type mrData struct {
	head      head
	raw       json.RawMessage
	commits   rawList
	notes     rawList
	approvals json.RawMessage
}

// mergeRequests walks merged merge requests by updated_at and fetches the
// commits, approvals and notes of each new or changed one. A page is
// committed with the details of its merge requests (and, when a request
// fails midway, the part of the page already fetched).
func (r *projectSync) mergeRequests(ctx context.Context, project string) error {
	stored, err := r.stored(ctx, "raw_gitlab_merge_requests", "iid", project)
	if err != nil {
		return err
	}
	base := projectPathOf(project) + "/merge_requests"
	seen, notModified, err := r.walk(ctx, project, listing{
		resource: "merge_requests", what: "merge request", path: base,
		key: func(h head) int64 { return h.IID },
		opt: func(per int64) any {
			o, s := ordered()
			return &gl.ListProjectMergeRequestsOptions{ListOptions: gl.ListOptions{PerPage: per},
				State: gl.Ptr("merged"), OrderBy: o, Sort: s}
		},
		page: func(ctx context.Context, raws []json.RawMessage, heads []head) error {
			var batch []mrData
			for i, h := range heads {
				if r.unchanged(stored, h.IID, h.UpdatedAt) {
					continue // unchanged, or stored by an interrupted run
				}
				d, err := r.mrDetails(ctx, project, h, raws[i])
				if err != nil {
					// Keep what this page already fetched: the resumed run skips it.
					if perr := r.putMRs(context.WithoutCancel(ctx), project, batch, stored); perr != nil {
						return errors.Join(err, perr)
					}
					return err
				}
				batch = append(batch, d)
			}
			return r.putMRs(ctx, project, batch, stored)
		},
	})
	if err != nil || notModified || !r.s.full {
		return err
	}
	return r.removeGone(ctx, project, "merge requests", "iid", seen,
		"raw_gitlab_merge_requests", "raw_gitlab_mr_commits", "raw_gitlab_mr_approvals", "raw_gitlab_mr_notes")
}

func (r *projectSync) mrDetails(ctx context.Context, project string, h head, raw json.RawMessage) (mrData, error) {
	d := mrData{head: h, raw: raw}
	base := fmt.Sprintf("%s/merge_requests/%d", projectPathOf(project), h.IID)
	what := fmt.Sprintf("%s!%d", project, h.IID)
	var err error
	if d.commits, err = r.all(ctx, what, base+"/commits", func(per int64) any {
		return &gl.GetMergeRequestCommitsOptions{ListOptions: gl.ListOptions{PerPage: per}}
	}); err != nil {
		return d, err
	}
	if d.approvals, err = r.one(ctx, what, base+"/approvals"); err != nil {
		return d, err
	}
	if d.notes, err = r.all(ctx, what, base+"/notes", func(per int64) any {
		return &gl.ListMergeRequestNotesOptions{ListOptions: gl.ListOptions{PerPage: per},
			OrderBy: gl.Ptr("created_at"), Sort: gl.Ptr("asc")}
	}); err != nil {
		return d, err
	}
	return d, nil
}

// putMRs replaces a page's merge requests with their commits, approvals and
// notes in one transaction, and notes them in stored.
func (r *projectSync) putMRs(ctx context.Context, project string, batch []mrData, stored map[int64]time.Time) error {
	if len(batch) == 0 {
		return nil
	}
	now := r.s.now().UTC()
	var keys []any
	var mrs, commits, approvals, notes [][]any
	for _, d := range batch {
		iid := d.head.IID
		keys = append(keys, iid)
		mrs = append(mrs, []any{project, iid, d.head.UpdatedAt, "api", r.s.scrub(d.raw), now})
		for i, c := range d.commits {
			var v struct {
				ID string `json:"id"`
			}
			if err := json.Unmarshal(c, &v); err != nil || v.ID == "" {
				return fmt.Errorf("gitlab: %s!%d: commit payload (item %d) has no id: %v", project, iid, i+1, errOrMissing(err))
			}
			commits = append(commits, []any{project, iid, i, v.ID, r.s.scrub(c), now})
		}
		if len(d.approvals) > 0 && string(d.approvals) != "null" {
			if !json.Valid(d.approvals) || d.approvals[0] != '{' {
				return fmt.Errorf("gitlab: %s!%d: approvals payload is not an object", project, iid)
			}
			approvals = append(approvals, []any{project, iid, r.s.scrub(d.approvals), now})
		}
		for i, n := range d.notes {
			var v struct {
				ID int64 `json:"id"`
			}
			if err := json.Unmarshal(n, &v); err != nil || v.ID == 0 {
				return fmt.Errorf("gitlab: %s!%d: note payload (item %d) has no id: %v", project, iid, i+1, errOrMissing(err))
			}
			notes = append(notes, []any{project, iid, v.ID, r.s.scrub(n), now})
		}
	}
	tables := []string{"raw_gitlab_merge_requests", "raw_gitlab_mr_commits", "raw_gitlab_mr_approvals", "raw_gitlab_mr_notes"}
	err := r.tx(ctx, func(tx *sql.Tx) error {
		for _, t := range tables {
			q := `DELETE FROM ` + t + ` WHERE project = ? AND iid IN (` + placeholders(len(keys)) + `)`
			if _, err := tx.ExecContext(ctx, q, append([]any{project}, keys...)...); err != nil {
				return err
			}
		}
		for i, rows := range [][][]any{mrs, commits, approvals, notes} {
			if err := insertRows(ctx, tx, tables[i], rows); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return err
	}
	for i, rows := range [][][]any{mrs, commits, approvals, notes} {
		r.added(tables[i], len(rows))
	}
	for _, d := range batch {
		stored[d.head.IID] = d.head.UpdatedAt
	}
	return nil
}

// --- deployments -------------------------------------------------------------

// deployments walks deployments by updated_at. A deployment still running
// (created, running, blocked) is stored and left out of the mapping; when
// it finishes its updated_at moves and the next sync lists it again.
func (r *projectSync) deployments(ctx context.Context, project string) error {
	stored, err := r.stored(ctx, "raw_gitlab_deployments", "id", project)
	if err != nil {
		return err
	}
	seen, notModified, err := r.walk(ctx, project, listing{
		resource: "deployments", what: "deployment", path: projectPathOf(project) + "/deployments",
		key: func(h head) int64 { return h.ID },
		opt: func(per int64) any {
			o, s := ordered()
			return &gl.ListProjectDeploymentsOptions{ListOptions: gl.ListOptions{PerPage: per}, OrderBy: o, Sort: s}
		},
		page: func(ctx context.Context, raws []json.RawMessage, heads []head) error {
			return r.putSimple(ctx, project, "raw_gitlab_deployments", "id", raws, heads, stored, func(h head) int64 { return h.ID })
		},
	})
	if err != nil || notModified || !r.s.full {
		return err
	}
	return r.removeGone(ctx, project, "deployments", "id", seen, "raw_gitlab_deployments")
}

// putSimple replaces the changed objects of a page in a raw table keyed by
// (project, key) in one transaction.
func (r *projectSync) putSimple(ctx context.Context, project, table, keyCol string, raws []json.RawMessage, heads []head, stored map[int64]time.Time, key func(head) int64) error {
	now := r.s.now().UTC()
	var keys []any
	var rows [][]any
	for i, h := range heads {
		k := key(h)
		if r.unchanged(stored, k, h.UpdatedAt) {
			continue
		}
		keys = append(keys, k)
		rows = append(rows, []any{project, k, h.UpdatedAt, "api", r.s.scrub(raws[i]), now})
	}
	if len(rows) == 0 {
		return nil
	}
	err := r.tx(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `DELETE FROM `+table+` WHERE project = ? AND `+keyCol+` IN (`+placeholders(len(keys))+`)`,
			append([]any{project}, keys...)...); err != nil {
			return err
		}
		return insertRows(ctx, tx, table, rows)
	})
	if err != nil {
		return err
	}
	r.added(table, len(rows))
	for i, h := range heads {
		stored[key(h)] = heads[i].UpdatedAt
	}
	return nil
}

// --- pipelines ---------------------------------------------------------------

// finishedPipeline lists the statuses after which a pipeline changes no
// more (its jobs and test report are final).
var finishedPipeline = map[string]bool{"success": true, "failed": true, "canceled": true, "skipped": true}

type pipelineData struct {
	head   head
	raw    json.RawMessage
	jobs   rawList
	report json.RawMessage
}

// pipelines walks pipelines by updated_at. A finished pipeline's jobs (with
// pipelines.deploy_jobs) and test report summary (with
// pipelines.test_reports) are fetched with it; a running one is stored
// alone, and fetched again with its details once it finishes.
func (r *projectSync) pipelines(ctx context.Context, project string) error {
	stored, err := r.stored(ctx, "raw_gitlab_pipelines", "id", project)
	if err != nil {
		return err
	}
	pl := r.s.cfg.Pipelines
	seen, notModified, err := r.walk(ctx, project, listing{
		resource: "pipelines", what: "pipeline", path: projectPathOf(project) + "/pipelines",
		key: func(h head) int64 { return h.ID },
		opt: func(per int64) any {
			o, s := ordered()
			return &gl.ListProjectPipelinesOptions{ListOptions: gl.ListOptions{PerPage: per}, OrderBy: o, Sort: s}
		},
		page: func(ctx context.Context, raws []json.RawMessage, heads []head) error {
			var batch []pipelineData
			for i, h := range heads {
				if r.unchanged(stored, h.ID, h.UpdatedAt) {
					continue
				}
				d := pipelineData{head: h, raw: raws[i]}
				if finishedPipeline[h.Status] {
					base := fmt.Sprintf("%s/pipelines/%d", projectPathOf(project), h.ID)
					what := fmt.Sprintf("%s pipeline %d", project, h.ID)
					var err error
					if len(pl.DeployJobs) > 0 {
						d.jobs, err = r.all(ctx, what, base+"/jobs", func(per int64) any {
							return &gl.ListJobsOptions{ListOptions: gl.ListOptions{PerPage: per}, IncludeRetried: gl.Ptr(false)}
						})
					}
					if err == nil && pl.TestReports {
						d.report, err = r.one(ctx, what, base+"/test_report_summary")
					}
					if err != nil {
						if perr := r.putPipelines(context.WithoutCancel(ctx), project, batch, stored); perr != nil {
							return errors.Join(err, perr)
						}
						return err
					}
				}
				batch = append(batch, d)
			}
			return r.putPipelines(ctx, project, batch, stored)
		},
	})
	if err != nil || notModified || !r.s.full {
		return err
	}
	return r.removeGone(ctx, project, "pipelines", "pipeline_id", seen, "raw_gitlab_jobs", "raw_gitlab_test_reports")
}

func (r *projectSync) putPipelines(ctx context.Context, project string, batch []pipelineData, stored map[int64]time.Time) error {
	if len(batch) == 0 {
		return nil
	}
	now := r.s.now().UTC()
	var keys []any
	var pipes, jobs, reports [][]any
	for _, d := range batch {
		keys = append(keys, d.head.ID)
		pipes = append(pipes, []any{project, d.head.ID, d.head.UpdatedAt, "api", r.s.scrub(d.raw), now})
		for i, j := range d.jobs {
			var v struct {
				ID int64 `json:"id"`
			}
			if err := json.Unmarshal(j, &v); err != nil || v.ID == 0 {
				return fmt.Errorf("gitlab: %s pipeline %d: job payload (item %d) has no id: %v", project, d.head.ID, i+1, errOrMissing(err))
			}
			jobs = append(jobs, []any{project, d.head.ID, v.ID, "api", r.s.scrub(j), now})
		}
		if len(d.report) > 0 && string(d.report) != "null" {
			if !json.Valid(d.report) || d.report[0] != '{' {
				return fmt.Errorf("gitlab: %s pipeline %d: test report summary is not an object", project, d.head.ID)
			}
			reports = append(reports, []any{project, d.head.ID, r.s.scrub(d.report), now})
		}
	}
	err := r.tx(ctx, func(tx *sql.Tx) error {
		for _, q := range []string{
			`DELETE FROM raw_gitlab_pipelines WHERE project = ? AND id IN (` + placeholders(len(keys)) + `)`,
			`DELETE FROM raw_gitlab_jobs WHERE project = ? AND pipeline_id IN (` + placeholders(len(keys)) + `)`,
			`DELETE FROM raw_gitlab_test_reports WHERE project = ? AND pipeline_id IN (` + placeholders(len(keys)) + `)`,
		} {
			if _, err := tx.ExecContext(ctx, q, append([]any{project}, keys...)...); err != nil {
				return err
			}
		}
		if err := insertRows(ctx, tx, "raw_gitlab_pipelines", pipes); err != nil {
			return err
		}
		if err := insertRows(ctx, tx, "raw_gitlab_jobs", jobs); err != nil {
			return err
		}
		return insertRows(ctx, tx, "raw_gitlab_test_reports", reports)
	})
	if err != nil {
		return err
	}
	r.added("raw_gitlab_pipelines", len(pipes))
	r.added("raw_gitlab_jobs", len(jobs))
	r.added("raw_gitlab_test_reports", len(reports))
	for _, d := range batch {
		stored[d.head.ID] = d.head.UpdatedAt
	}
	return nil
}

// --- incidents ---------------------------------------------------------------

// incidents walks the project's issues of type incident and, when a label
// is configured, its issues with that label (two lists, each with its own
// cursor). The mapping decides which stored issues are incidents.
func (r *projectSync) incidents(ctx context.Context, project string) error {
	stored, err := r.stored(ctx, "raw_gitlab_issues", "iid", project)
	if err != nil {
		return err
	}
	in := r.s.cfg.Incidents
	type query struct {
		resource string
		opt      func(o *gl.ListProjectIssuesOptions)
	}
	var queries []query
	if *in.IssueType {
		queries = append(queries, query{"incidents", func(o *gl.ListProjectIssuesOptions) { o.IssueType = gl.Ptr("incident") }})
	}
	if in.Label != "" {
		queries = append(queries, query{"incidents_label", func(o *gl.ListProjectIssuesOptions) { o.Labels = &gl.LabelOptions{in.Label} }})
	}
	all := map[int64]bool{}
	complete := true
	for _, q := range queries {
		seen, notModified, err := r.walk(ctx, project, listing{
			resource: q.resource, what: "issue", path: projectPathOf(project) + "/issues",
			key: func(h head) int64 { return h.IID },
			opt: func(per int64) any {
				o, s := ordered()
				opt := &gl.ListProjectIssuesOptions{ListOptions: gl.ListOptions{PerPage: per}, Scope: gl.Ptr("all"),
					OrderBy: o, Sort: s}
				q.opt(opt)
				return opt
			},
			page: func(ctx context.Context, raws []json.RawMessage, heads []head) error {
				return r.putSimple(ctx, project, "raw_gitlab_issues", "iid", raws, heads, stored, func(h head) int64 { return h.IID })
			},
		})
		if err != nil {
			return err
		}
		complete = complete && !notModified
		for k := range seen {
			all[k] = true
		}
	}
	if !r.s.full || !complete {
		return nil
	}
	return r.removeGone(ctx, project, "incident issues", "iid", all, "raw_gitlab_issues")
}

// --- full sync ---------------------------------------------------------------

// removeGone deletes, after a complete --full walk, the raw rows of the
// project whose key the server no longer lists (deleted, or no longer
// matching), within the since bound, and reports them. tables[0] holds the
// objects (its key column is keyCol or, for child tables, the same name).
func (r *projectSync) removeGone(ctx context.Context, project, what, keyCol string, seen map[int64]bool, tables ...string) error {
	col := keyCol
	if keyCol == "pipeline_id" {
		// Pipelines: the object table is keyed by id, children by pipeline_id.
		tables = append([]string{"raw_gitlab_pipelines"}, tables...)
		col = "id"
	}
	q := `SELECT DISTINCT ` + col + ` FROM ` + tables[0] + ` WHERE project = ?`
	args := []any{project}
	if !r.since.IsZero() {
		q += ` AND coalesce(updated_at, fetched_at) >= ?`
		args = append(args, r.since)
	}
	rows, err := r.db.QueryContext(ctx, q, args...)
	if err != nil {
		return err
	}
	var gone []int64
	for rows.Next() {
		var k int64
		if err := rows.Scan(&k); err != nil {
			rows.Close()
			return err
		}
		if !seen[k] {
			gone = append(gone, k)
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil || len(gone) == 0 {
		return err
	}
	sort.Slice(gone, func(i, j int) bool { return gone[i] < gone[j] })
	keys := make([]any, len(gone))
	names := make([]string, len(gone))
	for i, k := range gone {
		keys[i] = k
		names[i] = strconv.FormatInt(k, 10)
	}
	err = r.tx(ctx, func(tx *sql.Tx) error {
		for i, t := range tables {
			c := keyCol
			if i == 0 {
				c = col
			}
			if _, err := tx.ExecContext(ctx, `DELETE FROM `+t+` WHERE project = ? AND `+c+` IN (`+placeholders(len(keys))+`)`,
				append([]any{project}, keys...)...); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return err
	}
	r.s.mu.Lock()
	r.s.stats.Deleted[tables[0]] += int64(len(gone))
	r.s.mu.Unlock()
	if len(names) > 20 {
		names = append(names[:20], "…")
	}
	fmt.Fprintf(r.s.progress, "gitlab: %s: --full: %d %s no longer listed by the server, removed: %s\n",
		project, len(gone), what, strings.Join(names, ", "))
	return nil
}

// --- helpers -----------------------------------------------------------------

// scrub returns a payload as text with the token removed, should the
// server ever echo it (the replacement keeps the JSON valid: a token holds
// no quote or backslash).
func (s *Source) scrub(b []byte) string {
	return ingest.Scrub(string(b), s.token)
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

func errOrMissing(err error) error {
	if err != nil {
		return err
	}
	return errors.New("missing")
}
