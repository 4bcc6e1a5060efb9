package file

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"unicode/utf8"
)

// maxRecord is the longest line (JSON Lines) or record (CSV) DuckDB's
// readers are given: max_line_size and maximum_object_size in the SQL.
const maxRecord = 8 << 20

// FileError is a file the loader cannot take as a whole (a gzip stream cut
// short, a CSV header it cannot read). It names the file; nothing of the
// batch is written, whatever --skip-invalid says.
type FileError struct {
	File   string
	Reason string
}

func (e *FileError) Error() string {
	return fmt.Sprintf("%s: %s (nothing was loaded)", e.File, e.Reason)
}

// gunzip decompresses a .gz input into dir, reading the stream to its
// trailer, whose CRC-32 and length gzip checks: a file cut short or
// corrupted is refused before anything of the batch is written. DuckDB then
// reads the plain copy. (DuckDB's own reader stops quietly at a cut, after
// the rows before it.)
func gunzip(in input, dir string) (input, error) {
	f, err := os.Open(in.path)
	if err != nil {
		return in, err
	}
	defer f.Close()
	zr, err := gzip.NewReader(bufio.NewReaderSize(f, 1<<20))
	if err != nil {
		return in, &FileError{File: in.name, Reason: "not a gzip file (" + gzipProblem(err) + ")"}
	}
	base := strings.TrimSuffix(filepath.Base(in.path), filepath.Ext(in.path)) // x.jsonl.gz → x.jsonl
	out, err := os.CreateTemp(dir, "*-"+base)
	if err != nil {
		return in, err
	}
	_, err = io.Copy(out, zr)
	if cerr := out.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		os.Remove(out.Name())
		var pe *os.PathError
		if errors.As(err, &pe) {
			return in, err // the spool folder, not the file
		}
		return in, &FileError{File: in.name, Reason: gzipProblem(err)}
	}
	in.path = out.Name()
	return in, nil
}

func gzipProblem(err error) string {
	switch {
	case errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, io.EOF):
		return "the gzip stream is cut short: the file is truncated"
	case errors.Is(err, gzip.ErrChecksum):
		return "the gzip stream fails its checksum: the file is corrupt"
	case errors.Is(err, gzip.ErrHeader):
		return "the gzip header is invalid"
	}
	return "the gzip stream cannot be read: " + err.Error()
}

// csvHeader reads the header of a CSV file (its first record) with Go's
// CSV reader. The loader names DuckDB's columns from it instead of letting
// DuckDB guess the file's shape, so that a row with one field too many is
// an error in that row, not a different header.
func csvHeader(in input) ([]string, error) {
	f, err := os.Open(in.path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	r := csv.NewReader(bufio.NewReader(f))
	r.FieldsPerRecord = -1
	rec, err := r.Read()
	if err == io.EOF {
		return nil, nil
	}
	if err != nil {
		return nil, &DataError{File: in.name, Line: 1, CSV: true, Reason: "cannot read the header: " + csvProblem(err)}
	}
	seen := map[string]bool{}
	for i, h := range rec {
		if i == 0 {
			h = strings.TrimPrefix(h, "\ufeff") // a byte order mark
			rec[0] = h
		}
		if !utf8.ValidString(h) {
			return nil, &DataError{File: in.name, Line: 1, CSV: true, Reason: fmt.Sprintf("column %d of the header is not valid UTF-8", i+1)}
		}
		if h == "" {
			return nil, &DataError{File: in.name, Line: 1, CSV: true, Reason: fmt.Sprintf("column %d of the header has no name", i+1)}
		}
		if seen[h] {
			return nil, &DataError{File: in.name, Line: 1, CSV: true, Field: h, Reason: "the column appears twice in the header"}
		}
		seen[h] = true
	}
	return rec, nil
}

// csvProblem says in words what Go's CSV reader found.
func csvProblem(err error) string {
	var pe *csv.ParseError
	if errors.As(err, &pe) {
		switch {
		case errors.Is(pe.Err, csv.ErrBareQuote):
			return `a " inside a field that is not quoted (quote the field and double the ")`
		case errors.Is(pe.Err, csv.ErrQuote):
			return `a quoted field is not closed, or a " inside it is not doubled`
		}
		return pe.Err.Error()
	}
	return err.Error()
}

// invalidColumn is the column sanitizeCSV adds to a CSV copy: "field<TAB>
// reason" for a record DuckDB's reader could not take, empty otherwise.
const invalidColumn = "__shiplog_invalid"

// marker starts a line that sanitizeJSONL put in place of one DuckDB's
// reader could not take: marker, field, tab, reason, tab, an excerpt.
const marker = "\x01"

// sanitize copies an input that DuckDB's reader failed on into dir,
// replacing each record the reader cannot take (invalid UTF-8, a NUL byte,
// longer than maxRecord, and for CSV a wrong number of fields) by one the
// precise path reports as that record's error, at its own line or row. It
// returns the input unchanged when it finds no such record.
func sanitize(in input, dir string) (input, bool, error) {
	out, err := os.CreateTemp(dir, "*-clean-"+filepath.Base(in.path))
	if err != nil {
		return in, false, err
	}
	var found bool
	if in.csv {
		found, err = sanitizeCSV(in, out)
	} else {
		found, err = sanitizeJSONL(in, out)
	}
	if cerr := out.Close(); err == nil {
		err = cerr
	}
	if err != nil || !found {
		os.Remove(out.Name())
		return in, false, err
	}
	in.path = out.Name()
	in.sanitized = true
	return in, true, nil
}

// lineProblem says why DuckDB's reader cannot take a line or a field
// (which field, for a JSON line), or "" when it can.
func lineProblem(b []byte, long int) (reason string) {
	switch {
	case long > maxRecord:
		return fmt.Sprintf("the line is %d bytes long, more than the %d a record may take", long, maxRecord)
	case !utf8.Valid(b):
		i := firstInvalid(b)
		return fmt.Sprintf("invalid UTF-8 (byte 0x%02x at byte %d of the line): the file must be UTF-8", b[i], i+1)
	case bytes.IndexByte(b, 0) >= 0:
		return fmt.Sprintf("a NUL byte at byte %d of the line", bytes.IndexByte(b, 0)+1)
	}
	return ""
}

func firstInvalid(b []byte) int {
	for i := 0; i < len(b); {
		r, n := utf8.DecodeRune(b[i:])
		if r == utf8.RuneError && n <= 1 {
			return i
		}
		i += n
	}
	return len(b)
}

// badJSONKey names the top-level key of a JSON line whose key or value
// holds byte offset at, or "" when it cannot tell (the line is not an
// object, or is malformed before that point).
func badJSONKey(line []byte, at int) string {
	dec := json.NewDecoder(bytes.NewReader(line))
	depth, key, wantKey := 0, "", false
	for {
		tok, err := dec.Token()
		if err != nil {
			return ""
		}
		end := int(dec.InputOffset())
		if d, ok := tok.(json.Delim); ok {
			if d == '{' || d == '[' {
				depth++
				if depth == 1 {
					wantKey = d == '{'
					continue
				}
			} else {
				depth--
			}
			if end > at {
				return key
			}
			if depth == 1 && (d == '}' || d == ']') {
				wantKey = true
			}
			continue
		}
		if depth == 1 && wantKey {
			key, _ = tok.(string)
			wantKey = false
		} else if depth == 1 {
			wantKey = true
		}
		if end > at {
			return key
		}
	}
}

// excerpt returns the start of a line, valid UTF-8, on one line without
// tabs, for the rejects table and messages.
func excerptLine(b []byte) string {
	if len(b) > 200 {
		b = b[:200]
	}
	s := strings.ToValidUTF8(string(b), "\uFFFD")
	s = strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f {
			return ' '
		}
		return r
	}, s)
	return s
}

func sanitizeJSONL(in input, out io.Writer) (bool, error) {
	f, err := os.Open(in.path)
	if err != nil {
		return false, err
	}
	defer f.Close()
	r := bufio.NewReaderSize(f, 1<<20)
	w := bufio.NewWriterSize(out, 1<<20)
	found := false
	var line []byte
	for {
		// Read one line, keeping at most maxRecord+1 bytes of it.
		line = line[:0]
		long := 0
		var err error
		var part []byte
		for {
			part, err = r.ReadSlice('\n')
			long += len(part)
			if len(line) <= maxRecord {
				line = append(line, part...)
			}
			if err != bufio.ErrBufferFull {
				break
			}
		}
		// The line's length without its end (\n or \r\n).
		long -= len(part) - len(bytes.TrimRight(part, "\r\n"))
		if len(line) == 0 && err != nil {
			if err == io.EOF {
				break
			}
			return false, err
		}
		body := bytes.TrimRight(line, "\r\n")
		reason := lineProblem(body, long)
		if reason == "" && bytes.HasPrefix(body, []byte(marker)) {
			reason = "malformed JSON: a control character starts the line"
		}
		if reason == "" {
			w.Write(line)
		} else {
			found = true
			field := ""
			if long <= maxRecord {
				field = excerptLine([]byte(badJSONKey(body, firstInvalid(body))))
			}
			fmt.Fprintf(w, "%s%s\t%s\t%s\n", marker, field, reason, excerptLine(body))
		}
		if err == io.EOF {
			break
		}
		if err != nil {
			return false, err
		}
	}
	return found, w.Flush()
}

func sanitizeCSV(in input, out io.Writer) (bool, error) {
	f, err := os.Open(in.path)
	if err != nil {
		return false, err
	}
	defer f.Close()
	r := csv.NewReader(bufio.NewReaderSize(f, 1<<20))
	r.FieldsPerRecord = -1
	w := csv.NewWriter(out)
	header, err := r.Read()
	if err != nil {
		return false, nil // csvHeader reports it
	}
	header[0] = strings.TrimPrefix(header[0], "\ufeff")
	w.Write(append(header, invalidColumn))
	found := false
	for row := 2; ; row++ {
		rec, err := r.Read()
		if err == io.EOF {
			break
		}
		if err != nil {
			return false, &DataError{File: in.name, Line: int64(row), CSV: true, Reason: "the CSV is malformed: " + csvProblem(err)}
		}
		reason, field := "", ""
		size := 0
		for _, v := range rec {
			size += len(v) + 1
		}
		switch {
		case size > maxRecord:
			reason = fmt.Sprintf("the row is %d bytes long, more than the %d a record may take", size, maxRecord)
			rec = make([]string, len(header))
		case len(rec) != len(header):
			reason = fmt.Sprintf("the row has %d fields and the header %d", len(rec), len(header))
		default:
			for i, v := range rec {
				if p := lineProblem([]byte(v), 0); p != "" {
					field, reason = header[i], strings.Replace(p, "of the line", "of the field", 1)
					break
				}
			}
		}
		if reason != "" {
			found = true
			fixed := make([]string, len(header))
			for i := range fixed {
				if i < len(rec) {
					fixed[i] = excerptLine([]byte(rec[i]))
				}
			}
			rec = append(fixed, field+"\t"+reason)
		} else {
			rec = append(rec, "")
		}
		if err := w.Write(rec); err != nil {
			return false, err
		}
	}
	w.Flush()
	return found, w.Error()
}

// readerError keeps the first line of an error of DuckDB's readers: the
// lines after it list the reader's settings and guesses, which are no use
// to whoever reads the message and do not belong in ingest_runs.error.
func readerError(err error) error {
	msg := err.Error()
	if i := strings.IndexByte(msg, '\n'); i >= 0 {
		msg = strings.TrimSpace(msg[:i])
	}
	if len(msg) > 300 {
		msg = strings.ToValidUTF8(msg[:300], "") + "…"
	}
	return errors.New(msg)
}
