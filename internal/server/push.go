package server

import (
	"bytes"
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/shiplog/shiplog/internal/warehouse"
)

// Group commit of pushes (and, the same way, of CDEvents deliveries). A
// push to /api/v1/events is authenticated and parsed by its own handler,
// then queued; one committer takes every
// delivery queued at that moment (up to pushGroupMax), and under the write
// lock applies them together: one load of their records, in queue order,
// and the delivery ids and body hashes written in the same transaction
// just before it commits. Each handler answers only after the commit that
// holds its delivery, so a 202 still means stored. While one group
// commits, the next one queues: the more senders, the larger the groups,
// and the fixed cost of a load (a dozen statements and a commit) is paid
// once per group instead of once per delivery.

// PushDelivery is one queued push delivery.
type PushDelivery struct {
	// ID is the delivery id (X-Shiplog-Delivery).
	ID string
	// Lines is the body as JSON Lines (ToJSONLines).
	Lines []byte
}

// EventGroupSink stores the canonical events of several push deliveries
// in one transaction, in the order given (a later delivery's record of a
// key replaces an earlier one's), and calls inTx inside that transaction,
// on its connection, just before it commits. It stores all of them or
// none. When a delivery holds a bad record it returns a *GroupError naming
// it, whose Err is the message that delivery alone would get; any other
// error makes the server apply the deliveries one at a time.
type EventGroupSink func(ctx context.Context, group []PushDelivery, inTx func(ctx context.Context, conn *sql.Conn) error) error

// GroupError names the delivery of a group that holds a bad record.
type GroupError struct {
	Index int
	Err   error
}

func (e *GroupError) Error() string { return e.Err.Error() }
func (e *GroupError) Unwrap() error { return e.Err }

// pushGroupMax bounds the deliveries of one group (and pushGroupBytes
// their bodies), so that one commit stays short.
const (
	pushGroupMax   = 64
	pushGroupBytes = 16 << 20
	// pushLinger bounds how long the committer waits for more deliveries
	// when fewer are queued than in the last group: half the last commit's
	// time, at most this.
	pushLinger = 20 * time.Millisecond
)

// CDEventsGroupSink stores the events of several CDEvents deliveries in
// one transaction (cdevents.Source.StoreGroup) and calls inTx inside it,
// on its connection, just before it commits, with how many events were
// new for each delivery. It stores all of them or none; any error makes
// the server apply the deliveries one at a time.
type CDEventsGroupSink func(ctx context.Context, group []*CDEventsDelivery, inTx func(ctx context.Context, conn *sql.Conn, news []int64) error) error

// committer is the group commit of one endpoint: its queue, started on the
// endpoint's first delivery, and how a group is stored.
type committer struct {
	endpoint string
	q        chan *pushReq
	once     sync.Once
	stmts    pushStatements // only the committer's goroutine uses them
	// store applies the group's deliveries in one transaction and calls
	// record inside it once every delivery's records are known.
	store func(ctx context.Context, group []*pushReq, record func(ctx context.Context, conn *sql.Conn) error) error
}

func newCommitter(endpoint string) *committer {
	return &committer{endpoint: endpoint, q: make(chan *pushReq, 4*pushGroupMax)}
}

// pushReq is a queued delivery and where its answer goes.
type pushReq struct {
	PushDelivery
	cd      *CDEventsDelivery // a CDEvents delivery (its ID is PushDelivery.ID)
	event   any               // webhook_deliveries.event: nil for a push
	size    int               // the body's bytes
	hash    string
	records int64           // a push's records; a CDEvents delivery's new events, once stored
	answer  chan pushAnswer // buffered: the committer never waits for a handler
}

type pushAnswer struct {
	code int
	body any
	err  error // for 500: logged, not sent
}

// countRecords counts the records of JSON Lines as the loader does: every
// line that is not blank.
func countRecords(lines []byte) int64 {
	var n int64
	for len(lines) > 0 {
		line := lines
		if i := bytes.IndexByte(lines, '\n'); i >= 0 {
			line, lines = lines[:i], lines[i+1:]
		} else {
			lines = nil
		}
		if len(bytes.TrimSpace(line)) > 0 {
			n++
		}
	}
	return n
}

// bodyHash is the hex SHA-256 of the delivery's body, as read by readBody.
func bodyHash(r *http.Request) (string, int, bool) {
	rb, ok := r.Body.(deliveryBody)
	if !ok {
		return "", 0, false
	}
	sum := sha256.Sum256(rb.data)
	return hex.EncodeToString(sum[:]), len(rb.data), true
}

// pushGrouped queues an authenticated, parsed push and answers it once the
// group holding it has committed (or the delivery was refused).
func (s *Server) pushGrouped(w http.ResponseWriter, r *http.Request, id string, lines []byte) {
	hash, _, ok := bodyHash(r)
	if !ok {
		s.replyError(w, s.pushes.endpoint, http.StatusInternalServerError, "server: the delivery's body was not read with readBody")
		return
	}
	s.enqueue(w, r, s.pushes, &pushReq{
		PushDelivery: PushDelivery{ID: id, Lines: lines},
		size:         len(lines),
		hash:         hash,
		records:      countRecords(lines),
		answer:       make(chan pushAnswer, 1),
	})
}

// cdeventsGrouped queues a checked CDEvents delivery and answers it once
// the group holding it has committed (or the delivery was refused).
func (s *Server) cdeventsGrouped(w http.ResponseWriter, r *http.Request, d *CDEventsDelivery) {
	hash, size, ok := bodyHash(r)
	if !ok {
		s.replyError(w, s.cdGroups.endpoint, http.StatusInternalServerError, "server: the delivery's body was not read with readBody")
		return
	}
	var event any
	if d.Event != "" {
		event = d.Event
	}
	s.enqueue(w, r, s.cdGroups, &pushReq{
		PushDelivery: PushDelivery{ID: d.ID},
		cd:           d,
		event:        event,
		size:         size,
		hash:         hash,
		answer:       make(chan pushAnswer, 1),
	})
}

// enqueue hands req to c's committer and answers with what it decides.
func (s *Server) enqueue(w http.ResponseWriter, r *http.Request, c *committer, req *pushReq) {
	c.once.Do(func() { go s.commitLoop(c) })
	select {
	case c.q <- req:
	case <-r.Context().Done():
		return
	case <-s.pushStop:
		s.replyError(w, c.endpoint, http.StatusServiceUnavailable, "the server is stopping: send the delivery again later")
		return
	}
	select {
	case a := <-req.answer:
		if a.err != nil {
			s.internalError(w, c.endpoint, "store", a.err)
			return
		}
		s.reply(w, c.endpoint, a.code, a.body)
	case <-r.Context().Done():
		// The sender left; its delivery is applied or refused all the same,
		// and a retry is answered as a duplicate.
	}
}

// commitLoop is c's committer: it takes the first queued delivery and
// every other one queued by then, and commits them as one group.
func (s *Server) commitLoop(c *committer) {
	max := s.opts.PushGroupMax
	if max <= 0 {
		max = pushGroupMax
	}
	last, took := 0, time.Duration(0) // size and commit time of the last group
	defer c.stmts.close()
	for {
		var first *pushReq
		select {
		case first = <-c.q:
		case <-s.pushStop:
			return
		}
		group, size := []*pushReq{first}, first.size
	more:
		for len(group) < max && size < pushGroupBytes {
			select {
			case req := <-c.q:
				group = append(group, req)
				size += req.size
			default:
				break more
			}
		}
		// Fewer than last time: the others are likely on their way back
		// (answered, sending their next delivery). Wait a moment for them
		// rather than commit a group of one and then one of the rest.
		if len(group) < last {
			linger := time.NewTimer(min(took/2, pushLinger))
		wait:
			for len(group) < last && size < pushGroupBytes {
				select {
				case req := <-c.q:
					group = append(group, req)
					size += req.size
				case <-linger.C:
					break wait
				}
			}
			linger.Stop()
		}
		last = len(group)
		s.writeMu.Lock()
		t0 := time.Now()
		s.commitGroup(context.Background(), c, group)
		took = time.Since(t0)
		s.writeMu.Unlock()
	}
}

// commitGroup applies a group exactly once per delivery id and body hash:
// a delivery whose id or body the warehouse holds is answered as a
// duplicate; one whose id or body repeats an earlier one of the group waits
// for that one's commit and is then looked up again; the rest are loaded
// together. A delivery with a bad record is answered 400 and taken out, and
// the others are loaded again without it.
func (s *Server) commitGroup(ctx context.Context, c *committer, group []*pushReq) {
	for len(group) > 0 {
		fresh, later, err := s.dedupe(ctx, c, group)
		if err != nil {
			for _, req := range group {
				req.answer <- pushAnswer{err: fmt.Errorf("warehouse: %w", err)}
			}
			return
		}
		for len(fresh) > 0 {
			err := s.storeGroup(ctx, c, fresh)
			var ge *GroupError
			switch {
			case err == nil:
				for _, req := range fresh {
					s.metrics.webhookRecs.WithLabelValues(c.endpoint).Add(float64(req.records))
					req.answer <- pushAnswer{code: http.StatusAccepted, body: deliveryResult{Delivery: req.ID, Records: req.records}}
				}
				fresh = nil
			case errors.As(err, &ge) && ge.Index >= 0 && ge.Index < len(fresh):
				fresh[ge.Index].answer <- pushAnswer{code: http.StatusBadRequest, body: map[string]string{"error": ge.Err.Error()}}
				fresh = append(fresh[:ge.Index:ge.Index], fresh[ge.Index+1:]...)
			case len(fresh) > 1:
				// Not pinned to one delivery: apply them one at a time.
				fmt.Fprintf(s.opts.Log, "serve: %s: a group of %d deliveries failed, applying them one at a time: %v\n", c.endpoint, len(fresh), err)
				for _, req := range fresh {
					s.commitGroup(ctx, c, []*pushReq{req})
				}
				fresh = nil
			default:
				var bad *BadRequestError
				if errors.As(err, &bad) {
					fresh[0].answer <- pushAnswer{code: http.StatusBadRequest, body: map[string]string{"error": bad.Error()}}
				} else {
					fresh[0].answer <- pushAnswer{err: err}
				}
				fresh = nil
			}
		}
		group = later
	}
}

// dedupe answers the deliveries already applied (by id, then by body
// hash) and splits the rest into those to load now and those that repeat
// an id or a body of an earlier delivery of the group.
func (s *Server) dedupe(ctx context.Context, c *committer, group []*pushReq) (fresh, later []*pushReq, err error) {
	stmt, err := c.stmts.dedupeStmt(ctx, s.opts.DB, len(group))
	if err != nil {
		return nil, nil, err
	}
	args := make([]any, 0, 2*len(group)+2)
	args = append(args, c.endpoint)
	for _, req := range group {
		args = append(args, req.ID)
	}
	args = append(args, c.endpoint)
	for _, req := range group {
		args = append(args, req.hash)
	}
	type applied struct {
		id string
		n  int64
	}
	byID := map[string]int64{}
	byHash := map[string]applied{}
	rows, err := stmt.QueryContext(ctx, args...)
	if err != nil {
		return nil, nil, err
	}
	defer rows.Close()
	for rows.Next() {
		var (
			found, id string
			n         int64
			hash      sql.NullString
		)
		if err := rows.Scan(&found, &id, &n, &hash); err != nil {
			return nil, nil, err
		}
		if found == "id" {
			byID[id] = n
		} else {
			byHash[hash.String] = applied{id, n}
		}
	}
	if err := rows.Err(); err != nil {
		return nil, nil, err
	}
	seenID, seenHash := map[string]bool{}, map[string]bool{}
	for _, req := range group {
		if n, ok := byID[req.ID]; ok {
			req.answer <- pushAnswer{code: http.StatusOK, body: deliveryResult{Delivery: req.ID, Records: n, Duplicate: true}}
			continue
		}
		if a, ok := byHash[req.hash]; ok {
			req.answer <- pushAnswer{code: http.StatusOK, body: deliveryResult{Delivery: req.ID, Records: a.n, Duplicate: true, DuplicateOf: a.id}}
			continue
		}
		if seenID[req.ID] || seenHash[req.hash] {
			later = append(later, req)
			continue
		}
		seenID[req.ID], seenHash[req.hash] = true, true
		fresh = append(fresh, req)
	}
	return fresh, later, nil
}

// storeGroup stores the deliveries through c's sink and records their ids
// and body hashes in the same transaction.
func (s *Server) storeGroup(ctx context.Context, c *committer, group []*pushReq) error {
	return c.store(ctx, group, func(ctx context.Context, conn *sql.Conn) error {
		// One statement per table for the whole group, prepared once per
		// group size on the sink's connection.
		now := s.clock.Now().UTC()
		var dv, bv []any
		for _, req := range group {
			dv = append(dv, c.endpoint, req.ID, now, req.event, req.records)
			bv = append(bv, c.endpoint, req.hash, req.ID, now)
		}
		deliveries, bodies, err := c.stmts.insertStmts(ctx, conn, len(group))
		if err != nil {
			return err
		}
		if _, err := deliveries.ExecContext(ctx, dv...); err != nil {
			return err
		}
		_, err = bodies.ExecContext(ctx, bv...)
		return err
	})
}

// pushStatements are the committer's own statements, prepared once per
// group size (the deliveries' ids, hashes and rows are parameters) rather
// than parsed and planned for every group: the dedupe lookup on the
// warehouse's pool, and the two inserts on the connection the sink
// commits the group on (prepared again when the sink hands over another
// connection). Only the committer goroutine uses them.
type pushStatements struct {
	dedupe map[int]*sql.Stmt

	conn    *sql.Conn
	inserts map[int][2]*sql.Stmt
}

// marks is n placeholders, comma-separated.
func marks(n int) string {
	return strings.TrimSuffix(strings.Repeat("?, ", n), ", ")
}

func (p *pushStatements) dedupeStmt(ctx context.Context, db *warehouse.DB, n int) (*sql.Stmt, error) {
	if st, ok := p.dedupe[n]; ok {
		return st, nil
	}
	// A delivery already applied is found by its id, then by its body's
	// hash (each lookup on its table's primary key).
	st, err := db.PrepareContext(ctx, `SELECT 'id', delivery_id, records, NULL::VARCHAR FROM webhook_deliveries
		WHERE endpoint = ? AND delivery_id IN (`+marks(n)+`)
		UNION ALL
		SELECT 'hash', b.delivery_id, coalesce(d.records, 0), b.body_sha256 FROM delivery_bodies AS b
		LEFT JOIN webhook_deliveries AS d USING (endpoint, delivery_id)
		WHERE b.endpoint = ? AND b.body_sha256 IN (`+marks(n)+`)`)
	if err != nil {
		return nil, err
	}
	if p.dedupe == nil {
		p.dedupe = map[int]*sql.Stmt{}
	}
	p.dedupe[n] = st
	return st, nil
}

func (p *pushStatements) insertStmts(ctx context.Context, conn *sql.Conn, n int) (*sql.Stmt, *sql.Stmt, error) {
	if conn != p.conn {
		p.closeInserts()
		p.conn = conn
	}
	if st, ok := p.inserts[n]; ok {
		return st[0], st[1], nil
	}
	rows := func(cols int) string {
		return strings.TrimSuffix(strings.Repeat("("+marks(cols)+"), ", n), ", ")
	}
	d, err := conn.PrepareContext(ctx, `INSERT INTO webhook_deliveries VALUES `+rows(5))
	if err != nil {
		return nil, nil, err
	}
	b, err := conn.PrepareContext(ctx, `INSERT INTO delivery_bodies VALUES `+rows(4))
	if err != nil {
		d.Close()
		return nil, nil, err
	}
	if p.inserts == nil {
		p.inserts = map[int][2]*sql.Stmt{}
	}
	p.inserts[n] = [2]*sql.Stmt{d, b}
	return d, b, nil
}

func (p *pushStatements) closeInserts() {
	for _, st := range p.inserts {
		st[0].Close()
		st[1].Close()
	}
	p.inserts, p.conn = nil, nil
}

// close releases every statement.
func (p *pushStatements) close() {
	for _, st := range p.dedupe {
		st.Close()
	}
	p.dedupe = nil
	p.closeInserts()
}
