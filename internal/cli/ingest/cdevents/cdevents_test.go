package cdevents

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/shiplog/shiplog/internal/cmdutil"
	"github.com/shiplog/shiplog/internal/config"
	"github.com/shiplog/shiplog/internal/iostreams"
	"github.com/shiplog/shiplog/internal/warehouse"
)

func run(t *testing.T, dbPath string, cfg *config.Config, args ...string) (string, error) {
	ios, _, _, errOut := iostreams.Test()
	f := &cmdutil.Factory{IOStreams: ios, DBPath: dbPath, Now: func() time.Time { return time.Date(2026, 3, 10, 0, 0, 0, 0, time.UTC) },
		Getenv: func(string) string { return "" }}
	f.SetConfig(cfg)
	cmd := NewCmdCDEvents(f, nil)
	cmd.SetArgs(args)
	cmd.SetOut(&bytes.Buffer{})
	cmd.SetErr(&bytes.Buffer{})
	err := cmd.Execute()
	return errOut.String(), err
}

// The spec's service.deployed example (v0.4.1), as a bare CDEvent and as a
// structured CloudEvent of another id; the environment test123 is mapped
// to production.
const deployed = `{"context":{"version":"0.4.1","id":"271069a8-fc18-44f1-b38f-9d70a1695819","source":"/event/source/123","type":"dev.cdevents.service.deployed.0.2.0","timestamp":"2023-03-20T14:27:05.315384Z"},"subject":{"id":"mySubject123","source":"/event/source/123","type":"service","content":{"environment":{"id":"test123"},"artifactId":"pkg:oci/myapp@sha256%3A0b31b1c02ff458ad9b7b81cbdf8f028bd54699fa151f221d1e8de6817db93427"}}}`

func TestLoadFile(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "events.jsonl")
	structured := `{"specversion":"1.0","id":"ev-2","source":"/event/source/123","type":"dev.cdevents.service.deployed.0.2.0","data":` +
		strings.Replace(strings.Replace(deployed, "271069a8-fc18-44f1-b38f-9d70a1695819", "ev-2", 1), "2023-03-20T14:27:05.315384Z", "2023-03-21T08:00:00Z", 1) + `}`
	if err := os.WriteFile(p, []byte(deployed+"\n\n"+structured+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	cfg := config.Default()
	cfg.Sources.CDEvents = &config.CDEvents{Environments: map[string]string{"test123": "production"}}
	dbPath := filepath.Join(dir, "w.duckdb")
	stderr, err := run(t, dbPath, cfg, p)
	if err != nil {
		t.Fatalf("%v\n%s", err, stderr)
	}
	if !strings.Contains(stderr, "2 events read, 2 new") || !strings.Contains(stderr, "deployments 2") {
		t.Errorf("stderr:\n%s", stderr)
	}
	// Again: nothing new.
	if stderr, err = run(t, dbPath, cfg, p); err != nil || !strings.Contains(stderr, "2 events read, 0 new, 2 already stored") {
		t.Errorf("second load: %v\n%s", err, stderr)
	}
	db, err := warehouse.Open(context.Background(), dbPath, warehouse.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var got []string
	rows, err := db.Query(`SELECT id || ' ' || service || ' ' || environment || ' ' || status FROM deployments WHERE source = 'cdevents' ORDER BY finished_at`)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var s string
		rows.Scan(&s)
		got = append(got, s)
	}
	rows.Close()
	want := "271069a8-fc18-44f1-b38f-9d70a1695819 mysubject123 production success|ev-2 mysubject123 production success"
	if strings.Join(got, "|") != want {
		t.Errorf("deployments %q, want %q", strings.Join(got, "|"), want)
	}
	var n int
	db.QueryRow(`SELECT count(*) FROM ingest_runs WHERE source = 'cdevents' AND status = 'success'`).Scan(&n)
	if n != 2 {
		t.Errorf("%d successful runs recorded, want 2", n)
	}
}

func TestBadLineFailsTheLoad(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "events.jsonl")
	bad := strings.Replace(deployed, `"environment":{"id":"test123"},`, "", 1)
	if err := os.WriteFile(p, []byte(deployed+"\n"+bad+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	dbPath := filepath.Join(dir, "w.duckdb")
	_, err := run(t, dbPath, config.Default(), p)
	if err == nil || !strings.Contains(err.Error(), p+":2: subject.content.environment: missing") {
		t.Fatalf("err = %v", err)
	}
	db, err := warehouse.Open(context.Background(), dbPath, warehouse.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var n int
	db.QueryRow(`SELECT count(*) FROM raw_cdevents`).Scan(&n)
	if n != 0 {
		t.Errorf("%d events stored from a failed load, want 0", n)
	}
	var status string
	db.QueryRow(`SELECT status FROM ingest_runs WHERE source = 'cdevents'`).Scan(&status)
	if status != "failed" {
		t.Errorf("run status %q, want failed", status)
	}
}
