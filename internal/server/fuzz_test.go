package server

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jonboulle/clockwork"

	"github.com/shiplog/shiplog/ingest/file"
	"github.com/shiplog/shiplog/internal/config"
	"github.com/shiplog/shiplog/internal/warehouse"
)

var (
	fuzzSrvOnce sync.Once
	fuzzSrv     http.Handler
	fuzzErr     error
	fuzzNow     = time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC)
)

// fuzzServer is one server per fuzzing process, with the canonical file
// loader as its sink (as `shiplog serve` wires it), answered in memory.
func fuzzServer(t *testing.T) http.Handler {
	fuzzSrvOnce.Do(func() {
		db, err := warehouse.OpenMemory(context.Background())
		if err != nil {
			fuzzErr = err
			return
		}
		cfg := config.Default()
		cfg.Serve.MaxBodyBytes = 1 << 16
		srv, err := New(Options{
			DB: db, Config: cfg, Log: io.Discard, Clock: clockwork.NewFakeClockAt(fuzzNow),
			Getenv: func(k string) string { return map[string]string{"SHIPLOG_WEBHOOK_SECRET": secret}[k] },
			Events: func(ctx context.Context, body io.Reader, id string) (int64, error) {
				res, err := file.LoadReader(ctx, db, "push:"+id, body, file.Options{Source: "push"})
				if err != nil {
					var ue *file.UsageError
					if file.IsDataError(err) || errors.As(err, &ue) {
						return 0, &BadRequestError{Err: err}
					}
					return 0, err
				}
				return res.Written, nil
			},
		})
		fuzzSrv, fuzzErr = srv.Handler(), err
	})
	if fuzzErr != nil {
		t.Fatal(fuzzErr)
	}
	return fuzzSrv
}

// FuzzPushEndpoint: whatever the body, headers and signature, the push
// endpoint answers without a 5xx; nothing without a valid signature over a
// fresh timestamp is applied; a body applied once is a duplicate under any
// other delivery id.
func FuzzPushEndpoint(f *testing.F) {
	f.Add([]byte(`{"kind":"team","id":"t1"}`), uint8(1), int64(0), "d1")
	f.Add([]byte(`[{"kind":"team","id":"t2"},{"kind":"team","id":"t3"}]`), uint8(1), int64(-200), "d2")
	f.Add([]byte("{\"kind\":\"team\",\"id\":\"\xff\"}"), uint8(1), int64(10), "d3")
	f.Add([]byte(`{"kind":"team","id":"t4"}`), uint8(0), int64(0), "d4")
	f.Add([]byte(`{"kind":"team","id":"t5"}`), uint8(2), int64(0), "d5")
	f.Add([]byte(`{"kind":"team","id":"t6"}`), uint8(1), int64(400), "d6")
	f.Add([]byte(`[`), uint8(1), int64(0), "")
	f.Fuzz(func(t *testing.T, body []byte, mode uint8, skew int64, id string) {
		h := fuzzServer(t)
		send := func(id string, body []byte) (int, string) {
			req := httptest.NewRequest("POST", "/api/v1/events", bytes.NewReader(body))
			sent := fuzzNow.Add(time.Duration(skew) * time.Second)
			ts, sig := SignPush([]byte(secret), sent, body)
			switch mode % 4 {
			case 0: // unsigned
				sig = ""
			case 2: // signed over another body
				_, sig = SignPush([]byte(secret), sent, append(body, ' '))
			case 3: // the old body-only form, not allowed here
				sig = Sign([]byte(secret), body)
			}
			if sig != "" {
				req.Header.Set("X-Shiplog-Signature-256", sig)
			}
			req.Header.Set("X-Shiplog-Timestamp", ts)
			req.Header.Set("X-Shiplog-Delivery", id)
			w := httptest.NewRecorder()
			h.ServeHTTP(w, req)
			return w.Code, w.Body.String()
		}
		code, answer := send(id, body)
		if code >= 500 {
			t.Fatalf("%d: %s", code, answer)
		}
		valid := mode%4 == 1 && skew >= -300 && skew <= 300
		if code/100 == 2 && !valid {
			t.Fatalf("applied without a valid signature (mode %d, skew %ds): %d %s", mode%4, skew, code, answer)
		}
		if code == http.StatusAccepted {
			// The same body under another id changes nothing.
			code2, answer2 := send(id+"-replay", body)
			var res deliveryResult
			json.Unmarshal([]byte(answer2), &res)
			if code2 != http.StatusOK || !res.Duplicate {
				t.Fatalf("replay under a new id: %d %s", code2, answer2)
			}
		}
		if strings.Contains(answer, "Possible Solution") || strings.Contains(answer, "delimiter =") {
			t.Fatalf("DuckDB's internals in the answer: %s", answer)
		}
	})
}

// FuzzToJSONLines: an array becomes one compact line per element, in
// order; anything else is passed through or refused, never a panic.
func FuzzToJSONLines(f *testing.F) {
	f.Add([]byte(`[{"a":1}, {"b":[1,2]}]`))
	f.Add([]byte("{\"a\":1}\n{\"b\":2}\n"))
	f.Add([]byte(`[`))
	f.Add([]byte(`  [ ]  `))
	f.Fuzz(func(t *testing.T, body []byte) {
		out, err := ToJSONLines(body)
		if err != nil {
			return
		}
		trimmed := bytes.TrimSpace(body)
		if len(trimmed) == 0 || trimmed[0] != '[' {
			if !bytes.Equal(out, body) {
				t.Fatal("JSON Lines were changed")
			}
			return
		}
		var items []json.RawMessage
		if err := json.Unmarshal(trimmed, &items); err != nil {
			t.Fatalf("accepted an array Go cannot read: %v", err)
		}
		lines := strings.Split(strings.TrimSuffix(string(out), "\n"), "\n")
		if len(items) == 0 && len(out) == 0 {
			return
		}
		if len(lines) != len(items) {
			t.Fatalf("%d elements became %d lines", len(items), len(lines))
		}
		for i, l := range lines {
			var a, b any
			if json.Unmarshal([]byte(l), &a) != nil || json.Unmarshal(items[i], &b) != nil {
				t.Fatalf("line %d is not JSON: %q", i+1, l)
			}
			ja, _ := json.Marshal(a)
			jb, _ := json.Marshal(b)
			if !bytes.Equal(ja, jb) {
				t.Fatalf("line %d differs from element %d", i+1, i+1)
			}
		}
	})
}
