package reports

import (
	"bufio"
	"bytes"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strings"
	"time"
)

// An archive folder holds, per archive run, a dated folder with the files
// of that run and their checksum list SHA256SUMS; the manifest chains the
// runs: one line per run, each naming the run's SHA256SUMS with its digest
// and the hash of the line before. docs/reports.md describes the format
// for people who verify it with other tools.
const (
	// ManifestName is the chain, at the top of the archive folder.
	ManifestName = "manifest.jsonl"
	// SignatureName is the optional detached Ed25519 signature of the
	// manifest's exact bytes, beside it.
	SignatureName = ManifestName + ".sig"
	// SumsName is the checksum list in every run folder, in the format of
	// GNU sha256sum ("<hex>  <path>\n"), so `sha256sum -c SHA256SUMS` checks
	// a run with standard tools.
	SumsName = "SHA256SUMS"
)

// manifestTime is fixed-width so that the chained fields have fixed
// lengths except the path, which keeps the concatenation unambiguous.
const manifestTime = "2006-01-02T15:04:05.000000000Z"

// folderTime names a run's folder.
const folderTime = "2006-01-02T150405Z"

// tmpPrefix marks what an archive run writes before renaming it into
// place; a killed run can leave such a file, which the next run removes.
const tmpPrefix = ".shiplog-tmp-"

var zeroHash = strings.Repeat("0", 64)

// ManifestEntry is one line of the manifest (JSON Lines): one archive run.
type ManifestEntry struct {
	// Seq counts runs from 1.
	Seq int `json:"seq"`
	// Time is when the run was archived (UTC, manifestTime layout).
	Time string `json:"time"`
	// Path is the run's checksum list, "<run folder>/SHA256SUMS", relative
	// to the archive folder.
	Path string `json:"path"`
	// SHA256 is the hex digest of that file's bytes.
	SHA256 string `json:"sha256"`
	// Prev is the Hash of the previous entry (64 zeros for the first).
	Prev string `json:"prev"`
	// Hash = hex(sha256(Prev || Path || SHA256 || Time)), the fields
	// concatenated as text with nothing between them. The Hash of the last
	// entry is the archive's head.
	Hash string `json:"hash"`
}

func entryHash(prev, p, fileSum, t string) string {
	sum := sha256.Sum256([]byte(prev + p + fileSum + t))
	return hex.EncodeToString(sum[:])
}

// ArchiveOptions say how to archive one run.
type ArchiveOptions struct {
	// Now names the run's folder and stamps its manifest line.
	Now time.Time
	// Key, when set, signs the new manifest (SignatureName). An archive
	// that is signed already is only appended to with a key, so that a
	// missing key cannot quietly leave a stale signature behind.
	Key ed25519.PrivateKey
	// Known are heads recorded for this archive earlier (by the
	// warehouse): each must still be one of the manifest's hashes, else
	// runs were removed or the chain was rewritten and nothing is
	// appended.
	Known []string
}

// ArchiveRun is what one archive run appended.
type ArchiveRun struct {
	// Folder is the run's folder inside the archive (2026-11-15T093000Z).
	Folder string
	// Time is the run's time (UTC).
	Time time.Time
	// Files counts the files archived, SHA256SUMS not included.
	Files int
	// Seq is the run's manifest entry number; PrevHead the head before the
	// run (64 zeros for the first) and Head the head after it.
	Seq            int
	PrevHead, Head string
	// Signed is true when the new manifest was signed.
	Signed bool
}

// Archive copies the files (relative to src, as listed in Result.Files)
// into a new dated folder of dir with their SHA256SUMS, and appends the
// run to the manifest's chain (and signs it when opts.Key is set). Nothing
// is appended when the manifest's chain is broken or lacks a known head;
// the files appear and the manifest changes only once everything is
// written, each by a rename.
func Archive(src string, files []string, dir string, opts ArchiveOptions) (*ArchiveRun, error) {
	now := opts.Now.UTC()
	if now.IsZero() {
		now = time.Now().UTC()
	}
	if len(files) == 0 {
		return nil, errors.New("archive: no files to archive")
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("archive: %w", err)
	}
	unlock, err := lockDir(dir)
	if err != nil {
		return nil, fmt.Errorf("archive %s: %w", dir, err)
	}
	defer unlock()
	removeStale(dir)

	mpath := filepath.Join(dir, ManifestName)
	old, err := os.ReadFile(mpath)
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("archive: %w", err)
	}
	if len(old) > 0 && old[len(old)-1] != '\n' {
		return nil, fmt.Errorf("archive %s: %s does not end with a newline (cut short?); not appending", dir, ManifestName)
	}
	entries, err := parseManifest(mpath, old)
	if err != nil {
		return nil, fmt.Errorf("archive %s: %w", dir, err)
	}
	if problems := verifyChain(entries); len(problems) > 0 {
		return nil, fmt.Errorf("archive %s: the manifest is already inconsistent, not appending: %s", dir, problems[0])
	}
	hashes := map[string]bool{}
	for _, e := range entries {
		hashes[e.Hash] = true
	}
	for _, k := range opts.Known {
		if !hashes[k] {
			return nil, fmt.Errorf("archive %s: the head %s recorded for this archive is not in its manifest: runs were removed or the chain was rewritten; not appending (check: shiplog report verify %s --expect %s)", dir, k, dir, k)
		}
	}
	if opts.Key == nil {
		if _, err := os.Stat(filepath.Join(dir, SignatureName)); err == nil {
			return nil, fmt.Errorf("archive %s: the archive is signed (%s) but no signing key is set (ARCHIVE_SIGNING_KEY); not appending an unsigned run", dir, SignatureName)
		}
	}

	folder := now.Format(folderTime)
	for n := 2; ; n++ {
		if _, err := os.Lstat(filepath.Join(dir, folder)); errors.Is(err, fs.ErrNotExist) {
			break
		}
		folder = fmt.Sprintf("%s-%d", now.Format(folderTime), n)
	}
	sorted := append([]string(nil), files...)
	sort.Strings(sorted)
	for i, f := range sorted {
		if err := checkArchivePath(f); err != nil {
			return nil, fmt.Errorf("archive: %w", err)
		}
		if i > 0 && sorted[i-1] == f {
			return nil, fmt.Errorf("archive: %s listed twice", f)
		}
	}

	// The run is written to a temporary folder, renamed into place once
	// complete.
	tmp, err := os.MkdirTemp(dir, tmpPrefix+"run-")
	if err != nil {
		return nil, fmt.Errorf("archive: %w", err)
	}
	placed := false
	defer func() {
		if !placed {
			os.RemoveAll(tmp)
		}
	}()
	var sums bytes.Buffer
	for _, f := range sorted {
		data, err := os.ReadFile(filepath.Join(src, filepath.FromSlash(f)))
		if err != nil {
			return nil, fmt.Errorf("archive: %w", err)
		}
		dst := filepath.Join(tmp, filepath.FromSlash(f))
		if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
			return nil, fmt.Errorf("archive: %w", err)
		}
		if err := writeSynced(dst, data, 0o444); err != nil {
			return nil, fmt.Errorf("archive: %w", err)
		}
		fmt.Fprintf(&sums, "%s  %s\n", hexSum(data), f)
	}
	if err := writeSynced(filepath.Join(tmp, SumsName), sums.Bytes(), 0o444); err != nil {
		return nil, fmt.Errorf("archive: %w", err)
	}
	// MkdirTemp made it private; the run folder reads like the others.
	if err := os.Chmod(tmp, 0o755); err != nil {
		return nil, fmt.Errorf("archive: %w", err)
	}

	run := &ArchiveRun{Folder: folder, Time: now, Files: len(sorted), Seq: len(entries) + 1, PrevHead: zeroHash}
	if len(entries) > 0 {
		run.PrevHead = entries[len(entries)-1].Hash
	}
	e := ManifestEntry{Seq: run.Seq, Time: now.Format(manifestTime), Path: folder + "/" + SumsName, SHA256: hexSum(sums.Bytes()), Prev: run.PrevHead}
	e.Hash = entryHash(e.Prev, e.Path, e.SHA256, e.Time)
	run.Head = e.Hash
	line, err := json.Marshal(e)
	if err != nil {
		return nil, err
	}
	manifest := append(append(append([]byte(nil), old...), line...), '\n')

	// Manifest and signature go to temporary files first; then the run
	// folder, the manifest and the signature are renamed into place.
	mtmp, err := tempWrite(dir, manifest, 0o644)
	if err != nil {
		return nil, fmt.Errorf("archive: %w", err)
	}
	defer os.Remove(mtmp)
	var stmp string
	if opts.Key != nil {
		if stmp, err = tempWrite(dir, ed25519.Sign(opts.Key, manifest), 0o644); err != nil {
			return nil, fmt.Errorf("archive: %w", err)
		}
		defer os.Remove(stmp)
		run.Signed = true
	}
	if err := os.Rename(tmp, filepath.Join(dir, folder)); err != nil {
		return nil, fmt.Errorf("archive: %w", err)
	}
	placed = true
	if err := os.Rename(mtmp, mpath); err != nil {
		// Without its manifest line the folder would read as added.
		os.RemoveAll(filepath.Join(dir, folder))
		return nil, fmt.Errorf("archive: %w", err)
	}
	if stmp != "" {
		if err := os.Rename(stmp, filepath.Join(dir, SignatureName)); err != nil {
			return run, fmt.Errorf("archive %s: run %s appended (head %s) but its signature could not be written: %w", dir, folder, run.Head, err)
		}
	}
	syncDir(dir)
	return run, nil
}

// checkArchivePath refuses a path that cannot be written into
// SHA256SUMS as it is or that would leave the run folder.
func checkArchivePath(f string) error {
	if f == "" || strings.ContainsAny(f, "\\\n\r") || path.Clean(f) != f || !filepath.IsLocal(filepath.FromSlash(f)) {
		return fmt.Errorf("file name %q cannot be archived", f)
	}
	if f == SumsName {
		return fmt.Errorf("file name %q is reserved for the checksum list", f)
	}
	return nil
}

func writeSynced(p string, data []byte, mode os.FileMode) error {
	f, err := os.OpenFile(p, os.O_CREATE|os.O_EXCL|os.O_WRONLY, mode)
	if err != nil {
		return err
	}
	if _, err := f.Write(data); err != nil {
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

func tempWrite(dir string, data []byte, mode os.FileMode) (string, error) {
	f, err := os.CreateTemp(dir, tmpPrefix+"*")
	if err != nil {
		return "", err
	}
	name := f.Name()
	_, err = f.Write(data)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Chmod(name, mode)
	}
	if err != nil {
		os.Remove(name)
		return "", err
	}
	return name, nil
}

func syncDir(dir string) {
	if d, err := os.Open(dir); err == nil {
		_ = d.Sync()
		d.Close()
	}
}

// removeStale deletes what a killed archive run left at the top of dir
// (only names with tmpPrefix; the caller holds the lock).
func removeStale(dir string) {
	des, err := os.ReadDir(dir)
	if err != nil {
		return
	}
	for _, de := range des {
		if strings.HasPrefix(de.Name(), tmpPrefix) {
			os.RemoveAll(filepath.Join(dir, de.Name()))
		}
	}
}

func hexSum(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

func readManifest(p string) ([]ManifestEntry, []byte, error) {
	b, err := os.ReadFile(p)
	if err != nil {
		return nil, nil, err
	}
	entries, err := parseManifest(p, b)
	return entries, b, err
}

// parseManifest reads the manifest's lines strictly: every line one
// entry with exactly the known fields.
func parseManifest(p string, b []byte) ([]ManifestEntry, error) {
	var out []ManifestEntry
	sc := bufio.NewScanner(bytes.NewReader(b))
	sc.Buffer(make([]byte, 64*1024), 1<<20)
	line := 0
	for sc.Scan() {
		line++
		var e ManifestEntry
		dec := json.NewDecoder(bytes.NewReader(sc.Bytes()))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&e); err != nil {
			return nil, fmt.Errorf("%s:%d: not a manifest entry: %w", filepath.Base(p), line, err)
		}
		if dec.More() {
			return nil, fmt.Errorf("%s:%d: more than one entry on the line", filepath.Base(p), line)
		}
		out = append(out, e)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("%s: %w", filepath.Base(p), err)
	}
	return out, nil
}

// verifyChain checks order and hashes of the entries alone.
func verifyChain(entries []ManifestEntry) []string {
	var problems []string
	prev := zeroHash
	for i, e := range entries {
		if e.Seq != i+1 {
			problems = append(problems, fmt.Sprintf("entry %d (%s): sequence number %d, expected %d (entries removed or reordered)", i+1, e.Path, e.Seq, i+1))
		}
		if e.Prev != prev {
			problems = append(problems, fmt.Sprintf("entry %d (%s): does not follow the previous entry's hash (entries removed or reordered)", i+1, e.Path))
		}
		if h := entryHash(e.Prev, e.Path, e.SHA256, e.Time); h != e.Hash {
			problems = append(problems, fmt.Sprintf("entry %d (%s): entry hash does not match its fields (entry edited)", i+1, e.Path))
		}
		prev = e.Hash
	}
	return problems
}

// VerifyOptions add what the archive folder cannot prove by itself.
type VerifyOptions struct {
	// Expect is the head hash kept elsewhere (printed by the archive run,
	// recorded in the warehouse's archive_runs); empty skips the check.
	Expect string
	// PublicKey, when set, must verify the manifest's signature.
	PublicKey ed25519.PublicKey
}

// Verification is the outcome of VerifyArchive.
type Verification struct {
	// Problems holds one line per problem; none means intact.
	Problems []string
	// Runs and Files count the manifest's runs and the files they list
	// (SHA256SUMS not included).
	Runs, Files int
	// Head is the hash of the manifest's last entry (64 zeros when empty).
	Head string
	// Signed reports whether a signature file is present;
	// SignatureChecked whether it was verified (with a public key).
	Signed, SignatureChecked bool
}

// Intact reports whether no problem was found.
func (v *Verification) Intact() bool { return len(v.Problems) == 0 }

// VerifyArchive checks an archive folder: the manifest's chain, every
// run's SHA256SUMS against its manifest line and every file against its
// SHA256SUMS, that no file is present without being listed, the head
// against opts.Expect and the signature against opts.PublicKey. A missing
// or unreadable manifest is an error; everything else is a problem.
func VerifyArchive(dir string, opts VerifyOptions) (*Verification, error) {
	entries, manifest, err := readManifest(filepath.Join(dir, ManifestName))
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, fmt.Errorf("verify: no %s in %s", ManifestName, dir)
		}
		return nil, fmt.Errorf("verify %s: %w", dir, err)
	}
	v := &Verification{Head: zeroHash, Runs: len(entries)}
	add := func(format string, args ...any) { v.Problems = append(v.Problems, fmt.Sprintf(format, args...)) }
	if len(manifest) > 0 && manifest[len(manifest)-1] != '\n' {
		add("%s: the last line has no newline (cut short?)", ManifestName)
	}
	v.Problems = append(v.Problems, verifyChain(entries)...)
	if len(entries) > 0 {
		v.Head = entries[len(entries)-1].Hash
	}
	listed := map[string]bool{ManifestName: true, SignatureName: true}
	for i, e := range entries {
		run, name := path.Split(e.Path)
		run = strings.TrimSuffix(run, "/")
		if name != SumsName || run == "" || strings.Contains(run, "/") || !filepath.IsLocal(run) {
			add("entry %d (%s): not a run's %s at the top of the archive", i+1, e.Path, SumsName)
			continue
		}
		if listed[e.Path] {
			add("entry %d (%s): the run is listed twice", i+1, e.Path)
			continue
		}
		listed[e.Path] = true
		sums, err := os.ReadFile(filepath.Join(dir, run, SumsName))
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) {
				add("%s: listed in the manifest but missing (removed)", e.Path)
			} else {
				add("%s: %v", e.Path, err)
			}
			continue
		}
		if got := hexSum(sums); got != e.SHA256 {
			add("%s: content changed (sha256 %s, manifest says %s): files were added to, removed from or reordered in the list", e.Path, got, e.SHA256)
		}
		v.Files += verifySums(dir, run, sums, listed, add)
	}
	err = filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			return nil
		}
		rel, err := filepath.Rel(dir, p)
		if err != nil {
			return err
		}
		rel = filepath.ToSlash(rel)
		switch {
		case listed[rel]:
		case strings.HasPrefix(rel, tmpPrefix):
			add("%s: left by an interrupted archive run (not in the archive; the next run removes it)", rel)
		default:
			add("%s: present but not in the archive (added)", rel)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("verify: %w", err)
	}
	if opts.Expect != "" && opts.Expect != v.Head {
		add("%s", headMismatch(entries, opts.Expect, v.Head))
	}
	sig, err := os.ReadFile(filepath.Join(dir, SignatureName))
	switch {
	case err == nil:
		v.Signed = true
		if opts.PublicKey != nil {
			v.SignatureChecked = true
			if len(sig) != ed25519.SignatureSize || !ed25519.Verify(opts.PublicKey, manifest, sig) {
				add("%s: the signature does not match %s under the public key %s (manifest changed after signing, or another key)", SignatureName, ManifestName, KeyFingerprint(opts.PublicKey))
			}
		}
	case errors.Is(err, fs.ErrNotExist):
		if opts.PublicKey != nil {
			add("%s: missing: the archive is not signed, a public key was given", SignatureName)
		}
	default:
		add("%s: %v", SignatureName, err)
	}
	return v, nil
}

// verifySums checks the files a run's SHA256SUMS lists and marks them
// listed; it returns how many lines it read.
func verifySums(dir, run string, sums []byte, listed map[string]bool, add func(string, ...any)) int {
	n := 0
	prev := ""
	for i, line := range strings.SplitAfter(string(sums), "\n") {
		if line == "" {
			continue
		}
		where := fmt.Sprintf("%s/%s:%d", run, SumsName, i+1)
		digest, name, ok := strings.Cut(strings.TrimSuffix(line, "\n"), "  ")
		if !ok || !strings.HasSuffix(line, "\n") || len(digest) != 64 || strings.Trim(digest, "0123456789abcdef") != "" || checkArchivePath(name) != nil {
			add("%s: not a checksum line (\"<64 hex digits>  <path>\")", where)
			continue
		}
		n++
		if name <= prev {
			add("%s: %s is out of path order (lines reordered or repeated)", where, name)
		}
		prev = name
		rel := run + "/" + name
		listed[rel] = true
		data, err := os.ReadFile(filepath.Join(dir, filepath.FromSlash(rel)))
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) {
				add("%s: listed but missing (removed)", rel)
			} else {
				add("%s: %v", rel, err)
			}
			continue
		}
		if got := hexSum(data); got != digest {
			add("%s: content changed (sha256 %s, %s says %s)", rel, got, SumsName, digest)
		}
	}
	return n
}

// headMismatch says how the archive's head differs from the expected one.
func headMismatch(entries []ManifestEntry, expect, head string) string {
	for i, e := range entries {
		if e.Hash == expect {
			later := entries[i+1:]
			runs := make([]string, len(later))
			for k, l := range later {
				runs[k] = path.Dir(l.Path)
			}
			return fmt.Sprintf("head %s differs from the expected %s: the expected head is entry %d (run %s) and %d run(s) were archived after it (%s)",
				head, expect, i+1, path.Dir(e.Path), len(later), strings.Join(runs, ", "))
		}
	}
	last := "the manifest is empty"
	if n := len(entries); n > 0 {
		last = fmt.Sprintf("the manifest ends at entry %d (run %s)", n, path.Dir(entries[n-1].Path))
	}
	return fmt.Sprintf("head %s differs from the expected %s, which is not in the manifest: %s; runs after it were removed, or the chain was rewritten", head, expect, last)
}

// Verify checks an archive folder without a kept head or key and returns
// one line per problem found (none means intact).
func Verify(dir string) ([]string, error) {
	v, err := VerifyArchive(dir, VerifyOptions{})
	if err != nil {
		return nil, err
	}
	return v.Problems, nil
}

// ManifestHead returns the number of entries (runs) of an archive's
// manifest and the hash of its last entry. Keeping the head somewhere else
// (a ticket, a signed mail, the warehouse) also detects the one change the
// chain alone cannot: the removal of the last runs together with their
// manifest lines.
func ManifestHead(dir string) (int, string, error) {
	entries, _, err := readManifest(filepath.Join(dir, ManifestName))
	if err != nil {
		return 0, "", err
	}
	if len(entries) == 0 {
		return 0, zeroHash, nil
	}
	return len(entries), entries[len(entries)-1].Hash, nil
}
