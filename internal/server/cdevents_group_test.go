//go:build duckdb_arrow

package server

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/shiplog/shiplog/ingest/cdevents"
)

// cdSinks sets CDEvents sinks like those `shiplog serve` wires (cli/serve;
// a batch's delivery id here names its first and last event) over a real
// CDEvents source that maps the environment "prod-eu-1" to
// production. groups, when not nil, gets the size of every group stored.
func cdSinks(t testing.TB, o *Options, groups *[]int) *cdevents.Source {
	src, err := cdevents.New(&cdevents.Config{Environments: map[string]string{"prod-eu-1": "production"}})
	if err != nil {
		t.Fatal(err)
	}
	db := o.DB
	o.CDEvents = func(h http.Header, body []byte) (*CDEventsDelivery, error) {
		events, err := cdevents.ParseRequest(h, body)
		if err != nil {
			return nil, &BadRequestError{Err: err}
		}
		keep, ignored, err := src.Validator().Accepted(events)
		if err != nil {
			return nil, &BadRequestError{Err: err}
		}
		d := &CDEventsDelivery{Ignored: ignored, Event: events[0].Type, ID: events[0].Key()}
		if len(events) > 1 {
			d.Event, d.ID = "batch", "batch:"+events[0].Key()+"+"+events[len(events)-1].Key()
		}
		d.Store = func(ctx context.Context) (int64, error) { return src.StoreEvents(ctx, db, keep) }
		d.Events = keep
		return d, nil
	}
	var mu sync.Mutex
	o.CDEventGroups = func(ctx context.Context, group []*CDEventsDelivery, inTx func(context.Context, *sql.Conn, []int64) error) error {
		if groups != nil {
			mu.Lock()
			*groups = append(*groups, len(group))
			mu.Unlock()
		}
		events := make([][]cdevents.Event, len(group))
		for i, d := range group {
			events[i] = d.Events.([]cdevents.Event)
		}
		return src.StoreGroup(ctx, db, events, inTx)
	}
	return src
}

// deployedEvent is the spec's service.deployed example with its own id, a
// chain of its own, no links, the service svc and the time at, wrapped as
// a structured-mode CloudEvent.
func deployedEvent(t testing.TB, id, svc, at string) map[string]any {
	b, err := os.ReadFile(filepath.Join("..", "..", "ingest", "cdevents", "testdata", "spec", "service_deployed.json"))
	if err != nil {
		t.Fatal(err)
	}
	var ev map[string]any
	if err := json.Unmarshal(b, &ev); err != nil {
		t.Fatal(err)
	}
	c := ev["context"].(map[string]any)
	c["id"], c["chainId"], c["timestamp"] = id, "chain-"+id, at
	delete(c, "links")
	s := ev["subject"].(map[string]any)
	s["id"] = "service/" + svc
	s["content"].(map[string]any)["environment"] = map[string]any{"id": "prod-eu-1"}
	return map[string]any{"specversion": "1.0", "id": id, "source": c["source"], "type": c["type"], "time": at,
		"datacontenttype": "application/json", "data": ev}
}

// cdBody is one event (structured mode) or a batch of them.
func cdBody(t testing.TB, evs ...map[string]any) (string, map[string]string) {
	var v any = evs[0]
	ct := "application/cloudevents+json"
	if len(evs) > 1 {
		v, ct = evs, "application/cloudevents-batch+json"
	}
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b), merge(map[string]string{"Content-Type": ct}, signPush(string(b)))
}

// Queued CDEvents deliveries are committed as one group with one mapping,
// answered only after that commit, each with the events that were new for
// it: an event two deliveries of the group carry counts for the first; a
// repeated delivery id or body waits for the group and is a duplicate.
func TestCDEventsGroupCommit(t *testing.T) {
	var groups []int
	h := startServer(t, func(o *Options) {
		o.Config.Serve.MaxBodyBytes = 1 << 20
		cdSinks(t, o, &groups)
	})
	ev := func(i int) map[string]any {
		return deployedEvent(t, fmt.Sprintf("e-%d", i), fmt.Sprintf("svc%d", i%2), fmt.Sprintf("2026-03-02T1%d:00:00Z", i))
	}
	type send struct {
		name string
		body string
		hdr  map[string]string
	}
	var sends []send
	add := func(name string, evs ...map[string]any) {
		b, hdr := cdBody(t, evs...)
		sends = append(sends, send{name, b, hdr})
	}
	add("e-0", ev(0))            // committed alone: the committer takes it, then waits for the lock
	add("e-1", ev(1))            // 1 new
	add("e-2+e-3", ev(2), ev(3)) // 2 new
	add("e-3+e-4", ev(3), ev(4)) // e-3 is e-2+e-3's: 1 new
	add("e-1 again", ev(1))      // the same id and body as e-1: after the group, a duplicate
	// e-1's event in a batch of its own with e-0 (stored before the group): another
	// delivery id and body, nothing new
	add("e-0+e-1", ev(0), ev(1))

	replies, released := sendHeld(t, h, h.srv.cdGroups, len(sends), func(i int) (int, string) {
		return h.post("/api/v1/cdevents", sends[i].body, "", "", sends[i].hdr)
	})

	src := "/event/source/123"
	want := []struct {
		code int
		body string
	}{
		{202, `{"delivery":"` + src + ` e-0","records":1}`},
		{202, `{"delivery":"` + src + ` e-1","records":1}`},
		{202, `{"delivery":"batch:` + src + ` e-2+` + src + ` e-3","records":2}`},
		{202, `{"delivery":"batch:` + src + ` e-3+` + src + ` e-4","records":1}`},
		{200, `{"delivery":"` + src + ` e-1","records":1,"duplicate":true}`},
		{202, `{"delivery":"batch:` + src + ` e-0+` + src + ` e-1","records":0}`},
	}
	for i, r := range replies {
		if r.at.Before(released) {
			t.Errorf("%s answered before its group could commit", sends[i].name)
		}
		if r.code != want[i].code || strings.TrimSpace(r.body) != want[i].body {
			t.Errorf("%s: %d %s, want %d %s", sends[i].name, r.code, strings.TrimSpace(r.body), want[i].code, want[i].body)
		}
	}
	// e-0 alone, then the four new deliveries together; the repeat of e-1
	// was answered from the record of deliveries, not stored.
	if fmt.Sprint(groups) != "[1 4]" {
		t.Errorf("groups stored: %v, want [1 4]", groups)
	}
	if n := h.count(`SELECT count(*) FROM raw_cdevents`); n != 5 {
		t.Errorf("raw events: %d, want 5", n)
	}
	// every event mapped: five production deployments, svc0 (e-0, e-2, e-4)
	// and svc1 (e-1, e-3)
	if got := h.count(`SELECT count(*) FROM deployments WHERE source = 'cdevents' AND environment = 'production'
		AND service = CASE WHEN id IN ('e-0', 'e-2', 'e-4') THEN 'svc0' ELSE 'svc1' END`); got != 5 {
		t.Errorf("mapped deployments: %d, want 5", got)
	}
	rows, err := h.db.Query(`SELECT delivery_id, event, records FROM webhook_deliveries WHERE endpoint = 'cdevents' ORDER BY received_at, delivery_id`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var got []string
	for rows.Next() {
		var id, event string
		var n int64
		if err := rows.Scan(&id, &event, &n); err != nil {
			t.Fatal(err)
		}
		got = append(got, fmt.Sprintf("%s %s %d", strings.TrimPrefix(id, "batch:"), strings.TrimPrefix(event, "dev.cdevents."), n))
	}
	wantRows := strings.Join([]string{
		src + " e-0 service.deployed.0.2.0 1",
		src + " e-1 service.deployed.0.2.0 1",
		src + " e-0+" + src + " e-1 batch 0",
		src + " e-2+" + src + " e-3 batch 2",
		src + " e-3+" + src + " e-4 batch 1",
	}, "\n")
	if strings.Join(got, "\n") != wantRows {
		t.Errorf("recorded deliveries:\n%s\nwant:\n%s", strings.Join(got, "\n"), wantRows)
	}
	if n := h.count(`SELECT count(*) FROM delivery_bodies WHERE endpoint = 'cdevents'`); n != 5 {
		t.Errorf("recorded bodies: %d, want 5", n)
	}
}
