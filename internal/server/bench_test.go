//go:build duckdb_arrow

package server

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/flight/flightsql"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"

	"github.com/shiplog/shiplog/ingest/cdevents"
	"github.com/shiplog/shiplog/ingest/file"
	"github.com/shiplog/shiplog/internal/config"
)

// BenchmarkWebhookLoad drives /api/v1/events from a bounded loopback load
// generator: 4 concurrent senders, b.N deliveries in all, each a signed
// JSON array of 10 (or 100) deployment events, stored by the canonical file loader
// as `shiplog serve` does (validated, typed, committed before the answer).
// It reports events per second and the p50 and p99 latency of a delivery.
func BenchmarkWebhookLoad(b *testing.B) {
	for _, per := range []int{10, 100} {
		b.Run(fmt.Sprintf("events=%d", per), func(b *testing.B) { webhookLoad(b, 4, per, false) })
	}
}

// BenchmarkPushGroupCommit is the push API as `shiplog serve` wires it:
// 16 concurrent senders, deliveries of 10 deployments, queued deliveries
// committed together (group), against the anchor measured in the same run:
// each delivery applied on its own, one load and one commit each (single,
// the path before group commit). It reports events per second and the p50
// and p99 latency of the acknowledgement.
func BenchmarkPushGroupCommit(b *testing.B) {
	for _, mode := range []string{"single", "group"} {
		b.Run(mode, func(b *testing.B) { webhookLoad(b, 16, 10, mode == "group") })
	}
}

func webhookLoad(b *testing.B, senders, perDelivery int, grouped bool) {
	h := startServer(&testing.T{}, func(o *Options) {
		o.Config.Serve.MaxBodyBytes = 1 << 20
		db := o.DB
		if grouped {
			o.Events, o.EventGroups = nil, groupSink(db)
			return
		}
		o.Events = func(ctx context.Context, body io.Reader, id string) (int64, error) {
			res, err := file.LoadReader(ctx, db, "push:"+id, body, file.Options{Source: "push"})
			if err != nil {
				return 0, &BadRequestError{Err: err}
			}
			return res.Written, nil
		}
	})
	defer h.stop()
	bodies := make([]string, b.N)
	for i := range bodies {
		var sb strings.Builder
		sb.WriteString("[")
		for j := 0; j < perDelivery; j++ {
			if j > 0 {
				sb.WriteString(",")
			}
			fmt.Fprintf(&sb, `{"kind":"deployment","id":"b%d-%d","service":"svc%d","environment":"production","finished_at":"2026-03-01T10:00:00Z","status":"success"}`, i, j, j)
		}
		sb.WriteString("]")
		bodies[i] = sb.String()
	}
	lat, elapsed := drive(b, senders, func(i int) *http.Request {
		req, _ := http.NewRequest("POST", h.base+"/api/v1/events", strings.NewReader(bodies[i]))
		ts, sig := SignPush([]byte(secret), time.Now(), []byte(bodies[i]))
		req.Header.Set("X-Shiplog-Timestamp", ts)
		req.Header.Set("X-Shiplog-Signature-256", sig)
		req.Header.Set("X-Shiplog-Delivery", fmt.Sprintf("bench-%d", i))
		return req
	})
	b.ReportMetric(float64(b.N*perDelivery)/elapsed.Seconds(), "events/s")
	b.ReportMetric(float64(lat[len(lat)/2].Microseconds())/1000, "p50-ms")
	b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds())/1000, "p99-ms")
}

// drive sends the b.N deliveries request(i) builds from senders concurrent
// senders, each taking the next delivery once answered, and returns the
// latencies of the answers, sorted, and the time of the whole load (the
// benchmark's timer runs over it alone). Any answer but 202 fails b.
func drive(b *testing.B, senders int, request func(i int) *http.Request) ([]time.Duration, time.Duration) {
	lat := make([]time.Duration, b.N)
	var next sync.Mutex
	idx := 0
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: senders}}
	b.ResetTimer()
	start := time.Now()
	var wg sync.WaitGroup
	for s := 0; s < senders; s++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				next.Lock()
				i := idx
				idx++
				next.Unlock()
				if i >= b.N {
					return
				}
				req := request(i)
				t0 := time.Now()
				resp, err := client.Do(req)
				if err != nil {
					b.Error(err)
					return
				}
				resp.Body.Close()
				lat[i] = time.Since(t0)
				if resp.StatusCode != http.StatusAccepted {
					b.Errorf("delivery %d: status %d", i, resp.StatusCode)
					return
				}
			}
		}()
	}
	wg.Wait()
	elapsed := time.Since(start)
	b.StopTimer()
	sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
	return lat, elapsed
}

// BenchmarkFlightSQLLargeResult reads a 2-million-row, 4-column result over
// Flight SQL on loopback and reports rows per second.
func BenchmarkFlightSQLLargeResult(b *testing.B) {
	h := startServer(&testing.T{}, nil)
	defer h.stop()
	const rows = 2_000_000
	q := fmt.Sprintf(`SELECT i AS id, 'svc' || (i %% 500) AS service, TIMESTAMPTZ '2026-01-01' + to_seconds(i) AS at, i * 0.5 AS hours FROM range(%d) t(i)`, rows)
	ctx := context.Background()
	b.ResetTimer()
	for n := 0; n < b.N; n++ {
		start := time.Now()
		tab, err := RemoteQuery(ctx, h.srv.FlightAddr(), "", q)
		if err != nil {
			b.Fatal(err)
		}
		if len(tab.Rows) != rows {
			b.Fatalf("got %d rows", len(tab.Rows))
		}
		b.ReportMetric(float64(rows)/time.Since(start).Seconds(), "rows/s")
	}
}

// BenchmarkPushUnderQueryLoad measures what readers cost the writers: one
// sender pushes b.N deliveries of 10 deployments (stored by the canonical
// file loader, as serve does) while 0 or 4 Flight SQL clients each run,
// back to back, a query that keeps DuckDB's threads busy until
// serve.query_timeout (3 s here) stops it, with serve.max_queries at 4 or
// 1. It reports the push p50 and p99 latency and how many queries ended.
func BenchmarkPushUnderQueryLoad(b *testing.B) {
	for _, c := range []struct{ readers, max int }{{0, 2}, {4, 4}, {4, 2}, {4, 1}} {
		b.Run(fmt.Sprintf("readers=%d/max_queries=%d", c.readers, c.max), func(b *testing.B) { pushUnderLoad(b, c.readers, c.max) })
	}
}

func pushUnderLoad(b *testing.B, readers, maxQueries int) {
	h := startServer(&testing.T{}, func(o *Options) {
		o.Config.Serve.MaxBodyBytes = 1 << 20
		o.Config.Serve.QueryTimeout = config.Duration(3 * time.Second)
		o.Config.Serve.MaxQueries = maxQueries
		db := o.DB
		o.Events = func(ctx context.Context, body io.Reader, id string) (int64, error) {
			res, err := file.LoadReader(ctx, db, "push:"+id, body, file.Options{Source: "push"})
			if err != nil {
				return 0, &BadRequestError{Err: err}
			}
			return res.Written, nil
		}
	})
	defer h.stop()
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	var mu sync.Mutex
	queries := 0
	for r := 0; r < readers; r++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for ctx.Err() == nil {
				RemoteQuery(ctx, h.srv.FlightAddr(), "", `SELECT sum(hash(i)) AS h FROM range(100000000000) t(i)`)
				mu.Lock()
				queries++
				mu.Unlock()
			}
		}()
	}
	time.Sleep(500 * time.Millisecond) // let the readers start
	lat := make([]time.Duration, b.N)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		var sb strings.Builder
		sb.WriteString("[")
		for j := 0; j < 10; j++ {
			if j > 0 {
				sb.WriteString(",")
			}
			fmt.Fprintf(&sb, `{"kind":"deployment","id":"q%d-%d","service":"svc%d","environment":"production","finished_at":"2026-03-01T10:00:00Z","status":"success"}`, i, j, j)
		}
		sb.WriteString("]")
		t0 := time.Now()
		code, body := h.post("/api/v1/events", sb.String(), "", fmt.Sprintf("ql-%d", i), signPush(sb.String()))
		lat[i] = time.Since(t0)
		if code != http.StatusAccepted {
			b.Fatalf("push %d: %d %s", i, code, body)
		}
	}
	b.StopTimer()
	cancel()
	wg.Wait()
	sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
	b.ReportMetric(float64(lat[len(lat)/2].Microseconds())/1000, "p50-ms")
	b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds())/1000, "p99-ms")
	b.ReportMetric(float64(queries), "queries")
}

// BenchmarkFlightSQLArrow reads a 2,000,000 × 4 result three ways in the
// same run and reports rows per second: the anchor, DuckDB's own Arrow
// result read in process (local); a Flight SQL client reading the record
// batches the endpoint streams (flight, what ADBC and other Arrow clients
// do); and `query --server`'s path, which also turns every cell into a Go
// value (flight+rows).
func BenchmarkFlightSQLArrow(b *testing.B) {
	h := startServer(&testing.T{}, nil)
	defer h.stop()
	const rows = 2_000_000
	q := fmt.Sprintf(`SELECT i, i * 2, i::VARCHAR, i / 3.0 FROM range(%d) t(i)`, rows)
	ctx := context.Background()
	count := func(b *testing.B, rdr interface {
		Next() bool
		RecordBatch() arrow.RecordBatch
		Err() error
	}) {
		n := int64(0)
		for rdr.Next() {
			n += rdr.RecordBatch().NumRows()
		}
		if err := rdr.Err(); err != nil {
			b.Fatal(err)
		}
		if n != rows {
			b.Fatalf("got %d rows, want %d", n, rows)
		}
	}
	b.Run("local", func(b *testing.B) {
		for n := 0; n < b.N; n++ {
			start := time.Now()
			rdr, release, err := h.db.QueryArrow(ctx, q)
			if err != nil {
				b.Fatal(err)
			}
			count(b, rdr)
			release()
			b.ReportMetric(float64(rows)/time.Since(start).Seconds(), "rows/s")
		}
	})
	b.Run("flight", func(b *testing.B) {
		cl, err := flightsql.NewClient(h.srv.FlightAddr(), nil, nil, grpc.WithTransportCredentials(insecure.NewCredentials()))
		if err != nil {
			b.Fatal(err)
		}
		defer cl.Close()
		for n := 0; n < b.N; n++ {
			start := time.Now()
			info, err := cl.Execute(ctx, q)
			if err != nil {
				b.Fatal(err)
			}
			rdr, err := cl.DoGet(ctx, info.Endpoint[0].GetTicket())
			if err != nil {
				b.Fatal(err)
			}
			count(b, rdr)
			rdr.Release()
			b.ReportMetric(float64(rows)/time.Since(start).Seconds(), "rows/s")
		}
	})
	b.Run("flight+rows", func(b *testing.B) {
		for n := 0; n < b.N; n++ {
			start := time.Now()
			tab, err := RemoteQuery(ctx, h.srv.FlightAddr(), "", q)
			if err != nil {
				b.Fatal(err)
			}
			if len(tab.Rows) != rows {
				b.Fatalf("got %d rows", len(tab.Rows))
			}
			b.ReportMetric(float64(rows)/time.Since(start).Seconds(), "rows/s")
		}
	})
}

// BenchmarkCDEventsPush is /api/v1/cdevents as `shiplog serve` wires it,
// into a warehouse holding 10,000 stored events (service.deployed, 50
// services, a chain each): 16 concurrent senders, each delivery one
// service.deployed of a new chain, signed like a push. group commits the
// deliveries queued at a moment together (one transaction, one keyed
// mapping); single, the anchor in the same run, stores and maps each
// delivery on its own, the path before group commit. It reports events
// per second, the p50 and p99 latency of the acknowledgement and, grouped,
// the mean deliveries per group.
func BenchmarkCDEventsPush(b *testing.B) {
	for _, mode := range []string{"single", "group"} {
		b.Run(mode, func(b *testing.B) {
			var groups []int
			h := startServer(&testing.T{}, func(o *Options) {
				o.Config.Serve.MaxBodyBytes = 1 << 20
				src := cdSinks(b, o, &groups)
				if mode == "single" {
					o.CDEventGroups = nil
				}
				stored := make([]cdevents.Event, 0, 10000)
				for i := 0; i < 10000; i++ {
					body, hdr := cdBody(b, deployedEvent(b, fmt.Sprintf("s-%d", i), fmt.Sprintf("svc%02d", i%50),
						time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC).Add(time.Duration(i)*time.Minute).Format(time.RFC3339)))
					h := http.Header{}
					for k, v := range hdr {
						h.Set(k, v)
					}
					evs, err := cdevents.ParseRequest(h, []byte(body))
					if err != nil {
						b.Fatal(err)
					}
					stored = append(stored, evs...)
				}
				if n, err := src.StoreEvents(context.Background(), o.DB, stored); err != nil || n != 10000 {
					b.Fatalf("stored %d: %v", n, err)
				}
			})
			groups = nil
			defer h.stop()
			bodies := make([]string, b.N)
			for i := range bodies {
				bodies[i], _ = cdBody(b, deployedEvent(b, fmt.Sprintf("p-%d", i), fmt.Sprintf("svc%02d", i%50),
					time.Date(2026, 2, 1, 0, 0, 0, 0, time.UTC).Add(time.Duration(i)*time.Second).Format(time.RFC3339)))
			}
			lat, elapsed := drive(b, 16, func(i int) *http.Request {
				req, _ := http.NewRequest("POST", h.base+"/api/v1/cdevents", strings.NewReader(bodies[i]))
				req.Header.Set("Content-Type", "application/cloudevents+json")
				for k, v := range signPush(bodies[i]) {
					req.Header.Set(k, v)
				}
				return req
			})
			if n := h.count(`SELECT count(*) FROM deployments WHERE source = 'cdevents'`); n != 10000+b.N {
				b.Fatalf("%d deployments mapped, want %d", n, 10000+b.N)
			}
			b.ReportMetric(float64(b.N)/elapsed.Seconds(), "events/s")
			b.ReportMetric(float64(lat[len(lat)/2].Microseconds())/1000, "p50-ms")
			b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds())/1000, "p99-ms")
			if len(groups) > 0 {
				b.ReportMetric(float64(b.N)/float64(len(groups)), "deliveries/group")
			}
		})
	}
}
