package cdevents

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io/fs"
	"sort"
	"strings"

	"github.com/shiplog/shiplog/internal/canonical"
	"github.com/shiplog/shiplog/internal/warehouse"
)

// Keyed mapping. A delivery of a few events into many stored ones maps
// only the canonical rows those events can change, by running the same
// SQL as the full mapping (runModels) over the stored events those rows
// are built from. What a row is built from, read off the SQL in sql/:
//
//   - an incident: the events of its subject (cdevents_incident_events);
//   - a change: the change.merged events of its subject
//     (cdevents_change_events);
//   - a deployment (one per service event, or per pipelinerun.finished of
//     a configured pipeline whose chain has no service event): its event;
//     every event of its context.chainId (the run's status, url and
//     pipeline, and whether a pipeline run is a deployment at all); the
//     change.merged events its links point to; every event with the same
//     id (two sources using one id make it SOURCE#ID); and, for
//     rollback_of, the deployment before it of its service and
//     environment.
//
// So new events change: the incidents and changes of their subjects; the
// deployments of the events themselves, of every event sharing a chain
// with them, of the service events linking to them, and of every event
// sharing an id with those (D0); and the deployment that follows, in its
// service and environment, each old and new place of a D0 row (its
// rollback_of may point elsewhere now). Those rows (W) are deleted and
// mapped again from a read set closed under the same relations (chain,
// id, links) that also holds the deployment before each of them, so that
// every row the SQL builds from it is built exactly as from all events.
//
// The full mapping stays the reference: it runs instead when the rows
// were built by other rules or settings (mapping_state), and when the new
// events are many compared with those stored (keyedShare), where mapping
// all is cheaper than looking keys up.

// mapMode says how StoreEvents maps what it stored.
type mapMode int

const (
	mapAuto  mapMode = iota // keyed for small deliveries, else full
	mapKeyed                // keyed whenever the stored rows allow it
	mapFull                 // always the full mapping
)

// keyedShare: StoreEvents maps in full when the new events are more than
// 1/keyedShare of all stored ones (a first load, a large file).
const keyedShare = 10

// mapStored maps after StoreEvents stored n new events, listed in the
// temporary table cdevents_new.
func (s *Source) mapStored(ctx context.Context, tx *sql.Tx, n int64) error {
	mode := s.mode
	if mode == mapAuto {
		var stored int64
		if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM raw_cdevents`).Scan(&stored); err != nil {
			return err
		}
		mode = mapKeyed
		if n*keyedShare > stored {
			mode = mapFull
		}
	}
	if mode == mapKeyed {
		fp, err := s.fingerprint()
		if err != nil {
			return err
		}
		var last string
		err = tx.QueryRowContext(ctx, `SELECT fingerprint FROM mapping_state WHERE source = 'cdevents'`).Scan(&last)
		if err != nil && err != sql.ErrNoRows {
			return err
		}
		if last != fp {
			// Rows built by other rules or settings (or never mapped):
			// a keyed mapping would mix them with new ones.
			mode = mapFull
		}
	}
	if mode == mapFull {
		return s.mapTx(ctx, tx)
	}
	return s.mapKeyedTx(ctx, tx)
}

// fingerprint identifies the mapping rules (the SQL) and the settings
// they read.
func (s *Source) fingerprint() (string, error) {
	h := sha256.New()
	names, err := fs.Glob(mappingSQL, "sql/*.sql")
	if err != nil {
		return "", err
	}
	sort.Strings(names)
	for _, name := range names {
		body, err := fs.ReadFile(mappingSQL, name)
		if err != nil {
			return "", err
		}
		fmt.Fprintf(h, "%s %d\n%s\n", name, len(body), body)
	}
	settings, err := json.Marshal(struct {
		Services, Environments map[string]string
		Pipelines              any
		DefaultSeverity        string
	}{s.cfg.Services, s.cfg.Environments, s.cfg.Pipelines, s.cfg.DefaultSeverity})
	if err != nil {
		return "", err
	}
	h.Write(settings)
	return hex.EncodeToString(h.Sum(nil)), nil
}

// keyedTemps are the temporary tables of mapKeyedTx.
var keyedTemps = []string{"cdevents_k_inc", "cdevents_k_chg", "cdevents_k_d0", "cdevents_k_read", "cdevents_k_new",
	"cdevents_k_old", "cdevents_k_order", "cdevents_k_succ", "cdevents_k_w", "cdevents_k_x", "cdevents_k_wc"}

// rawOf returns the query runModels maps in a keyed run: the stored
// events whose keys the table keys lists. The ids are spelled out so that
// DuckDB filters the id column while scanning and reads the payloads of
// those rows only; a join would read every payload.
func rawOf(ctx context.Context, tx *sql.Tx, keys string) (string, error) {
	rows, err := tx.QueryContext(ctx, `SELECT DISTINCT id FROM `+keys+` ORDER BY id`)
	if err != nil {
		return "", err
	}
	defer rows.Close()
	var ids []string
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			return "", err
		}
		ids = append(ids, warehouse.QuoteString(id))
	}
	if err := rows.Err(); err != nil {
		return "", err
	}
	if len(ids) == 0 {
		ids = []string{"NULL"}
	}
	return `SELECT r.* FROM raw_cdevents r WHERE r.id IN (` + strings.Join(ids, ", ") + `)
		AND EXISTS (SELECT 1 FROM ` + keys + ` k WHERE k.source = r.source AND k.id = r.id)`, nil
}

// mapKeys runs runModels over the stored events keys lists.
func mapKeys(ctx context.Context, tx *sql.Tx, keys string) error {
	raw, err := rawOf(ctx, tx, keys)
	if err != nil {
		return err
	}
	return runModels(ctx, tx, raw)
}

// mapKeyedTx maps the rows the events in cdevents_new can change (see the
// comment at the top of this file).
func (s *Source) mapKeyedTx(ctx context.Context, tx *sql.Tx) error {
	exec := func(qs ...string) error {
		for _, q := range qs {
			if _, err := tx.ExecContext(ctx, q); err != nil {
				return fmt.Errorf("cdevents: keyed mapping: %w\n%s", err, q)
			}
		}
		return nil
	}
	if err := writeSettings(ctx, tx, &s.cfg); err != nil {
		return fmt.Errorf("cdevents: mapping settings: %w", err)
	}
	// 1. Stage the new events alone: their keys, and the incidents and
	// changes they feed.
	if err := mapKeys(ctx, tx, "cdevents_new"); err != nil {
		return err
	}
	if err := exec(
		`INSERT INTO cdevents_event_keys SELECT ce_source, ce_id, event, subject_id, chain_id, linked_ids FROM stg_cdevents__events`,
		`CREATE OR REPLACE TEMP TABLE cdevents_k_inc AS SELECT DISTINCT subject_id AS id FROM cdevents_incident_events`,
		`CREATE OR REPLACE TEMP TABLE cdevents_k_chg AS SELECT DISTINCT subject_id AS id FROM cdevents_change_events`,
		// 2. D0: deployments whose own row can change.
		`CREATE OR REPLACE TEMP TABLE cdevents_k_d0 AS
		WITH n AS (
			SELECT k.* FROM cdevents_event_keys k SEMI JOIN cdevents_new n ON n.source = k.source AND n.id = k.id
		),
		d AS (
			SELECT source, id FROM n
			UNION
			SELECT k.source, k.id FROM cdevents_event_keys k WHERE k.chain_id IN (SELECT chain_id FROM n)
			UNION
			SELECT k.source, k.id FROM cdevents_event_keys k WHERE list_has_any(k.linked_ids, (SELECT list(id) FROM n))
		)
		SELECT source, id FROM d
		UNION
		SELECT k.source, k.id FROM cdevents_event_keys k WHERE k.id IN (SELECT id FROM d)`,
	); err != nil {
		return err
	}
	// 3. Map D0 from its closure: the new places of its rows.
	if err := s.closeReadSet(ctx, tx, `SELECT source, id FROM cdevents_k_d0`); err != nil {
		return err
	}
	if err := mapKeys(ctx, tx, "cdevents_k_read"); err != nil {
		return err
	}
	// 4. Places: NEW, the D0 rows as they will be; OLD, as they are now;
	// ORDER, the deployments of the partitions (service, environment) they
	// touch once this delivery is written. SUCC: the row after each old
	// and new place, whose predecessor may have changed. W = D0 + SUCC.
	// X = W + the row before each place in W.
	if err := exec(
		`CREATE OR REPLACE TEMP TABLE cdevents_k_new AS
		SELECT o.ce_source AS source, o.id, lower(o.service) AS svc, lower(o.environment) AS env, o.finished_at
		FROM cdevents_out_deployments o SEMI JOIN cdevents_k_d0 d ON d.source = o.ce_source AND d.id = o.ce_id`,
		`CREATE OR REPLACE TEMP TABLE cdevents_k_wc AS
		SELECT source, id AS cid FROM cdevents_k_d0 UNION SELECT source, source || '#' || id FROM cdevents_k_d0`,
		`CREATE OR REPLACE TEMP TABLE cdevents_k_old AS
		SELECT c.source, x.id, lower(x.service) AS svc, lower(x.environment) AS env, x.finished_at
		FROM deployments x JOIN cdevents_k_wc c ON c.cid = x.id
		WHERE x.source = 'cdevents' AND json_extract_string(x.extra, '$.cdevents_source') = c.source`,
		`CREATE OR REPLACE TEMP TABLE cdevents_k_order AS
		WITH parts AS (SELECT DISTINCT svc, env FROM (SELECT svc, env FROM cdevents_k_old UNION ALL SELECT svc, env FROM cdevents_k_new)),
		rows AS (
			SELECT x.id, lower(x.service) AS svc, lower(x.environment) AS env, x.finished_at, x.extra
			FROM deployments x JOIN parts p ON p.svc IS NOT DISTINCT FROM lower(x.service) AND p.env IS NOT DISTINCT FROM lower(x.environment)
			WHERE x.source = 'cdevents'
		)
		SELECT json_extract_string(r.extra, '$.cdevents_source') AS source, r.id, r.svc, r.env, r.finished_at FROM rows r
		WHERE NOT EXISTS (SELECT 1 FROM cdevents_k_old o WHERE o.id = r.id AND o.source = json_extract_string(r.extra, '$.cdevents_source'))
		UNION ALL
		SELECT * FROM cdevents_k_new`,
		`CREATE OR REPLACE TEMP TABLE cdevents_k_succ AS
		SELECT DISTINCT source, id, svc, env, finished_at FROM (
			SELECT o.*, row_number() OVER (PARTITION BY p.source, p.id, p.finished_at ORDER BY o.finished_at, o.id) AS n
			FROM (SELECT * FROM cdevents_k_old UNION SELECT * FROM cdevents_k_new) p
			JOIN cdevents_k_order o ON o.svc IS NOT DISTINCT FROM p.svc AND o.env IS NOT DISTINCT FROM p.env
				AND (o.finished_at > p.finished_at OR (o.finished_at = p.finished_at AND o.id > p.id))
		) WHERE n = 1`,
		`CREATE OR REPLACE TEMP TABLE cdevents_k_w AS
		SELECT source, id FROM cdevents_k_d0
		UNION
		SELECT k.source, k.id FROM cdevents_event_keys k SEMI JOIN (`+rowKeys("cdevents_k_succ")+`) c
			ON c.source = k.source AND c.id = k.id`,
		`CREATE OR REPLACE TEMP TABLE cdevents_k_x AS
		WITH places AS (SELECT * FROM cdevents_k_new UNION SELECT * FROM cdevents_k_succ),
		pred AS (
			SELECT DISTINCT source, id FROM (
				SELECT o.source, o.id, row_number() OVER (PARTITION BY p.source, p.id, p.finished_at ORDER BY o.finished_at DESC, o.id DESC) AS n
				FROM places p
				JOIN cdevents_k_order o ON o.svc IS NOT DISTINCT FROM p.svc AND o.env IS NOT DISTINCT FROM p.env
					AND (o.finished_at < p.finished_at OR (o.finished_at = p.finished_at AND o.id < p.id))
			) WHERE n = 1
		)
		SELECT source, id FROM cdevents_k_w
		UNION
		SELECT k.source, k.id FROM cdevents_event_keys k SEMI JOIN (`+rowKeys("pred")+`) c
			ON c.source = k.source AND c.id = k.id`,
	); err != nil {
		return err
	}
	// 5. Map W, the incidents and the changes from the closure of X and
	// of their subjects' events, and write them.
	if err := s.closeReadSet(ctx, tx, `SELECT source, id FROM cdevents_k_x
		UNION SELECT source, id FROM cdevents_event_keys WHERE subject_id IN (SELECT id FROM cdevents_k_inc UNION SELECT id FROM cdevents_k_chg)`); err != nil {
		return err
	}
	if err := mapKeys(ctx, tx, "cdevents_k_read"); err != nil {
		return err
	}
	if err := exec(
		`CREATE OR REPLACE TEMP TABLE cdevents_k_wc AS
		SELECT source, id AS cid FROM cdevents_k_w UNION SELECT source, source || '#' || id FROM cdevents_k_w`,
		// the change of the digests: the rows about to be replaced …
		canonical.DeltaSQL("deployments", -1, keyedDeployments),
		canonical.DeltaSQL("incidents", -1, keyedIncidents),
		canonical.DeltaSQL("changes", -1, keyedChanges),
		`DELETE FROM deployments WHERE source = 'cdevents' AND id IN (SELECT cid FROM cdevents_k_wc)
			AND EXISTS (SELECT 1 FROM cdevents_k_wc c WHERE c.cid = deployments.id AND c.source = json_extract_string(deployments.extra, '$.cdevents_source'))`,
		`INSERT INTO deployments SELECT o.* EXCLUDE (ce_source, ce_id) FROM cdevents_out_deployments o
			SEMI JOIN cdevents_k_w w ON w.source = o.ce_source AND w.id = o.ce_id`,
		`DELETE FROM incidents WHERE source = 'cdevents' AND id IN (SELECT id FROM cdevents_k_inc)`,
		`INSERT INTO incidents SELECT * FROM cdevents_out_incidents WHERE id IN (SELECT id FROM cdevents_k_inc)`,
		`DELETE FROM changes WHERE source = 'cdevents' AND id IN (SELECT id FROM cdevents_k_chg)`,
		`INSERT INTO changes SELECT * FROM cdevents_out_changes WHERE id IN (SELECT id FROM cdevents_k_chg)`,
		// … and those written (the rows with the keys deleted are the
		// rows just inserted: each has an id of the same key)
		canonical.DeltaSQL("deployments", 1, keyedDeployments),
		canonical.DeltaSQL("incidents", 1, keyedIncidents),
		canonical.DeltaSQL("changes", 1, keyedChanges),
	); err != nil {
		return err
	}
	s.keyed.Add(1)
	for _, t := range keyedTemps {
		if err := exec("DROP TABLE IF EXISTS temp." + t); err != nil {
			return err
		}
	}
	return dropTemps(ctx, tx)
}

// rowKeys selects the event keys (source, id) a deployment row of table
// (source, id) can come from: its id is the event's id, or SOURCE#ID.
func rowKeys(table string) string {
	return `SELECT source, id FROM ` + table + `
		UNION ALL
		SELECT source, substr(id, length(source) + 2) FROM ` + table + ` WHERE starts_with(id, source || '#')`
}

// closeReadSet fills cdevents_k_read with the keys seed selects and every
// stored event they reach, again and again, through a shared chainId, a
// shared id, or a link to its id: the read set is then closed, so every
// deployment the SQL builds from it has all the events it is built from.
func (s *Source) closeReadSet(ctx context.Context, tx *sql.Tx, seed string) error {
	if _, err := tx.ExecContext(ctx, `CREATE OR REPLACE TEMP TABLE cdevents_k_read AS
		SELECT k.source, k.id, k.chain_id, k.linked_ids FROM cdevents_event_keys k
		SEMI JOIN (`+seed+`) s ON s.source = k.source AND s.id = k.id`); err != nil {
		return fmt.Errorf("cdevents: keyed mapping: %w", err)
	}
	for {
		res, err := tx.ExecContext(ctx, `INSERT INTO cdevents_k_read
			SELECT k.source, k.id, k.chain_id, k.linked_ids FROM cdevents_event_keys k
			WHERE (k.chain_id IN (SELECT chain_id FROM cdevents_k_read)
				OR k.id IN (SELECT id FROM cdevents_k_read)
				OR k.id IN (SELECT unnest(linked_ids) FROM cdevents_k_read))
			AND NOT EXISTS (SELECT 1 FROM cdevents_k_read r WHERE r.source = k.source AND r.id = k.id)`)
		if err != nil {
			return fmt.Errorf("cdevents: keyed mapping: %w", err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return nil
		}
	}
}

// The canonical rows of source cdevents a keyed mapping replaces (the
// text after FROM table AS t, for canonical.DeltaSQL): the same
// conditions as its DELETE statements.
const (
	keyedDeployments = `WHERE t.source = 'cdevents' AND t.id IN (SELECT cid FROM cdevents_k_wc)
		AND EXISTS (SELECT 1 FROM cdevents_k_wc c WHERE c.cid = t.id AND c.source = json_extract_string(t.extra, '$.cdevents_source'))`
	keyedIncidents = `WHERE t.source = 'cdevents' AND t.id IN (SELECT id FROM cdevents_k_inc)`
	keyedChanges   = `WHERE t.source = 'cdevents' AND t.id IN (SELECT id FROM cdevents_k_chg)`
)
