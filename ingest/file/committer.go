package file

import (
	"bytes"
	"context"
	"database/sql"
	"database/sql/driver"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/shiplog/shiplog/ingest"
	"github.com/shiplog/shiplog/internal/canonical"
	"github.com/shiplog/shiplog/internal/warehouse"
)

// GroupCommitter loads groups of JSON Lines streams (queued push
// deliveries) one group at a time, as LoadGroup does, but with the fixed
// cost of a group cut to what a small group needs.
//
// A group of pushes is small (a few hundred records) and comes often, so
// LoadGroup's cost is nearly all fixed: spooling the records to a file,
// surveying it, and some twenty statements each parsed, bound and planned
// afresh (the typed insert of a kind alone, with every field's checks,
// takes longer to bind than to run on a group's records), and three
// commits (ingest_runs before, the batch, ingest_runs after). The
// committer instead keeps one connection for its life, with its
// statements prepared once on it: per kind, a temporary table of the raw
// JSON text of each field, a typed insert from it into a staging table,
// and the same replace (delete, then last record of each key wins) as
// the file loader. Go splits each record into its fields
// (encoding/json), the DuckDB appender feeds them in, and the typed insert
// checks and types them with the file loader's own expressions
// (typedJSONSelect, jsonField, errorExpr), so the type rules keep one
// home. The ingest_runs row is written in the transaction that commits
// the records: one commit per group.
//
// It claims only what the file loader's quick path would load as it is:
// every record a JSON object of a known kind, no key repeated in a record
// or differing from a field or another key only in case, and per kind the
// same unknown keys in the same order in every record. Anything else, and
// any bad record, rolls the group back and loads it again with LoadGroup,
// so errors, their messages and which stream they name are exactly the
// file loader's.
//
// Load calls are serialised; the committer is meant for one writer (the
// server's push committer, under its write lock). Close releases the
// connection.
type GroupCommitter struct {
	db   *warehouse.DB
	opts Options

	mu    sync.Mutex
	conn  *sql.Conn
	kinds map[string]*committerKind
	run   *sql.Stmt
	// path says how the last group was loaded, "fast" or "group" (tests).
	path string
}

// committerKind is the prepared work of one kind on the committer's
// connection.
type committerKind struct {
	k     *canonical.Kind
	raw   string    // the raw table's name
	clear *sql.Stmt // empties the raw table
	// del deletes the rows of the source with the keys of the records and
	// write types, checks and writes the records, failing on a bad one;
	// both return each row's partition and hash, which the log of
	// canonical writes sums (canonical.Deltas): no statement reads the
	// table again
	del   *sql.Stmt
	write *sql.Stmt
}

// NewGroupCommitter returns a committer loading into db with opts (Source,
// Now; InTx is given per group).
func NewGroupCommitter(db *warehouse.DB, opts Options) *GroupCommitter {
	if opts.Source == "" {
		opts.Source = "file"
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	opts.InTx = nil
	return &GroupCommitter{db: db, opts: opts}
}

// Close releases the committer's connection; a later Load opens another.
func (c *GroupCommitter) Close() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.reset()
}

func (c *GroupCommitter) reset() error {
	if c.conn == nil {
		return nil
	}
	for _, ck := range c.kinds {
		for _, s := range []*sql.Stmt{ck.clear, ck.del, ck.write} {
			if s != nil {
				s.Close()
			}
		}
	}
	if c.run != nil {
		c.run.Close()
	}
	// Discard the driver's connection rather than hand it back to the
	// pool: its temporary tables go with it.
	_ = c.conn.Raw(func(any) error { return driver.ErrBadConn })
	err := c.conn.Close()
	c.conn, c.kinds, c.run = nil, nil, nil
	if errors.Is(err, sql.ErrConnDone) {
		err = nil
	}
	return err
}

// Load loads the streams as one batch, calling inTx inside its
// transaction just before the commit; it returns what LoadGroup returns
// (a *GroupError for a bad record).
func (c *GroupCommitter) Load(ctx context.Context, streams []Stream, inTx func(context.Context, *sql.Conn) error) (*Result, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(streams) == 0 {
		return &Result{Rows: map[string]int64{}}, nil
	}
	// An in-memory warehouse has one connection: keeping it would starve
	// every other user.
	if c.db.Path() != ":memory:" && !forceSlow {
		if batch, ok := splitGroup(streams); ok {
			res, err := c.fast(ctx, streams, batch, inTx)
			var ite *inTxError
			switch {
			case err == nil:
				c.path = "fast"
				return res, nil
			case errors.As(err, &ite):
				return nil, ite.err
			case ctx.Err() != nil:
				return nil, ctx.Err()
			}
			if !strings.Contains(err.Error(), errBadRecord) {
				// Not the data: start again on a fresh connection.
				c.reset()
			}
		}
	}
	c.path = "group"
	opts := c.opts
	opts.InTx = inTx
	return LoadGroup(ctx, c.db, streams, opts)
}

// pushRecord is one record of a group, split into its fields' JSON text.
type pushRecord struct {
	line   int64
	fields []any // per field of its kind: the JSON text, or nil when missing
	extra  any   // the unknown keys as a JSON object's text, or nil
}

// kindBatch is the records of one kind of a group.
type kindBatch struct {
	recs []pushRecord
	keys map[string]bool // textKey of each record
}

// splitGroup splits every record of the group by kind, in group order. It
// says !ok when the group has anything the file loader's quick path would
// not load as it is (see GroupCommitter).
func splitGroup(streams []Stream) (map[*canonical.Kind]*kindBatch, bool) {
	batch := map[*canonical.Kind]*kindBatch{}
	unknown := map[*canonical.Kind][]string{}
	folded := map[*canonical.Kind]map[string]string{}
	var line int64
	for _, s := range streams {
		data := s.Data
		for len(data) > 0 {
			text := data
			if i := bytes.IndexByte(data, '\n'); i >= 0 {
				text, data = data[:i], data[i+1:]
			} else {
				data = nil
			}
			if len(bytes.TrimSpace(text)) == 0 {
				continue // not a record (countRecords, the loader)
			}
			if len(text) > maxObjectSize || !utf8.Valid(text) {
				return nil, false
			}
			line++
			keys, vals, ok := splitObject(text)
			if !ok {
				return nil, false
			}
			var k *canonical.Kind
			for i, key := range keys {
				if key == "kind" {
					var name string
					if json.Unmarshal(vals[i], &name) != nil {
						return nil, false
					}
					if k, ok = canonical.Lookup(name); !ok {
						return nil, false
					}
				}
			}
			if k == nil {
				return nil, false
			}
			fold := folded[k]
			if fold == nil {
				fold = map[string]string{"kind": "kind", "ordinality": "ordinality"}
				for _, f := range k.Fields {
					fold[strings.ToLower(f.Name)] = f.Name
				}
				folded[k] = fold
			}
			rec := pushRecord{line: line, fields: make([]any, len(k.Fields))}
			var unk []string
			var extra bytes.Buffer
			for i, key := range keys {
				if key == "kind" {
					continue
				}
				if f, ok := fold[strings.ToLower(key)]; ok && f != key || key == "" || key == "ordinality" {
					return nil, false
				}
				if j := fieldIndex(k, key); j >= 0 {
					rec.fields[j] = string(vals[i])
					continue
				}
				fold[strings.ToLower(key)] = key
				unk = append(unk, key)
				if extra.Len() == 0 {
					extra.WriteByte('{')
				} else {
					extra.WriteByte(',')
				}
				name, _ := json.Marshal(key)
				extra.Write(name)
				extra.WriteByte(':')
				extra.Write(vals[i])
			}
			if extra.Len() > 0 {
				extra.WriteByte('}')
				rec.extra = extra.String()
			}
			// Per kind, every record has the same unknown keys in the
			// same order (the quick path's rule, unknownKeys).
			if prev, seen := unknown[k]; !seen {
				unknown[k] = unk
			} else if !equalStrings(prev, unk) {
				return nil, false
			}
			kb := batch[k]
			if kb == nil {
				kb = &kindBatch{keys: map[string]bool{}}
				batch[k] = kb
			}
			kb.recs = append(kb.recs, rec)
			// A key repeated in the group (or one Go cannot compare)
			// needs the last record of each key to win: the file loader
			// does that, with a window over its staging table.
			key, ok := textKey(k, rec)
			if !ok || kb.keys[key] {
				return nil, false
			}
			kb.keys[key] = true
		}
	}
	return batch, line > 0
}

// maxObjectSize is the longest record DuckDB's JSON reader takes
// (maximum_object_size in the loader's reads).
const maxObjectSize = 8388608

// splitObject splits one line holding exactly one JSON object into its
// keys, in order, and their values' JSON text. It says !ok for anything
// else, and for a key repeated.
func splitObject(text []byte) (keys []string, vals []json.RawMessage, ok bool) {
	dec := json.NewDecoder(bytes.NewReader(text))
	if t, err := dec.Token(); err != nil || t != json.Delim('{') {
		return nil, nil, false
	}
	seen := map[string]bool{}
	for dec.More() {
		t, err := dec.Token()
		if err != nil {
			return nil, nil, false
		}
		key, isKey := t.(string)
		if !isKey || seen[key] {
			return nil, nil, false
		}
		seen[key] = true
		var v json.RawMessage
		if err := dec.Decode(&v); err != nil {
			return nil, nil, false
		}
		keys, vals = append(keys, key), append(vals, v)
	}
	if t, err := dec.Token(); err != nil || t != json.Delim('}') {
		return nil, nil, false
	}
	// Nothing but white space may follow the object.
	rest := text[dec.InputOffset():]
	if len(bytes.Trim(rest, " \t\r\n")) > 0 {
		return nil, nil, false
	}
	return keys, vals, true
}

// textKey is the record's key as Go can compare it: !ok unless every key
// field is text and written as a JSON string without escapes, whose value
// is then the text between the quotes.
func textKey(k *canonical.Kind, rec pushRecord) (string, bool) {
	var b strings.Builder
	for _, name := range k.Key {
		i := fieldIndex(k, name)
		raw, _ := rec.fields[i].(string)
		if k.Fields[i].Type != canonical.Text || len(raw) < 2 || raw[0] != '"' || raw[len(raw)-1] != '"' || strings.IndexByte(raw, '\\') >= 0 {
			return "", false
		}
		b.WriteString(raw)
		b.WriteByte(0)
	}
	return b.String(), true
}

func fieldIndex(k *canonical.Kind, name string) int {
	for i, f := range k.Fields {
		if f.Name == name {
			return i
		}
	}
	return -1
}

func equalStrings(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// textSuffix names the column of a field's value as a string in the
// committer's typed insert.
const textSuffix = "$text"

// rawTable is the temporary table a kind's records are appended to, the
// raw JSON text of each field in a column named after it.
func rawTable(k *canonical.Kind) string { return "_shiplog_push_" + k.Name }

// open opens the committer's connection and prepares its statements for
// the life of the connection.
func (c *GroupCommitter) open(ctx context.Context) error {
	conn, err := c.db.Conn(ctx)
	if err != nil {
		return err
	}
	c.conn, c.kinds = conn, map[string]*committerKind{}
	if _, err := conn.ExecContext(ctx, "SET TimeZone = 'UTC'"); err != nil {
		return err
	}
	c.run, err = conn.PrepareContext(ctx, ingest.FinishedRunSQL)
	return err
}

// kind prepares the work of kind k on the connection, once: a raw table,
// and the statements that replace the source's rows of the records' keys
// with the records, typed and checked. The group repeats no key
// (splitGroup), so the records need no staging table to let the last of a
// key win: the rows of their keys are deleted first, then the records
// written straight into the canonical table, and a bad record fails the
// write (and the group's transaction).
func (c *GroupCommitter) kind(ctx context.Context, k *canonical.Kind) (*committerKind, error) {
	if ck := c.kinds[k.Name]; ck != nil {
		return ck, nil
	}
	raw := rawTable(k)
	var b strings.Builder
	fmt.Fprintf(&b, "CREATE TEMP TABLE %s (line BIGINT, extra VARCHAR", raw)
	for _, f := range k.Fields {
		fmt.Fprintf(&b, ", %s VARCHAR", warehouse.QuoteIdent(f.Name))
	}
	b.WriteString(")")
	if _, err := c.conn.ExecContext(ctx, b.String()); err != nil {
		return nil, err
	}
	// The raw text is parsed, and made compact as DuckDB's JSON reader
	// gives it to the quick path, by json(); each value as a string is
	// extracted once. Then the file loader's expressions type and check.
	var norm, text, keys, conds []string
	for _, f := range k.Fields {
		n := warehouse.QuoteIdent(f.Name)
		norm = append(norm, fmt.Sprintf("json(%s) AS %s", n, n))
		text = append(text, fmt.Sprintf("%s->>'$' AS %s", n, warehouse.QuoteIdent(f.Name+textSuffix)))
	}
	from := fmt.Sprintf("(SELECT *, %s FROM (SELECT line, json(extra) AS extra, %s FROM %s))",
		strings.Join(text, ", "), strings.Join(norm, ", "), raw)
	for _, key := range k.Key {
		f, _ := k.Field(key)
		n := warehouse.QuoteIdent(key)
		keys = append(keys, jsonField(f, n, warehouse.QuoteIdent(key+textSuffix)).value+" AS "+n)
		conds = append(conds, fmt.Sprintf("s.%[1]s = t.%[1]s", n))
	}
	// deleteSQL's join, over the records' keys typed as they are written.
	del := fmt.Sprintf("DELETE FROM %s AS t USING (SELECT %s FROM %s) AS s WHERE t.source = $1 AND %s",
		warehouse.QuoteIdent(k.Table), strings.Join(keys, ", "), from, strings.Join(conds, " AND "))
	write := insertHead(k, "", true, c.opts.Source) +
		" FROM (" + typedJSONSelect(k, "line", "extra", from, textSuffix) + ")" + insertTail(true)
	// the partition and hash of each row replaced and written, for the
	// log of canonical writes (canonical.Deltas)
	del += " RETURNING " + canonical.ReturningSQL(k.Table, "t")
	write += "\nRETURNING " + canonical.ReturningSQL(k.Table, warehouse.QuoteIdent(k.Table))
	ck := &committerKind{k: k, raw: raw}
	var err error
	prep := func(dst **sql.Stmt, query string) {
		if err == nil {
			*dst, err = c.conn.PrepareContext(ctx, query)
		}
	}
	prep(&ck.clear, "DELETE FROM "+raw)
	prep(&ck.del, del)
	prep(&ck.write, write)
	if err != nil {
		return nil, err
	}
	c.kinds[k.Name] = ck
	return ck, nil
}

// fast loads a group split by splitGroup in one transaction.
func (c *GroupCommitter) fast(ctx context.Context, streams []Stream, batch map[*canonical.Kind]*kindBatch, inTx func(context.Context, *sql.Conn) error) (res *Result, err error) {
	started := c.opts.Now()
	if c.conn == nil {
		if err := c.open(ctx); err != nil {
			return nil, err
		}
	}
	// Prepared outside the group's transaction, so that a group rolled
	// back does not take a kind's raw table with it.
	for k := range batch {
		if _, err := c.kind(ctx, k); err != nil {
			return nil, err
		}
	}
	conn := c.conn
	if _, err := conn.ExecContext(ctx, "BEGIN TRANSACTION"); err != nil {
		return nil, err
	}
	committed := false
	defer func() {
		if !committed {
			_, _ = conn.ExecContext(context.WithoutCancel(ctx), "ROLLBACK")
		}
	}()
	res = &Result{Rows: map[string]int64{}}
	for ki := range canonical.Kinds {
		k := &canonical.Kinds[ki]
		kb := batch[k]
		if kb == nil {
			continue
		}
		recs := kb.recs
		res.Read += int64(len(recs))
		ck, err := c.kind(ctx, k)
		if err != nil {
			return nil, err
		}
		if _, err := ck.clear.ExecContext(ctx); err != nil {
			return nil, err
		}
		err = warehouse.Raw(conn, func(dc driver.Conn) error {
			a, err := warehouse.NewAppender(dc, ck.raw)
			if err != nil {
				return err
			}
			row := make([]driver.Value, 2+len(k.Fields))
			for _, r := range recs {
				row[0], row[1] = r.line, r.extra
				for i, v := range r.fields {
					row[2+i] = v
				}
				if err := a.AppendRow(row...); err != nil {
					a.Close()
					return err
				}
			}
			return a.Close()
		})
		if err != nil {
			return nil, err
		}
		deltas := canonical.NewDeltas(k.Table, c.opts.Source)
		rows, err := ck.del.QueryContext(ctx, c.opts.Source)
		if err == nil {
			_, err = deltas.Add(-1, rows)
		}
		if err != nil {
			return nil, fmt.Errorf("replace %s: %w", k.Table, err)
		}
		var n int64
		rows, err = ck.write.QueryContext(ctx)
		if err == nil {
			n, err = deltas.Add(1, rows)
		}
		if err != nil {
			return nil, fmt.Errorf("write %s: %w", k.Table, err)
		}
		// one statement for the group's partitions
		if err := deltas.Log(ctx, conn); err != nil {
			return nil, err
		}
		res.Rows[k.Name] = n
		res.Written += n
	}
	names := make([]string, len(streams))
	for i, s := range streams {
		names[i] = s.Name
	}
	err = c.run.QueryRowContext(ctx, c.opts.Source, strings.Join(names, " "), started.UTC(), c.opts.Now().UTC(),
		res.Read, res.Written, res.Rejected).Scan(&res.RunID)
	if err != nil {
		return nil, fmt.Errorf("record ingest run: %w", err)
	}
	if inTx != nil {
		if err := inTx(ctx, conn); err != nil {
			return nil, &inTxError{err}
		}
	}
	if _, err := conn.ExecContext(ctx, "COMMIT"); err != nil {
		return nil, fmt.Errorf("commit: %w", err)
	}
	committed = true
	return res, nil
}
