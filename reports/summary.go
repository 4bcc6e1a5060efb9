package reports

import (
	"fmt"
	"math"
	"strconv"
	"strings"

	"github.com/shiplog/shiplog/internal/format"
	"github.com/shiplog/shiplog/internal/output"
)

// row is one metrics row by column name.
type row map[string]any

func rowsOf(t *output.Table) []row {
	out := make([]row, 0, len(t.Rows))
	for _, r := range t.Rows {
		m := make(row, len(t.Columns))
		for i, c := range t.Columns {
			m[c] = r[i]
		}
		out = append(out, m)
	}
	return out
}

// num returns a numeric column; ok is false for NULL (undefined).
func (r row) num(col string) (float64, bool) {
	if r == nil {
		return 0, false
	}
	return number(r[col])
}

func (r row) count(col string) int64 {
	f, _ := r.num(col)
	return int64(math.Round(f))
}

func (r row) text(col string) string {
	if r == nil || r[col] == nil {
		return ""
	}
	return strings.TrimSpace(fmt.Sprint(r[col]))
}

// humanHours says a duration in hours in words, with the units of the
// shared formatter ("30 hours", "3.0 days").
func humanHours(h float64) string { return format.DurationWords(h) }

func percent(f float64) string { return format.Percent(f) }

func decimal(f float64) string { return format.Decimal(f) }

func plural(n int, word string) string {
	if n == 1 {
		return "1 " + word
	}
	return strconv.Itoa(n) + " " + word + "s"
}

func pluralCount(n int64, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return strconv.FormatInt(n, 10) + " " + many
}

// oneIn says failed out of total as "1 in N" when that is exact, "about 1
// in N" when N is at least 3, and "F of T" otherwise. It needs
// 0 < failed < total.
func oneIn(failed, total int64) string {
	if total%failed == 0 {
		return fmt.Sprintf("1 in %d", total/failed)
	}
	if r := float64(total) / float64(failed); r >= 3 {
		return fmt.Sprintf("about 1 in %d", int64(math.Round(r)))
	}
	return fmt.Sprintf("%d of %d", failed, total)
}

// summarize translates one metrics row into business terms. who names the
// scope ("The organisation", "Team Payments"). byMean says that the
// deployment frequency tier rests on the mean days per week, mean: then
// the sentence says the mean, not a median week that may be empty.
func summarize(who string, r row, byMean bool, mean float64) []string {
	var out []string
	deploys := r.count("deployments")
	if deploys == 0 {
		out = append(out, who+" made no production deployments in this period, so there is no change failure rate, recovery time or rework rate to report.")
	} else {
		s := fmt.Sprintf("%s shipped %s to production", who, pluralCount(deploys, "deployment", "deployments"))
		if byMean {
			s += fmt.Sprintf(", on an average of %s a week", daysText(mean))
		} else if d, ok := r.num("deployment_days_per_week"); ok {
			s += fmt.Sprintf(", on a median of %s a week", daysText(d))
		}
		out = append(out, s+".")
	}
	if lt, ok := r.num("lead_time_median_hours"); ok {
		s := "A typical change reached production " + humanHours(lt) + " after its first commit"
		if p90, ok := r.num("lead_time_p90_hours"); ok && p90 > lt {
			s += "; 1 in 10 took longer than " + humanHours(p90)
		}
		out = append(out, s+".")
	} else if deploys > 0 {
		out = append(out, "No change could be traced from its first commit to production, so lead time is unknown.")
	}
	if deploys > 0 {
		failed := r.count("failed_deployments")
		unrec := r.count("unrecovered_failures")
		switch {
		case failed == 0:
			out = append(out, "No production deployment needed immediate intervention.")
		default:
			var s string
			switch {
			case failed >= deploys && deploys == 1:
				s = "The only production deployment needed immediate intervention"
			case failed >= deploys:
				s = fmt.Sprintf("Every one of the %d production deployments needed immediate intervention", deploys)
			default:
				s = fmt.Sprintf("%s production deployments needed immediate intervention", capitalize(oneIn(failed, deploys)))
			}
			if rec, ok := r.num("recovery_median_hours"); ok {
				s += "; recovery took a median of " + humanHours(rec)
			}
			if unrec > 0 {
				s += fmt.Sprintf("; %s not recovered yet", pluralCount(unrec, "failure is", "failures are"))
			}
			out = append(out, s+".")
		}
		if rw, ok := r.num("rework_rate"); ok {
			un := r.count("unplanned_deployments")
			if un == 0 {
				out = append(out, "Every deployment was planned: no rollbacks or hotfixes.")
			} else {
				out = append(out, fmt.Sprintf("%s of deployments (%d) were unplanned rollbacks or hotfixes.", capitalize(percent(rw)), un))
			}
		}
	}
	if inc := r.count("incidents"); inc > 0 {
		s := "There " + pluralCount(inc, "incident", "incidents")
		if inc == 1 {
			s = "There was " + s[len("There "):]
		} else {
			s = "There were " + s[len("There "):]
		}
		if m, ok := r.num("mttr_median_hours"); ok {
			s += "; resolving one took a median of " + humanHours(m)
		}
		out = append(out, s+".")
	}
	return out
}

func daysText(d float64) string {
	if d == 1 {
		return "1 day"
	}
	return format.Decimal(d) + " days"
}

func capitalize(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}
