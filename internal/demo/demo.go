// Package demo generates a realistic, deterministic organisation in the
// canonical JSON Lines format: teams, services, commit graphs, pull requests,
// deployments, incidents, change requests and approvals, support tickets,
// test runs, feature adoption and release plans.
//
// The default dataset (DefaultOptions) is small enough to embed and is what
// `shiplog demo` shows every view of the product on; it ends at a fixed date
// so it never changes with the clock, and it carries deliberate governance
// violations listed in README.md. Larger sets (Options.Scale) are for
// benchmarks: generation streams one repository at a time, so memory stays
// flat however many services are asked for.
package demo

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"time"

	"github.com/shiplog/shiplog/internal/canonical"
)

// Options shape a generated organisation. The same options always produce
// byte-identical files.
type Options struct {
	// Seed selects the random stream.
	Seed int64
	// Teams and Services are the size of the organisation before scaling.
	Teams, Services int
	// Months of history, ending at End.
	Months int
	// End is the last instant of the history (UTC). Nothing happens after it
	// except planned future releases and change requests.
	End time.Time
	// Scale multiplies teams and services (and so the history volume) while
	// keeping each service's rates realistic: 40 gives about 500 services.
	// Zero means 1.
	Scale float64
	// Progress, when set, is called after each repository's history has been
	// written with the number of services done and the total.
	Progress func(done, total int)
}

// DefaultEnd is the fixed end of the default dataset's history.
var DefaultEnd = time.Date(2026, 10, 31, 23, 59, 59, 0, time.UTC)

// DefaultOptions returns the options of the embedded dataset: five teams in
// three departments, twelve services, six months ending on DefaultEnd.
func DefaultOptions() Options {
	return Options{Seed: 42, Teams: 5, Services: 12, Months: 6, End: DefaultEnd, Scale: 1}
}

// Validate checks the options before any file is written.
func (o Options) Validate() error {
	switch {
	case o.Teams < 1:
		return fmt.Errorf("demo: teams must be at least 1, got %d", o.Teams)
	case o.Services < 1:
		return fmt.Errorf("demo: services must be at least 1, got %d", o.Services)
	case o.Months < 1 || o.Months > 120:
		return fmt.Errorf("demo: months must be between 1 and 120, got %d", o.Months)
	case o.End.IsZero():
		return errors.New("demo: end time is required")
	case o.Scale < 0 || math.IsNaN(o.Scale) || o.Scale > 10000:
		return fmt.Errorf("demo: scale must be between 0 and 10000, got %v", o.Scale)
	}
	return nil
}

func (o Options) scale() float64 {
	if o.Scale == 0 {
		return 1
	}
	return o.Scale
}

// span returns the first and last instants of the history.
func (o Options) span() (time.Time, time.Time) {
	end := o.End.UTC().Truncate(time.Second)
	start := end.Add(time.Second).AddDate(0, -o.Months, 0).Truncate(24 * time.Hour)
	return start, end
}

// Freeze is a period in which no production release should happen. The
// generated data respects it except where a violation is planted.
type Freeze struct {
	Name       string
	Start, End time.Time
}

// Freezes returns the release freezes the generated organisation works under,
// to be put in the calendar section of shiplog.yaml: a quarter-close freeze
// inside the history (36 to 32 days before its end) and a year-end freeze
// after it (49 to 65 days after its end). For the default options they are
// 2026-09-25 → 2026-09-29 and 2026-12-19 → 2027-01-04 (UTC).
func Freezes(o Options) []Freeze {
	_, end := o.span()
	day := end.Truncate(24 * time.Hour)
	q := day.AddDate(0, 0, -36)
	y := day.AddDate(0, 0, 49)
	return []Freeze{
		{Name: "quarter-close", Start: q, End: q.AddDate(0, 0, 4)},
		{Name: "year-end", Start: y, End: y.AddDate(0, 0, 16)},
	}
}

// Write generates the organisation into dir, one `<kind>.jsonl` file per
// canonical kind (every line carries its `kind`), and returns the number of
// rows written per kind. Files are written under temporary names and renamed
// only when everything succeeded, so a failed run leaves no partial dataset.
func Write(dir string, opts Options) (map[string]int, error) {
	if err := opts.Validate(); err != nil {
		return nil, err
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("demo: %w", err)
	}
	s, err := newSink(dir)
	if err != nil {
		return nil, err
	}
	if err := generate(opts, s); err != nil {
		s.abort()
		return nil, err
	}
	if err := s.commit(); err != nil {
		return nil, err
	}
	return s.counts, nil
}

// FileName returns the file Write uses for a kind.
func FileName(kind string) string { return kind + ".jsonl" }

// sink streams records into one buffered file per kind.
type sink struct {
	dir    string
	files  map[string]*os.File
	bufs   map[string]*bufio.Writer
	encs   map[string]*json.Encoder
	counts map[string]int
	err    error
}

func newSink(dir string) (*sink, error) {
	s := &sink{
		dir:    dir,
		files:  map[string]*os.File{},
		bufs:   map[string]*bufio.Writer{},
		encs:   map[string]*json.Encoder{},
		counts: map[string]int{},
	}
	for _, k := range canonical.Kinds {
		f, err := os.CreateTemp(dir, "."+k.Name+"-*.tmp")
		if err != nil {
			s.abort()
			return nil, fmt.Errorf("demo: %w", err)
		}
		b := bufio.NewWriterSize(f, 256<<10)
		enc := json.NewEncoder(b)
		enc.SetEscapeHTML(false)
		s.files[k.Name], s.bufs[k.Name], s.encs[k.Name] = f, b, enc
		s.counts[k.Name] = 0
	}
	return s, nil
}

// emit writes one record; the first error sticks and is reported by commit.
func (s *sink) emit(kind string, v any) {
	if s.err != nil {
		return
	}
	enc, ok := s.encs[kind]
	if !ok {
		s.err = fmt.Errorf("demo: unknown kind %q", kind)
		return
	}
	if err := enc.Encode(v); err != nil {
		s.err = fmt.Errorf("demo: writing %s: %w", kind, err)
		return
	}
	s.counts[kind]++
}

func (s *sink) abort() {
	for _, f := range s.files {
		f.Close()
		os.Remove(f.Name())
	}
}

func (s *sink) commit() error {
	if s.err != nil {
		s.abort()
		return s.err
	}
	for _, k := range canonical.Kinds {
		if err := s.bufs[k.Name].Flush(); err != nil {
			s.abort()
			return fmt.Errorf("demo: writing %s: %w", k.Name, err)
		}
		if err := s.files[k.Name].Close(); err != nil {
			s.abort()
			return fmt.Errorf("demo: writing %s: %w", k.Name, err)
		}
	}
	for _, k := range canonical.Kinds {
		f := s.files[k.Name]
		if err := os.Chmod(f.Name(), 0o644); err != nil {
			return fmt.Errorf("demo: %w", err)
		}
		if err := os.Rename(f.Name(), filepath.Join(s.dir, FileName(k.Name))); err != nil {
			return fmt.Errorf("demo: %w", err)
		}
	}
	return nil
}
