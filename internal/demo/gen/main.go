// Command gen regenerates the embedded default dataset: it runs the
// generator with DefaultOptions and writes each kind gzip-compressed into
// the data folder. Run it through `go generate ./internal/demo`.
package main

import (
	"compress/gzip"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/shiplog/shiplog/internal/canonical"
	"github.com/shiplog/shiplog/internal/demo"
)

func main() {
	out := flag.String("out", "data", "folder for the compressed dataset")
	flag.Parse()
	if err := run(*out); err != nil {
		fmt.Fprintln(os.Stderr, "gen:", err)
		os.Exit(1)
	}
}

func run(out string) error {
	tmp, err := os.MkdirTemp("", "shiplog-demo-gen-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	counts, err := demo.Write(tmp, demo.DefaultOptions())
	if err != nil {
		return err
	}
	if err := os.MkdirAll(out, 0o755); err != nil {
		return err
	}
	for _, k := range canonical.Kinds {
		name := demo.FileName(k.Name)
		if err := compress(filepath.Join(tmp, name), filepath.Join(out, name+".gz")); err != nil {
			return err
		}
		fmt.Fprintf(os.Stderr, "%-16s %7d rows\n", k.Name, counts[k.Name])
	}
	return nil
}

func compress(src, dst string) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	f, err := os.Create(dst)
	if err != nil {
		return err
	}
	zw, err := gzip.NewWriterLevel(f, gzip.BestCompression)
	if err != nil {
		f.Close()
		return err
	}
	if _, err := io.Copy(zw, in); err != nil {
		f.Close()
		return err
	}
	if err := zw.Close(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}
