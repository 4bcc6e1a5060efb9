// Package format renders single values two ways: for people (a terminal
// table, later the reports) and for machines (TSV, CSV, JSON). What a value
// means — a rate, a duration in hours, a count — is its Kind, declared by
// whoever built the table, so that 0.0121 reads "1.2 %" on a terminal and
// stays 0.0121 in JSON, and 509.3 hours reads "21 d".
//
// Unknown values (SQL NULL, NaN) are never shown as 0: people see Dash,
// machines an empty field or null.
package format

import (
	"encoding/json"
	"fmt"
	"math"
	"math/big"
	"strconv"
	"strings"
	"time"
)

// Kind says what a column's values mean and so how they are written.
type Kind int

// Kinds. Auto (the zero value) decides by the Go type of each value, for
// result sets nobody described (ad hoc SQL).
const (
	Auto    Kind = iota
	Text         // words: names, ids, reasons
	Count        // whole numbers of things: 1,234
	Number       // a measure without a unit: 0.96
	Rate         // a fraction of 1, shown as a percentage: 0.012 → 1.2 %
	Hours        // a duration in hours, shown in the largest sensible unit
	Days         // a duration in days, shown like Hours
	Time         // an instant, UTC
	Date         // a day (period starts): the time of day is not shown
	Month        // a month start: 2026-10
	Quarter      // a quarter start: 2026 Q4
	Bool         // yes or no
)

var kindNames = []string{"auto", "text", "count", "number", "rate", "hours", "days", "time", "date", "month", "quarter", "bool"}

// String is the kind's name, as in the JSON "kinds" member.
func (k Kind) String() string {
	if int(k) < len(kindNames) {
		return kindNames[k]
	}
	return fmt.Sprintf("kind(%d)", int(k))
}

// Numeric reports whether values of the kind are numbers (right-aligned in
// a table).
func (k Kind) Numeric() bool {
	switch k {
	case Count, Number, Rate, Hours, Days:
		return true
	}
	return false
}

// Dash is what people see for an unknown value.
const Dash = "–"

// Human renders v for people. nil and NaN are Dash.
func Human(k Kind, v any) string {
	if isNull(v) {
		return Dash
	}
	switch k {
	case Auto:
		return humanAuto(v)
	case Text:
		return oneLine(text(v))
	case Count:
		if n, ok := integer(v); ok {
			return groupDigits(strconv.FormatInt(n, 10))
		}
		if f, ok := Float(v); ok {
			return Decimal(f)
		}
	case Number:
		if f, ok := Float(v); ok {
			return Decimal(f)
		}
	case Rate:
		if f, ok := Float(v); ok {
			return Percent(f)
		}
	case Hours:
		if f, ok := Float(v); ok {
			return Duration(f)
		}
	case Days:
		if f, ok := Float(v); ok {
			return Duration(f * 24)
		}
	case Time, Date, Month, Quarter:
		if t, ok := v.(time.Time); ok {
			return humanTime(k, t)
		}
	case Bool:
		if b, ok := v.(bool); ok {
			if b {
				return "yes"
			}
			return "no"
		}
	}
	return humanAuto(v)
}

func humanAuto(v any) string {
	switch x := v.(type) {
	case time.Time:
		return humanTime(Time, x)
	case float64, float32:
		f, _ := Float(x)
		return Decimal(f)
	case bool:
		return Human(Bool, x)
	case []any:
		parts := make([]string, len(x))
		for i, e := range x {
			parts[i] = humanAuto(e)
		}
		return oneLine(strings.Join(parts, ", "))
	case []string:
		return oneLine(strings.Join(x, ", "))
	}
	return oneLine(text(v))
}

func humanTime(k Kind, t time.Time) string {
	t = t.UTC()
	switch k {
	case Date:
		return t.Format("2006-01-02")
	case Month:
		return t.Format("2006-01")
	case Quarter:
		return fmt.Sprintf("%d Q%d", t.Year(), (int(t.Month())-1)/3+1)
	}
	if t.Hour() == 0 && t.Minute() == 0 && t.Second() == 0 && t.Nanosecond() == 0 {
		return t.Format("2006-01-02")
	}
	return t.Format("2006-01-02 15:04")
}

// Raw renders v for TSV and CSV: stable, unlocalised, rounded to the
// precision its kind carries (Digits), times in RFC 3339 UTC, lists and
// objects as JSON, unknown as "".
func Raw(k Kind, v any) string {
	if isNull(v) {
		return ""
	}
	if n, ok := integer(v); ok {
		return strconv.FormatInt(n, 10)
	}
	if f, ok := v.(float64); ok {
		return rawFloat(k, f)
	}
	if f, ok := v.(float32); ok {
		return rawFloat(k, float64(f))
	}
	if k == Count || k == Number || k == Rate || k == Hours || k == Days {
		if f, ok := Float(v); ok {
			return rawFloat(k, f)
		}
	}
	switch x := v.(type) {
	case time.Time:
		return x.UTC().Format(time.RFC3339Nano)
	case []any, map[string]any, []string:
		b, _ := json.Marshal(JSON(Auto, x))
		return string(b)
	}
	return text(v)
}

// Digits is how many decimals machine output keeps for a kind: enough to
// reconstruct every figure people see, without float noise (a rate to a
// hundredth of a percent, a duration to a few seconds: hours to 3
// decimals, days to 4). -1 means 12
// significant digits, for numbers nobody described.
func Digits(k Kind) int {
	switch k {
	case Count:
		return 0
	case Rate, Number, Days:
		return 4
	case Hours:
		return 3
	}
	return -1
}

func rawFloat(k Kind, f float64) string {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return ""
	}
	return strconv.FormatFloat(Round(k, f), 'f', -1, 64)
}

// Round rounds f to the precision machine output keeps for k (Digits).
func Round(k Kind, f float64) float64 {
	d := Digits(k)
	if d < 0 {
		if f == math.Trunc(f) && math.Abs(f) < 1<<53 {
			return f // a whole number is exact as it is
		}
		// The shortest decimal of 12 significant digits: drops the noise
		// of binary arithmetic (76.80000000000003 → 76.8), keeps the rest.
		r, _ := strconv.ParseFloat(strconv.FormatFloat(f, 'g', 12, 64), 64)
		return r
	}
	r, _ := strconv.ParseFloat(strconv.FormatFloat(f, 'f', d, 64), 64)
	if r == 0 {
		return 0 // no "-0"
	}
	return r
}

// JSON returns v ready for encoding/json: numbers rounded as in Raw (a
// json.Number, so no float noise comes back), times as RFC 3339 strings,
// unknown as nil, big integers as numbers.
func JSON(k Kind, v any) any {
	if isNull(v) {
		return nil
	}
	switch x := v.(type) {
	case float64:
		return json.Number(rawFloat(k, x))
	case float32:
		return json.Number(rawFloat(k, float64(x)))
	case time.Time:
		return x.UTC().Format(time.RFC3339Nano)
	case []byte:
		return string(x)
	case *big.Int:
		return json.Number(x.String())
	case []any:
		out := make([]any, len(x))
		for i := range x {
			out[i] = JSON(Auto, x[i])
		}
		return out
	case map[string]any:
		out := make(map[string]any, len(x))
		for key, e := range x {
			out[key] = JSON(Auto, e)
		}
		return out
	case string, bool, int, int8, int16, int32, int64, uint, uint8, uint16, uint32, uint64, []string:
		return v
	case fmt.Stringer:
		return x.String()
	}
	if f, ok := Float(v); ok && k != Text {
		return json.Number(rawFloat(k, f))
	}
	return v
}

// Float reads a number of any of the types the drivers return.
func Float(v any) (float64, bool) {
	var f float64
	switch x := v.(type) {
	case float64:
		f = x
	case float32:
		f = float64(x)
	case int:
		f = float64(x)
	case int8:
		f = float64(x)
	case int16:
		f = float64(x)
	case int32:
		f = float64(x)
	case int64:
		f = float64(x)
	case uint:
		f = float64(x)
	case uint8:
		f = float64(x)
	case uint16:
		f = float64(x)
	case uint32:
		f = float64(x)
	case uint64:
		f = float64(x)
	case *big.Int:
		f, _ = new(big.Float).SetInt(x).Float64()
	case interface{ Float64() float64 }: // DuckDB DECIMAL
		f = x.Float64()
	default:
		return 0, false
	}
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return 0, false
	}
	return f, true
}

// Percent renders a fraction of 1 as a percentage with one decimal: 0.0121
// → "1.2 %". Exactly 0 and 1 are "0 %" and "100 %"; a value that is not 0
// but rounds to it is "<0.1 %", so one rework in a thousand never reads as
// none.
func Percent(f float64) string {
	p := f * 100
	switch {
	case p == 0:
		return "0 %"
	case p == 100:
		return "100 %"
	case p > 0 && p < 0.05:
		return "<0.1 %"
	case p < 0 && p > -0.05:
		return ">-0.1 %"
	}
	return strconv.FormatFloat(roundHalfUp(p, 1), 'f', 1, 64) + " %"
}

// roundHalfUp rounds f to dec decimals, halves away from zero (36.5 h reads
// "37 h", as people round; strconv alone rounds halves to even).
func roundHalfUp(f float64, dec int) float64 {
	p := math.Pow(10, float64(dec))
	r := math.Round(f*p) / p
	if math.IsInf(r, 0) || math.IsNaN(r) {
		return f
	}
	return r
}

// Duration renders hours in the largest sensible unit: seconds below a
// minute, minutes below an hour, hours below two days, then days
// ("45 s", "35 min", "6.4 h", "30 h", "2.2 d", "21 d"). One decimal below
// ten units, none above. Two days is where people stop saying hours.
func Duration(hours float64) string {
	sign := ""
	if hours < 0 {
		sign, hours = "-", -hours
	}
	secs := hours * 3600
	switch {
	case math.Round(secs) < 60:
		return sign + strconv.FormatFloat(math.Round(secs), 'f', 0, 64) + " s"
	case math.Round(secs/60) < 60:
		return sign + strconv.FormatFloat(math.Round(secs/60), 'f', 0, 64) + " min"
	case hours < 48:
		return sign + unit(hours, "h")
	}
	return sign + unit(hours/24, "d")
}

func unit(x float64, name string) string {
	if math.Round(x*10)/10 < 10 {
		return strconv.FormatFloat(roundHalfUp(x, 1), 'f', 1, 64) + " " + name
	}
	return Thousands(x, 0) + " " + name
}

// Decimal renders a measure with at most two decimals, trailing zeros
// dropped, and thousands separated: 0.9617 → "0.96", 4.5 → "4.5",
// 1234.5 → "1,234.5".
func Decimal(f float64) string {
	s := Thousands(f, 2)
	if strings.Contains(s, ".") {
		s = strings.TrimRight(strings.TrimRight(s, "0"), ".")
	}
	if s == "-0" {
		return "0"
	}
	return s
}

// Thousands renders f with dec decimals and a comma between each group of
// three digits: 1234567 → "1,234,567".
func Thousands(f float64, dec int) string {
	s := strconv.FormatFloat(roundHalfUp(f, dec), 'f', dec, 64)
	sign := ""
	if strings.HasPrefix(s, "-") {
		sign, s = "-", s[1:]
	}
	intPart, frac, hasFrac := strings.Cut(s, ".")
	out := sign + groupDigits(intPart)
	if hasFrac {
		out += "." + frac
	}
	if out == "-0" {
		return "0"
	}
	return out
}

// groupDigits puts a comma between each group of three digits of an
// optionally signed integer's text.
func groupDigits(s string) string {
	sign := ""
	if strings.HasPrefix(s, "-") {
		sign, s = "-", s[1:]
	}
	var b strings.Builder
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	return sign + b.String()
}

// integer reads the integer types the drivers return, exactly.
func integer(v any) (int64, bool) {
	switch x := v.(type) {
	case int:
		return int64(x), true
	case int8:
		return int64(x), true
	case int16:
		return int64(x), true
	case int32:
		return int64(x), true
	case int64:
		return x, true
	case uint8:
		return int64(x), true
	case uint16:
		return int64(x), true
	case uint32:
		return int64(x), true
	case uint64:
		if x <= math.MaxInt64 {
			return int64(x), true
		}
	case *big.Int:
		if x.IsInt64() {
			return x.Int64(), true
		}
	}
	return 0, false
}

func isNull(v any) bool {
	switch x := v.(type) {
	case nil:
		return true
	case float64:
		return math.IsNaN(x) || math.IsInf(x, 0)
	case float32:
		return math.IsNaN(float64(x)) || math.IsInf(float64(x), 0)
	}
	return false
}

func text(v any) string {
	switch x := v.(type) {
	case string:
		return x
	case []byte:
		return string(x)
	case time.Time:
		return x.UTC().Format(time.RFC3339Nano)
	case bool:
		return strconv.FormatBool(x)
	case *big.Int:
		return x.String()
	case fmt.Stringer:
		return x.String()
	}
	return fmt.Sprint(v)
}

func oneLine(s string) string {
	if strings.ContainsAny(s, "\t\r\n") {
		s = strings.NewReplacer("\t", " ", "\r\n", " ", "\n", " ", "\r", " ").Replace(s)
	}
	return s
}
