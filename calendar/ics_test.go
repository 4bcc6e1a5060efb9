package calendar

import (
	"bufio"
	"bytes"
	"strings"
	"testing"
	"unicode/utf8"
)

func TestEscapeText(t *testing.T) {
	for in, want := range map[string]string{
		`a\b;c,d`:       `a\\b\;c\,d`,
		"one\ntwo\r\nx": `one\ntwo\nx`,
		"plain: colon":  "plain: colon", // a colon needs no escape in a value
	} {
		if got := EscapeText(in); got != want {
			t.Errorf("EscapeText(%q) = %q; want %q", in, got, want)
		}
	}
}

func TestFold(t *testing.T) {
	// "SUMMARY:" is 8 octets, then 100 two-octet runes: 208 octets. The
	// first line can take 75 octets: 8 + 33 runes (66) = 74, since a 34th
	// rune would end at octet 76. Continuation lines hold a space and up
	// to 74 octets: 37 runes (74 octets + space = 75), leaving 100-33-37 =
	// 30 runes (60 octets + space = 61) for the last line.
	line := "SUMMARY:" + strings.Repeat("é", 100)
	var buf bytes.Buffer
	w := bufio.NewWriter(&buf)
	writeFolded(w, line)
	w.Flush()
	out := buf.String()
	parts := strings.Split(strings.TrimSuffix(out, "\r\n"), "\r\n")
	wantLens := []int{74, 75, 61}
	if len(parts) != len(wantLens) {
		t.Fatalf("folded into %d lines: %q", len(parts), parts)
	}
	for i, p := range parts {
		if len(p) != wantLens[i] {
			t.Errorf("line %d: %d octets; want %d", i+1, len(p), wantLens[i])
		}
		if !utf8.ValidString(p) {
			t.Errorf("line %d splits a character: %q", i+1, p)
		}
		if i > 0 && p[0] != ' ' {
			t.Errorf("continuation line %d does not start with a space", i+1)
		}
	}
	if got := strings.ReplaceAll(out, "\r\n ", ""); got != line+"\r\n" {
		t.Errorf("unfolded %q; want the original", got)
	}
	// Exactly 75 octets: no fold.
	buf.Reset()
	w.Reset(&buf)
	writeFolded(w, strings.Repeat("a", 75))
	w.Flush()
	if buf.String() != strings.Repeat("a", 75)+"\r\n" {
		t.Errorf("75 octets folded: %q", buf.String())
	}
}
