package pagerduty

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"net/url"
	"strconv"
	"sync"
	"time"

	"github.com/shiplog/shiplog/ingest"
	"github.com/shiplog/shiplog/internal/config"
	"github.com/shiplog/shiplog/internal/warehouse"
)

// The cursor lives in source_state under this scope and key: the creation
// time from which the next sync reads again.
const (
	cursorScope = "incidents"
	cursorKey   = "created_from"
)

// statuses are asked for explicitly, so that a status PagerDuty adds later
// does not slip in unmapped.
var statuses = []string{"triggered", "acknowledged", "resolved"}

// incidentHead is the part of an incident the sync itself reads; the
// payload is stored whole.
type incidentHead struct {
	ID        string `json:"id"`
	CreatedAt string `json:"created_at"`
	UpdatedAt string `json:"updated_at"`
	Status    string `json:"status"`
}

// page is a list answer with classic offset paging.
type page struct {
	Incidents  []json.RawMessage `json:"incidents"`
	LogEntries []json.RawMessage `json:"log_entries"`
	Limit      int               `json:"limit"`
	Offset     int               `json:"offset"`
	More       bool              `json:"more"`
}

type logEntryHead struct {
	ID        string `json:"id"`
	Type      string `json:"type"`
	CreatedAt string `json:"created_at"`
}

// fetched is one incident of a page, with its log entries when they were
// read again (its updated_at changed, or it is new).
type fetched struct {
	head     incidentHead
	raw      json.RawMessage
	created  time.Time
	updated  *time.Time
	entries  []json.RawMessage
	reloaded bool
}

// Sync reads the incidents created since the cursor (less the overlap) in
// windows of at most six months, each incident's log entries when the
// incident changed, and maps the raw tables to incidents.
//
// PagerDuty's since/until select incidents by creation time, so an incident
// acknowledged or resolved after the last run would be missed by a cursor
// at the newest creation time. The cursor is therefore the creation time of
// the oldest incident still open at the end of the run (or of the newest
// incident when all are resolved): every run reads again every incident
// that could still change, and only reads the log entries of those whose
// updated_at moved.
func (s *Source) Sync(ctx context.Context, env *ingest.Env) error {
	if s.tokenErr != nil {
		return s.tokenErr
	}
	if env.Now != nil {
		s.now = env.Now
	}
	if env.Progress != nil {
		s.progress, s.client.progress = env.Progress, env.Progress
	}
	st := env.State
	if st == nil {
		st = &ingest.State{DB: env.DB, Source: Name, Now: s.now}
	}
	started := s.now().UTC()
	from, err := s.from(ctx, st, started)
	if err != nil {
		return err
	}
	stored, err := storedUpdates(ctx, env.DB)
	if err != nil {
		return err
	}
	s.stats.Incidents, s.stats.LogEntries = 0, 0
	fmt.Fprintf(s.progress, "pagerduty: incidents created from %s to %s\n", from.Format(time.RFC3339), started.Format(time.RFC3339))
	for ws := from; ws.Before(started); {
		we := ws.Add(s.window)
		if we.After(started) {
			we = started
		}
		if err := s.syncWindow(ctx, env, ws, we, stored, started); err != nil {
			return err
		}
		ws = we
	}
	if env.Run != nil {
		env.Run.Read += s.stats.Incidents + s.stats.LogEntries
		env.Run.Written += s.stats.Incidents + s.stats.LogEntries
	}
	// Every page is committed: the cursor may move.
	cur, err := nextCursor(ctx, env.DB, started)
	if err != nil {
		return err
	}
	if !cur.IsZero() {
		v := cur.Format(time.RFC3339Nano)
		if err := st.Set(ctx, env.DB, cursorScope, cursorKey, v); err != nil {
			return fmt.Errorf("pagerduty: save cursor: %w", err)
		}
		if env.Run != nil {
			env.Run.Cursor = v
		}
	}
	fmt.Fprintf(s.progress, "pagerduty: %d incidents and %d log entries read\n", s.stats.Incidents, s.stats.LogEntries)
	return s.Map(ctx, env.DB)
}

// from is where this run starts reading: --since, else (unless --full) the
// saved cursor less the overlap, else sources.pagerduty.since, else a year
// before now.
func (s *Source) from(ctx context.Context, st *ingest.State, now time.Time) (time.Time, error) {
	if !s.since.IsZero() {
		return s.since.UTC(), nil
	}
	if !s.full {
		saved, err := st.Get(ctx, cursorScope, cursorKey)
		if err != nil {
			return time.Time{}, fmt.Errorf("pagerduty: read cursor: %w", err)
		}
		if saved != "" {
			t, err := time.Parse(time.RFC3339Nano, saved)
			if err != nil {
				return time.Time{}, fmt.Errorf("pagerduty: saved cursor %q is not a time: %w", saved, err)
			}
			return t.Add(-s.cfg.Overlap.D()).UTC(), nil
		}
	}
	if s.cfg.Since != "" {
		return config.ParseSince(s.cfg.Since)
	}
	return now.Add(-config.DefaultPagerDutyHistory), nil
}

// storedUpdates returns the updated_at of every incident read from the API
// before, to skip the log entries of incidents that did not change.
func storedUpdates(ctx context.Context, db *warehouse.DB) (map[string]time.Time, error) {
	rows, err := db.QueryContext(ctx, `SELECT id, updated_at FROM raw_pagerduty_incidents WHERE origin = 'api' AND updated_at IS NOT NULL`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := map[string]time.Time{}
	for rows.Next() {
		var id string
		var t time.Time
		if err := rows.Scan(&id, &t); err != nil {
			return nil, err
		}
		out[id] = t
	}
	return out, rows.Err()
}

// nextCursor is the creation time of the oldest incident not yet resolved,
// else of the newest incident, never later than the run's start.
func nextCursor(ctx context.Context, db *warehouse.DB, started time.Time) (time.Time, error) {
	var open, newest sql.NullTime
	err := db.QueryRowContext(ctx, `SELECT
			min(created_at) FILTER (WHERE json_extract_string(payload, '$.status') <> 'resolved'),
			max(created_at)
		FROM raw_pagerduty_incidents WHERE origin = 'api'`).Scan(&open, &newest)
	if err != nil {
		return time.Time{}, fmt.Errorf("pagerduty: cursor: %w", err)
	}
	cur := newest.Time
	if open.Valid {
		cur = open.Time
	}
	if !newest.Valid {
		return time.Time{}, nil
	}
	if cur.After(started) {
		cur = started
	}
	return cur.UTC(), nil
}

// syncWindow pages through the incidents created in [ws, we), oldest first.
// When offset paging reaches its end, it reads on from the creation time of
// the last incident seen (incidents read twice replace themselves).
func (s *Source) syncWindow(ctx context.Context, env *ingest.Env, ws, we time.Time, stored map[string]time.Time, started time.Time) error {
	since, offset := ws, 0
	for n := 1; ; n++ {
		q := url.Values{}
		q.Set("since", since.Format(time.RFC3339))
		q.Set("until", we.Format(time.RFC3339))
		q.Set("limit", strconv.Itoa(s.cfg.PageSize))
		q.Set("offset", strconv.Itoa(offset))
		q.Set("sort_by", "created_at:asc")
		q.Set("time_zone", "UTC")
		q["statuses[]"] = statuses
		q["include[]"] = []string{"priorities"}
		var p page
		if err := s.client.get(ctx, "incidents", q, &p); err != nil {
			return err
		}
		batch := make([]fetched, len(p.Incidents))
		for i, raw := range p.Incidents {
			f, err := s.incident(raw, stored)
			if err != nil {
				return fmt.Errorf("pagerduty: GET /incidents (since %s, offset %d), incident %d: %w", since.Format(time.RFC3339), offset, i+1, err)
			}
			batch[i] = f
		}
		if err := s.readLogEntries(ctx, batch); err != nil {
			return err
		}
		var last time.Time
		if len(batch) > 0 {
			last = batch[len(batch)-1].created
		}
		if err := writePage(ctx, env.DB, batch, s.now()); err != nil {
			return err
		}
		for _, f := range batch {
			if f.updated != nil {
				stored[f.head.ID] = *f.updated
			}
		}
		s.stats.Incidents += int64(len(batch))
		fmt.Fprintf(s.progress, "pagerduty: %s…%s: page %d, %d incidents\n", ws.Format("2006-01-02"), we.Format("2006-01-02"), n, len(batch))
		if !p.More || len(p.Incidents) == 0 {
			return nil
		}
		offset += len(p.Incidents)
		if offset+s.cfg.PageSize > maxOffset {
			if !last.After(since) {
				return fmt.Errorf("pagerduty: more than %d incidents were created at %s; cannot page past them", maxOffset, since.Format(time.RFC3339))
			}
			since, offset = last, 0
		}
	}
}

// incident reads one incident of a list answer and says whether its log
// entries must be read: it is new, or its updated_at moved.
func (s *Source) incident(raw json.RawMessage, stored map[string]time.Time) (fetched, error) {
	f := fetched{raw: raw}
	if err := json.Unmarshal(raw, &f.head); err != nil {
		return f, fmt.Errorf("not an incident object: %v", err)
	}
	if f.head.ID == "" {
		return f, fmt.Errorf("the incident has no id")
	}
	t, err := time.Parse(time.RFC3339, f.head.CreatedAt)
	if err != nil {
		return f, fmt.Errorf("%s: created_at %q is not an RFC 3339 time", f.head.ID, f.head.CreatedAt)
	}
	f.created = t.UTC()
	if f.head.UpdatedAt != "" {
		u, err := time.Parse(time.RFC3339, f.head.UpdatedAt)
		if err != nil {
			return f, fmt.Errorf("%s: updated_at %q is not an RFC 3339 time", f.head.ID, f.head.UpdatedAt)
		}
		u = u.UTC()
		f.updated = &u
		if prev, ok := stored[f.head.ID]; ok && prev.Equal(u) {
			return f, nil
		}
	}
	f.reloaded = true
	return f, nil
}

// readLogEntries reads the log entries of the incidents of a page that need
// them, a few at a time: one request per incident is the cost of the
// source, and the API answers each in tens to hundreds of milliseconds.
// The first failure is returned (after the requests in flight end).
func (s *Source) readLogEntries(ctx context.Context, batch []fetched) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var (
		wg    sync.WaitGroup
		mu    sync.Mutex
		first error
	)
	sem := make(chan struct{}, s.workers)
	for i := range batch {
		if !batch[i].reloaded {
			continue
		}
		sem <- struct{}{}
		wg.Add(1)
		go func(f *fetched) {
			defer func() { <-sem; wg.Done() }()
			entries, err := s.logEntries(ctx, f.head.ID)
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				if first == nil {
					first = err
					cancel()
				}
				return
			}
			f.entries = entries
			s.stats.LogEntries += int64(len(entries))
		}(&batch[i])
	}
	wg.Wait()
	return first
}

// logEntries reads the overview log entries of one incident (trigger,
// acknowledge, assign, escalate, resolve …), every page.
func (s *Source) logEntries(ctx context.Context, id string) ([]json.RawMessage, error) {
	var out []json.RawMessage
	for offset := 0; ; {
		q := url.Values{}
		q.Set("is_overview", "true")
		q.Set("time_zone", "UTC")
		q.Set("limit", "100")
		q.Set("offset", strconv.Itoa(offset))
		var p page
		if err := s.client.get(ctx, "incidents/"+url.PathEscape(id)+"/log_entries", q, &p); err != nil {
			return nil, fmt.Errorf("%w (log entries of incident %s)", err, id)
		}
		out = append(out, p.LogEntries...)
		offset += len(p.LogEntries)
		if !p.More || len(p.LogEntries) == 0 || offset >= maxOffset {
			return out, nil
		}
	}
}

// pageRow and entryRow are how a page travels to DuckDB: one JSON document
// parsed once there, rather than many bound parameters.
type pageRow struct {
	ID        string          `json:"id"`
	CreatedAt string          `json:"created_at"`
	UpdatedAt *string         `json:"updated_at"`
	Reloaded  bool            `json:"reloaded"`
	Payload   json.RawMessage `json:"payload"`
}

type entryRow struct {
	IncidentID string          `json:"incident_id"`
	ID         string          `json:"id"`
	Type       string          `json:"type"`
	CreatedAt  string          `json:"created_at"`
	Payload    json.RawMessage `json:"payload"`
}

// writePage stores one page in one transaction: each incident replaces its
// row (a webhook's copy included), and the log entries read again replace
// the incident's stored API log entries (webhook events are kept).
func writePage(ctx context.Context, db *warehouse.DB, batch []fetched, now time.Time) error {
	if len(batch) == 0 {
		return nil
	}
	rows := make([]pageRow, 0, len(batch))
	var entries []entryRow
	for _, f := range batch {
		r := pageRow{ID: f.head.ID, CreatedAt: f.created.Format(time.RFC3339Nano), Reloaded: f.reloaded, Payload: f.raw}
		if f.updated != nil {
			u := f.updated.Format(time.RFC3339Nano)
			r.UpdatedAt = &u
		}
		rows = append(rows, r)
		for i, e := range f.entries {
			var h logEntryHead
			if err := json.Unmarshal(e, &h); err != nil || h.ID == "" || h.Type == "" {
				return fmt.Errorf("pagerduty: log entry %d of incident %s has no id or type", i+1, f.head.ID)
			}
			t, err := time.Parse(time.RFC3339, h.CreatedAt)
			if err != nil {
				return fmt.Errorf("pagerduty: log entry %s of incident %s: created_at %q is not an RFC 3339 time", h.ID, f.head.ID, h.CreatedAt)
			}
			entries = append(entries, entryRow{IncidentID: f.head.ID, ID: h.ID, Type: h.Type, CreatedAt: t.UTC().Format(time.RFC3339Nano), Payload: e})
		}
	}
	pageJSON, err := json.Marshal(rows)
	if err != nil {
		return err
	}
	if entries == nil {
		entries = []entryRow{}
	}
	entriesJSON, err := json.Marshal(entries)
	if err != nil {
		return err
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
	ts := warehouse.QuoteString(now.UTC().Format(time.RFC3339Nano)) + "::TIMESTAMPTZ"
	steps := []struct {
		sql  string
		args []any
	}{
		{`CREATE OR REPLACE TEMP TABLE pd_page AS SELECT unnest(from_json(?,
			'[{"id":"VARCHAR","created_at":"VARCHAR","updated_at":"VARCHAR","reloaded":"BOOLEAN","payload":"JSON"}]'), recursive := true)`,
			[]any{string(pageJSON)}},
		{`CREATE OR REPLACE TEMP TABLE pd_entries AS SELECT unnest(from_json(?,
			'[{"incident_id":"VARCHAR","id":"VARCHAR","type":"VARCHAR","created_at":"VARCHAR","payload":"JSON"}]'), recursive := true)`,
			[]any{string(entriesJSON)}},
		{`DELETE FROM raw_pagerduty_incidents WHERE id IN (SELECT id FROM pd_page)`, nil},
		{`INSERT INTO raw_pagerduty_incidents (id, created_at, updated_at, origin, payload, fetched_at)
			SELECT id, created_at::TIMESTAMPTZ, updated_at::TIMESTAMPTZ, 'api', payload, ` + ts + ` FROM pd_page`, nil},
		{`DELETE FROM raw_pagerduty_log_entries WHERE origin = 'api' AND incident_id IN (SELECT id FROM pd_page WHERE reloaded)`, nil},
		{`INSERT INTO raw_pagerduty_log_entries (incident_id, id, type, created_at, origin, payload, fetched_at)
			SELECT incident_id, id, type, created_at::TIMESTAMPTZ, 'api', payload, ` + ts + ` FROM pd_entries`, nil},
		{`DROP TABLE temp.pd_page`, nil},
		{`DROP TABLE temp.pd_entries`, nil},
	}
	for _, st := range steps {
		if _, err := tx.ExecContext(ctx, st.sql, st.args...); err != nil {
			return fmt.Errorf("pagerduty: store page: %w", err)
		}
	}
	return tx.Commit()
}
