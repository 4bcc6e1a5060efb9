package ingest

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"
)

// Targeter is implemented by sources that can say what they read (file
// paths, repositories, an address), for ingest_runs.target. It never holds
// a token.
type Targeter interface {
	Target() string
}

// Run runs one sync of src and records it in ingest_runs; it is the one
// run loop every source goes through (a command, `ingest --all`, a
// scheduled job in `serve`, a push).
//
//   - It starts the ledger row (status running) and commits it before
//     Sync, so a run that fails, or whose process is killed, leaves its row
//     (the next writer marks a killed run interrupted: MarkInterrupted).
//   - It gives Sync an Env with the run, the source's State, the clock and
//     a progress writer; fields env already sets are kept.
//   - It finishes the row with the counters and cursor the source left on
//     env.Run: success; partial when the source stopped early by request
//     with its cursor saved (env.Run.Partial); cancelled when ctx was
//     cancelled (what was committed before stays, with the cursors that
//     cover it, and the next run continues from there); failed with the
//     error's text otherwise. The row is written on a context that
//     outlives cancellation, so a cancelled run is recorded too.
//
// It returns the finished run, whose Status and counters are what
// ingest_runs holds, and Sync's error (or the ledger's, when Sync
// succeeded but the row could not be written).
func Run(ctx context.Context, src Source, env *Env) (*RunRecord, error) {
	if env == nil || env.DB == nil {
		return nil, fmt.Errorf("%s: no warehouse to ingest into", src.Name())
	}
	e := *env
	if e.Now == nil {
		e.Now = time.Now
	}
	if e.Progress == nil {
		e.Progress = io.Discard
	}
	if e.Getenv == nil {
		e.Getenv = func(string) string { return "" }
	}
	if e.State == nil {
		e.State = &State{DB: e.DB, Source: src.Name(), Now: e.Now}
	}
	target := ""
	if t, ok := src.(Targeter); ok {
		target = t.Target()
	}
	run, err := StartRun(ctx, e.DB, src.Name(), target, e.Now())
	if err != nil {
		return nil, fmt.Errorf("%s: record ingest run: %w", src.Name(), err)
	}
	e.Run = run
	syncErr := src.Sync(ctx, &e)
	if ctx.Err() != nil && syncErr == nil {
		// stopped between two steps without noticing: still a cancelled run
		syncErr = ctx.Err()
	}
	if ferr := run.Finish(context.WithoutCancel(ctx), e.DB, syncErr, run.Partial, e.Now()); ferr != nil && syncErr == nil {
		syncErr = fmt.Errorf("%s: record ingest run: %w", src.Name(), ferr)
	}
	return run, syncErr
}

// cancelled reports whether err is the cancellation of the run's context.
func cancelled(err error) bool {
	return errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded)
}
