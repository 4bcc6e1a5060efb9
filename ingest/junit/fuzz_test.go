package junit

import (
	"bytes"
	"strings"
	"testing"
)

// FuzzParse: whatever the bytes, Parse returns a report or an error naming
// the file, never panics, and a report it returns keeps its promises: every
// suite counts at least one test, its failures, errors and skips fit in its
// tests, and every test case has a name.
func FuzzParse(f *testing.F) {
	for _, s := range []string{
		`<testsuite name="s" tests="1"><testcase name="a" time="0.5"/></testsuite>`,
		`<testsuites><testsuite name="s"><testcase name="a"><failure message="boom">trace</failure></testcase></testsuite></testsuites>`,
		`<testsuite name="s" tests="10" failures="2" errors="1" skipped="3" time="4"/>`,
		"<testsuite name='a'>\n<testcase name='x\xff'/></testsuite>",
		`<testsuite name="s"><testsuite name="t"><testcase name="a"/></testsuite></testsuite>`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		rep, err := Parse("r.xml", bytes.NewReader(data))
		if err != nil {
			if !strings.HasPrefix(err.Error(), "r.xml") {
				t.Fatalf("error does not name the file: %v", err)
			}
			return
		}
		for _, s := range rep.Suites {
			if s.Tests < 1 || s.Failures < 0 || s.Errors < 0 || s.Skipped < 0 || s.Failures+s.Errors+s.Skipped > s.Tests {
				t.Fatalf("suite %q counts: %+v", s.Name, s)
			}
			for _, c := range s.Cases {
				if strings.TrimSpace(c.Name) == "" {
					t.Fatalf("a case without a name in %q", s.Name)
				}
			}
		}
	})
}
