package ingest

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io/fs"
	"math/big"
	"sort"
	"strings"
	"time"

	"github.com/shiplog/shiplog/internal/canonical"
	"github.com/shiplog/shiplog/internal/warehouse"
)

// A source's SQL mapping is a function of what it reads: its rules (the
// SQL and the settings written for it), its raw tables and any other
// table the SQL reads. When none of that changed since the last full
// mapping, and the source's canonical rows are still those that mapping
// wrote, mapping again would write the same rows: Mapping.Run skips it.
// A sync that fetched nothing, and every `shiplog transform` after a sync,
// then cost a scan of those tables instead of a mapping (JSON parsing,
// joins) and a rewrite of the source's canonical rows.
//
// What is compared, stored in mapping_state (migrations 0240, 0280) in the
// transaction that maps:
//   - fingerprint: the SQL text, the content of the settings tables, the
//     run values the SQL reads, the schema version and mappingRevision;
//   - inputs: per table read whole (raw_* and Reads), count(*) and
//     sum(hash(t)) of its rows, so that any insert, delete or in-place
//     update is seen;
//   - outputs: the same over the source's own rows of each canonical table
//     it replaces, so that rows another program changed or removed are
//     mapped again and restored.
//
// The scan reads every raw row once, as the mapping does, but only hashes
// it. The outputs after a mapping come from the log of canonical writes
// the mapping itself wrote (canonical.RewriteSource), not from a third
// scan of the source's rows.

// mappingRevision is part of every fingerprint: change it when Go code
// that shapes mapped rows changes without changing the SQL or the
// settings tables' content, so that the next run maps in full.
const mappingRevision = "1"

// MapOptions changes how a SkippingMapper maps.
type MapOptions struct {
	// Force maps in full even when nothing changed (`transform --full`).
	Force bool
}

// MapResult says what a mapping did.
type MapResult struct {
	// Mapped is false when the mapping was skipped: nothing it reads or
	// writes changed since it last mapped.
	Mapped bool
	// Reason says why it mapped ("raw_github_pulls changed", "forced"),
	// for the progress line.
	Reason string
}

// SkippingMapper is a Mapper whose mapping is skipped when nothing it
// reads or writes changed since it last mapped (Mapping.Run). Its Map is
// MapIfChanged with no options.
type SkippingMapper interface {
	Mapper
	MapIfChanged(ctx context.Context, db *warehouse.DB, opts MapOptions) (MapResult, error)
}

// Mapping says what a source's SQL mapping reads and writes.
type Mapping struct {
	// Source is the canonical rows' source column and mapping_state's key.
	Source string
	// Rules holds the mapping SQL: every file in it is hashed.
	Rules fs.FS
	// Settings are the temporary tables the source writes its settings
	// into before Run; their content is hashed.
	Settings []string
	// Values are the run values the SQL reads (getvariable), hashed as
	// JSON.
	Values map[string]any
	// Raw are the raw tables the SQL reads; Reads any other table it
	// reads (GitHub: services). Both are digested whole.
	Raw, Reads []string
	// Tables are the canonical tables whose rows of Source the mapping
	// replaces.
	Tables []string
}

// digest is a table's row count and sum of row hashes (a HUGEINT, as
// text).
type digest struct {
	Rows   int64  `json:"rows"`
	Digest string `json:"digest"`
}

// Run maps (rewrite replaces the rows of m.Source in m.Tables, inside
// canonical.RewriteSource, which logs the change) unless the state of the
// last full mapping, in mapping_state, equals the present one; then it
// writes nothing. After a mapping it records the new state in tx. The
// settings tables must be written first; tx is the transaction the
// mapping writes in (a Map's, or a webhook's after storing raw rows: they
// changed, so it maps).
func (m Mapping) Run(ctx context.Context, tx *sql.Tx, opts MapOptions, rewrite func() error) (MapResult, error) {
	fp, err := m.fingerprint(ctx, tx)
	if err != nil {
		return MapResult{}, fmt.Errorf("%s: mapping state: %w", m.Source, err)
	}
	in, out, err := m.scan(ctx, tx)
	if err != nil {
		return MapResult{}, fmt.Errorf("%s: mapping state: %w", m.Source, err)
	}
	reason, err := m.compare(ctx, tx, fp, in, out)
	if err != nil {
		return MapResult{}, fmt.Errorf("%s: mapping state: %w", m.Source, err)
	}
	if opts.Force {
		reason = "forced"
	}
	if reason == "" {
		return MapResult{Mapped: false, Reason: "unchanged"}, nil
	}
	var seq int64
	if err := tx.QueryRowContext(ctx, `SELECT coalesce(max(seq), 0) FROM `+canonical.WritesTable).Scan(&seq); err != nil {
		return MapResult{}, err
	}
	if err := canonical.RewriteSource(ctx, tx, m.Source, m.Tables, rewrite); err != nil {
		return MapResult{}, err
	}
	// The rows now stored are those before plus the changes the rewrite
	// logged (its rows of the log are the only ones after seq this
	// transaction can see for this source).
	rows, err := tx.QueryContext(ctx, `SELECT "table", sum("rows")::BIGINT, sum(digest)::HUGEINT::VARCHAR FROM `+
		canonical.WritesTable+` WHERE seq > ? AND source = ? GROUP BY 1`, seq, m.Source)
	if err != nil {
		return MapResult{}, err
	}
	defer rows.Close()
	for rows.Next() {
		var t, d string
		var n int64
		if err := rows.Scan(&t, &n, &d); err != nil {
			return MapResult{}, err
		}
		prev, ok := out[t]
		if !ok {
			continue
		}
		sum, err := addHuge(prev.Digest, d)
		if err != nil {
			return MapResult{}, err
		}
		out[t] = digest{Rows: prev.Rows + n, Digest: sum}
	}
	if err := rows.Err(); err != nil {
		return MapResult{}, err
	}
	inJSON, _ := json.Marshal(in)
	outJSON, _ := json.Marshal(out)
	if _, err := tx.ExecContext(ctx, `INSERT OR REPLACE INTO mapping_state (source, fingerprint, mapped_at, inputs, outputs)
		VALUES (?, ?, ?, ?, ?)`, m.Source, fp, time.Now().UTC(), string(inJSON), string(outJSON)); err != nil {
		return MapResult{}, fmt.Errorf("%s: mapping state: %w", m.Source, err)
	}
	return MapResult{Mapped: true, Reason: reason}, nil
}

// fingerprint hashes the rules: the SQL, the settings tables' content, the
// run values, the schema version and mappingRevision.
func (m Mapping) fingerprint(ctx context.Context, tx *sql.Tx) (string, error) {
	h := sha256.New()
	var schema int64
	if err := tx.QueryRowContext(ctx, `SELECT coalesce(max(version), 0) FROM shiplog_schema`).Scan(&schema); err != nil {
		return "", err
	}
	fmt.Fprintf(h, "revision %s\nschema %d\n", mappingRevision, schema)
	if m.Rules != nil {
		err := fs.WalkDir(m.Rules, ".", func(path string, d fs.DirEntry, err error) error {
			if err != nil || d.IsDir() {
				return err
			}
			body, err := fs.ReadFile(m.Rules, path)
			if err != nil {
				return err
			}
			fmt.Fprintf(h, "file %s %d\n", path, len(body))
			h.Write(body)
			return nil
		})
		if err != nil {
			return "", err
		}
	}
	settings := append([]string(nil), m.Settings...)
	sort.Strings(settings)
	for _, t := range settings {
		var n int64
		var d string
		if err := tx.QueryRowContext(ctx, `SELECT count(*), coalesce(sum(hash(t)::HUGEINT), 0)::VARCHAR FROM temp.`+
			warehouse.QuoteIdent(t)+` AS t`).Scan(&n, &d); err != nil {
			return "", err
		}
		fmt.Fprintf(h, "settings %s %d %s\n", t, n, d)
	}
	if len(m.Values) > 0 {
		b, err := json.Marshal(m.Values) // keys sorted
		if err != nil {
			return "", err
		}
		fmt.Fprintf(h, "values %s\n", b)
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// scan digests the tables read (inputs) and the source's rows of the
// tables written (outputs), in one query.
func (m Mapping) scan(ctx context.Context, tx *sql.Tx) (in, out map[string]digest, err error) {
	var parts []string
	read := append(append([]string(nil), m.Raw...), m.Reads...)
	for _, t := range read {
		parts = append(parts, fmt.Sprintf(`SELECT 'in' AS side, %s AS name, count(*)::BIGINT, coalesce(sum(hash(t)::HUGEINT), 0)::HUGEINT::VARCHAR FROM %s AS t`,
			warehouse.QuoteString(t), warehouse.QuoteIdent(t)))
	}
	for _, t := range m.Tables {
		parts = append(parts, fmt.Sprintf(`SELECT 'out', %s, count(*)::BIGINT, coalesce(sum(hash(t)::HUGEINT), 0)::HUGEINT::VARCHAR FROM %s AS t WHERE t.source = %s`,
			warehouse.QuoteString(t), warehouse.QuoteIdent(t), warehouse.QuoteString(m.Source)))
	}
	in, out = map[string]digest{}, map[string]digest{}
	if len(parts) == 0 {
		return in, out, nil
	}
	rows, err := tx.QueryContext(ctx, strings.Join(parts, "\nUNION ALL "))
	if err != nil {
		return nil, nil, err
	}
	defer rows.Close()
	for rows.Next() {
		var side, name, d string
		var n int64
		if err := rows.Scan(&side, &name, &n, &d); err != nil {
			return nil, nil, err
		}
		if side == "in" {
			in[name] = digest{n, d}
		} else {
			out[name] = digest{n, d}
		}
	}
	return in, out, rows.Err()
}

// compare returns why the stored state differs from the present one, or
// "" when it does not.
func (m Mapping) compare(ctx context.Context, tx *sql.Tx, fp string, in, out map[string]digest) (string, error) {
	var oldFP string
	var oldIn, oldOut sql.NullString
	err := tx.QueryRowContext(ctx, `SELECT fingerprint, inputs, outputs FROM mapping_state WHERE source = ?`, m.Source).
		Scan(&oldFP, &oldIn, &oldOut)
	if err == sql.ErrNoRows {
		return "not mapped before", nil
	}
	if err != nil {
		return "", err
	}
	if oldFP != fp {
		return "rules or settings changed", nil
	}
	var prevIn, prevOut map[string]digest
	if !oldIn.Valid || !oldOut.Valid || json.Unmarshal([]byte(oldIn.String), &prevIn) != nil ||
		json.Unmarshal([]byte(oldOut.String), &prevOut) != nil {
		return "no recorded state", nil
	}
	if r := differs(prevIn, in, "%s changed"); r != "" {
		return r, nil
	}
	if r := differs(prevOut, out, "canonical rows of %s changed"); r != "" {
		return r, nil
	}
	return "", nil
}

// differs names the first table (sorted) whose digest is not as before.
func differs(old, now map[string]digest, format string) string {
	names := make([]string, 0, len(now)+len(old))
	for k := range now {
		names = append(names, k)
	}
	for k := range old {
		if _, ok := now[k]; !ok {
			names = append(names, k)
		}
	}
	sort.Strings(names)
	for _, k := range names {
		o, ok1 := old[k]
		n, ok2 := now[k]
		if !ok1 || !ok2 || o != n {
			return fmt.Sprintf(format, k)
		}
	}
	return ""
}

// addHuge adds two HUGEINTs written as decimal text.
func addHuge(a, b string) (string, error) {
	x, ok1 := new(big.Int).SetString(a, 10)
	y, ok2 := new(big.Int).SetString(b, 10)
	if !ok1 || !ok2 {
		return "", fmt.Errorf("mapping state: bad digest %q + %q", a, b)
	}
	return x.Add(x, y).String(), nil
}
