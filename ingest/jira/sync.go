package jira

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/url"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"

	gojira "github.com/andygrunwald/go-jira"

	"github.com/shiplog/shiplog/ingest"
	"github.com/shiplog/shiplog/internal/warehouse"
)

// jiraTime is how Jira writes times in REST v2 ("2024-03-05T09:12:44.000+0100").
const jiraTime = "2006-01-02T15:04:05.000-0700"

// issueHead is the part of an issue the sync itself needs; the payload is
// stored whole.
type issueHead struct {
	ID     string `json:"id"`
	Key    string `json:"key"`
	Fields struct {
		Updated string `json:"updated"`
		Project struct {
			Key string `json:"key"`
		} `json:"project"`
	} `json:"fields"`
	Changelog *struct {
		StartAt    int               `json:"startAt"`
		MaxResults int               `json:"maxResults"`
		Total      int               `json:"total"`
		Histories  []json.RawMessage `json:"histories"`
	} `json:"changelog"`
}

// searchPage holds both search answers: Data Center's /search (startAt,
// maxResults, total) and Cloud's /search/jql (nextPageToken, isLast).
type searchPage struct {
	StartAt       int               `json:"startAt"`
	MaxResults    int               `json:"maxResults"`
	Total         int               `json:"total"`
	NextPageToken string            `json:"nextPageToken"`
	IsLast        *bool             `json:"isLast"`
	Issues        []json.RawMessage `json:"issues"`
}

// fetched is one issue of a page with its separately fetched histories.
type fetched struct {
	head      issueHead
	raw       json.RawMessage
	updated   time.Time
	histories []json.RawMessage // from the changelog endpoint, when cut short
}

// cursorInfo is what a run leaves in ingest_runs.cursor: each section's
// cursor and the issues a full sync found gone.
type cursorInfo struct {
	Cursors map[string]string `json:"cursors,omitempty"`
	Gone    []string          `json:"gone,omitempty"`
}

// Sync fetches what changed since the saved cursors into the raw tables,
// reconciles keys when full, and maps the raw tables to canonical rows.
func (s *Source) Sync(ctx context.Context, env *ingest.Env) error {
	if s.tokenErr != nil {
		return s.tokenErr
	}
	now := time.Now
	if env.Now != nil {
		now = env.Now
	}
	progress := env.Progress
	if progress == nil {
		progress = io.Discard
	}
	started := now()
	loc, err := s.userZone(ctx, progress)
	if err != nil {
		return err
	}
	info := cursorInfo{Cursors: map[string]string{}}
	s.Gone = nil
	for _, sec := range s.sections() {
		if err := s.syncSection(ctx, env, sec, loc, started, progress, &info); err != nil {
			return err
		}
	}
	if r := s.cfg.Releases; r != nil {
		for _, p := range r.Projects {
			if err := s.syncVersions(ctx, env, p, now(), progress); err != nil {
				return err
			}
		}
	}
	info.Gone = s.Gone
	if b, err := json.Marshal(info); err == nil && env.Run != nil {
		env.Run.Cursor = string(b)
	}
	if len(s.Gone) > 0 {
		fmt.Fprintf(progress, "jira: %d issue(s) no longer match their query and are no longer mapped:\n", len(s.Gone))
		for _, g := range s.Gone {
			fmt.Fprintf(progress, "  %s\n", g)
		}
	}
	return s.Map(ctx, env.DB)
}

// userZone returns the time zone Jira reads JQL dates in: the zone of the
// account the requests run as. Without credentials (anonymous access has no
// account) or when Jira does not say, it falls back to UTC with a warning:
// a wrong zone only shifts the overlap. With credentials, a failure here
// (unreachable, 401/403) is the run's error: it names the address and the
// credential.
func (s *Source) userZone(ctx context.Context, progress io.Writer) (*time.Location, error) {
	var me gojira.User
	err := s.client.get(ctx, "rest/api/2/myself", nil, &me)
	if err != nil && s.client.tokenEnv != "" && !errors.Is(err, errNotFound) {
		return nil, err
	}
	if err != nil || me.TimeZone == "" {
		fmt.Fprintln(progress, "jira: could not read the account's time zone; JQL dates are written in UTC")
		return time.UTC, nil
	}
	loc, lerr := time.LoadLocation(me.TimeZone)
	if lerr != nil {
		fmt.Fprintf(progress, "jira: unknown time zone %q of the account; JQL dates are written in UTC\n", me.TimeZone)
		return time.UTC, nil
	}
	return loc, nil
}

var orderBy = regexp.MustCompile(`(?is)\s+order\s+by\s+.*$`)

// buildJQL restricts base to issues updated at or after from (written in
// the account's zone, to the minute, rounded down) and orders by creation,
// which unlike `updated` does not change while the pages are read, so
// offsets stay stable.
func buildJQL(base string, from time.Time, loc *time.Location) string {
	q := strings.TrimSpace(orderBy.ReplaceAllString(base, ""))
	q = "(" + q + ")"
	if !from.IsZero() {
		q += fmt.Sprintf(` AND updated >= "%s"`, from.In(loc).Format("2006-01-02 15:04"))
	}
	return q + " ORDER BY created ASC, key ASC"
}

func (s *Source) syncSection(ctx context.Context, env *ingest.Env, sec section, loc *time.Location, started time.Time,
	progress io.Writer, info *cursorInfo) error {
	var from time.Time
	if !s.full {
		saved, err := env.State.Get(ctx, sec.name, "updated")
		if err != nil {
			return fmt.Errorf("jira: read cursor of %s: %w", sec.name, err)
		}
		if saved != "" {
			t, err := time.Parse(time.RFC3339Nano, saved)
			if err != nil {
				return fmt.Errorf("jira: saved cursor of %s %q is not a time: %w", sec.name, saved, err)
			}
			from = t.Add(-s.cfg.Overlap.D())
		}
	}
	if !s.since.IsZero() {
		from = s.since
	}
	jql := buildJQL(sec.jql, from, loc)
	seen := map[string]bool{}
	var maxUpdated time.Time
	var n int
	startAt, token := 0, ""
	for page := 1; ; page++ {
		q := url.Values{}
		q.Set("jql", jql)
		q.Set("maxResults", strconv.Itoa(s.cfg.PageSize))
		q.Set("fields", "*all")
		q.Set("expand", "changelog")
		path := "rest/api/2/search"
		if s.cfg.Flavor == "cloud" {
			path = "rest/api/2/search/jql"
			if token != "" {
				q.Set("nextPageToken", token)
			}
		} else {
			q.Set("startAt", strconv.Itoa(startAt))
		}
		var res searchPage
		if err := s.client.get(ctx, path, q, &res); err != nil {
			return fmt.Errorf("%w (section %s, JQL %s)", err, sec.name, jql)
		}
		issues := make([]fetched, 0, len(res.Issues))
		for _, raw := range res.Issues {
			var f fetched
			f.raw = raw
			if err := json.Unmarshal(raw, &f.head); err != nil {
				return fmt.Errorf("jira: %s: an issue in the search answer is not an issue object: %w", sec.name, err)
			}
			if f.head.Key == "" || f.head.ID == "" {
				return fmt.Errorf("jira: %s: an issue in the search answer has no key or id", sec.name)
			}
			if f.head.Fields.Updated != "" {
				t, err := time.Parse(jiraTime, f.head.Fields.Updated)
				if err != nil {
					return fmt.Errorf("jira: %s: issue %s: fields.updated %q is not a Jira time", sec.name, f.head.Key, f.head.Fields.Updated)
				}
				f.updated = t
				if t.After(maxUpdated) {
					maxUpdated = t
				}
			}
			if cl := f.head.Changelog; cl != nil && cl.Total > len(cl.Histories) {
				h, err := s.fullChangelog(ctx, f.head.Key)
				if err != nil {
					return err
				}
				f.histories = h
			}
			seen[f.head.Key] = true
			issues = append(issues, f)
		}
		if err := s.writeIssues(ctx, env.DB, sec.name, issues, started); err != nil {
			return err
		}
		n += len(issues)
		if env.Run != nil {
			env.Run.Read += int64(len(issues))
			env.Run.Written += int64(len(issues))
		}
		fmt.Fprintf(progress, "jira: %s: %d issues (page %d)\n", sec.name, n, page)
		if len(res.Issues) == 0 {
			break
		}
		if s.cfg.Flavor == "cloud" {
			if (res.IsLast != nil && *res.IsLast) || res.NextPageToken == "" {
				break
			}
			token = res.NextPageToken
		} else {
			startAt += len(res.Issues)
			if startAt >= res.Total {
				break
			}
		}
	}
	// Every page is committed: the cursor may move. It never passes the
	// time this run started, so an issue edited while the pages were read
	// is fetched again next time.
	if !maxUpdated.IsZero() {
		if maxUpdated.After(started) {
			maxUpdated = started
		}
		cur := maxUpdated.UTC().Format(time.RFC3339Nano)
		if err := env.State.Set(ctx, env.DB, sec.name, "updated", cur); err != nil {
			return fmt.Errorf("jira: save cursor of %s: %w", sec.name, err)
		}
		info.Cursors[sec.name] = cur
	}
	if s.full {
		return s.reconcile(ctx, env.DB, sec.name, seen, started)
	}
	return nil
}

// changelogPage is Cloud's /issue/{key}/changelog answer.
type changelogPage struct {
	StartAt    int               `json:"startAt"`
	MaxResults int               `json:"maxResults"`
	Total      int               `json:"total"`
	IsLast     *bool             `json:"isLast"`
	Values     []json.RawMessage `json:"values"`
}

// fullChangelog reads every history of key from the changelog endpoint.
// Data Center versions without that endpoint answer 404; there the issue
// itself with expand=changelog carries the whole changelog.
func (s *Source) fullChangelog(ctx context.Context, key string) ([]json.RawMessage, error) {
	var out []json.RawMessage
	start := 0
	for {
		q := url.Values{"startAt": {strconv.Itoa(start)}, "maxResults": {"100"}}
		var p changelogPage
		err := s.client.get(ctx, "rest/api/2/issue/"+url.PathEscape(key)+"/changelog", q, &p)
		if errors.Is(err, errNotFound) && start == 0 {
			var iss issueHead
			q := url.Values{"expand": {"changelog"}, "fields": {"key"}}
			if err := s.client.get(ctx, "rest/api/2/issue/"+url.PathEscape(key), q, &iss); err != nil {
				return nil, fmt.Errorf("%w (full changelog of %s)", err, key)
			}
			if iss.Changelog == nil {
				return nil, nil
			}
			return iss.Changelog.Histories, nil
		}
		if err != nil {
			return nil, fmt.Errorf("%w (full changelog of %s)", err, key)
		}
		out = append(out, p.Values...)
		start += len(p.Values)
		if len(p.Values) == 0 || (p.IsLast != nil && *p.IsLast) || start >= p.Total {
			return out, nil
		}
	}
}

// pageRow and historyRow are how a page travels to DuckDB: as one JSON
// document, parsed once there, rather than hundreds of bound parameters.
type pageRow struct {
	Key     string          `json:"key"`
	ID      string          `json:"id"`
	Project string          `json:"project"`
	Updated *string         `json:"updated"`
	Payload json.RawMessage `json:"payload"`
}

type historyRow struct {
	IssueKey  string          `json:"issue_key"`
	HistoryID string          `json:"history_id"`
	Payload   json.RawMessage `json:"payload"`
}

// writeIssues stores one page in one transaction: each issue replaces its
// row of the section, a moved issue (same id, new key) marks its old key
// gone, and separately fetched histories replace the stored ones (an issue
// whose embedded changelog is complete drops them).
func (s *Source) writeIssues(ctx context.Context, db *warehouse.DB, query string, issues []fetched, now time.Time) error {
	if len(issues) == 0 {
		return nil
	}
	page := make([]pageRow, 0, len(issues))
	var hist []historyRow
	for _, f := range issues {
		r := pageRow{Key: f.head.Key, ID: f.head.ID, Project: f.head.Fields.Project.Key, Payload: f.raw}
		if r.Project == "" {
			r.Project, _, _ = strings.Cut(f.head.Key, "-")
		}
		if !f.updated.IsZero() {
			u := f.updated.UTC().Format(time.RFC3339Nano)
			r.Updated = &u
		}
		page = append(page, r)
		for _, h := range f.histories {
			var hid struct {
				ID string `json:"id"`
			}
			if err := json.Unmarshal(h, &hid); err != nil || hid.ID == "" {
				return fmt.Errorf("jira: changelog of %s: a history has no id", f.head.Key)
			}
			hist = append(hist, historyRow{IssueKey: f.head.Key, HistoryID: hid.ID, Payload: h})
		}
	}
	pageJSON, err := json.Marshal(page)
	if err != nil {
		return fmt.Errorf("jira: %s: %w", query, err)
	}
	conn, err := db.Conn(ctx)
	if err != nil {
		return err
	}
	defer conn.Close()
	tx, err := conn.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	q := warehouse.QuoteString(query)
	ts := warehouse.QuoteString(now.UTC().Format(time.RFC3339Nano)) + "::TIMESTAMPTZ"
	steps := []struct {
		sql  string
		args []any
	}{
		{`CREATE OR REPLACE TEMP TABLE jira_page AS SELECT unnest(from_json(?,
			'[{"key":"VARCHAR","id":"VARCHAR","project":"VARCHAR","updated":"VARCHAR","payload":"JSON"}]'), recursive := true)`,
			[]any{string(pageJSON)}},
		{`DELETE FROM raw_jira_issues WHERE query = ` + q + ` AND key IN (SELECT key FROM jira_page)`, nil},
		{`INSERT INTO raw_jira_issues (query, key, id, project, updated, payload, fetched_at, gone_at, gone_reason)
			SELECT ` + q + `, key, id, project, updated::TIMESTAMPTZ, payload, ` + ts + `, NULL, NULL FROM jira_page`, nil},
		{`UPDATE raw_jira_issues r SET gone_at = ` + ts + `, gone_reason = 'moved:' || p.key
			FROM jira_page p
			WHERE r.query = ` + q + ` AND r.id = p.id AND r.key <> p.key AND r.gone_at IS NULL`, nil},
		{`DELETE FROM raw_jira_changelogs WHERE issue_key IN (SELECT key FROM jira_page)`, nil},
		{`DROP TABLE temp.jira_page`, nil},
	}
	if len(hist) > 0 {
		histJSON, err := json.Marshal(hist)
		if err != nil {
			return fmt.Errorf("jira: %s: %w", query, err)
		}
		steps = append(steps, struct {
			sql  string
			args []any
		}{`INSERT INTO raw_jira_changelogs (issue_key, history_id, payload, fetched_at)
			SELECT issue_key, history_id, payload, ` + ts + ` FROM (SELECT unnest(from_json(?,
			'[{"issue_key":"VARCHAR","history_id":"VARCHAR","payload":"JSON"}]'), recursive := true))`, []any{string(histJSON)}})
	}
	for _, st := range steps {
		if _, err := tx.ExecContext(ctx, st.sql, st.args...); err != nil {
			return fmt.Errorf("jira: store %s page: %w", query, err)
		}
	}
	return tx.Commit()
}

// reconcile marks the stored issues of query that a full sync did not see:
// deleted (the issue answers 404), moved:NEWKEY (it answers under another
// key) or left_query (it exists but no longer matches the JQL).
func (s *Source) reconcile(ctx context.Context, db *warehouse.DB, query string, seen map[string]bool, now time.Time) error {
	rows, err := db.QueryContext(ctx, `SELECT key FROM raw_jira_issues WHERE query = ? AND gone_at IS NULL ORDER BY key`, query)
	if err != nil {
		return err
	}
	var missing []string
	for rows.Next() {
		var k string
		if err := rows.Scan(&k); err != nil {
			rows.Close()
			return err
		}
		if !seen[k] {
			missing = append(missing, k)
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}
	sort.Strings(missing)
	for _, k := range missing {
		var iss issueHead
		reason := "left_query"
		err := s.client.get(ctx, "rest/api/2/issue/"+url.PathEscape(k), url.Values{"fields": {"project"}}, &iss)
		switch {
		case errors.Is(err, errNotFound):
			reason = "deleted"
		case err != nil:
			return fmt.Errorf("%w (checking missing issue %s)", err, k)
		case iss.Key != "" && iss.Key != k:
			reason = "moved:" + iss.Key
		}
		if _, err := db.ExecContext(ctx, `UPDATE raw_jira_issues SET gone_at = ?, gone_reason = ? WHERE query = ? AND key = ?`,
			now.UTC(), reason, query, k); err != nil {
			return err
		}
		s.Gone = append(s.Gone, fmt.Sprintf("%s %s (%s)", k, strings.Replace(reason, ":", " to ", 1), query))
	}
	return nil
}

// syncVersions replaces the stored versions of project with Jira's list.
func (s *Source) syncVersions(ctx context.Context, env *ingest.Env, project string, now time.Time, progress io.Writer) error {
	var vs []json.RawMessage
	if err := s.client.get(ctx, "rest/api/2/project/"+url.PathEscape(project)+"/versions", nil, &vs); err != nil {
		if errors.Is(err, errNotFound) {
			return fmt.Errorf("jira: releases: project %s not found or not visible to %s", project, s.client.credential())
		}
		return err
	}
	tx, err := env.DB.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	if _, err := tx.ExecContext(ctx, `DELETE FROM raw_jira_versions WHERE project = ?`, project); err != nil {
		return err
	}
	for _, v := range vs {
		var h struct {
			ID string `json:"id"`
		}
		if err := json.Unmarshal(v, &h); err != nil || h.ID == "" {
			return fmt.Errorf("jira: releases: a version of %s has no id", project)
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO raw_jira_versions VALUES (?, ?, ?::JSON, ?)`,
			project, h.ID, string(v), now.UTC()); err != nil {
			return err
		}
	}
	if err := tx.Commit(); err != nil {
		return err
	}
	if env.Run != nil {
		env.Run.Read += int64(len(vs))
		env.Run.Written += int64(len(vs))
	}
	fmt.Fprintf(progress, "jira: releases: %s: %d versions\n", project, len(vs))
	return nil
}
