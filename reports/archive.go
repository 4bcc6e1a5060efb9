package reports

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strings"
	"time"
)

// ManifestName is the file, at the top of an archive folder, that lists
// every archived file in a hash chain.
const ManifestName = "manifest.jsonl"

// manifestTime is fixed-width so that the chained fields have fixed
// lengths except the path, which keeps the concatenation unambiguous.
const manifestTime = "2006-01-02T15:04:05.000000000Z"

var zeroHash = strings.Repeat("0", 64)

// ManifestEntry is one line of the manifest (JSON Lines).
type ManifestEntry struct {
	// Seq counts entries from 1.
	Seq int `json:"seq"`
	// Time is when the file was archived (UTC, manifestTime layout).
	Time string `json:"time"`
	// Path is relative to the archive folder, with forward slashes.
	Path string `json:"path"`
	// SHA256 is the hex digest of the file's bytes.
	SHA256 string `json:"sha256"`
	// Prev is the Hash of the previous entry (64 zeros for the first).
	Prev string `json:"prev"`
	// Hash = hex(sha256(Prev || Path || SHA256 || Time)), the fields
	// concatenated as text with nothing between them.
	Hash string `json:"hash"`
}

func entryHash(prev, p, fileSum, t string) string {
	sum := sha256.Sum256([]byte(prev + p + fileSum + t))
	return hex.EncodeToString(sum[:])
}

// Archive copies the files (relative to src, as listed in Result.Files)
// into a dated folder of dir and appends one chained manifest entry per
// file. It returns the folder written.
func Archive(src string, files []string, dir string, now time.Time) (string, error) {
	now = now.UTC()
	entries, err := readManifest(filepath.Join(dir, ManifestName))
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return "", err
	}
	if problems := verifyChain(entries); len(problems) > 0 {
		return "", fmt.Errorf("archive %s: the manifest is already inconsistent, not appending: %s", dir, problems[0])
	}
	folder := now.Format("2006-01-02T150405Z")
	for n := 2; ; n++ {
		if _, err := os.Stat(filepath.Join(dir, folder)); errors.Is(err, fs.ErrNotExist) {
			break
		}
		folder = fmt.Sprintf("%s-%d", now.Format("2006-01-02T150405Z"), n)
	}
	prev := zeroHash
	if len(entries) > 0 {
		prev = entries[len(entries)-1].Hash
	}
	sorted := append([]string(nil), files...)
	sort.Strings(sorted)
	stamp := now.Format(manifestTime)
	var lines bytes.Buffer
	for i, f := range sorted {
		data, err := os.ReadFile(filepath.Join(src, filepath.FromSlash(f)))
		if err != nil {
			return "", fmt.Errorf("archive: %w", err)
		}
		rel := path.Join(folder, f)
		dst := filepath.Join(dir, filepath.FromSlash(rel))
		if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
			return "", fmt.Errorf("archive: %w", err)
		}
		if err := os.WriteFile(dst, data, 0o444); err != nil {
			return "", fmt.Errorf("archive: %w", err)
		}
		sum := sha256.Sum256(data)
		e := ManifestEntry{Seq: len(entries) + i + 1, Time: stamp, Path: rel, SHA256: hex.EncodeToString(sum[:]), Prev: prev}
		e.Hash = entryHash(e.Prev, e.Path, e.SHA256, e.Time)
		prev = e.Hash
		b, _ := json.Marshal(e)
		lines.Write(b)
		lines.WriteByte('\n')
	}
	mf, err := os.OpenFile(filepath.Join(dir, ManifestName), os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o644)
	if err != nil {
		return "", fmt.Errorf("archive: %w", err)
	}
	if _, err := mf.Write(lines.Bytes()); err != nil {
		mf.Close()
		return "", fmt.Errorf("archive: %w", err)
	}
	if err := mf.Close(); err != nil {
		return "", fmt.Errorf("archive: %w", err)
	}
	return filepath.Join(dir, folder), nil
}

func readManifest(p string) ([]ManifestEntry, error) {
	f, err := os.Open(p)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var out []ManifestEntry
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64*1024), 1<<20)
	line := 0
	for sc.Scan() {
		line++
		if len(bytes.TrimSpace(sc.Bytes())) == 0 {
			continue
		}
		var e ManifestEntry
		dec := json.NewDecoder(bytes.NewReader(sc.Bytes()))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&e); err != nil {
			return nil, fmt.Errorf("%s:%d: %w", p, line, err)
		}
		out = append(out, e)
	}
	if err := sc.Err(); err != nil && err != io.EOF {
		return nil, fmt.Errorf("%s: %w", p, err)
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

// Verify checks an archive folder: the manifest's chain, every listed
// file's checksum, and that no file is present without being listed. It
// returns one line per problem found (none means intact).
func Verify(dir string) ([]string, error) {
	entries, err := readManifest(filepath.Join(dir, ManifestName))
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, fmt.Errorf("verify: no %s in %s", ManifestName, dir)
		}
		return nil, fmt.Errorf("verify: %w", err)
	}
	problems := verifyChain(entries)
	listed := map[string]bool{}
	for i, e := range entries {
		if listed[e.Path] {
			problems = append(problems, fmt.Sprintf("entry %d (%s): listed twice", i+1, e.Path))
		}
		listed[e.Path] = true
		if !filepath.IsLocal(filepath.FromSlash(e.Path)) {
			problems = append(problems, fmt.Sprintf("entry %d (%s): path leaves the archive folder", i+1, e.Path))
			continue
		}
		data, err := os.ReadFile(filepath.Join(dir, filepath.FromSlash(e.Path)))
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) {
				problems = append(problems, fmt.Sprintf("%s: listed but missing (removed)", e.Path))
			} else {
				problems = append(problems, fmt.Sprintf("%s: %v", e.Path, err))
			}
			continue
		}
		sum := sha256.Sum256(data)
		if got := hex.EncodeToString(sum[:]); got != e.SHA256 {
			problems = append(problems, fmt.Sprintf("%s: content changed (sha256 %s, manifest says %s)", e.Path, got, e.SHA256))
		}
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
		if rel != ManifestName && !listed[rel] {
			problems = append(problems, fmt.Sprintf("%s: present but not in the manifest (added)", rel))
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("verify: %w", err)
	}
	return problems, nil
}

// ManifestHead returns the number of entries of an archive's manifest and
// the hash of its last entry. Keeping the head somewhere else (a ticket, a
// signed mail) also detects the one change the chain alone cannot: the
// removal of the last entries together with their files.
func ManifestHead(dir string) (int, string, error) {
	entries, err := readManifest(filepath.Join(dir, ManifestName))
	if err != nil {
		return 0, "", err
	}
	if len(entries) == 0 {
		return 0, zeroHash, nil
	}
	return len(entries), entries[len(entries)-1].Hash, nil
}
