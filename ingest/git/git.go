// Package git reads a local clone into the warehouse: every commit (the
// commit graph that links changes to deployments) and, for teams whose
// release is a tag, the matching tags as production deployments.
//
// It runs the git command rather than parsing objects itself: `git log`
// streams a 100,000-commit history in well under a second, and the packed
// object formats stay git's business. Runs are incremental: the set of ref
// tips seen last time is kept in source_state, and the next run reads only
// `git log <new tips> --not <old tips>`. Tags are few and are re-read every
// run, so a deleted or force-moved tag replaces its deployment.
package git

import (
	"bufio"
	"bytes"
	"context"
	"database/sql"
	"database/sql/driver"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os/exec"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/shiplog/shiplog/ingest"
	"github.com/shiplog/shiplog/internal/canonical"
	"github.com/shiplog/shiplog/internal/warehouse"
)

// SourceName is the source column of the rows this source writes.
const SourceName = "git"

// Source reads one repository.
type Source struct {
	cfg Config
	// Git is the git executable ("git" on PATH when empty).
	Git string
}

var _ ingest.Source = (*Source)(nil)

// New returns a source for cfg after validating it.
func New(cfg Config) (*Source, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	return &Source{cfg: cfg}, nil
}

// Name is "git".
func (s *Source) Name() string { return SourceName }

// Config returns the configuration with defaults resolved by Sync.
func (s *Source) Config() Config { return s.cfg }

// Target is the repository's path, for ingest_runs.target.
func (s *Source) Target() string { return s.cfg.Repo }

// Stats says what one Sync did.
type Stats struct {
	CommitsRead    int64
	TagsMatched    int64 // releases: matching tags, one per tagged commit
	TagsSameCommit int64 // matching tags left out: their commit's release came first
	TipsChanged    bool
	DeploymentsSet int64
}

// Sync reads the commits new since the last run and all matching tags.
func (s *Source) Sync(ctx context.Context, env *ingest.Env) error {
	_, err := s.SyncStats(ctx, env)
	return err
}

// tipsKey is the source_state key holding the ref tips of the last run.
const tipsKey = "tips"

// SyncStats is Sync returning what it read.
// commitsReplaced selects (alias t) the commits of source and repository
// ($1, $2) that a sync replaces, before the delete, and wrote, after the
// insert: those whose sha was staged.
const commitsReplaced = `WHERE t.source = ? AND t.repo = ? AND t.sha IN (SELECT sha FROM git_stage_commits)`

func (s *Source) SyncStats(ctx context.Context, env *ingest.Env) (*Stats, error) {
	if err := s.resolve(ctx); err != nil {
		return nil, err
	}
	cfg := s.cfg
	st := &Stats{}
	progress := env.Progress
	if progress == nil {
		progress = io.Discard
	}

	tips, err := s.refTips(ctx)
	if err != nil {
		return nil, err
	}
	oldValue, err := env.State.Get(ctx, cfg.Name, tipsKey)
	if err != nil {
		return nil, fmt.Errorf("git: %s: read state: %w", cfg.Name, err)
	}
	var old []string
	if oldValue != "" {
		old = strings.Split(oldValue, "\n")
	}
	old, err = s.existing(ctx, old)
	if err != nil {
		return nil, err
	}
	newValue := strings.Join(tips, "\n")
	st.TipsChanged = newValue != oldValue

	conn, err := env.DB.Conn(ctx)
	if err != nil {
		return nil, err
	}
	defer conn.Close()
	for _, q := range []string{
		`CREATE OR REPLACE TEMP TABLE git_stage_commits (sha VARCHAR, repo VARCHAR, parents VARCHAR[],
			authored_at TIMESTAMPTZ, committed_at TIMESTAMPTZ, author VARCHAR, extra VARCHAR)`,
		`CREATE OR REPLACE TEMP TABLE git_stage_deployments AS SELECT * FROM deployments LIMIT 0`,
	} {
		if _, err := conn.ExecContext(ctx, q); err != nil {
			return nil, fmt.Errorf("git: stage: %w", err)
		}
	}
	defer conn.ExecContext(context.Background(), `DROP TABLE IF EXISTS temp.git_stage_commits; DROP TABLE IF EXISTS temp.git_stage_deployments`)

	if st.TipsChanged && len(tips) > 0 {
		fmt.Fprintf(progress, "git: %s: reading commits (%d refs)\n", cfg.Name, len(tips))
		n, err := s.appendCommits(ctx, conn, tips, old, progress)
		if err != nil {
			return nil, err
		}
		st.CommitsRead = n
		env.Run.Read += n
	}

	deps, same, err := s.tagDeployments(ctx)
	if err != nil {
		return nil, err
	}
	st.TagsMatched, st.TagsSameCommit = int64(len(deps)), int64(same)
	env.Run.Read += st.TagsMatched
	if err := warehouse.Raw(conn, func(dc driver.Conn) error {
		a, err := warehouse.NewAppender(dc, "git_stage_deployments")
		if err != nil {
			return err
		}
		for _, d := range deps {
			if err := a.AppendRow(d...); err != nil {
				a.Close()
				return err
			}
		}
		return a.Close()
	}); err != nil {
		return nil, fmt.Errorf("git: %s: stage tags: %w", cfg.Name, err)
	}

	tx, err := conn.BeginTx(ctx, nil)
	if err != nil {
		return nil, err
	}
	defer tx.Rollback()
	if st.CommitsRead > 0 {
		if err := canonical.LogDelta(ctx, tx, "commits", -1, commitsReplaced, SourceName, cfg.Name); err != nil {
			return nil, fmt.Errorf("git: %s: %w", cfg.Name, err)
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM commits WHERE source = ? AND repo = ?
			AND sha IN (SELECT sha FROM git_stage_commits)`, SourceName, cfg.Name); err != nil {
			return nil, fmt.Errorf("git: %s: upsert commits: %w", cfg.Name, err)
		}
		res, err := tx.ExecContext(ctx, `INSERT INTO commits (sha, repo, parents, authored_at, committed_at, author, extra, source)
			SELECT sha, repo, parents, authored_at, committed_at, author, extra::JSON, ? FROM git_stage_commits`, SourceName)
		if err != nil {
			return nil, fmt.Errorf("git: %s: upsert commits: %w", cfg.Name, err)
		}
		if err := canonical.LogDelta(ctx, tx, "commits", 1, commitsReplaced, SourceName, cfg.Name); err != nil {
			return nil, fmt.Errorf("git: %s: %w", cfg.Name, err)
		}
		n, _ := res.RowsAffected()
		env.Run.Written += n
	}
	// The repository's tag deployments are replaced as a whole: a tag that
	// moved or disappeared must not leave its old deployment behind.
	tagDeployments := `WHERE t.source = ? AND starts_with(t.id, ?)`
	if err := canonical.LogDelta(ctx, tx, "deployments", -1, tagDeployments, SourceName, deploymentPrefix(cfg.Name)); err != nil {
		return nil, fmt.Errorf("git: %s: %w", cfg.Name, err)
	}
	if _, err := tx.ExecContext(ctx, `DELETE FROM deployments WHERE source = ? AND starts_with(id, ?)`,
		SourceName, deploymentPrefix(cfg.Name)); err != nil {
		return nil, fmt.Errorf("git: %s: replace tag deployments: %w", cfg.Name, err)
	}
	res, err := tx.ExecContext(ctx, `INSERT INTO deployments SELECT * FROM git_stage_deployments`)
	if err != nil {
		return nil, fmt.Errorf("git: %s: replace tag deployments: %w", cfg.Name, err)
	}
	st.DeploymentsSet, _ = res.RowsAffected()
	// the staged rows' ids all begin with the prefix (tagDeployment)
	if err := canonical.LogDelta(ctx, tx, "deployments", 1, tagDeployments, SourceName, deploymentPrefix(cfg.Name)); err != nil {
		return nil, fmt.Errorf("git: %s: %w", cfg.Name, err)
	}
	env.Run.Written += st.DeploymentsSet
	if err := env.State.Set(ctx, tx, cfg.Name, tipsKey, newValue); err != nil {
		return nil, fmt.Errorf("git: %s: save state: %w", cfg.Name, err)
	}
	if err := tx.Commit(); err != nil {
		return nil, fmt.Errorf("git: %s: commit: %w", cfg.Name, err)
	}
	env.Run.Cursor = fmt.Sprintf("%d refs", len(tips))
	if st.TagsSameCommit > 0 {
		fmt.Fprintf(progress, "git: %s: %d new commits, %d release tags (%d more on commits already tagged)\n",
			cfg.Name, st.CommitsRead, st.TagsMatched, st.TagsSameCommit)
	} else {
		fmt.Fprintf(progress, "git: %s: %d new commits, %d release tags\n", cfg.Name, st.CommitsRead, st.TagsMatched)
	}
	return st, nil
}

// deploymentPrefix is the id prefix of a repository's tag deployments.
func deploymentPrefix(repo string) string { return "git:" + repo + ":" }

// resolve checks the clone and fills in the defaulted name and service.
func (s *Source) resolve(ctx context.Context) error {
	if _, err := s.output(ctx, nil, "rev-parse", "--git-dir"); err != nil {
		return fmt.Errorf("git: %s is not a git repository: %w", s.cfg.Repo, err)
	}
	if s.cfg.Name == "" {
		remote, _ := s.output(ctx, nil, "config", "--get", "remote.origin.url")
		s.cfg.Name = nameFromRemote(string(remote))
		if s.cfg.Name == "" {
			s.cfg.Name = defaultName(s.cfg.Repo)
		}
	}
	if s.cfg.Service == "" {
		s.cfg.Service = s.cfg.Name[strings.LastIndex(s.cfg.Name, "/")+1:]
	}
	return nil
}

func (s *Source) command(ctx context.Context, args ...string) *exec.Cmd {
	bin := s.Git
	if bin == "" {
		bin = "git"
	}
	// -c settings keep user configuration from changing the output format.
	full := append([]string{"-C", s.cfg.Repo, "-c", "log.showSignature=false", "-c", "core.quotePath=false"}, args...)
	cmd := exec.CommandContext(ctx, bin, full...)
	cmd.Env = append(cmd.Environ(), "GIT_TERMINAL_PROMPT=0", "LC_ALL=C")
	return cmd
}

// output runs git and returns its stdout; stderr goes into the error.
func (s *Source) output(ctx context.Context, stdin io.Reader, args ...string) ([]byte, error) {
	cmd := s.command(ctx, args...)
	cmd.Stdin = stdin
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return nil, fmt.Errorf("git %s: %w: %s", args[0], err, strings.TrimSpace(stderr.String()))
	}
	return out, nil
}

// refTips returns the sorted, distinct commits the refs point at (tags
// peeled to their commit; refs to trees or blobs left out).
func (s *Source) refTips(ctx context.Context) ([]string, error) {
	// Branches, tags and remote-tracking branches; not refs/stash or
	// refs/notes, whose commits are not history.
	out, err := s.output(ctx, nil, "for-each-ref", "--format=%(objecttype) %(objectname) %(*objecttype) %(*objectname)",
		"refs/heads", "refs/tags", "refs/remotes")
	if err != nil {
		return nil, fmt.Errorf("git: %s: list refs: %w", s.cfg.Repo, err)
	}
	seen := map[string]bool{}
	for _, line := range strings.Split(string(out), "\n") {
		f := strings.Fields(line)
		switch {
		case len(f) >= 2 && f[0] == "commit":
			seen[f[1]] = true
		case len(f) == 4 && f[2] == "commit":
			seen[f[3]] = true
		}
	}
	tips := make([]string, 0, len(seen))
	for t := range seen {
		tips = append(tips, t)
	}
	sort.Strings(tips)
	return tips, nil
}

// existing keeps the commits of shas that are still in the repository (a
// ref deleted and garbage-collected since the last run would make
// `git log --not` fail).
func (s *Source) existing(ctx context.Context, shas []string) ([]string, error) {
	if len(shas) == 0 {
		return nil, nil
	}
	out, err := s.output(ctx, strings.NewReader(strings.Join(shas, "\n")+"\n"), "cat-file", "--batch-check=%(objectname) %(objecttype)")
	if err != nil {
		return nil, fmt.Errorf("git: %s: check known tips: %w", s.cfg.Repo, err)
	}
	var keep []string
	for _, line := range strings.Split(string(out), "\n") {
		f := strings.Fields(line)
		if len(f) == 2 && f[1] == "commit" {
			keep = append(keep, f[0])
		}
	}
	return keep, nil
}

// progressEvery is how many commits pass between progress lines.
const progressEvery = 100_000

// logFormat prints, with -z, one record per commit: logFields fields, each
// ended by NUL (under -z git ends a record with NUL), the message last.
// Git keeps NUL out of names, addresses and messages, so no message text
// can shift the fields.
const logFormat = "--format=tformat:%H%x00%P%x00%at%x00%ct%x00%an%x00%ae%x00%B"

const logFields = 7

// MaxMessage bounds the commit message kept in extra.message, in
// characters, as the GitHub and GitLab mappers do.
// The transform reads messages for git's revert trailer, which `git
// revert` writes on the third line; a bound keeps a repository of long
// generated messages from filling the warehouse.
const MaxMessage = 4096

// appendCommits streams `git log tips --not old` into the stage table.
func (s *Source) appendCommits(ctx context.Context, conn *sql.Conn, tips, old []string, progress io.Writer) (int64, error) {
	var revs strings.Builder
	for _, t := range tips {
		revs.WriteString(t + "\n")
	}
	for _, o := range old {
		revs.WriteString("^" + o + "\n")
	}
	cmd := s.command(ctx, "log", "-z", "--no-color", "--no-decorate", "--no-mailmap", logFormat, "--stdin")
	cmd.Stdin = strings.NewReader(revs.String())
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return 0, err
	}
	if err := cmd.Start(); err != nil {
		return 0, fmt.Errorf("git: %s: %w", s.cfg.Repo, err)
	}
	var n int64
	appendErr := warehouse.Raw(conn, func(dc driver.Conn) error {
		a, err := warehouse.NewAppender(dc, "git_stage_commits")
		if err != nil {
			return err
		}
		r := bufio.NewReaderSize(stdout, 1<<20)
		fields := make([]string, 0, logFields)
		for {
			field, err := r.ReadBytes(0)
			if errors.Is(err, io.EOF) {
				if len(fields) != 0 || len(field) != 0 {
					a.Close()
					return fmt.Errorf("truncated git log record %q", strings.Join(append(fields, string(field)), "\x00"))
				}
				break
			}
			if err != nil {
				a.Close()
				return err
			}
			if fields = append(fields, string(field[:len(field)-1])); len(fields) < logFields {
				continue
			}
			row, err := s.commitRow(fields)
			fields = fields[:0]
			if err != nil {
				a.Close()
				return err
			}
			if err := a.AppendRow(row...); err != nil {
				a.Close()
				return err
			}
			n++
			if n%progressEvery == 0 {
				fmt.Fprintf(progress, "git: %s: %d commits read\n", s.cfg.Name, n)
			}
		}
		return a.Close()
	})
	if appendErr != nil {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		return 0, fmt.Errorf("git: %s: read log: %w", s.cfg.Repo, appendErr)
	}
	if err := cmd.Wait(); err != nil {
		return 0, fmt.Errorf("git: %s: git log: %w: %s", s.cfg.Repo, err, strings.TrimSpace(stderr.String()))
	}
	return n, nil
}

// extraOf is a commit's extra: the author's e-mail address and the
// message, trimmed and cut to MaxMessage characters.
func extraOf(email, message string) map[string]string {
	x := map[string]string{}
	if email != "" {
		x["author_email"] = email
	}
	message = strings.Trim(message, " \t\r\n")
	if utf8.RuneCountInString(message) > MaxMessage {
		message = string([]rune(message)[:MaxMessage])
	}
	if message != "" {
		x["message"] = message
	}
	return x
}

// commitRow makes the stage row of one git log record (logFormat).
func (s *Source) commitRow(f []string) ([]driver.Value, error) {
	authored, err := unixTime(f[2])
	if err != nil {
		return nil, fmt.Errorf("commit %s: author date: %w", f[0], err)
	}
	committed, err := unixTime(f[3])
	if err != nil {
		return nil, fmt.Errorf("commit %s: committer date: %w", f[0], err)
	}
	parents := []string{}
	if f[1] != "" {
		parents = strings.Split(f[1], " ")
	}
	var extra any
	if x := extraOf(f[5], f[6]); len(x) > 0 {
		b, _ := json.Marshal(x)
		extra = string(b)
	}
	var author any
	if f[4] != "" {
		author = f[4]
	}
	return []driver.Value{f[0], s.cfg.Name, parents, authored, committed, author, extra}, nil
}

func unixTime(s string) (time.Time, error) {
	v, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		return time.Time{}, err
	}
	return time.Unix(v, 0).UTC(), nil
}

// tagFormat lists a tag's name, type, target and dates; %(*...) fields
// describe the object an annotated tag points at.
const tagFormat = "--format=%(refname:strip=2)%00%(objecttype)%00%(objectname)%00%(*objecttype)%00%(*objectname)%00%(taggerdate:unix)%00%(taggername)%00%(committerdate:unix)%00%(*committerdate:unix)"

type tag struct {
	name      string
	commit    string
	at        time.Time
	annotated bool
	tagger    string
}

// tagDeployments returns the matching tags as rows of the deployments
// table, in release order (date, then name), and how many it left out.
// A commit is released once: a later matching tag of a commit an earlier
// one names (v1.2.0 beside 1.2.0, a release re-tagged) ships nothing new,
// so it is no deployment; its name is kept in the first tag's
// extra.other_tags.
func (s *Source) tagDeployments(ctx context.Context) ([][]driver.Value, int, error) {
	re := regexp.MustCompile(s.cfg.TagPattern)
	out, err := s.output(ctx, nil, "for-each-ref", tagFormat, "refs/tags")
	if err != nil {
		return nil, 0, fmt.Errorf("git: %s: list tags: %w", s.cfg.Repo, err)
	}
	var tags []tag
	for _, line := range strings.Split(string(out), "\n") {
		if line == "" {
			continue
		}
		f := strings.Split(line, "\x00")
		if len(f) != 9 {
			return nil, 0, fmt.Errorf("git: %s: unexpected tag line %q", s.cfg.Repo, line)
		}
		if !re.MatchString(f[0]) {
			continue
		}
		t := tag{name: f[0]}
		var when string
		switch {
		case f[1] == "commit": // lightweight: the commit's date
			t.commit, when = f[2], f[7]
		case f[1] == "tag" && f[3] == "commit": // annotated: the tagger's date
			t.commit, when, t.annotated, t.tagger = f[4], f[5], true, f[6]
			if when == "" { // a tag object without a tagger line
				when = f[8]
			}
		default:
			continue // tags of trees, blobs or other tags are not releases
		}
		at, err := unixTime(when)
		if err != nil {
			return nil, 0, fmt.Errorf("git: %s: tag %s: date %q: %w", s.cfg.Repo, t.name, when, err)
		}
		t.at = at
		tags = append(tags, t)
	}
	sort.SliceStable(tags, func(i, j int) bool {
		if !tags[i].at.Equal(tags[j].at) {
			return tags[i].at.Before(tags[j].at)
		}
		return tags[i].name < tags[j].name
	})
	first := map[string]int{} // commit → index in kept
	var kept []tag
	others := map[int][]string{}
	for _, t := range tags {
		if i, ok := first[t.commit]; ok {
			others[i] = append(others[i], t.name)
			continue
		}
		first[t.commit] = len(kept)
		kept = append(kept, t)
	}
	rows := make([][]driver.Value, 0, len(kept))
	prev := ""
	for i, t := range kept {
		var previous, tagger any
		if prev != "" {
			previous = prev
		}
		if t.tagger != "" {
			tagger = t.tagger
		}
		kind := "lightweight"
		if t.annotated {
			kind = "annotated"
		}
		x := map[string]any{"tag": t.name, "tag_type": kind, "repo": s.cfg.Name}
		if o := others[i]; len(o) > 0 {
			x["other_tags"] = o
		}
		rows = append(rows, []driver.Value{
			deploymentPrefix(s.cfg.Name) + t.name, // id
			s.cfg.Service,                         // service
			"production",                          // environment
			t.at,                                  // finished_at
			nil,                                   // started_at
			"success",                             // status
			t.name,                                // version
			t.commit,                              // commit_sha
			previous,                              // previous_commit_sha
			nil,                                   // changes
			tagger,                                // triggered_by
			false, nil, false, nil, nil, nil,      // is_rollback … url
			x, SourceName, // extra: the appender writes a Go value as JSON
		})
		prev = t.commit
	}
	return rows, len(tags) - len(kept), nil
}
