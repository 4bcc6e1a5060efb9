package sqlscan

import (
	"errors"
	"reflect"
	"strings"
	"testing"
)

// kinds renders the non-space tokens as "kind:text" for comparison.
func kinds(toks []Token) []string {
	var out []string
	for _, t := range toks {
		if t.Kind != Space {
			out = append(out, t.Kind.String()+":"+t.Text)
		}
	}
	return out
}

func TestScan(t *testing.T) {
	tests := []struct {
		name string
		src  string
		want []string
	}{
		{"dashes inside a string are not a comment", `select '--x' -- y`,
			[]string{"word:select", "string:'--x'", "line comment:-- y"}},
		{"doubled quote stays in the string", `'it''s -- here'`,
			[]string{"string:'it''s -- here'"}},
		{"backslash ends nothing in a plain string", `'a\' , 'b'`,
			[]string{`string:'a\'`, "punctuation:,", "string:'b'"}},
		{"escape string: backslash-quote is inside", `E'a\'b' x`,
			[]string{`string:E'a\'b'`, "word:x"}},
		{"hex and bit strings", `X'ff' b'01'`,
			[]string{"string:X'ff'", "string:b'01'"}},
		{"a word ending in e before a quote is not a prefix", `type'x'`,
			[]string{"word:type", "string:'x'"}},
		{"nested block comment", `/* a /* b */ c */ d`,
			[]string{"block comment:/* a /* b */ c */", "word:d"}},
		{"block comment hides a quote", `/* don't */ 'x'`,
			[]string{"block comment:/* don't */", "string:'x'"}},
		{"line comment hides a block opener", "-- /* \nselect",
			[]string{"line comment:-- /* ", "word:select"}},
		{"quoted identifier with doubled quote and dashes", `"a ""b"" --c"`,
			[]string{`quoted identifier:"a ""b"" --c"`}},
		{"dollar quote", `$$ it's -- not $x $$`,
			[]string{"dollar string:$$ it's -- not $x $$"}},
		{"tagged dollar quote holds $$", `$fn$ a $$ b $fn$ c`,
			[]string{"dollar string:$fn$ a $$ b $fn$", "word:c"}},
		{"named and positional parameters", `$team, $1, ?`,
			[]string{"parameter:$team", "punctuation:,", "parameter:$1", "punctuation:,", "parameter:?"}},
		{"dollar continues an identifier", `a$b $c`,
			[]string{"word:a$b", "parameter:$c"}},
		{"cast and numbers", `1.5e-3::double, .5`,
			[]string{"number:1.5e-3", "punctuation::", "punctuation::", "word:double", "punctuation:,", "number:.5"}},
		{"semicolon in a string", `'a;b';`,
			[]string{"string:'a;b'", "punctuation:;"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			toks, err := Scan(tt.src)
			if err != nil {
				t.Fatal(err)
			}
			if got := kinds(toks); !reflect.DeepEqual(got, tt.want) {
				t.Errorf("Scan(%q)\n got %q\nwant %q", tt.src, got, tt.want)
			}
			if Text(toks) != tt.src {
				t.Errorf("tokens do not join back to the input")
			}
		})
	}
}

func TestScanUnterminated(t *testing.T) {
	tests := []struct {
		src  string
		line int
		what Kind
	}{
		{"select 'abc", 1, String},
		{"select\n/* a /* b */", 2, BlockComment},
		{`"x`, 1, QuotedIdent},
		{"$q$ body", 1, DollarString},
		{`E'a\'`, 1, String},
	}
	for _, tt := range tests {
		_, err := Scan(tt.src)
		var e *Error
		if !errors.As(err, &e) || e.Line != tt.line || e.What != tt.what {
			t.Errorf("Scan(%q) error = %v, want unterminated %s on line %d", tt.src, err, tt.what, tt.line)
		}
	}
}

func TestValue(t *testing.T) {
	tests := []struct{ src, want string }{
		{`'it''s'`, "it's"},
		{`E'a\nb\'c'`, "a\nb'c"},
		{`'a\nb'`, `a\nb`},
		{`$t$ x $$ y $t$`, " x $$ y "},
		{`"A ""q"""`, `A "q"`},
		{`$team`, "team"},
	}
	for _, tt := range tests {
		toks, err := Scan(tt.src)
		if err != nil || len(toks) != 1 {
			t.Fatalf("Scan(%q) = %v, %v", tt.src, toks, err)
		}
		if got := toks[0].Value(); got != tt.want {
			t.Errorf("Value(%s) = %q, want %q", tt.src, got, tt.want)
		}
	}
}

func scan(t *testing.T, src string) []Token {
	t.Helper()
	toks, err := Scan(src)
	if err != nil {
		t.Fatal(err)
	}
	return toks
}

func TestWordsParamsVariables(t *testing.T) {
	src := `-- reads fct_old
select "Mixed Case", Fct_Deployments.x, '$notparam fct_str', $team, $1, $team
from fct_deployments /* int_hidden */ where getvariable('hotfix_regex') and getvariable ( 'b' )
  and getvariable(name_col) and $$ $inside $$ = 'x'`
	toks := scan(t, src)
	words := Words(toks)
	for _, w := range []string{"select", "Mixed Case", "fct_deployments", "x", "getvariable", "name_col"} {
		if !contains(words, w) {
			t.Errorf("Words lacks %q: %q", w, words)
		}
	}
	for _, w := range []string{"fct_old", "int_hidden", "fct_str", "$notparam", "inside"} {
		if contains(words, w) {
			t.Errorf("Words has %q from a comment or string: %q", w, words)
		}
	}
	if got := Params(toks); !reflect.DeepEqual(got, []string{"team"}) {
		t.Errorf("Params = %q, want [team]", got)
	}
	if got := Variables(toks); !reflect.DeepEqual(got, []string{"hotfix_regex", "b"}) {
		t.Errorf("Variables = %q, want [hotfix_regex b]", got)
	}
}

func TestStatements(t *testing.T) {
	src := `-- first
CREATE MACRO m(x) AS x || ';';
/* between; */

SELECT $$a;b$$ AS "c;d"; ;  -- empty statement above is dropped
SELECT 3`
	stmts := Statements(scan(t, src))
	var got []string
	var lines []int
	for _, s := range stmts {
		got = append(got, s.SQL)
		lines = append(lines, s.Line)
	}
	want := []string{
		"-- first\nCREATE MACRO m(x) AS x || ';'",
		"/* between; */\n\nSELECT $$a;b$$ AS \"c;d\"",
		"-- empty statement above is dropped\nSELECT 3",
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("Statements\n got %q\nwant %q", got, want)
	}
	if !reflect.DeepEqual(lines, []int{2, 5, 6}) {
		t.Errorf("lines = %v, want [2 5 6]", lines)
	}
}

func TestHeader(t *testing.T) {
	src := `
-- name: slowest
-- a note: with a colon after two words
-- param: team text 'a -- b'
--materialized:view
select 1 -- key: not header`
	toks := scan(t, src)
	fields, i := Header(toks)
	want := []Field{{"name", "slowest", 2}, {"param", "team text 'a -- b'", 4}, {"materialized", "view", 5}}
	if !reflect.DeepEqual(fields, want) {
		t.Errorf("Header = %+v, want %+v", fields, want)
	}
	if toks[i].Text != "select" {
		t.Errorf("body starts at %q, want select", toks[i].Text)
	}
	if !strings.HasPrefix(Text(toks[i:]), "select 1") {
		t.Errorf("body = %q", Text(toks[i:]))
	}
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}
