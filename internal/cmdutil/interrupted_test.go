package cmdutil

import (
	"context"
	"database/sql"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/shiplog/shiplog/ingest"
	"github.com/shiplog/shiplog/internal/iostreams"
	"github.com/shiplog/shiplog/internal/warehouse"
)

// A run left `running` (its process killed before Finish) is marked
// interrupted, with the time it was found, when the next writer opens the
// warehouse; finished runs keep their status, and a read-only open changes
// nothing.
func TestWriterMarksRunsLeftRunning(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "w.duckdb")
	started := time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)
	found := time.Date(2026, 3, 1, 9, 30, 0, 0, time.UTC)

	db, err := warehouse.Open(ctx, path, warehouse.Options{})
	if err != nil {
		t.Fatal(err)
	}
	done, err := ingest.StartRun(ctx, db, "file", "a.jsonl", started)
	if err != nil {
		t.Fatal(err)
	}
	if err := done.Finish(ctx, db, nil, false, started.Add(time.Minute)); err != nil {
		t.Fatal(err)
	}
	left, err := ingest.StartRun(ctx, db, "github", "acme/web", started.Add(2*time.Minute))
	if err != nil {
		t.Fatal(err)
	}
	// The process dies here: the row stays running.
	db.Close()

	ro, err := warehouse.Open(ctx, path, warehouse.Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	if s := status(t, ro, left.ID); s != "running" {
		t.Errorf("after a read-only open: %s, want still running", s)
	}
	ro.Close()

	ios, _, _, stderr := iostreams.Test()
	f := &Factory{IOStreams: ios, Now: func() time.Time { return found }, DBPath: path}
	db, err = f.Warehouse(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var st string
	var at time.Time
	var msg, fin sql.NullString
	if err := db.QueryRow(`SELECT status, interrupted_at, error, finished_at::VARCHAR FROM ingest_runs WHERE id = ?`, left.ID).Scan(&st, &at, &msg, &fin); err != nil {
		t.Fatal(err)
	}
	if st != "interrupted" || !at.Equal(found) || !strings.Contains(msg.String, "interrupted") || fin.Valid {
		t.Errorf("left run: %s at %v, error %q, finished %v; want interrupted at %v, no finish time", st, at, msg.String, fin, found)
	}
	if s := status(t, db, done.ID); s != "success" {
		t.Errorf("finished run: %s, want success", s)
	}
	want := "ingest run 2 (github acme/web) was left running by a process that stopped; marked interrupted"
	if !strings.Contains(stderr.String(), want) {
		t.Errorf("stderr %q lacks %q", stderr, want)
	}
	// Opening again finds nothing more to mark.
	db.Close()
	ios, _, _, stderr = iostreams.Test()
	f.IOStreams = ios
	if db, err = f.Warehouse(ctx); err != nil {
		t.Fatal(err)
	}
	db.Close()
	if stderr.Len() != 0 {
		t.Errorf("second open said %q", stderr)
	}
}

func status(t *testing.T, db *warehouse.DB, id int64) string {
	t.Helper()
	var s string
	if err := db.QueryRow(`SELECT status FROM ingest_runs WHERE id = ?`, id).Scan(&s); err != nil {
		t.Fatal(err)
	}
	return s
}
