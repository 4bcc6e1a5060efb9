package format

import (
	"math"
	"strconv"
	"strings"
)

// DurationWords says hours in words with the units Duration chooses, for
// sentences: "45 seconds", "35 minutes", "6.4 hours", "1 hour", "2.2 days".
// The number is the one Duration prints, so a page's prose and its tables
// agree.
func DurationWords(hours float64) string {
	s := Duration(hours)
	num, unit, ok := strings.Cut(s, " ")
	if !ok {
		return s
	}
	word := map[string]string{"s": "second", "min": "minute", "h": "hour", "d": "day"}[unit]
	if word == "" {
		return s
	}
	if f, err := strconv.ParseFloat(strings.ReplaceAll(num, ",", ""), 64); err == nil && math.Abs(f) == 1 && !strings.Contains(num, ".") {
		return num + " " + word
	}
	return num + " " + word + "s"
}

// KindByName is the kind a column's name implies under the project's
// naming rules, for result sets that declare none (named queries): …_rate
// and …share are rates, …_hours hours, …_days days, …_at times. Other
// names are Auto.
func KindByName(col string) Kind {
	switch {
	case strings.HasSuffix(col, "_rate") || strings.HasSuffix(col, "share"):
		return Rate
	case strings.HasSuffix(col, "_hours"):
		return Hours
	case strings.HasSuffix(col, "_days"):
		return Days
	case strings.HasSuffix(col, "_at"):
		return Time
	}
	return Auto
}
