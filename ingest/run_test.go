package ingest_test

import (
	"context"
	"database/sql"
	"errors"
	"testing"
	"time"

	"github.com/shiplog/shiplog/ingest"
	"github.com/shiplog/shiplog/internal/warehouse"
)

// fakeSource counts three records, saves a cursor and ends as told.
type fakeSource struct {
	end     func(ctx context.Context, env *ingest.Env) error
	sawRun  *ingest.RunRecord
	sawCopy string
}

func (f *fakeSource) Name() string   { return "fake" }
func (f *fakeSource) Target() string { return "somewhere" }

func (f *fakeSource) Sync(ctx context.Context, env *ingest.Env) error {
	f.sawRun = env.Run
	// What Run gives Sync: its running row and the source's state store.
	var status string
	if err := env.DB.QueryRowContext(ctx, `SELECT status FROM ingest_runs WHERE id = ?`, env.Run.ID).Scan(&status); err != nil {
		return err
	}
	f.sawCopy = status + " " + env.State.Source
	env.Run.Read, env.Run.Written, env.Run.Rejected = 3, 2, 1
	env.Run.Cursor = "c-1"
	return f.end(ctx, env)
}

func TestRunRecordsEveryOutcome(t *testing.T) {
	ctx := context.Background()
	db, err := warehouse.OpenMemory(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	clock := time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)
	now := func() time.Time { clock = clock.Add(time.Minute); return clock }
	boom := errors.New("fake: the remote said no")
	// cancel is the cancel function of the context of the run in progress.
	var cancel context.CancelFunc
	tests := []struct {
		name   string
		end    func(ctx context.Context, env *ingest.Env) error
		status string
		msg    string
		err    error
	}{
		{"success", func(context.Context, *ingest.Env) error { return nil }, "success", "", nil},
		{"partial", func(_ context.Context, env *ingest.Env) error { env.Run.Partial = true; return nil }, "partial", "", nil},
		{"failed", func(context.Context, *ingest.Env) error { return boom }, "failed", boom.Error(), boom},
		{"cancelled", func(ctx context.Context, _ *ingest.Env) error { cancel(); return ctx.Err() }, "cancelled", "context canceled", context.Canceled},
		{"cancelled without saying", func(context.Context, *ingest.Env) error { cancel(); return nil }, "cancelled", "context canceled", context.Canceled},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			src := &fakeSource{end: tt.end}
			var runCtx context.Context
			runCtx, cancel = context.WithCancel(ctx)
			defer cancel()
			run, err := ingest.Run(runCtx, src, &ingest.Env{DB: db, Now: now})
			if !errors.Is(err, tt.err) {
				t.Fatalf("err = %v, want %v", err, tt.err)
			}
			if src.sawCopy != "running fake" {
				t.Errorf("Sync saw %q, want its row running and the state of source fake", src.sawCopy)
			}
			if run != src.sawRun || run.Status != tt.status {
				t.Errorf("returned %+v, want the record Sync filled, status %s", run, tt.status)
			}
			var status, target, cursor string
			var msg sql.NullString
			var read, written, rejected int64
			var started, finished time.Time
			if err := db.QueryRow(`SELECT status, target, cursor, error, rows_read, rows_written, rows_rejected, started_at, finished_at
				FROM ingest_runs WHERE id = ?`, run.ID).Scan(&status, &target, &cursor, &msg, &read, &written, &rejected, &started, &finished); err != nil {
				t.Fatal(err)
			}
			if status != tt.status || target != "somewhere" || cursor != "c-1" || msg.String != tt.msg ||
				read != 3 || written != 2 || rejected != 1 || finished.Sub(started) != time.Minute {
				t.Errorf("row = %s %s %s %q %d/%d/%d %s–%s", status, target, cursor, msg.String, read, written, rejected, started, finished)
			}
		})
	}
}
