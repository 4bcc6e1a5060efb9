package server

import (
	"context"
	"fmt"
	"math/rand/v2"
	"sort"
	"time"

	"github.com/go-co-op/gocron/v2"

	"github.com/shiplog/shiplog/ingest"
)

// scheduler runs the jobs named under `schedules:` on their cron
// expressions. Each job runs in singleton mode: a run that is still going
// when the next is due makes the scheduler skip that tick rather than start a
// second copy.
type scheduler struct {
	s      *Server
	gs     gocron.Scheduler
	ctx    context.Context
	cancel context.CancelFunc
}

func newScheduler(s *Server) (*scheduler, error) {
	gs, err := gocron.NewScheduler(gocron.WithClock(s.clock), gocron.WithLocation(time.UTC))
	if err != nil {
		return nil, fmt.Errorf("serve: scheduler: %w", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	sc := &scheduler{s: s, gs: gs, ctx: ctx, cancel: cancel}
	names := make([]string, 0, len(s.opts.Config.Schedules))
	for name := range s.opts.Config.Schedules {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		expr := s.opts.Config.Schedules[name]
		job := s.jobByName[name]
		_, err := gs.NewJob(
			gocron.CronJob(expr, false),
			gocron.NewTask(func(ctx context.Context) { s.runScheduled(ctx, job) }),
			gocron.WithName(name),
			gocron.WithSingletonMode(gocron.LimitModeReschedule),
			gocron.WithContext(ctx),
		)
		if err != nil {
			cancel()
			_ = gs.Shutdown()
			return nil, fmt.Errorf("serve: schedules.%s: %q: %w", name, expr, err)
		}
	}
	return sc, nil
}

func (sc *scheduler) start() { sc.gs.Start() }

// stop cancels the running job's context and waits for it to return.
func (sc *scheduler) stop() {
	sc.cancel()
	_ = sc.gs.Shutdown()
}

// runScheduled waits a random jitter, then runs the job; after a successful
// ingest it runs the transform so metrics follow the data.
func (s *Server) runScheduled(ctx context.Context, job Job) {
	if s.opts.Jitter > 0 {
		d := time.Duration(rand.Int64N(int64(s.opts.Jitter)))
		select {
		case <-ctx.Done():
			return
		case <-s.clock.After(d):
		}
	}
	err := s.RunJob(ctx, job.Name)
	if err == nil && job.Ingest {
		if _, ok := s.jobByName["transform"]; ok {
			_ = s.RunJob(ctx, "transform")
		}
	}
}

// RunJob runs one job now, holding the write lock, and records it in
// /metrics with the rows it wrote. Jobs that are not source syncs
// (transform, reports) go through ingest.Run too, so they are recorded in
// ingest_runs under their own name like any run; source syncs record their
// own runs with their counts and cursors.
func (s *Server) RunJob(ctx context.Context, name string) error {
	job, ok := s.jobByName[name]
	if !ok {
		return fmt.Errorf("serve: no job %q", name)
	}
	s.writeMu.Lock()
	defer s.writeMu.Unlock()
	if ctx.Err() != nil {
		return ctx.Err()
	}
	start := s.clock.Now()
	var rows int64
	var err error
	if job.Ingest {
		rows, err = job.Run(ctx)
	} else {
		var run *ingest.RunRecord
		run, err = ingest.Run(ctx, jobSource{job}, &ingest.Env{DB: s.opts.DB, Now: s.clock.Now})
		if run != nil {
			rows = run.Written
		}
	}
	end := s.clock.Now()
	s.metrics.jobDone(name, end.Sub(start), rows, err, end)
	if err != nil {
		fmt.Fprintf(s.opts.Log, "serve: job %s failed after %s: %v\n", name, end.Sub(start).Round(time.Millisecond), err)
	} else {
		fmt.Fprintf(s.opts.Log, "serve: job %s done in %s (%d rows)\n", name, end.Sub(start).Round(time.Millisecond), rows)
	}
	return err
}

// jobSource runs a job that is not a source sync (transform, reports)
// through ingest.Run, its rows counted as written.
type jobSource struct{ job Job }

func (j jobSource) Name() string   { return j.job.Name }
func (j jobSource) Target() string { return "scheduled" }

func (j jobSource) Sync(ctx context.Context, env *ingest.Env) error {
	rows, err := j.job.Run(ctx)
	env.Run.Written = rows
	return err
}
