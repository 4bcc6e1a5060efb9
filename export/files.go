package export

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
)

// The folder layout of an export into DIR, all in DIR's parent so that
// renames stay on one file system:
//
//	DIR                       the complete export readers see
//	.DIR.export-N             export run N being written
//	.DIR.export-N.old         the previous export, for a moment, where the
//	                          file system cannot swap two folders at once
//
// A run writes everything into its staging folder, then swaps it with DIR
// in one step (renameat2 RENAME_EXCHANGE on Linux), so DIR is at every
// moment either the previous export or the new one, whole. Where the swap
// cannot be atomic, DIR is renamed aside and the staging folder renamed in;
// a crash between the two renames leaves DIR missing and the previous
// export in .old, which the next run puts back before doing anything else.

func stagingDir(out string, run int64) string {
	return filepath.Join(filepath.Dir(out), fmt.Sprintf(".%s.export-%d", filepath.Base(out), run))
}

// recoverOut puts back a previous export left aside by a crash during a
// non-atomic swap, and removes staging folders of runs that did not finish.
// It returns what it did, for the progress output.
func recoverOut(out string) ([]string, error) {
	parent, base := filepath.Dir(out), filepath.Base(out)
	entries, err := os.ReadDir(parent)
	if err != nil {
		if isNotExist(err) {
			return nil, nil
		}
		return nil, err
	}
	prefix := "." + base + ".export-"
	var olds, stale []string
	for _, e := range entries {
		name := e.Name()
		if !e.IsDir() || !strings.HasPrefix(name, prefix) {
			continue
		}
		if strings.HasSuffix(name, ".old") {
			olds = append(olds, filepath.Join(parent, name))
		} else {
			stale = append(stale, filepath.Join(parent, name))
		}
	}
	var did []string
	if _, err := os.Stat(out); isNotExist(err) && len(olds) > 0 {
		sort.Strings(olds)
		last := olds[len(olds)-1]
		if err := os.Rename(last, out); err != nil {
			return did, fmt.Errorf("restore the previous export from %s: %w", last, err)
		}
		did = append(did, "restored the previous export from "+filepath.Base(last))
		olds = olds[:len(olds)-1]
	}
	for _, d := range append(olds, stale...) {
		if err := os.RemoveAll(d); err != nil {
			return did, err
		}
		did = append(did, "removed "+filepath.Base(d)+", left by an export that did not finish")
	}
	return did, nil
}

// swapIn makes staging the export at out. Afterwards the previous export,
// if any, is gone.
func swapIn(staging, out string) error {
	if _, err := os.Lstat(out); isNotExist(err) {
		if err := os.Rename(staging, out); err != nil {
			return err
		}
		return syncDir(filepath.Dir(out))
	}
	switch err := exchange(staging, out); {
	case err == nil:
		// staging now holds the previous export
		if err := syncDir(filepath.Dir(out)); err != nil {
			return err
		}
		return os.RemoveAll(staging)
	case errors.Is(err, errNoExchange):
	default:
		return err
	}
	old := staging + ".old"
	if err := os.Rename(out, old); err != nil {
		return err
	}
	if err := os.Rename(staging, out); err != nil {
		// put the previous export back; recoverOut does it if this fails
		_ = os.Rename(old, out)
		return err
	}
	if err := syncDir(filepath.Dir(out)); err != nil {
		return err
	}
	return os.RemoveAll(old)
}

// errNoExchange means the platform or file system cannot swap two folders
// atomically.
var errNoExchange = errors.New("atomic exchange not supported")

// linkOrCopy makes dst the same file as src: a hard link (no data written)
// or, where the file system refuses links, a copy.
func linkOrCopy(src, dst string) error {
	if err := os.Link(src, dst); err == nil {
		return nil
	}
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	outf, err := os.OpenFile(dst, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
	if err != nil {
		return err
	}
	if _, err := io.Copy(outf, in); err != nil {
		outf.Close()
		return err
	}
	if err := outf.Sync(); err != nil {
		outf.Close()
		return err
	}
	return outf.Close()
}

// hashFile returns a file's size and SHA-256, after syncing it to disk (the
// export is swapped in only once every file it names is durable).
func hashFile(path string) (int64, string, error) {
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		return 0, "", err
	}
	defer f.Close()
	if err := f.Sync(); err != nil {
		return 0, "", err
	}
	h := sha256.New()
	n, err := io.Copy(h, f)
	if err != nil {
		return 0, "", err
	}
	return n, hex.EncodeToString(h.Sum(nil)), nil
}

// listFiles returns the regular files in dir (not below), sorted.
func listFiles(dir string) ([]string, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	var out []string
	for _, e := range entries {
		if e.Type().IsRegular() {
			out = append(out, e.Name())
		}
	}
	sort.Strings(out)
	return out, nil
}

func writeFileSync(path string, data []byte) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o644)
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

// syncDirs syncs every folder under root (new entries are durable only once
// their folder is).
func syncDirs(root string) error {
	return filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil || !d.IsDir() {
			return err
		}
		return syncDir(path)
	})
}

func syncDir(dir string) error {
	f, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer f.Close()
	if err := f.Sync(); err != nil && !errors.Is(err, os.ErrInvalid) {
		return err
	}
	return nil
}

func sha256Hex(b []byte) string {
	h := sha256.Sum256(b)
	return hex.EncodeToString(h[:])
}

// exchange swaps two folders atomically where the platform can
// (exchange_linux.go); tests replace it to exercise the fallback.
var exchange = exchangeFolders
