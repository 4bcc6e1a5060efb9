package demo

import (
	"bytes"
	"compress/gzip"
	"embed"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/shiplog/shiplog/internal/canonical"
)

//go:generate go run ./gen -out data

//go:embed data/*.jsonl.gz
var data embed.FS

// Embedded returns the default dataset (DefaultOptions) as a read-only file
// system holding one decompressed `<kind>.jsonl` per canonical kind at its
// root. A test checks it is exactly what Write produces, so regenerate it
// with `go generate ./internal/demo` after changing the generator.
func Embedded() fs.FS { return gunzipFS{} }

// EmbeddedFiles lists the embedded file names in load order (referenced
// kinds first), ready for a loader that takes paths.
func EmbeddedFiles() []string {
	names := make([]string, 0, len(canonical.Kinds))
	for _, k := range canonical.Kinds {
		names = append(names, FileName(k.Name))
	}
	return names
}

// ExtractEmbedded writes the embedded dataset into dir and returns the paths
// of the files in load order.
func ExtractEmbedded(dir string) ([]string, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("demo: %w", err)
	}
	var paths []string
	for _, name := range EmbeddedFiles() {
		b, err := fs.ReadFile(Embedded(), name)
		if err != nil {
			return nil, err
		}
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, b, 0o644); err != nil {
			return nil, fmt.Errorf("demo: %w", err)
		}
		paths = append(paths, p)
	}
	return paths, nil
}

// gunzipFS serves data/<name>.gz as <name>.
type gunzipFS struct{}

func (gunzipFS) Open(name string) (fs.File, error) {
	if !fs.ValidPath(name) {
		return nil, &fs.PathError{Op: "open", Path: name, Err: fs.ErrInvalid}
	}
	if name == "." {
		return &dirFile{}, nil
	}
	if strings.Contains(name, "/") {
		return nil, &fs.PathError{Op: "open", Path: name, Err: fs.ErrNotExist}
	}
	raw, err := data.ReadFile("data/" + name + ".gz")
	if err != nil {
		return nil, &fs.PathError{Op: "open", Path: name, Err: fs.ErrNotExist}
	}
	zr, err := gzip.NewReader(bytes.NewReader(raw))
	if err != nil {
		return nil, &fs.PathError{Op: "open", Path: name, Err: err}
	}
	b, err := io.ReadAll(zr)
	if err != nil {
		return nil, &fs.PathError{Op: "open", Path: name, Err: err}
	}
	return &memFile{info: fileInfo{name: name, size: int64(len(b))}, r: bytes.NewReader(b)}, nil
}

type fileInfo struct {
	name string
	size int64
	dir  bool
}

func (fi fileInfo) Name() string { return fi.name }
func (fi fileInfo) Size() int64  { return fi.size }
func (fi fileInfo) Mode() fs.FileMode {
	if fi.dir {
		return fs.ModeDir | 0o555
	}
	return 0o444
}
func (fi fileInfo) ModTime() time.Time { return time.Time{} }
func (fi fileInfo) IsDir() bool        { return fi.dir }
func (fi fileInfo) Sys() any           { return nil }

type memFile struct {
	info fileInfo
	r    *bytes.Reader
}

func (f *memFile) Stat() (fs.FileInfo, error) { return f.info, nil }
func (f *memFile) Read(p []byte) (int, error) { return f.r.Read(p) }
func (f *memFile) Close() error               { return nil }

type dirFile struct{ read int }

func (d *dirFile) Stat() (fs.FileInfo, error) { return fileInfo{name: ".", dir: true}, nil }
func (d *dirFile) Read([]byte) (int, error) {
	return 0, &fs.PathError{Op: "read", Path: ".", Err: errors.New("is a directory")}
}
func (d *dirFile) Close() error { return nil }

// ReadDir lists the files sorted by name, as fs.ReadDir expects.
func (d *dirFile) ReadDir(n int) ([]fs.DirEntry, error) {
	entries, err := data.ReadDir("data")
	if err != nil {
		return nil, err
	}
	var all []fs.DirEntry
	for _, e := range entries {
		name := strings.TrimSuffix(e.Name(), ".gz")
		f, err := gunzipFS{}.Open(name)
		if err != nil {
			return nil, err
		}
		info, _ := f.Stat()
		all = append(all, fs.FileInfoToDirEntry(info))
	}
	rest := all[d.read:]
	if n <= 0 {
		d.read = len(all)
		return rest, nil
	}
	if len(rest) == 0 {
		return nil, io.EOF
	}
	if n > len(rest) {
		n = len(rest)
	}
	d.read += n
	return rest[:n], nil
}
