// Package sqlscan splits SQL text into tokens the way DuckDB's parser (the
// PostgreSQL lexer it is built on) reads them, so that code which has to
// look at SQL before DuckDB does — finding the models a model reads, the
// parameters a query uses, the header of a file, the statements of a
// script — never mistakes text inside a string or a comment for code.
//
// It knows what can hide code-like text in DuckDB SQL:
//
//   - string literals in single quotes, a quote inside written twice;
//     escape strings E'a\'b' with backslash escapes (a plain string keeps
//     its backslashes);
//   - dollar-quoted strings $$…$$ and $tag$…$tag$ (no escapes at all);
//   - quoted identifiers in double quotes, a quote inside written twice;
//   - line comments -- … and block comments /* … */, which nest as in
//     PostgreSQL (/* a /* b */ c */ is one comment);
//   - parameters $name, $1 and ?, told apart from dollar quotes: $tag$
//     opens a dollar quote, $tag alone is a named parameter.
//
// It does not parse: it neither knows keywords nor checks grammar. Every
// byte of the input belongs to exactly one token, so joining the tokens'
// text gives the input back.
package sqlscan

import (
	"fmt"
	"strings"
)

// Kind is what a token is.
type Kind int

// Token kinds.
const (
	Space        Kind = iota // white space
	LineComment              // -- up to (not including) the end of the line
	BlockComment             // /* … */, nested
	String                   // '…', E'…', and prefixed forms such as X'…'
	DollarString             // $$…$$ or $tag$…$tag$
	QuotedIdent              // "…"
	Word                     // an identifier or keyword, as written
	Number                   // 12, 1.5, .5, 1e-3
	Param                    // $name, $1 or ?
	Punct                    // any other single character: ; ( ) , . : = …
)

var kindNames = [...]string{"space", "line comment", "block comment", "string", "dollar string",
	"quoted identifier", "word", "number", "parameter", "punctuation"}

func (k Kind) String() string {
	if int(k) < len(kindNames) {
		return kindNames[k]
	}
	return fmt.Sprintf("kind(%d)", int(k))
}

// Token is one lexical unit of SQL text.
type Token struct {
	Kind Kind
	Text string // exactly as in the input
	Pos  int    // byte offset in the input
	Line int    // 1-based line of the first byte
}

// IsComment reports whether t is a line or block comment.
func (t Token) IsComment() bool { return t.Kind == LineComment || t.Kind == BlockComment }

// Value returns what a literal or identifier token stands for: the text of
// a string (quotes removed, doubled quotes and, in E'…' strings, backslash
// escapes undone), the body of a dollar-quoted string, the name of a quoted
// identifier, a word as written, a parameter's name without its $. Other
// tokens return their text.
func (t Token) Value() string {
	s := t.Text
	switch t.Kind {
	case String:
		escapes := false
		if i := strings.IndexByte(s, '\''); i > 0 {
			escapes = strings.EqualFold(s[:i], "e")
			s = s[i:]
		}
		s = strings.TrimSuffix(s[1:], "'")
		if escapes {
			return unescape(s)
		}
		return strings.ReplaceAll(s, "''", "'")
	case DollarString:
		end := strings.IndexByte(s[1:], '$') + 2
		return s[end : len(s)-end]
	case QuotedIdent:
		return strings.ReplaceAll(strings.TrimSuffix(s[1:], `"`), `""`, `"`)
	case Param:
		return strings.TrimPrefix(s, "$")
	}
	return s
}

// unescape undoes the backslash escapes of an E'…' string body.
func unescape(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c == '\'' && i+1 < len(s) && s[i+1] == '\'' {
			b.WriteByte('\'')
			i++
			continue
		}
		if c != '\\' || i+1 == len(s) {
			b.WriteByte(c)
			continue
		}
		i++
		switch s[i] {
		case 'n':
			b.WriteByte('\n')
		case 't':
			b.WriteByte('\t')
		case 'r':
			b.WriteByte('\r')
		case 'b':
			b.WriteByte('\b')
		case 'f':
			b.WriteByte('\f')
		default:
			b.WriteByte(s[i])
		}
	}
	return b.String()
}

// Error is an unterminated string, quoted identifier or comment.
type Error struct {
	Line int
	What Kind
}

func (e *Error) Error() string {
	return fmt.Sprintf("line %d: unterminated %s", e.Line, e.What)
}

// Scan returns the tokens of src. An unterminated string, quoted identifier
// or block comment is an *Error; the tokens up to it are still returned,
// the unterminated one running to the end of the text.
func Scan(src string) ([]Token, error) {
	var out []Token
	var err error
	line := 1
	for i := 0; i < len(src); {
		kind, end, ok := next(src, i)
		if !ok && err == nil {
			err = &Error{Line: line, What: kind}
		}
		out = append(out, Token{Kind: kind, Text: src[i:end], Pos: i, Line: line})
		line += strings.Count(src[i:end], "\n")
		i = end
	}
	return out, err
}

// next reads the token starting at src[i] and returns its kind and end.
// ok is false for an unterminated one.
func next(src string, i int) (Kind, int, bool) {
	c := src[i]
	switch {
	case c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v':
		j := i + 1
		for j < len(src) && strings.IndexByte(" \t\n\r\f\v", src[j]) >= 0 {
			j++
		}
		return Space, j, true
	case c == '-' && i+1 < len(src) && src[i+1] == '-':
		j := strings.IndexByte(src[i:], '\n')
		if j < 0 {
			return LineComment, len(src), true
		}
		return LineComment, i + j, true
	case c == '/' && i+1 < len(src) && src[i+1] == '*':
		depth := 0
		for j := i; j+1 < len(src); j++ {
			switch {
			case src[j] == '/' && src[j+1] == '*':
				depth++
				j++
			case src[j] == '*' && src[j+1] == '/':
				depth--
				j++
				if depth == 0 {
					return BlockComment, j + 1, true
				}
			}
		}
		return BlockComment, len(src), false
	case c == '\'':
		end, ok := quoted(src, i, '\'', false)
		return String, end, ok
	case c == '"':
		end, ok := quoted(src, i, '"', false)
		return QuotedIdent, end, ok
	case c == '$':
		if tag, ok := dollarTag(src, i); ok {
			j := strings.Index(src[i+len(tag):], tag)
			if j < 0 {
				return DollarString, len(src), false
			}
			return DollarString, i + len(tag) + j + len(tag), true
		}
		j := i + 1
		for j < len(src) && (isIdentCont(src[j]) && src[j] != '$') {
			j++
		}
		if j == i+1 {
			return Punct, j, true
		}
		return Param, j, true
	case c == '?':
		return Param, i + 1, true
	case isDigit(c) || c == '.' && i+1 < len(src) && isDigit(src[i+1]):
		return Number, number(src, i), true
	case isIdentStart(c):
		j := i + 1
		for j < len(src) && isIdentCont(src[j]) {
			j++
		}
		// A one-letter prefix right before a quote makes a string:
		// E'…' (escapes), X'…' (hex), B'…' (bits), N'…'.
		if j == i+1 && j < len(src) && src[j] == '\'' && strings.IndexByte("eExXbBnN", c) >= 0 {
			end, ok := quoted(src, j, '\'', c == 'e' || c == 'E')
			return String, end, ok
		}
		return Word, j, true
	}
	return Punct, i + 1, true
}

// quoted returns the end of the quoted text opening at src[i] (q), with a
// doubled q standing for itself and, with backslashes, \q too.
func quoted(src string, i int, q byte, backslashes bool) (int, bool) {
	for j := i + 1; j < len(src); j++ {
		switch src[j] {
		case '\\':
			if backslashes {
				j++
			}
		case q:
			if j+1 < len(src) && src[j+1] == q {
				j++
				continue
			}
			return j + 1, true
		}
	}
	return len(src), false
}

// dollarTag returns the opening delimiter of a dollar-quoted string at
// src[i] ($$ or $tag$, the tag not starting with a digit).
func dollarTag(src string, i int) (string, bool) {
	j := i + 1
	if j < len(src) && isDigit(src[j]) {
		return "", false
	}
	for j < len(src) && isIdentCont(src[j]) && src[j] != '$' {
		j++
	}
	if j < len(src) && src[j] == '$' {
		return src[i : j+1], true
	}
	return "", false
}

func number(src string, i int) int {
	j := i
	for j < len(src) && (isDigit(src[j]) || src[j] == '_') {
		j++
	}
	if j < len(src) && src[j] == '.' {
		j++
		for j < len(src) && (isDigit(src[j]) || src[j] == '_') {
			j++
		}
	}
	if j < len(src) && (src[j] == 'e' || src[j] == 'E') {
		k := j + 1
		if k < len(src) && (src[k] == '+' || src[k] == '-') {
			k++
		}
		if k < len(src) && isDigit(src[k]) {
			j = k
			for j < len(src) && isDigit(src[j]) {
				j++
			}
		}
	}
	return j
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

func isIdentStart(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c == '_' || c >= 0x80
}

// isIdentCont: PostgreSQL lets $ continue an identifier (a$b is one word).
func isIdentCont(c byte) bool { return isIdentStart(c) || isDigit(c) || c == '$' }
