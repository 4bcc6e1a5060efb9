package git

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/shiplog/shiplog/ingest"
	"github.com/shiplog/shiplog/internal/warehouse"
)

const benchCommits = 100_000

var (
	benchOnce sync.Once
	benchRepo string
	benchErr  error
)

// fastImport writes n commits on branch (continuing from parent, a
// fast-import mark or sha, when given) into the repository at dir, with a
// lightweight tag every 500 commits and a merge of a side branch every
// 1,000, through `git fast-import` — seconds for 100,000 commits.
func fastImport(dir, branch, parent string, start, n int) error {
	cmd := exec.Command("git", "-C", dir, "fast-import", "--quiet", "--done")
	cmd.Env = append(os.Environ(), "GIT_CONFIG_GLOBAL=/dev/null", "GIT_CONFIG_NOSYSTEM=1")
	in, err := cmd.StdinPipe()
	if err != nil {
		return err
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		return err
	}
	w := bufio.NewWriterSize(in, 1<<20)
	prev := parent
	for i := start; i < start+n; i++ {
		when := 1700000000 + int64(i)*600
		author := fmt.Sprintf("dev%d <dev%d@example.com>", i%37, i%37)
		if i%1000 == 999 {
			// a side commit off the previous one, merged back below
			fmt.Fprintf(w, "commit refs/heads/side-%s\nmark :%d\nauthor %s %d +0000\ncommitter %s %d +0000\ndata 4\nside\n", branch, 2*benchCommits+i, author, when-300, author, when-300)
			if prev != "" {
				fmt.Fprintf(w, "from %s\n", prev)
			}
			fmt.Fprintf(w, "M 644 inline side.txt\ndata %d\n%d\n\n", len(fmt.Sprint(i))+1, i)
		}
		fmt.Fprintf(w, "commit refs/heads/%s\nmark :%d\nauthor %s %d +0000\ncommitter %s %d +0000\ndata 8\ncommit %d\n", branch, i+1, author, when, author, when, i%10)
		if prev != "" {
			fmt.Fprintf(w, "from %s\n", prev)
		}
		if i%1000 == 999 {
			fmt.Fprintf(w, "merge :%d\n", 2*benchCommits+i)
		}
		fmt.Fprintf(w, "M 644 inline f%d.txt\ndata %d\n%d\n\n", i%100, len(fmt.Sprint(i))+1, i)
		prev = fmt.Sprintf(":%d", i+1)
		if i%500 == 499 {
			fmt.Fprintf(w, "reset refs/tags/v%d.%d.0\nfrom %s\n\n", 1+i/50000, (i%50000)/500, prev)
		}
	}
	fmt.Fprintf(w, "done\n")
	if err := w.Flush(); err != nil {
		return err
	}
	in.Close()
	return cmd.Wait()
}

// cachedRepo builds the 100,000-commit repository once per machine (in the
// temp folder) and reuses it.
func cachedRepo(b *testing.B) string {
	benchOnce.Do(func() {
		dir := filepath.Join(os.TempDir(), "shiplog-bench-git-100k.git")
		if _, err := os.Stat(filepath.Join(dir, "shiplog-complete")); err == nil {
			benchRepo = dir
			return
		}
		os.RemoveAll(dir)
		if out, err := exec.Command("git", "init", "-q", "--bare", "-b", "main", dir).CombinedOutput(); err != nil {
			benchErr = fmt.Errorf("git init: %v: %s", err, out)
			return
		}
		start := time.Now()
		if benchErr = fastImport(dir, "main", "", 0, benchCommits); benchErr != nil {
			return
		}
		b.Logf("built %d-commit repository in %s", benchCommits, time.Since(start).Round(time.Millisecond))
		benchErr = os.WriteFile(filepath.Join(dir, "shiplog-complete"), nil, 0o644)
		benchRepo = dir
	})
	if benchErr != nil {
		b.Fatal(benchErr)
	}
	return benchRepo
}

func benchSync(b *testing.B, db *warehouse.DB, dir string) *Stats {
	ctx := context.Background()
	src, err := New(Config{Repo: dir, Name: "bench/repo", Service: "repo", TagPattern: DefaultTagPattern})
	if err != nil {
		b.Fatal(err)
	}
	run, err := ingest.StartRun(ctx, db, SourceName, dir, time.Now())
	if err != nil {
		b.Fatal(err)
	}
	st, err := src.SyncStats(ctx, &ingest.Env{DB: db, Run: run, State: &ingest.State{DB: db, Source: SourceName}})
	if err != nil {
		b.Fatal(err)
	}
	return st
}

// BenchmarkIngest measures a first ingest of 100,000 commits (101,100 with
// the merged side commits; 200 release tags) into a new warehouse, and an
// incremental re-run after 100 new commits.
func BenchmarkIngest(b *testing.B) {
	if _, err := exec.LookPath("git"); err != nil {
		b.Skip("git not installed")
	}
	repo := cachedRepo(b)
	ctx := context.Background()

	b.Run("first-100k", func(b *testing.B) {
		for i := 0; i < b.N; i++ {
			b.StopTimer()
			db, err := warehouse.OpenMemory(ctx)
			if err != nil {
				b.Fatal(err)
			}
			b.StartTimer()
			st := benchSync(b, db, repo)
			b.StopTimer()
			if st.CommitsRead != benchCommits+benchCommits/1000 || st.TagsMatched != benchCommits/500 {
				b.Fatalf("read %d commits, %d tags", st.CommitsRead, st.TagsMatched)
			}
			db.Close()
		}
	})

	b.Run("incremental-100", func(b *testing.B) {
		clone := filepath.Join(b.TempDir(), "clone.git")
		if out, err := exec.Command("git", "clone", "-q", "--bare", "--local", repo, clone).CombinedOutput(); err != nil {
			b.Fatalf("clone: %v: %s", err, out)
		}
		db, err := warehouse.OpenMemory(ctx)
		if err != nil {
			b.Fatal(err)
		}
		defer db.Close()
		benchSync(b, db, clone)
		next := benchCommits
		b.ResetTimer()
		for i := 0; i < b.N; i++ {
			b.StopTimer()
			tip, err := exec.Command("git", "-C", clone, "rev-parse", "main").Output()
			if err != nil {
				b.Fatal(err)
			}
			if err := fastImport(clone, "main", strings.TrimSpace(string(tip)), next, 100); err != nil {
				b.Fatal(err)
			}
			next += 100
			b.StartTimer()
			st := benchSync(b, db, clone)
			b.StopTimer()
			if st.CommitsRead != 100 {
				b.Fatalf("incremental run read %d commits; want 100", st.CommitsRead)
			}
			b.StartTimer()
		}
	})
}
