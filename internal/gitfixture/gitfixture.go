// Package gitfixture builds small git repositories with fixed authors and
// dates for tests, with the git binary, so that lead times from git can be
// worked out by hand. Release builds the repository the commit-level lead
// time tests share; its doc comment gives the expected figures.
package gitfixture

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// Repo is a repository in a temporary folder.
type Repo struct {
	t   testing.TB
	Dir string
}

// New makes an empty repository with branch main, or skips the test when
// git is not installed.
func New(t testing.TB) *Repo {
	t.Helper()
	if _, err := exec.LookPath("git"); err != nil {
		t.Skip("git not installed")
	}
	r := &Repo{t: t, Dir: t.TempDir()}
	r.Git("", "", "init", "-q", "-b", "main")
	return r
}

// Git runs git with the author date authored and committer date committed
// (RFC 3339; "" leaves them to git) and returns its trimmed output.
func (r *Repo) Git(authored, committed string, args ...string) string {
	r.t.Helper()
	cmd := exec.Command("git", append([]string{"-C", r.Dir}, args...)...)
	cmd.Env = append(os.Environ(),
		"GIT_CONFIG_GLOBAL=/dev/null", "GIT_CONFIG_NOSYSTEM=1",
		"GIT_AUTHOR_NAME=Ada", "GIT_AUTHOR_EMAIL=ada@example.com",
		"GIT_COMMITTER_NAME=Ada", "GIT_COMMITTER_EMAIL=ada@example.com",
	)
	if authored != "" {
		cmd.Env = append(cmd.Env, "GIT_AUTHOR_DATE="+authored)
	}
	if committed != "" {
		cmd.Env = append(cmd.Env, "GIT_COMMITTER_DATE="+committed)
	}
	out, err := cmd.CombinedOutput()
	if err != nil {
		r.t.Fatalf("git %v: %v\n%s", args, err, out)
	}
	return strings.TrimSpace(string(out))
}

// Commit writes file and commits it, authored and committed at the given
// times; it returns the commit's sha.
func (r *Repo) Commit(file, authored, committed string) string {
	r.t.Helper()
	if err := os.WriteFile(filepath.Join(r.Dir, file), []byte(file+" "+authored), 0o644); err != nil {
		r.t.Fatal(err)
	}
	r.Git(authored, committed, "add", file)
	r.Git(authored, committed, "commit", "-q", "-m", "change "+file)
	return r.Git("", "", "rev-parse", "HEAD")
}

// Tag makes an annotated tag of HEAD dated at (its tagger date).
func (r *Repo) Tag(name, at string) {
	r.t.Helper()
	r.Git(at, at, "tag", "-a", name, "-m", "release "+name)
}

// Release is the shared fixture: a repository with five releases (one a
// patch of an older line, tagged on a maintenance branch), one
// pre-release and one tag that is no release (times UTC, 2026):
//
//	c1  authored 01-01 10:00                     ┐ v1.0.0 tagged 01-03 10:00:
//	c2  authored 01-02 10:00                     ┘ first release, pre-tracking
//	c3  authored 01-05 10:00                     ┐ v1.1.0 tagged 01-07 10:00:
//	c4  authored 01-06 12:00                     ┘ 48 h, 22 h → median 35 h
//	c5  authored 01-08 09:00 on branch feature   ┐ v1.2.0 tagged 01-10 10:00:
//	c6  authored 01-08 15:00 on main             │ 49 h, 43 h → median 46 h
//	m1  merge of feature, 01-09 10:00            ┘ (a merge is not a change)
//	    docs-snapshot tag on m1 (not a release)
//	p1  authored 01-11 11:00 on branch maint from v1.1.0; v1.1.1 tagged
//	    01-11 11:30: 0.5 h (never merged into main)
//	c7  authored 01-11 10:00 on main, v1.3.0-rc1 tagged 01-11 12:00 (a
//	    pre-release)
//	c8  authored 01-10 08:00, committed 01-12 10:00 (rebased: lead time
//	    counts from the author time); v1.3.0 tagged 01-12 16:00:
//	    c7 30 h, c8 56 h → median 43 h
//
// c7 is first shipped by v1.3.0 although the release before it, v1.1.1,
// was committed after c7: a walk from v1.3.0 that stopped at commits older
// than the previous release's would lose it.
//
// All seven tracked commits: 0.5, 22, 30, 43, 48, 49, 56 h → median 43 h,
// two left out as pre-tracking. Weeks (Monday, UTC): 2026-01-05 has
// v1.1.0, v1.2.0 and v1.1.1 (0.5, 22, 43, 48, 49 → 43 h), 2026-01-12 has
// v1.3.0 (30, 56 → 43 h).
func Release(t testing.TB) (*Repo, map[string]string) {
	t.Helper()
	r := New(t)
	sha := map[string]string{}
	sha["c1"] = r.Commit("c1", "2026-01-01T10:00:00Z", "2026-01-01T10:00:00Z")
	sha["c2"] = r.Commit("c2", "2026-01-02T10:00:00Z", "2026-01-02T10:00:00Z")
	r.Tag("v1.0.0", "2026-01-03T10:00:00Z")
	sha["c3"] = r.Commit("c3", "2026-01-05T10:00:00Z", "2026-01-05T10:00:00Z")
	sha["c4"] = r.Commit("c4", "2026-01-06T12:00:00Z", "2026-01-06T12:00:00Z")
	r.Tag("v1.1.0", "2026-01-07T10:00:00Z")
	r.Git("", "", "checkout", "-q", "-b", "feature")
	sha["c5"] = r.Commit("c5", "2026-01-08T09:00:00Z", "2026-01-08T09:00:00Z")
	r.Git("", "", "checkout", "-q", "main")
	sha["c6"] = r.Commit("c6", "2026-01-08T15:00:00Z", "2026-01-08T15:00:00Z")
	r.Git("2026-01-09T10:00:00Z", "2026-01-09T10:00:00Z", "merge", "-q", "--no-ff", "-m", "merge feature", "feature")
	sha["m1"] = r.Git("", "", "rev-parse", "HEAD")
	r.Tag("v1.2.0", "2026-01-10T10:00:00Z")
	r.Tag("docs-snapshot", "2026-01-10T11:00:00Z")
	r.Git("", "", "checkout", "-q", "-b", "maint", "v1.1.0")
	sha["p1"] = r.Commit("p1", "2026-01-11T11:00:00Z", "2026-01-11T11:00:00Z")
	r.Tag("v1.1.1", "2026-01-11T11:30:00Z")
	r.Git("", "", "checkout", "-q", "main")
	sha["c7"] = r.Commit("c7", "2026-01-11T10:00:00Z", "2026-01-11T10:00:00Z")
	r.Tag("v1.3.0-rc1", "2026-01-11T12:00:00Z")
	sha["c8"] = r.Commit("c8", "2026-01-10T08:00:00Z", "2026-01-12T10:00:00Z")
	r.Tag("v1.3.0", "2026-01-12T16:00:00Z")
	return r, sha
}

// Revert is a repository whose middle release a later one reverts, with
// git's own `git revert` (times UTC, 2026):
//
//	c1  01-01 10:00            v1.0.0 tagged 01-02 10:00
//	c2  01-05 08:00 (bad)      v1.1.0 tagged 01-05 10:00
//	r3  01-05 14:00 reverts c2 v1.2.0 tagged 01-05 16:00 → 6 h to restore
//
// It fails the test when git wrote no `This reverts commit <c2>` trailer.
func Revert(t testing.TB) (*Repo, map[string]string) {
	t.Helper()
	r := New(t)
	sha := map[string]string{}
	sha["c1"] = r.Commit("c1", "2026-01-01T10:00:00Z", "2026-01-01T10:00:00Z")
	r.Tag("v1.0.0", "2026-01-02T10:00:00Z")
	sha["c2"] = r.Commit("c2", "2026-01-05T08:00:00Z", "2026-01-05T08:00:00Z")
	r.Tag("v1.1.0", "2026-01-05T10:00:00Z")
	r.Git("2026-01-05T14:00:00Z", "2026-01-05T14:00:00Z", "revert", "--no-edit", sha["c2"])
	sha["r3"] = r.Git("", "", "rev-parse", "HEAD")
	r.Tag("v1.2.0", "2026-01-05T16:00:00Z")
	if msg := r.Git("", "", "log", "-1", "--format=%B"); !strings.Contains(msg, "This reverts commit "+sha["c2"]) {
		t.Fatalf("git revert wrote no trailer naming %s: %q", sha["c2"], msg)
	}
	return r, sha
}
