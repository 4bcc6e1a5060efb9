// Package ingest holds what every source shares: the Source contract, the
// one run loop (Run), the ledger of runs (ingest_runs), the small
// per-source state store for cursors and ETags, and retry with backoff.
//
// A source only fetches and stores. It writes what the remote system sent
// into its raw_* tables and then runs its SQL mapping (Mapper) to replace its
// rows in the canonical tables, so a changed mapping rule is re-run by
// `shiplog transform` without fetching again. Files (canonical JSON Lines
// and CSV, JUnit XML) are sources too: their Sync reads the files.
//
// Every run of every source goes through Run, whichever command or job
// starts it; no source writes its own ingest_runs row.
package ingest

import (
	"context"
	"io"
	"time"

	"github.com/shiplog/shiplog/internal/warehouse"
)

// Source is one system shiplog pulls from.
//
// Contract:
//   - Sync is called once per run, by Run, which has recorded the run in
//     ingest_runs and finishes it from what Sync leaves on env.Run: the
//     counters Read, Written and Rejected, the Cursor text, and Partial
//     (set when the source stopped early by request, its cursor saved).
//     Sync never starts or finishes a run itself.
//   - It reads its cursors from env.State, fetches only what changed
//     since, and writes raw rows keyed by the remote id, so running it
//     twice over the same remote data leaves the warehouse identical.
//   - It saves a cursor only after the rows it covers are committed (in
//     the same transaction: State.Set takes it), so a run killed or
//     cancelled at any point resumes without gaps; rows fetched again
//     after a crash replace themselves.
//   - It stops soon after ctx is cancelled and returns ctx's error; Run
//     records the run as cancelled.
//   - It returns an error naming the source and what to check (credentials,
//     URL, repository) for faults it cannot retry, and retries rate limits and
//     5xx answers itself within bounds.
//   - It never writes a token anywhere.
//
// A source that can say what it reads implements Targeter.
type Source interface {
	// Name is the source's name in ingest_runs and as the canonical rows'
	// source column ("github", "jira").
	Name() string
	// Sync fetches new data into the raw tables and maps it.
	Sync(ctx context.Context, env *Env) error
}

// Mapper rebuilds a source's canonical rows from its raw tables with SQL.
// `shiplog transform` calls every registered mapper before the models; an
// API source's mapper is a SkippingMapper, which writes nothing when
// nothing it reads or writes changed since it last mapped (Mapping).
type Mapper interface {
	Name() string
	Map(ctx context.Context, db *warehouse.DB) error
}

// Env is what a Sync receives.
type Env struct {
	DB       *warehouse.DB
	Run      *RunRecord
	State    *State
	Progress io.Writer // messages for a person, on stderr
	Now      func() time.Time
	Getenv   func(string) string
}
