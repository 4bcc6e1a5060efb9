package cdevents

import (
	"bufio"
	"bytes"
	"context"
	"database/sql"
	"embed"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync/atomic"
	"time"

	"github.com/shiplog/shiplog/ingest"
	"github.com/shiplog/shiplog/internal/canonical"
	"github.com/shiplog/shiplog/internal/config"
	"github.com/shiplog/shiplog/internal/warehouse"
)

var (
	_ ingest.Source = (*Source)(nil)
	_ ingest.Mapper = (*Source)(nil)
)

// Source stores CDEvents and maps them. As an ingest.Source it loads the
// JSON Lines files of sources.cdevents.paths (or those given to
// WithFiles); StoreEvents is what `shiplog serve` calls per request.
type Source struct {
	cfg       config.CDEvents
	files     []string
	validator *Validator
	now       func() time.Time
	mode      mapMode
	keyed     atomic.Int64 // keyed mappings run (tests check the path they prove)
	// Stats of the last Sync.
	Read, Written, Ignored int64
}

// Option changes how a Source works.
type Option func(*Source)

// WithFiles sets the JSON Lines files Sync loads, in place of the
// configured paths.
func WithFiles(paths ...string) Option { return func(s *Source) { s.files = paths } }

// WithClock sets the clock of received_at.
func WithClock(now func() time.Time) Option { return func(s *Source) { s.now = now } }

// New checks cfg (nil: the defaults) and returns a Source.
func New(cfg *Config, opts ...Option) (*Source, error) {
	c := Config{}
	if cfg != nil {
		c = *cfg
	}
	c.ApplyDefaults()
	if err := c.Validate(); err != nil {
		return nil, err
	}
	s := &Source{cfg: c, files: c.Paths, validator: NewValidator(), now: time.Now}
	for _, o := range opts {
		o(s)
	}
	return s, nil
}

// Name returns "cdevents".
func (s *Source) Name() string { return Name }

// Target lists the files read, for ingest_runs.target.
func (s *Source) Target() string { return strings.Join(s.files, " ") }

// Validator returns the schema validator in use.
func (s *Source) Validator() *Validator { return s.validator }

// Sync reads every file (globs expanded), checks every event, and stores
// them all in one transaction: a bad event anywhere fails the run with its
// file, line and field, and nothing is written.
func (s *Source) Sync(ctx context.Context, env *ingest.Env) error {
	if env.Now != nil {
		s.now = env.Now
	}
	progress := env.Progress
	if progress == nil {
		progress = io.Discard
	}
	var events []Event
	for _, p := range s.files {
		paths := []string{p}
		if strings.ContainsAny(p, "*?[") {
			m, err := filepath.Glob(p)
			if err != nil {
				return fmt.Errorf("cdevents: %s: %w", p, err)
			}
			if len(m) == 0 {
				return fmt.Errorf("cdevents: %s: no file matches", p)
			}
			paths = m
		}
		for _, path := range paths {
			evs, err := ReadFile(path)
			if err != nil {
				return err
			}
			events = append(events, evs...)
		}
	}
	if len(events) == 0 {
		return fmt.Errorf("cdevents: no events in %s", s.Target())
	}
	keep, ignored, err := s.validator.Accepted(events)
	if err != nil {
		return fmt.Errorf("cdevents: %w", err)
	}
	n, err := s.StoreEvents(ctx, env.DB, keep)
	if err != nil {
		return err
	}
	s.Read, s.Written, s.Ignored = int64(len(events)), n, int64(ignored)
	if env.Run != nil {
		env.Run.Read += int64(len(events))
		env.Run.Written += n
	}
	fmt.Fprintf(progress, "cdevents: %d events read, %d new, %d already stored, %d of types shiplog does not map\n",
		len(events), n, int64(len(keep))-n, ignored)
	return nil
}

// ReadFile reads a JSON Lines file of CDEvents: one CloudEvent in
// structured mode, or one bare CDEvent, per line. Blank lines are skipped.
// Errors name the file and line.
func ReadFile(path string) ([]Event, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("cdevents: %w", err)
	}
	defer f.Close()
	return ReadLines(f, path)
}

// ReadLines reads JSON Lines from r; name is used in errors ("name:LINE").
func ReadLines(r io.Reader, name string) ([]Event, error) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 1<<20), 16<<20)
	var out []Event
	for line := 1; sc.Scan(); line++ {
		b := bytes.TrimSpace(sc.Bytes())
		if len(b) == 0 {
			continue
		}
		where := fmt.Sprintf("%s:%d", name, line)
		ev, err := ParseLine(append([]byte(nil), b...), where)
		if err != nil {
			return nil, fmt.Errorf("cdevents: %w", err)
		}
		ev.Origin = where
		out = append(out, ev)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("cdevents: %s: %w", name, err)
	}
	return out, nil
}

// rawRow is how events travel to DuckDB: one JSON document per batch.
type rawRow struct {
	Source    string          `json:"source"`
	ID        string          `json:"id"`
	Type      string          `json:"type"`
	SubjectID string          `json:"subject_id"`
	Timestamp string          `json:"timestamp"`
	Origin    string          `json:"origin"`
	Payload   json.RawMessage `json:"payload"`
}

// StoreEvents writes checked events into raw_cdevents, leaving out those
// whose source and id are stored already, and maps what they change into
// the canonical rows, in one transaction. It returns how many events were
// new. A delivery that adds few events to many stored ones maps only the
// rows those events can change (mapKeyedTx); a large load, or rows built
// by other rules or settings, maps in full (mapTx).
func (s *Source) StoreEvents(ctx context.Context, db *warehouse.DB, events []Event) (int64, error) {
	var n int64
	err := s.StoreGroup(ctx, db, [][]Event{events}, func(_ context.Context, _ *sql.Conn, news []int64) error {
		n = news[0]
		return nil
	})
	return n, err
}

// StoreGroup stores the events of several deliveries as StoreEvents
// stores one delivery's, in one transaction and with one mapping for all
// of them: `shiplog serve` commits the deliveries queued at a moment
// together. An event is new for the first delivery of the group that
// carries it, and for no other. inTx runs inside the transaction, on its
// connection, just before the commit, with how many events were new for
// each delivery (in the order given); its error rolls everything back.
func (s *Source) StoreGroup(ctx context.Context, db *warehouse.DB, deliveries [][]Event,
	inTx func(ctx context.Context, conn *sql.Conn, news []int64) error) error {
	var rows []rawRow
	owner := map[string]int{} // an event's key → the delivery it is new for
	for d, events := range deliveries {
		for _, ev := range events {
			if _, ok := owner[ev.Key()]; ok {
				continue
			}
			owner[ev.Key()] = d
			var head struct {
				Context struct {
					Timestamp time.Time `json:"timestamp"`
				} `json:"context"`
				Subject struct {
					ID string `json:"id"`
				} `json:"subject"`
			}
			if err := json.Unmarshal(ev.Data, &head); err != nil {
				return &Error{Where: ev.Where, Field: "context.timestamp", Msg: err.Error()}
			}
			rows = append(rows, rawRow{Source: ev.Source, ID: ev.ID, Type: ev.Type, SubjectID: head.Subject.ID,
				Timestamp: head.Context.Timestamp.UTC().Format(time.RFC3339Nano), Origin: ev.Origin, Payload: ev.Data})
		}
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
	news := make([]int64, len(deliveries))
	var n int64
	if len(rows) > 0 {
		doc, err := json.Marshal(rows)
		if err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `CREATE OR REPLACE TEMP TABLE cdevents_batch AS SELECT unnest(from_json(?,
			'[{"source":"VARCHAR","id":"VARCHAR","type":"VARCHAR","subject_id":"VARCHAR","timestamp":"VARCHAR","origin":"VARCHAR","payload":"JSON"}]'), recursive := true)`,
			string(doc)); err != nil {
			return fmt.Errorf("cdevents: store: %w", err)
		}
		if _, err := tx.ExecContext(ctx, `CREATE OR REPLACE TEMP TABLE cdevents_new AS
			SELECT b.source, b.id FROM cdevents_batch b
			WHERE NOT EXISTS (SELECT 1 FROM raw_cdevents r WHERE r.source = b.source AND r.id = b.id)`); err != nil {
			return fmt.Errorf("cdevents: store: %w", err)
		}
		res, err := tx.ExecContext(ctx, `INSERT INTO raw_cdevents (source, id, type, subject_id, timestamp, payload, origin, received_at)
			SELECT b.source, b.id, b.type, b.subject_id, b.timestamp::TIMESTAMPTZ, b.payload, b.origin, ?
			FROM cdevents_batch b
			WHERE NOT EXISTS (SELECT 1 FROM raw_cdevents r WHERE r.source = b.source AND r.id = b.id)`, s.now().UTC())
		if err != nil {
			return fmt.Errorf("cdevents: store: %w", err)
		}
		n, _ = res.RowsAffected()
		if _, err := tx.ExecContext(ctx, `DROP TABLE temp.cdevents_batch`); err != nil {
			return err
		}
		if len(deliveries) == 1 {
			news[0] = n
		} else if n > 0 {
			// which delivery each new event is new for
			keys, err := tx.QueryContext(ctx, `SELECT source, id FROM temp.cdevents_new`)
			if err != nil {
				return fmt.Errorf("cdevents: store: %w", err)
			}
			for keys.Next() {
				var src, id string
				if err := keys.Scan(&src, &id); err != nil {
					keys.Close()
					return err
				}
				news[owner[Event{Source: src, ID: id}.Key()]]++
			}
			keys.Close()
			if err := keys.Err(); err != nil {
				return err
			}
		}
	}
	if n > 0 {
		if err := s.mapStored(ctx, tx, n); err != nil {
			return err
		}
	}
	if len(rows) > 0 {
		if _, err := tx.ExecContext(ctx, `DROP TABLE IF EXISTS temp.cdevents_new`); err != nil {
			return err
		}
	}
	if inTx != nil {
		if err := inTx(ctx, conn, news); err != nil {
			return err
		}
	}
	return tx.Commit()
}

// mappingSQL holds the raw → canonical SQL, run in file-name order:
// macros, staging, then one file per canonical table.
//
//go:embed sql/*.sql
var mappingSQL embed.FS

// Tables are the canonical tables Map rebuilds (rows WHERE source = 'cdevents').
var Tables = []string{"deployments", "incidents", "changes"}

// Map rebuilds the CDEvents rows of deployments, incidents and changes from
// raw_cdevents in one transaction.
func (s *Source) Map(ctx context.Context, db *warehouse.DB) error {
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
	if err := s.mapTx(ctx, tx); err != nil {
		return err
	}
	return tx.Commit()
}

// mapTx is the full mapping: every stored event is mapped again and the
// source's rows of Tables are replaced. It also rebuilds the keys the
// keyed mapping looks events up by, and records the fingerprint of the
// rules and settings the rows were built with.
func (s *Source) mapTx(ctx context.Context, tx *sql.Tx) error {
	if err := writeSettings(ctx, tx, &s.cfg); err != nil {
		return fmt.Errorf("cdevents: mapping settings: %w", err)
	}
	if err := runModels(ctx, tx, `SELECT * FROM raw_cdevents`); err != nil {
		return err
	}
	// every row of the source is rewritten: the log of canonical writes
	// carries the change of the digests
	err := canonical.RewriteSource(ctx, tx, Name, Tables, func() error {
		for _, q := range []string{
			`DELETE FROM deployments WHERE source = 'cdevents'`,
			`INSERT INTO deployments SELECT * EXCLUDE (ce_source, ce_id) FROM cdevents_out_deployments`,
			`DELETE FROM incidents WHERE source = 'cdevents'`,
			`INSERT INTO incidents SELECT * FROM cdevents_out_incidents`,
			`DELETE FROM changes WHERE source = 'cdevents'`,
			`INSERT INTO changes SELECT * FROM cdevents_out_changes`,
		} {
			if _, err := tx.ExecContext(ctx, q); err != nil {
				return fmt.Errorf("cdevents: mapping: %w", err)
			}
		}
		return nil
	})
	if err != nil {
		return err
	}
	for _, q := range []string{
		`DELETE FROM cdevents_event_keys`,
		`INSERT INTO cdevents_event_keys SELECT ce_source, ce_id, event, subject_id, chain_id, linked_ids FROM stg_cdevents__events`,
	} {
		if _, err := tx.ExecContext(ctx, q); err != nil {
			return fmt.Errorf("cdevents: mapping: %w", err)
		}
	}
	fp, err := s.fingerprint()
	if err != nil {
		return err
	}
	if _, err := tx.ExecContext(ctx, `INSERT OR REPLACE INTO mapping_state (source, fingerprint, mapped_at) VALUES ('cdevents', ?, ?)`,
		fp, s.now().UTC()); err != nil {
		return fmt.Errorf("cdevents: mapping state: %w", err)
	}
	return dropTemps(ctx, tx)
}

// runModels maps the events the query raw selects from raw_cdevents
// (all of them, or those a delivery can change) into the temporary tables
// cdevents_out_deployments, cdevents_out_incidents and cdevents_out_changes,
// by running the SQL of sql/ in file-name order. The settings tables must
// be written first.
func runModels(ctx context.Context, tx *sql.Tx, raw string) error {
	for _, q := range []string{
		`CREATE OR REPLACE TEMP VIEW cdevents_raw AS ` + raw,
		`CREATE OR REPLACE TEMP TABLE cdevents_out_deployments AS
			SELECT *, NULL::VARCHAR AS ce_source, NULL::VARCHAR AS ce_id FROM deployments LIMIT 0`,
		`CREATE OR REPLACE TEMP TABLE cdevents_out_incidents AS SELECT * FROM incidents LIMIT 0`,
		`CREATE OR REPLACE TEMP TABLE cdevents_out_changes AS SELECT * FROM changes LIMIT 0`,
	} {
		if _, err := tx.ExecContext(ctx, q); err != nil {
			return fmt.Errorf("cdevents: mapping: %w", err)
		}
	}
	names, err := fs.Glob(mappingSQL, "sql/*.sql")
	if err != nil {
		return err
	}
	sort.Strings(names)
	for _, name := range names {
		body, err := fs.ReadFile(mappingSQL, name)
		if err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, string(body)); err != nil {
			return fmt.Errorf("cdevents: mapping %s: %w", name, err)
		}
	}
	return nil
}

// temps are the temporary objects a mapping leaves on its connection.
var temps = []struct{ kind, name string }{
	{"VIEW", "cdevents_incident_events"}, {"VIEW", "cdevents_change_events"},
	{"TABLE", "stg_cdevents__events"}, {"VIEW", "cdevents_raw"},
	{"TABLE", "cdevents_out_deployments"}, {"TABLE", "cdevents_out_incidents"}, {"TABLE", "cdevents_out_changes"},
	{"TABLE", "cdevents_services"}, {"TABLE", "cdevents_environments"}, {"TABLE", "cdevents_pipelines"}, {"TABLE", "cdevents_conf"},
}

func dropTemps(ctx context.Context, tx *sql.Tx) error {
	for _, t := range temps {
		if _, err := tx.ExecContext(ctx, "DROP "+t.kind+" IF EXISTS temp."+t.name); err != nil {
			return err
		}
	}
	return nil
}

// writeSettings puts the configuration the SQL reads into temporary
// tables; keys are trimmed and in lower case (compared case-insensitively).
func writeSettings(ctx context.Context, tx *sql.Tx, c *Config) error {
	for _, q := range []string{
		`CREATE OR REPLACE TEMP TABLE cdevents_services (key VARCHAR, value VARCHAR)`,
		`CREATE OR REPLACE TEMP TABLE cdevents_environments (key VARCHAR, value VARCHAR)`,
		`CREATE OR REPLACE TEMP TABLE cdevents_pipelines (name VARCHAR, service VARCHAR, environment VARCHAR)`,
		`CREATE OR REPLACE TEMP TABLE cdevents_conf (default_severity VARCHAR)`,
	} {
		if _, err := tx.ExecContext(ctx, q); err != nil {
			return err
		}
	}
	for table, m := range map[string]map[string]string{"cdevents_services": c.Services, "cdevents_environments": c.Environments} {
		for k, v := range m {
			if _, err := tx.ExecContext(ctx, `INSERT INTO `+table+` VALUES (?, ?)`, strings.ToLower(strings.TrimSpace(k)), strings.TrimSpace(v)); err != nil {
				return err
			}
		}
	}
	for name, p := range c.Pipelines {
		if _, err := tx.ExecContext(ctx, `INSERT INTO cdevents_pipelines VALUES (?, ?, ?)`,
			strings.ToLower(strings.TrimSpace(name)), strings.TrimSpace(p.Service), strings.TrimSpace(p.Environment)); err != nil {
			return err
		}
	}
	_, err := tx.ExecContext(ctx, `INSERT INTO cdevents_conf VALUES (?)`, c.DefaultSeverity)
	return err
}

// CanonicalCounts returns how many rows the source has in each of Tables.
func CanonicalCounts(ctx context.Context, db *warehouse.DB) (map[string]int64, error) {
	out := map[string]int64{}
	for _, t := range Tables {
		var n int64
		if err := db.QueryRowContext(ctx, `SELECT count(*) FROM `+warehouse.QuoteIdent(t)+` WHERE source = 'cdevents'`).Scan(&n); err != nil {
			return nil, err
		}
		out[t] = n
	}
	return out, nil
}

// Ingest is one whole recorded run (`shiplog ingest cdevents`, `ingest
// --all`, scheduled runs in `serve`): a row in ingest_runs, Sync, and the
// row finished as success or failed.
func (s *Source) Ingest(ctx context.Context, db *warehouse.DB, progress io.Writer) (*ingest.RunRecord, error) {
	return ingest.Run(ctx, s, &ingest.Env{DB: db, Progress: progress, Now: s.now})
}

// IsDataError reports whether err is about the events (a bad event or
// file content) rather than the warehouse.
func IsDataError(err error) bool {
	var e *Error
	return errors.As(err, &e)
}
