package junit

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"path/filepath"
	"time"

	"github.com/shiplog/shiplog/ingest"
	"github.com/shiplog/shiplog/internal/canonical"
	"github.com/shiplog/shiplog/internal/warehouse"
)

// Options say which build the reports belong to.
type Options struct {
	// Service is required; so is one of Version and Commit.
	Service string
	Version string
	Commit  string
	// Framework overrides detection for every file.
	Framework string
	// RequiredSuites are suite names (or path.Match patterns) whose runs are
	// marked required: the release gate wants them green.
	RequiredSuites []string
	// Source is the source column; default "junit".
	Source   string
	Progress io.Writer
	Now      func() time.Time
}

// Result counts what a load wrote.
type Result struct {
	Files, Runs, Results           int
	Tests, Passed, Failed, Skipped int
	Errors                         int
	Flaky                          int // tests of this service and build now marked flaky
	RunID                          int64
	UnmatchedRequired              []string
}

func (o *Options) validate() error {
	switch {
	case o.Service == "":
		return errors.New("junit: a service is needed (--service)")
	case o.Version == "" && o.Commit == "":
		return errors.New("junit: a version or a commit is needed (--version or --commit)")
	}
	for _, p := range o.RequiredSuites {
		if _, err := path.Match(p, ""); err != nil {
			return fmt.Errorf("junit: required suite pattern %q: %w", p, err)
		}
	}
	return nil
}

// Source is a set of JUnit XML reports of one build as an ingest.Source:
// NewSource parses them all, ingest.Run records the run, Sync writes their
// suites and cases in one transaction.
type Source struct {
	opts    Options
	reports []parsed
	result  *Result
}

type parsed struct {
	rep  *Report
	hash string
}

var _ ingest.Source = (*Source)(nil)

// NewSource reads and parses every file; a malformed one is an error
// naming its line and column, before anything is recorded or written.
func NewSource(paths []string, opts Options) (*Source, error) {
	if err := opts.validate(); err != nil {
		return nil, err
	}
	if opts.Source == "" {
		opts.Source = "junit"
	}
	if opts.Progress == nil {
		opts.Progress = io.Discard
	}
	var reports []parsed
	for _, p := range paths {
		data, err := os.ReadFile(p)
		if err != nil {
			return nil, fmt.Errorf("junit: %w", err)
		}
		rep, err := Parse(p, bytesReader(data))
		if err != nil {
			return nil, err
		}
		if opts.Framework != "" {
			rep.Framework = opts.Framework
		}
		h := sha256.New()
		fmt.Fprintf(h, "%s\x00%s\x00%s\x00%s\x00", opts.Service, opts.Commit, opts.Version, filepath.Base(p))
		h.Write(data)
		reports = append(reports, parsed{rep, hex.EncodeToString(h.Sum(nil))[:16]})
		fmt.Fprintf(opts.Progress, "junit: %s: %s, %d suite(s)\n", p, rep.Framework, len(rep.Suites))
	}
	return &Source{opts: opts, reports: reports}, nil
}

// Name is the source column (Options.Source, default "junit").
func (s *Source) Name() string { return s.opts.Source }

// Target names the build, for ingest_runs.target.
func (s *Source) Target() string {
	return fmt.Sprintf("%s %s%s", s.opts.Service, s.opts.Version, s.opts.Commit)
}

// Result is what the last Sync wrote (nil before one).
func (s *Source) Result() *Result { return s.result }

// Load parses every file and, only if all parse, writes their suites and
// cases in one transaction. Loading the same file for the same build again
// replaces its rows; a different file (another run of the same tests)
// adds rows, and a test that failed in one and passed in another for the
// same service and commit (or version) is marked flaky.
func Load(ctx context.Context, db *warehouse.DB, paths []string, opts Options) (*Result, error) {
	s, err := NewSource(paths, opts)
	if err != nil {
		return nil, err
	}
	if _, err := ingest.Run(ctx, s, &ingest.Env{DB: db, Now: opts.Now, Progress: opts.Progress}); err != nil {
		return nil, err
	}
	return s.result, nil
}

// Sync writes the parsed reports, counting on env.Run.
func (src *Source) Sync(ctx context.Context, env *ingest.Env) error {
	opts, reports, db, run := src.opts, src.reports, env.DB, env.Run
	if opts.Now == nil {
		opts.Now = env.Now
	}
	res := &Result{Files: len(reports)}
	matched := map[string]bool{}

	now := opts.Now()
	res.RunID = run.ID
	err := withTx(ctx, db, func(tx *sql.Tx) error {
		for _, pr := range reports {
			for i, s := range pr.rep.Suites {
				id := fmt.Sprintf("junit-%s-%d", pr.hash, i+1)
				required := false
				for _, pat := range opts.RequiredSuites {
					if ok, _ := path.Match(pat, s.Name); ok || pat == s.Name {
						required = true
						matched[pat] = true
					}
				}
				if err := writeSuite(ctx, tx, opts, pr.rep, s, id, required, now); err != nil {
					return err
				}
				res.Runs++
				res.Results += len(s.Cases)
				res.Tests += s.Tests
				res.Passed += s.Passed()
				res.Failed += s.Failures
				res.Errors += s.Errors
				res.Skipped += s.Skipped
			}
		}
		n, err := markFlaky(ctx, tx, opts)
		res.Flaky = n
		return err
	})
	run.Read = int64(res.Runs + res.Results)
	if err == nil {
		run.Written = run.Read
	}
	if err != nil {
		return err
	}
	for _, pat := range opts.RequiredSuites {
		if !matched[pat] {
			res.UnmatchedRequired = append(res.UnmatchedRequired, pat)
		}
	}
	src.result = res
	return nil
}

func writeSuite(ctx context.Context, tx *sql.Tx, opts Options, rep *Report, s Suite, id string, required bool, now time.Time) error {
	// the run replaced and written, for the log of canonical writes
	const run = `WHERE t.source = ? AND t.id = ?`
	if err := canonical.LogDelta(ctx, tx, "test_runs", -1, run, opts.Source, id); err != nil {
		return err
	}
	for _, q := range []string{`DELETE FROM test_results WHERE source = ? AND run_id = ?`, `DELETE FROM test_runs WHERE source = ? AND id = ?`} {
		if _, err := tx.ExecContext(ctx, q, opts.Source, id); err != nil {
			return err
		}
	}
	started := s.Timestamp
	if started.IsZero() {
		started = now.UTC()
	}
	extra, _ := json.Marshal(map[string]any{"file": rep.File, "errors": s.Errors})
	_, err := tx.ExecContext(ctx, `INSERT INTO test_runs (id, service, commit_sha, version, framework, suite, started_at,
		tests, passed, failed, skipped, duration_s, required, extra, source) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		id, opts.Service, nullable(opts.Commit), nullable(opts.Version), rep.Framework, s.Name, started,
		s.Tests, s.Passed(), s.Failures+s.Errors, s.Skipped, nullableFloat(s.Duration), required, string(extra), opts.Source)
	if err != nil {
		return fmt.Errorf("junit: write run %s: %w", id, err)
	}
	if err := canonical.LogDelta(ctx, tx, "test_runs", 1, run, opts.Source, id); err != nil {
		return err
	}
	if len(s.Cases) == 0 {
		return nil
	}
	// All cases in one statement: the rows travel as one JSON parameter,
	// which DuckDB unpacks, instead of one bound statement per case.
	type row struct {
		RunID     string   `json:"run_id"`
		Suite     string   `json:"suite"`
		Classname string   `json:"classname"`
		Name      string   `json:"name"`
		Status    string   `json:"status"`
		Duration  *float64 `json:"duration_s"`
		Message   *string  `json:"message"`
		Flaky     bool     `json:"flaky"`
	}
	rows := make([]row, len(s.Cases))
	for i, c := range s.Cases {
		r := row{RunID: id, Suite: s.Name, Classname: c.Classname, Name: c.Name, Status: c.Status, Flaky: c.Flaky}
		if c.Duration >= 0 {
			d := c.Duration
			r.Duration = &d
		}
		if c.Message != "" {
			m := c.Message
			r.Message = &m
		}
		rows[i] = r
	}
	payload, err := json.Marshal(rows)
	if err != nil {
		return err
	}
	_, err = tx.ExecContext(ctx, `INSERT INTO test_results (run_id, suite, classname, name, status, duration_s, message, flaky, source)
		SELECT r.run_id, r.suite, r.classname, r.name, r.status, r.duration_s, r.message, r.flaky, ?
		FROM (SELECT unnest(from_json(?::JSON, '[{"run_id":"VARCHAR","suite":"VARCHAR","classname":"VARCHAR","name":"VARCHAR",
			"status":"VARCHAR","duration_s":"DOUBLE","message":"VARCHAR","flaky":"BOOLEAN"}]')) AS r)`, opts.Source, string(payload))
	if err != nil {
		return fmt.Errorf("junit: write results of %s: %w", s.Name, err)
	}
	return nil
}

// markFlaky sets flaky on every result of a test (classname, name) of this
// service and build that both failed (or errored) and passed across its
// runs, and returns how many distinct tests are flaky for the build.
func markFlaky(ctx context.Context, tx *sql.Tx, opts Options) (int, error) {
	build := `SELECT id FROM test_runs WHERE service = $service AND (
		($commit <> '' AND commit_sha = $commit) OR ($commit = '' AND version = $version))`
	args := []any{sql.Named("service", opts.Service), sql.Named("commit", opts.Commit), sql.Named("version", opts.Version)}
	_, err := tx.ExecContext(ctx, `UPDATE test_results SET flaky = true
		WHERE run_id IN (`+build+`) AND NOT flaky
		  AND (coalesce(classname, ''), name) IN (
			SELECT (coalesce(classname, ''), name) FROM test_results WHERE run_id IN (`+build+`)
			GROUP BY ALL
			HAVING bool_or(status IN ('failed', 'error')) AND bool_or(status = 'passed'))`, args...)
	if err != nil {
		return 0, fmt.Errorf("junit: mark flaky tests: %w", err)
	}
	var n int
	err = tx.QueryRowContext(ctx, `SELECT count(DISTINCT (coalesce(classname, ''), name)) FROM test_results
		WHERE flaky AND run_id IN (`+build+`)`, args...).Scan(&n)
	return n, err
}

func withTx(ctx context.Context, db *warehouse.DB, fn func(*sql.Tx) error) error {
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	if err := fn(tx); err != nil {
		tx.Rollback()
		return err
	}
	return tx.Commit()
}

func nullable(s string) any {
	if s == "" {
		return nil
	}
	return s
}

func nullableFloat(f float64) any {
	if f < 0 {
		return nil
	}
	return f
}
