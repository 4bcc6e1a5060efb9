// Command killtrial kills shiplog with SIGKILL at random points and checks
// that nothing acknowledged is lost and nothing is half-written:
//
//	go build -tags duckdb_arrow -o /tmp/shiplog ./cmd/shiplog
//	go run ./internal/killtrial -shiplog /tmp/shiplog -trials 100
//
// Trials rotate over three kinds, on one warehouse that grows from trial to
// trial:
//
//   - ingest: `shiplog ingest file` of a new batch (deployments and
//     incidents with ids of their own), killed at a random point of its
//     run;
//   - transform: `shiplog transform`, killed at a random point;
//   - serve: `shiplog serve` under push load (four senders, each delivery a
//     batch of its own ids: two send canonical events to /api/v1/events,
//     two CDEvents batches to /api/v1/cdevents), killed at a random point
//     while they push.
//
// After each kill the warehouse must open, every batch so far must be all
// there or not there at all, every push answered 202 (or 200, duplicate)
// must be all there, and `shiplog transform` must pass; then the killed
// ingest is run again and must converge to the whole batch. Random points
// are drawn from a seeded source (-seed) up to the run time measured
// without a kill, so a run can be repeated.
package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/csv"
	"errors"
	"flag"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/shiplog/shiplog/internal/server"
	"github.com/shiplog/shiplog/internal/warehouse"
)

const secret = "kill-trial-secret"

type trial struct {
	dir     string
	bin     string
	db      string
	rng     *rand.Rand
	batch   int // batches written so far
	perFile int
	// batches are every ingest batch and push delivery tried: id prefix →
	// records it holds, and whether it was acknowledged.
	batches map[string]*batchState
	timing  map[string]time.Duration
	log     io.Writer
}

type batchState struct {
	kind    string // ingest, push
	records int
	acked   bool
}

// result counts what the trials saw.
type result struct {
	trials, kills                  map[string]int
	acked, deliveries, cut         int
	lost, halfWritten, openFailed  int
	transformFailed, notConverged  int
	runningRows, duplicateAnswered int
	cdDeliveries, cdAcked          int
	problems                       []string
}

func main() {
	bin := flag.String("shiplog", "", "the shiplog binary to kill (built with -tags duckdb_arrow)")
	trials := flag.Int("trials", 100, "number of trials")
	seed := flag.Uint64("seed", 1, "seed of the random kill points")
	records := flag.Int("records", 2000, "records per ingest batch")
	keep := flag.Bool("keep", false, "keep the trial folder")
	selftest := flag.Bool("selftest", false, "first check that the checks see a half-written and a lost batch")
	flag.Parse()
	if *bin == "" {
		fmt.Fprintln(os.Stderr, "killtrial: -shiplog is required (go build -tags duckdb_arrow -o /tmp/shiplog ./cmd/shiplog)")
		os.Exit(2)
	}
	dir, err := os.MkdirTemp("", "shiplog-killtrial-")
	if err != nil {
		fail(err)
	}
	if !*keep {
		defer os.RemoveAll(dir)
	}
	t := &trial{dir: dir, bin: *bin, db: filepath.Join(dir, "w.duckdb"), rng: rand.New(rand.NewPCG(*seed, 7)),
		perFile: *records, batches: map[string]*batchState{}, timing: map[string]time.Duration{}, log: os.Stderr}
	res := &result{trials: map[string]int{}, kills: map[string]int{}}
	if err := t.calibrate(); err != nil {
		fail(err)
	}
	if *selftest {
		t.selfTest()
	}
	kinds := []string{"ingest", "transform", "serve"}
	for i := 0; i < *trials; i++ {
		kind := kinds[i%len(kinds)]
		res.trials[kind]++
		killed, err := t.run(kind, res)
		if err != nil {
			res.problems = append(res.problems, fmt.Sprintf("trial %d (%s): %v", i+1, kind, err))
		}
		if killed {
			res.kills[kind]++
		}
		t.check(i+1, kind, res)
		fmt.Fprintf(t.log, "trial %3d %-9s killed=%-5v batches=%d problems=%d\n", i+1, kind, killed, len(t.batches), len(res.problems))
	}
	report(res, *seed, *trials)
	if len(res.problems) > 0 {
		os.Exit(1)
	}
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, "killtrial:", err)
	os.Exit(1)
}

// shiplog runs the binary to its end and returns its output.
func (t *trial) shiplog(args ...string) (string, error) {
	cmd := exec.Command(t.bin, append([]string{"--db", t.db}, args...)...)
	cmd.Dir = t.dir
	cmd.Env = append(os.Environ(), "SHIPLOG_WEBHOOK_SECRET="+secret, "SHIPLOG_TOKEN=")
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	if err != nil {
		return out.String(), fmt.Errorf("shiplog %s: %v: %s", strings.Join(args, " "), err, lastLine(errb.String()))
	}
	return out.String(), nil
}

func lastLine(s string) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	return lines[len(lines)-1]
}

// query returns the rows of a read-only query as CSV records.
func (t *trial) query(sql string) ([][]string, error) {
	out, err := t.shiplog("query", "--format", "csv", sql)
	if err != nil {
		return nil, err
	}
	recs, err := csv.NewReader(strings.NewReader(out)).ReadAll()
	if err != nil || len(recs) == 0 {
		return nil, fmt.Errorf("query %q: %v", sql, err)
	}
	return recs[1:], nil
}

// writeBatch writes the next ingest batch: half deployments, half
// incidents, all with ids starting with the batch's prefix.
func (t *trial) writeBatch() (string, string) {
	t.batch++
	prefix := fmt.Sprintf("b%04d-", t.batch)
	p := filepath.Join(t.dir, fmt.Sprintf("batch%04d.jsonl", t.batch))
	f, err := os.Create(p)
	if err != nil {
		fail(err)
	}
	w := bufio.NewWriter(f)
	base := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC).Add(time.Duration(t.batch) * time.Hour)
	for i := 0; i < t.perFile; i++ {
		at := base.Add(time.Duration(i) * time.Second).Format(time.RFC3339)
		if i%2 == 0 {
			fmt.Fprintf(w, `{"kind":"deployment","id":"%s%d","service":"svc%d","environment":"production","finished_at":%q,"status":"success"}`+"\n", prefix, i, i%7, at)
		} else {
			fmt.Fprintf(w, `{"kind":"incident","id":"%s%d","service":"svc%d","severity":"sev2","opened_at":%q}`+"\n", prefix, i, i%7, at)
		}
	}
	w.Flush()
	f.Close()
	t.batches[prefix] = &batchState{kind: "ingest", records: t.perFile}
	return prefix, p
}

// calibrate times each kind of run without a kill, so that kill points
// fall within a run.
func (t *trial) calibrate() error {
	_, p := t.writeBatch()
	start := time.Now()
	if _, err := t.shiplog("ingest", "file", p); err != nil {
		return err
	}
	t.timing["ingest"] = time.Since(start)
	start = time.Now()
	if _, err := t.shiplog("transform"); err != nil {
		return err
	}
	t.timing["transform"] = time.Since(start)
	t.timing["serve"] = 3 * time.Second
	for _, b := range t.batches {
		b.acked = true
	}
	fmt.Fprintf(t.log, "calibration: ingest %s, transform %s (%d records a batch)\n", t.timing["ingest"].Round(time.Millisecond), t.timing["transform"].Round(time.Millisecond), t.perFile)
	return nil
}

// killAfter starts cmd and kills it with SIGKILL after d (if it is still
// running); it reports whether the kill hit a running process.
func killAfter(cmd *exec.Cmd, d time.Duration) (bool, error) {
	if err := cmd.Start(); err != nil {
		return false, err
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		return false, err
	case <-time.After(d):
		cmd.Process.Signal(syscall.SIGKILL)
		<-done
		return true, nil
	}
}

func (t *trial) run(kind string, res *result) (bool, error) {
	delay := time.Duration(t.rng.Int64N(int64(t.timing[kind]) + 1))
	switch kind {
	case "ingest":
		prefix, p := t.writeBatch()
		cmd := exec.Command(t.bin, "--db", t.db, "ingest", "file", p)
		cmd.Dir = t.dir
		killed, err := killAfter(cmd, delay)
		if !killed && err == nil {
			t.batches[prefix].acked = true
		}
		return killed, nil
	case "transform":
		cmd := exec.Command(t.bin, "--db", t.db, "transform")
		cmd.Dir = t.dir
		killed, _ := killAfter(cmd, delay)
		return killed, nil
	case "serve":
		return t.serve(delay, res)
	}
	return false, errors.New("unknown kind")
}

// serve starts `shiplog serve`, pushes from four senders until the kill,
// and notes every delivery and its answer.
func (t *trial) serve(delay time.Duration, res *result) (bool, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return false, err
	}
	addr := ln.Addr().String()
	ln.Close()
	cmd := exec.Command(t.bin, "--db", t.db, "serve", "--listen", addr, "--flight-sql", "off")
	cmd.Dir = t.dir
	cmd.Env = append(os.Environ(), "SHIPLOG_WEBHOOK_SECRET="+secret)
	if err := cmd.Start(); err != nil {
		return false, err
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	base := "http://" + addr
	up := false
	for i := 0; i < 400 && !up; i++ {
		if resp, err := http.Get(base + "/healthz"); err == nil {
			resp.Body.Close()
			up = resp.StatusCode == 200
		}
		if !up {
			time.Sleep(25 * time.Millisecond)
		}
	}
	if !up {
		cmd.Process.Signal(syscall.SIGKILL)
		<-exited
		return false, errors.New("serve did not come up")
	}
	var mu sync.Mutex
	stop := make(chan struct{})
	var wg sync.WaitGroup
	client := &http.Client{Timeout: 10 * time.Second}
	for s := 0; s < 4; s++ {
		wg.Add(1)
		go func(s int) {
			defer wg.Done()
			for n := 0; ; n++ {
				select {
				case <-stop:
					return
				default:
				}
				cd := s >= 2 // senders 2 and 3 push CDEvents
				mu.Lock()
				t.batch++
				prefix := fmt.Sprintf("p%05d-", t.batch)
				st := &batchState{kind: "push", records: 20}
				if cd {
					prefix = fmt.Sprintf("c%05d-", t.batch)
					st.records = 3
				}
				t.batches[prefix] = st
				mu.Unlock()
				var body bytes.Buffer
				at := time.Date(2026, 2, 1, 0, 0, 0, 0, time.UTC).Add(time.Duration(t.batch) * time.Minute).Format(time.RFC3339)
				path := "/api/v1/events"
				if cd {
					path = "/api/v1/cdevents"
					cdeventsBatch(&body, prefix, st.records, s, at)
				} else {
					for i := 0; i < st.records; i++ {
						fmt.Fprintf(&body, `{"kind":"deployment","id":"%s%d","service":"push%d","environment":"production","finished_at":%q,"status":"success"}`+"\n", prefix, i, s, at)
					}
				}
				ts, sig := server.SignPush([]byte(secret), time.Now(), body.Bytes())
				req, _ := http.NewRequest("POST", base+path, bytes.NewReader(body.Bytes()))
				req.Header.Set("X-Shiplog-Timestamp", ts)
				req.Header.Set("X-Shiplog-Signature-256", sig)
				if cd {
					req.Header.Set("Content-Type", "application/cloudevents-batch+json")
				} else {
					req.Header.Set("X-Shiplog-Delivery", prefix+"delivery")
				}
				resp, err := client.Do(req)
				if err != nil {
					// Killed mid-request: not acknowledged, and must be
					// all there or not at all.
					mu.Lock()
					res.cut++
					mu.Unlock()
					continue
				}
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				mu.Lock()
				res.deliveries++
				if cd {
					res.cdDeliveries++
				}
				switch resp.StatusCode {
				case http.StatusAccepted:
					st.acked = true
					res.acked++
					if cd {
						res.cdAcked++
					}
				case http.StatusOK:
					st.acked = true
					res.acked++
					res.duplicateAnswered++
				}
				mu.Unlock()
			}
		}(s)
	}
	killed := false
	select {
	case <-exited:
		close(stop)
	case <-time.After(200*time.Millisecond + delay):
		// No new delivery starts; those in flight are cut by the kill.
		close(stop)
		cmd.Process.Signal(syscall.SIGKILL)
		<-exited
		killed = true
	}
	wg.Wait()
	return killed, nil
}

// cdeventsBatch writes a batch of n CloudEvents, each a service.deployed
// CDEvent (v0.4.1) of service cd<s> with the id prefix<i> and a chain of
// its own, at the time at.
func cdeventsBatch(body *bytes.Buffer, prefix string, n, s int, at string) {
	body.WriteString("[")
	for i := 0; i < n; i++ {
		if i > 0 {
			body.WriteString(",")
		}
		id := fmt.Sprintf("%s%d", prefix, i)
		fmt.Fprintf(body, `{"specversion":"1.0","id":%q,"source":"/killtrial","type":"dev.cdevents.service.deployed.0.2.0","time":%q,`+
			`"datacontenttype":"application/json","data":{"context":{"version":"0.4.1","id":%q,"chainId":%q,"source":"/killtrial",`+
			`"type":"dev.cdevents.service.deployed.0.2.0","timestamp":%q},"subject":{"id":"service/cd%d","source":"/killtrial","type":"service",`+
			`"content":{"environment":{"id":"production"},"artifactId":"pkg:oci/app@sha256%%3A0b31b1c02ff458ad9b7b81cbdf8f028bd54699fa151f221d1e8de6817db93427"}}}}`,
			id, at, id, "chain-"+id, at, s)
	}
	body.WriteString("]")
}

// check verifies the warehouse after a trial, runs transform, and re-runs
// an ingest batch that was killed to see it converge.
func (t *trial) check(n int, kind string, res *result) {
	problem := func(format string, args ...any) {
		res.problems = append(res.problems, fmt.Sprintf("trial %d (%s): ", n, kind)+fmt.Sprintf(format, args...))
	}
	rows, err := t.query(`SELECT prefix, count(*) FROM (
		SELECT regexp_extract(id, '^([bpc][0-9]+-)', 1) AS prefix FROM deployments
		UNION ALL SELECT regexp_extract(id, '^([bpc][0-9]+-)', 1) FROM incidents) GROUP BY ALL`)
	if err != nil {
		res.openFailed++
		problem("the warehouse does not open: %v", err)
		return
	}
	got := map[string]int{}
	for _, r := range rows {
		c, _ := strconv.Atoi(r[1])
		got[r[0]] = c
	}
	for prefix, b := range t.batches {
		c := got[prefix]
		switch {
		case c != 0 && c != b.records:
			res.halfWritten++
			problem("batch %s has %d of its %d records", prefix, c, b.records)
		case b.acked && c == 0:
			res.lost++
			problem("acknowledged batch %s is missing", prefix)
		}
	}
	if rows, err := t.query(`SELECT count(*) FROM ingest_runs WHERE status = 'running'`); err == nil && len(rows) == 1 {
		c, _ := strconv.Atoi(rows[0][0])
		res.runningRows = c
	}
	if _, err := t.shiplog("transform"); err != nil {
		res.transformFailed++
		problem("transform after the kill: %v", err)
	}
	// A killed ingest, run again, converges to the whole batch.
	for prefix, b := range t.batches {
		if b.kind != "ingest" || b.acked {
			continue
		}
		num, _ := strconv.Atoi(strings.TrimSuffix(strings.TrimPrefix(prefix, "b"), "-"))
		if _, err := t.shiplog("ingest", "file", filepath.Join(t.dir, fmt.Sprintf("batch%04d.jsonl", num))); err != nil {
			res.notConverged++
			problem("re-run of %s: %v", prefix, err)
			continue
		}
		b.acked = true
		rows, err := t.query(fmt.Sprintf(`SELECT (SELECT count(*) FROM deployments WHERE id LIKE '%s%%') + (SELECT count(*) FROM incidents WHERE id LIKE '%s%%')`, prefix, prefix))
		if err != nil || len(rows) != 1 || rows[0][0] != strconv.Itoa(b.records) {
			res.notConverged++
			problem("re-run of %s gave %v, %v", prefix, rows, err)
		}
	}
}

// selfTest removes part, then all, of the first batch behind shiplog's back
// and checks that check reports a half-written, then a lost, batch; then
// loads the batch again.
func (t *trial) selfTest() {
	for _, c := range []struct {
		sql       string
		half, los int
	}{
		{`DELETE FROM deployments WHERE id IN (SELECT id FROM deployments WHERE id LIKE 'b0001-%' LIMIT 10)`, 1, 0},
		{`DELETE FROM deployments WHERE id LIKE 'b0001-%'; DELETE FROM incidents WHERE id LIKE 'b0001-%'`, 0, 1},
	} {
		db, err := warehouse.Open(context.Background(), t.db, warehouse.Options{})
		if err != nil {
			fail(err)
		}
		if _, err := db.Exec(c.sql); err != nil {
			fail(err)
		}
		db.Close()
		res := &result{trials: map[string]int{}, kills: map[string]int{}}
		t.check(0, "selftest", res)
		if res.halfWritten != c.half || res.lost != c.los {
			fail(fmt.Errorf("self-test: after %q the checks saw %d half-written and %d lost batches, want %d and %d", c.sql, res.halfWritten, res.lost, c.half, c.los))
		}
	}
	if _, err := t.shiplog("ingest", "file", filepath.Join(t.dir, "batch0001.jsonl")); err != nil {
		fail(err)
	}
	fmt.Fprintln(t.log, "self-test: the checks report a half-written batch and a lost one")
}

func report(res *result, seed uint64, trials int) {
	kinds := []string{"ingest", "transform", "serve"}
	sort.Strings(res.problems)
	fmt.Printf("kill trial: %d trials, seed %d\n", trials, seed)
	fmt.Printf("%-10s %7s %7s\n", "kind", "trials", "killed")
	for _, k := range kinds {
		fmt.Printf("%-10s %7d %7d\n", k, res.trials[k], res.kills[k])
	}
	fmt.Printf("pushes answered %d, acknowledged %d (%d as duplicates), cut by the kill %d; of them CDEvents batches answered %d, acknowledged %d\n",
		res.deliveries, res.acked, res.duplicateAnswered, res.cut, res.cdDeliveries, res.cdAcked)
	fmt.Printf("lost acknowledged batches %d, half-written batches %d, warehouse failed to open %d, transform failed %d, re-runs not converged %d\n",
		res.lost, res.halfWritten, res.openFailed, res.transformFailed, res.notConverged)
	fmt.Printf("ingest_runs rows left running at the end: %d\n", res.runningRows)
	for _, p := range res.problems {
		fmt.Println("problem:", p)
	}
}
