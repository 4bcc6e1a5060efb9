//go:build duckdb_arrow

package server

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/shiplog/shiplog/ingest/file"
	"github.com/shiplog/shiplog/internal/warehouse"
)

// groupSink is the group sink `shiplog serve` wires (cli/serve), over the
// canonical file loader.
func groupSink(db *warehouse.DB) EventGroupSink {
	c := file.NewGroupCommitter(db, file.Options{Source: "push"})
	return func(ctx context.Context, group []PushDelivery, inTx func(context.Context, *sql.Conn) error) error {
		streams := make([]file.Stream, len(group))
		for i, d := range group {
			streams[i] = file.Stream{Name: "push:" + d.ID, Data: d.Lines}
		}
		_, err := c.Load(ctx, streams, inTx)
		var ge *file.GroupError
		if errors.As(err, &ge) {
			return &GroupError{Index: ge.Index, Err: ge.Err}
		}
		return err
	}
}

// deliveryOf is a JSON array of n deployments with ids <prefix>-0 …; the
// record at bad (if ≥ 0) has a status that is not one of the three.
func deliveryOf(prefix string, n, bad int) string {
	var b strings.Builder
	b.WriteString("[")
	for j := 0; j < n; j++ {
		if j > 0 {
			b.WriteString(",")
		}
		status := "success"
		if j == bad {
			status = "maybe"
		}
		fmt.Fprintf(&b, `{"kind":"deployment","id":"%s-%d","service":"svc%d","environment":"production","finished_at":"2026-03-01T10:00:00Z","status":%q}`, prefix, j, j, status)
	}
	b.WriteString("]")
	return b.String()
}

type answer struct {
	code int
	body string
	at   time.Time
}

// sendHeld sends n deliveries (send(i)) to the committer c while holding
// the write lock, as a scheduled job would: the first is taken alone and
// waits for the lock, the others queue in the order sent, and none may be
// answered until the lock is released. It returns the answers and when
// the lock was released.
func sendHeld(t *testing.T, h *harness, c *committer, n int, send func(i int) (int, string)) ([]answer, time.Time) {
	t.Helper()
	h.srv.writeMu.Lock()
	answers := make([]answer, n)
	var wg sync.WaitGroup
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			code, body := send(i)
			answers[i] = answer{code, body, time.Now()}
		}()
		if i == 0 {
			// the committer takes the first alone and waits for the lock
			time.Sleep(300 * time.Millisecond)
			continue
		}
		// queued in the order sent
		deadline := time.Now().Add(20 * time.Second)
		for len(c.q) < i && time.Now().Before(deadline) {
			time.Sleep(5 * time.Millisecond)
		}
		if got := len(c.q); got != i {
			h.srv.writeMu.Unlock()
			t.Fatalf("%d deliveries queued, want %d", got, i)
		}
	}
	released := time.Now()
	h.srv.writeMu.Unlock()
	wg.Wait()
	return answers, released
}

// Queued deliveries are committed as one group, answered only after that
// commit; a bad record answers 400 to its own delivery alone; a repeated
// id or body inside the group is applied once.
func TestPushGroupCommit(t *testing.T) {
	h := startServer(t, func(o *Options) {
		o.Events = nil
		o.EventGroups = groupSink(o.DB)
		o.Config.Serve.MaxBodyBytes = 1 << 20
	})
	type send struct{ id, body string }
	var sends []send
	for i := 0; i < 8; i++ {
		bad := -1
		if i == 5 {
			bad = 2 // line 3 of delivery g-5
		}
		sends = append(sends, send{fmt.Sprintf("g-%d", i), deliveryOf(fmt.Sprintf("d%d", i), 10, bad)})
	}
	// g-1 again under its own id, and its body under a new id
	sends = append(sends, send{"g-1", sends[1].body}, send{"g-1-copy", sends[1].body})

	answers, released := sendHeld(t, h, h.srv.pushes, len(sends), func(i int) (int, string) {
		return h.push(sends[i].body, sends[i].id)
	})

	for i, a := range answers {
		if a.at.Before(released) {
			t.Errorf("%s answered before its group could commit", sends[i].id)
		}
		want, text := 202, `"records":10`
		switch {
		case i == 5:
			want, text = 400, `push:g-5: line 3: deployment field \"status\": value \"maybe\" is not one of success, failure, cancelled (nothing was loaded)`
		case i == 8:
			want, text = 200, `{"delivery":"g-1","records":10,"duplicate":true}`
		case i == 9:
			want, text = 200, `{"delivery":"g-1-copy","records":10,"duplicate":true,"duplicate_of":"g-1"}`
		}
		if a.code != want || !strings.Contains(a.body, text) {
			t.Errorf("%s: %d %s, want %d with %s", sends[i].id, a.code, a.body, want, text)
		}
	}
	// 7 good deliveries of 10 deployments each, none of the bad one's.
	if n := h.count(`SELECT count(*) FROM deployments WHERE source = 'push'`); n != 70 {
		t.Errorf("deployments: %d, want 70", n)
	}
	if n := h.count(`SELECT count(*) FROM deployments WHERE id LIKE 'd5-%'`); n != 0 {
		t.Errorf("deployments of the bad delivery: %d, want 0", n)
	}
	if n := h.count(`SELECT count(*) FROM webhook_deliveries WHERE endpoint = 'events'`); n != 7 {
		t.Errorf("recorded deliveries: %d, want 7", n)
	}
	if n := h.count(`SELECT count(*) FROM delivery_bodies WHERE endpoint = 'events'`); n != 7 {
		t.Errorf("recorded bodies: %d, want 7", n)
	}
	// g-0 alone; then g-1 … g-7 as one group (failed for g-5, then again
	// without it). The repeats of g-1 waited for that commit.
	runs := map[string]int{}
	rows, err := h.db.QueryContext(context.Background(), `SELECT status, target FROM ingest_runs WHERE source = 'push' AND target NOT LIKE 'push:g-5' ORDER BY id`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var got []string
	for rows.Next() {
		var status, target string
		rows.Scan(&status, &target)
		runs[status]++
		got = append(got, status+": "+target)
	}
	want := []string{
		"success: push:g-0",
		"failed: push:g-1 push:g-2 push:g-3 push:g-4 push:g-5 push:g-6 push:g-7",
		"success: push:g-1 push:g-2 push:g-3 push:g-4 push:g-6 push:g-7",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("ingest runs:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}
