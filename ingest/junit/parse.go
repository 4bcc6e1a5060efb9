// Package junit reads JUnit XML test reports — as written by Maven
// Surefire, JUnit 5 (console launcher, Gradle), pytest --junitxml, Jest
// (jest-junit), go-junit-report, gotestsum and similar tools — into the
// canonical test_runs table (one run per <testsuite> that holds test cases)
// and the per-test test_results table.
//
// The reader is lenient about what the tools disagree on: a <testsuites> or
// <testsuite> root, suites nested in suites, missing counts (the test cases
// are counted instead), times written with thousands separators or a
// decimal comma, and unknown elements. It is strict about XML itself: a
// malformed file is an error naming the file, line and column, and nothing
// from the batch is written.
//
// Properties and system-out/system-err are read past but never stored: build
// tools dump environment and system properties there, which can hold
// secrets.
package junit

import (
	"bytes"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// Report is one parsed file.
type Report struct {
	File string
	// Framework is the tool that wrote the file, detected from its shape:
	// maven-surefire, junit5, gradle, pytest, jest, go, or junit when
	// unknown.
	Framework string
	Suites    []Suite

	data []byte // the document, while it is parsed (for positions in errors)
}

// Suite is one <testsuite> that holds test cases (or, holding none, carries
// counts of its own).
type Suite struct {
	// Name is the suite's name; a nested suite's name is prefixed with its
	// parents' names, joined by " / ".
	Name      string
	Timestamp time.Time // zero when the file has none
	// Duration is the suite's time attribute in seconds; -1 when absent.
	Duration float64
	Tests    int
	Failures int
	Errors   int
	Skipped  int
	Cases    []Case
}

// Passed counts the suite's passing tests.
func (s Suite) Passed() int { return s.Tests - s.Failures - s.Errors - s.Skipped }

// Statuses of a test case.
const (
	Passed  = "passed"
	Failed  = "failed"
	Error   = "error"
	Skipped = "skipped"
)

// Case is one <testcase>.
type Case struct {
	Classname string
	Name      string
	// Duration in seconds; -1 when absent or unreadable.
	Duration float64
	Status   string
	// Message is the failure, error or skip message (the message attribute,
	// else the first line of the element's text), at most 1000 characters.
	Message string
	// Flaky is set when the tool itself reported a failed attempt before a
	// pass (Surefire's flakyFailure / flakyError on rerun).
	Flaky bool
}

// node is a generic element tree; the formats differ too much for struct
// tags to be worth it.
type node struct {
	name     string
	attrs    map[string]string
	children []*node
	text     strings.Builder
	off      int64 // where the element starts, for messages (see position)
}

func (n *node) attr(k string) (string, bool) {
	v, ok := n.attrs[k]
	return v, ok
}

// Parse reads one JUnit XML document. name is used in errors.
func Parse(name string, r io.Reader) (*Report, error) {
	data, err := io.ReadAll(r)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	root, err := parseTree(name, data)
	if err != nil {
		return nil, err
	}
	rep := &Report{File: name, data: data}
	defer func() { rep.data = nil }()
	switch root.name {
	case "testsuites":
		for _, c := range root.children {
			if c.name == "testsuite" {
				if err := rep.addSuite(name, c, ""); err != nil {
					return nil, err
				}
			}
		}
	case "testsuite":
		if err := rep.addSuite(name, root, ""); err != nil {
			return nil, err
		}
	default:
		return nil, fmt.Errorf("%s: root element <%s> is not <testsuites> or <testsuite>: not a JUnit XML report", name, root.name)
	}
	rep.Framework = detect(root)
	return rep, nil
}

func parseTree(name string, data []byte) (*node, error) {
	dec := xml.NewDecoder(bytes.NewReader(data))
	dec.Strict = true
	var stack []*node
	var root *node
	for {
		// An error is reported where the token that caused it starts.
		start := dec.InputOffset()
		tok, err := dec.Token()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			line, col := position(data, start)
			var se *xml.SyntaxError
			if errors.As(err, &se) {
				return nil, fmt.Errorf("%s:%d:%d: malformed XML: %s", name, line, col, se.Msg)
			}
			return nil, fmt.Errorf("%s:%d:%d: malformed XML: %v", name, line, col, err)
		}
		switch t := tok.(type) {
		case xml.StartElement:
			n := &node{name: t.Name.Local, attrs: map[string]string{}, off: start}
			for _, a := range t.Attr {
				key := a.Name.Local
				if a.Name.Space != "" && key == "noNamespaceSchemaLocation" {
					key = "schema"
				}
				n.attrs[key] = a.Value
			}
			if len(stack) == 0 {
				if root != nil {
					line, col := position(data, dec.InputOffset())
					return nil, fmt.Errorf("%s:%d:%d: malformed XML: a second root element <%s>", name, line, col, n.name)
				}
				root = n
			} else {
				p := stack[len(stack)-1]
				p.children = append(p.children, n)
			}
			stack = append(stack, n)
		case xml.EndElement:
			stack = stack[:len(stack)-1]
		case xml.CharData:
			if len(stack) > 0 {
				top := stack[len(stack)-1]
				// Keep only what a message needs; system-out can be huge.
				if top.text.Len() < 4096 {
					top.text.Write(t)
				}
			}
		}
	}
	if root == nil {
		return nil, fmt.Errorf("%s:1:1: malformed XML: no root element (empty file?)", name)
	}
	return root, nil
}

// position turns a byte offset into a 1-based line and column.
func position(data []byte, off int64) (line, col int) {
	if off > int64(len(data)) {
		off = int64(len(data))
	}
	before := data[:off]
	line = bytes.Count(before, []byte("\n")) + 1
	col = int(off) - (bytes.LastIndexByte(before, '\n') + 1) + 1
	return line, col
}

func (rep *Report) addSuite(file string, n *node, parent string) error {
	name, _ := n.attr("name")
	full := name
	if parent != "" {
		full = parent + " / " + name
	}
	s := Suite{Name: full, Duration: parseSeconds(n.attrs["time"])}
	if ts, ok := n.attr("timestamp"); ok {
		s.Timestamp = parseTimestamp(ts)
	}
	hasChildSuites := false
	for _, c := range n.children {
		switch c.name {
		case "testsuite":
			hasChildSuites = true
			if err := rep.addSuite(file, c, full); err != nil {
				return err
			}
		case "testcase":
			tc := parseCase(c)
			if strings.TrimSpace(tc.Name) == "" {
				line, col := position(rep.data, c.off)
				return fmt.Errorf("%s:%d:%d: <testcase> in testsuite %q has no name", file, line, col, full)
			}
			s.Cases = append(s.Cases, tc)
		}
	}
	if len(s.Cases) > 0 {
		for _, c := range s.Cases {
			s.Tests++
			switch c.Status {
			case Failed:
				s.Failures++
			case Error:
				s.Errors++
			case Skipped:
				s.Skipped++
			}
		}
		if s.Duration < 0 {
			s.Duration = 0
			for _, c := range s.Cases {
				if c.Duration > 0 {
					s.Duration += c.Duration
				}
			}
		}
	} else if !hasChildSuites {
		// A summary-only suite: trust its counts.
		var err error
		count := func(attr string) int {
			v, ok := n.attr(attr)
			if !ok || err != nil {
				return 0
			}
			i, e := strconv.Atoi(strings.TrimSpace(v))
			if e != nil || i < 0 {
				err = fmt.Errorf("%s: testsuite %q: %s=%q is not a count", file, full, attr, v)
			}
			return i
		}
		s.Tests, s.Failures, s.Errors = count("tests"), count("failures"), count("errors")
		s.Skipped = count("skipped")
		if s.Skipped == 0 {
			s.Skipped = count("disabled")
		}
		if err != nil {
			return err
		}
		if s.Failures+s.Errors+s.Skipped > s.Tests {
			return fmt.Errorf("%s: testsuite %q: failures, errors and skipped add up to more than tests=%d", file, full, s.Tests)
		}
	}
	if s.Tests == 0 {
		return nil
	}
	rep.Suites = append(rep.Suites, s)
	return nil
}

func parseCase(n *node) Case {
	c := Case{Classname: n.attrs["classname"], Name: n.attrs["name"], Duration: parseSeconds(n.attrs["time"]), Status: Passed}
	if c.Classname == "" {
		// Some Jest and gotestsum configurations put the class in "class"
		// or "file".
		c.Classname = firstNonEmpty(n.attrs["class"], n.attrs["file"])
	}
	for _, ch := range n.children {
		switch ch.name {
		case "failure":
			if c.Status != Error {
				c.Status, c.Message = Failed, message(ch)
			}
		case "error":
			c.Status, c.Message = Error, message(ch)
		case "skipped":
			if c.Status == Passed {
				c.Status, c.Message = Skipped, message(ch)
			}
		case "flakyFailure", "flakyError":
			c.Flaky = true
			if c.Message == "" {
				c.Message = message(ch)
			}
		}
	}
	return c
}

func message(n *node) string {
	m := strings.TrimSpace(n.attrs["message"])
	if m == "" {
		m = strings.TrimSpace(n.text.String())
		if i := strings.IndexByte(m, '\n'); i >= 0 {
			m = strings.TrimSpace(m[:i])
		}
	}
	if len(m) > 1000 {
		m = m[:1000]
	}
	return m
}

func firstNonEmpty(vs ...string) string {
	for _, v := range vs {
		if v != "" {
			return v
		}
	}
	return ""
}

var thousands = regexp.MustCompile(`^\d{1,3}(,\d{3})+(\.\d+)?$`)

// parseSeconds reads a time attribute: "1.5", "1,234.5" (thousands
// separators, as Surefire writes with some locales), "0,25" (decimal
// comma). -1 when absent or unreadable.
func parseSeconds(v string) float64 {
	v = strings.TrimSpace(v)
	if v == "" {
		return -1
	}
	switch {
	case thousands.MatchString(v):
		v = strings.ReplaceAll(v, ",", "")
	case strings.Count(v, ",") == 1 && !strings.Contains(v, "."):
		v = strings.Replace(v, ",", ".", 1)
	}
	f, err := strconv.ParseFloat(v, 64)
	if err != nil || f < 0 {
		return -1
	}
	return f
}

// parseTimestamp reads a suite timestamp; without a zone it is taken as
// UTC (Surefire, Gradle and pytest write local time without a zone; the
// file does not say which).
func parseTimestamp(v string) time.Time {
	v = strings.TrimSpace(v)
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04:05.999999999", "2006-01-02T15:04:05", "2006-01-02 15:04:05"} {
		if t, err := time.Parse(layout, v); err == nil {
			return t.UTC()
		}
	}
	return time.Time{}
}

// detect names the tool that wrote a report, from the marks each leaves.
func detect(root *node) string {
	var suites []*node
	var walk func(*node)
	walk = func(n *node) {
		if n.name == "testsuite" {
			suites = append(suites, n)
		}
		for _, c := range n.children {
			walk(c)
		}
	}
	walk(root)
	rootName := strings.ToLower(root.attrs["name"])
	has := func(pred func(*node) bool) bool {
		for _, s := range suites {
			if pred(s) {
				return true
			}
		}
		return false
	}
	property := func(s *node, prefix string) bool {
		for _, c := range s.children {
			if c.name != "properties" {
				continue
			}
			for _, p := range c.children {
				if strings.HasPrefix(p.attrs["name"], prefix) {
					return true
				}
			}
		}
		return false
	}
	switch {
	case has(func(s *node) bool { return property(s, "go.version") }):
		return "go"
	case strings.Contains(rootName, "jest"):
		return "jest"
	case strings.Contains(rootName, "pytest") || has(func(s *node) bool { return s.attrs["name"] == "pytest" }):
		return "pytest"
	case strings.Contains(root.attrs["schema"], "surefire") || has(func(s *node) bool {
		return strings.Contains(s.attrs["schema"], "surefire") || property(s, "surefire.") || property(s, "maven.")
	}):
		return "maven-surefire"
	case has(func(s *node) bool {
		n := s.attrs["name"]
		return strings.HasPrefix(n, "JUnit Jupiter") || strings.HasPrefix(n, "JUnit Vintage") || strings.HasPrefix(n, "JUnit Platform") || property(s, "junit.platform")
	}):
		return "junit5"
	case has(func(s *node) bool { _, ok := s.attrs["hostname"]; return ok }):
		return "gradle"
	}
	return "junit"
}

func bytesReader(b []byte) io.Reader { return bytes.NewReader(b) }
