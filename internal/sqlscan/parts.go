package sqlscan

import (
	"regexp"
	"strings"
)

// Code returns the tokens of toks that are code: neither space nor
// comment.
func Code(toks []Token) []Token {
	out := make([]Token, 0, len(toks))
	for _, t := range toks {
		if t.Kind != Space && !t.IsComment() {
			out = append(out, t)
		}
	}
	return out
}

// Words returns the distinct words (identifiers and keywords) and quoted
// identifiers of toks, in order of first appearance: words lower-cased,
// as DuckDB folds them, quoted identifiers as written between the quotes.
// Text in strings and comments is not looked at.
func Words(toks []Token) []string {
	seen := map[string]bool{}
	var out []string
	for _, t := range toks {
		var w string
		switch t.Kind {
		case Word:
			w = strings.ToLower(t.Text)
		case QuotedIdent:
			w = t.Value()
		default:
			continue
		}
		if !seen[w] {
			seen[w] = true
			out = append(out, w)
		}
	}
	return out
}

// Params returns the distinct named parameters ($name) of toks, without
// the $, in order of first use. Positional parameters ($1, ?) are not
// included.
func Params(toks []Token) []string {
	seen := map[string]bool{}
	var out []string
	for _, t := range toks {
		if t.Kind != Param || !strings.HasPrefix(t.Text, "$") || isDigit(t.Text[1]) {
			continue
		}
		if n := t.Value(); !seen[n] {
			seen[n] = true
			out = append(out, n)
		}
	}
	return out
}

// Variables returns the distinct names read with getvariable('name') in
// toks, in order of first use: the DuckDB variables a statement needs set.
// A call whose argument is not a string literal is not a variable name
// this can know, and is skipped.
func Variables(toks []Token) []string {
	code := Code(toks)
	seen := map[string]bool{}
	var out []string
	for i := 0; i+3 < len(code); i++ {
		if code[i].Kind != Word || !strings.EqualFold(code[i].Text, "getvariable") ||
			code[i+1].Text != "(" || code[i+2].Kind != String || code[i+3].Text != ")" {
			continue
		}
		if n := code[i+2].Value(); !seen[n] {
			seen[n] = true
			out = append(out, n)
		}
	}
	return out
}

// Statement is one statement of a script.
type Statement struct {
	// SQL is the statement's text without the semicolon that ends it,
	// comments inside it kept, space around it trimmed.
	SQL string
	// Line is the line of the statement's first code token in the script.
	Line int
	// Tokens are the statement's tokens.
	Tokens []Token
}

// Statements splits toks at the semicolons that are code (not inside a
// string, identifier or comment) and returns the statements that hold
// code; comments between statements go with the statement after them.
func Statements(toks []Token) []Statement {
	var out []Statement
	start := 0
	flush := func(end int) {
		part := toks[start:end]
		code := Code(part)
		if len(code) > 0 {
			var b strings.Builder
			for _, t := range part {
				b.WriteString(t.Text)
			}
			out = append(out, Statement{SQL: strings.TrimSpace(b.String()), Line: code[0].Line, Tokens: part})
		}
		start = end + 1
	}
	for i, t := range toks {
		if t.Kind == Punct && t.Text == ";" {
			flush(i)
		}
	}
	if start < len(toks) {
		flush(len(toks))
	}
	return out
}

// Field is one `-- key: value` line of a header.
type Field struct {
	Key, Value string
	Line       int
}

var fieldRE = regexp.MustCompile(`^--\s*([a-z_]+):\s*(.*?)\s*$`)

// Header reads the leading comment block of toks — the line comments (and
// space) before the first other token — and returns its `-- key: value`
// lines in order, and the index of the first token after the block. Other
// comment lines of the block are notes and are skipped.
func Header(toks []Token) ([]Field, int) {
	var fields []Field
	i := 0
	for ; i < len(toks); i++ {
		t := toks[i]
		if t.Kind == Space {
			continue
		}
		if t.Kind != LineComment {
			break
		}
		if m := fieldRE.FindStringSubmatch(strings.TrimSpace(t.Text)); m != nil {
			fields = append(fields, Field{Key: m[1], Value: m[2], Line: t.Line})
		}
	}
	return fields, i
}

// Text joins the tokens' text.
func Text(toks []Token) string {
	var b strings.Builder
	for _, t := range toks {
		b.WriteString(t.Text)
	}
	return b.String()
}

// StripComments returns src with every comment replaced by a space (a
// line comment's newline is kept), strings and identifiers untouched.
func StripComments(toks []Token) string {
	var b strings.Builder
	for _, t := range toks {
		if t.IsComment() {
			b.WriteByte(' ')
			continue
		}
		b.WriteString(t.Text)
	}
	return b.String()
}
