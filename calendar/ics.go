package calendar

import (
	"bufio"
	"fmt"
	"io"
	"sort"
	"strings"
	"time"
	"unicode/utf8"
)

// icsTime is the UTC DATE-TIME form of RFC 5545 (section 3.3.5, form #2).
const icsTime = "20060102T150405Z"

// WriteICS writes the calendar as an iCalendar file (RFC 5545) that
// calendar applications import: one VEVENT per event, in UTC, with the
// event's conflicts in its description. now is the DTSTAMP.
func WriteICS(w io.Writer, c *Calendar, now time.Time) error {
	bw := bufio.NewWriter(w)
	line := func(name, value string) { writeFolded(bw, name+":"+value) }
	line("BEGIN", "VCALENDAR")
	line("VERSION", "2.0")
	line("PRODID", "-//shiplog//release calendar//EN")
	line("CALSCALE", "GREGORIAN")
	line("METHOD", "PUBLISH")
	line("X-WR-CALNAME", "Releases")

	details := map[string][]string{}
	kinds := map[string][]string{}
	for _, x := range c.Conflicts {
		keys := []string{x.Event.Key()}
		if x.Other != nil {
			keys = append(keys, x.Other.Key())
		}
		for _, k := range keys {
			details[k] = append(details[k], x.Kind+": "+x.Detail)
			if !contains(kinds[k], x.Kind) {
				kinds[k] = append(kinds[k], x.Kind)
			}
		}
	}
	stamp := now.UTC().Format(icsTime)
	for _, e := range c.Events {
		end := e.End
		if !end.After(e.Start) {
			end = e.Start.Add(time.Minute) // DTEND must follow DTSTART
		}
		summary := strings.Join(e.Services, ", ")
		if e.Version != "" {
			summary += " " + e.Version
		}
		switch e.Kind {
		case KindPlan:
			summary = "Planned: " + summary
		case KindChangeRequest:
			summary = "Change " + e.ID + ": " + summary
			if e.Title != "" {
				summary += " — " + e.Title
			}
		default:
			summary = "Deployed: " + summary
			if e.Status != "success" {
				summary += " (" + e.Status + ")"
			}
		}
		summary += " [" + e.Environment + "]"
		desc := []string{fmt.Sprintf("%s %s, %s, status %s", strings.ReplaceAll(e.Kind, "_", " "), e.ID, e.Environment, e.Status)}
		if e.ChangeRequest != "" && e.Kind != KindChangeRequest {
			desc = append(desc, "change request "+e.ChangeRequest)
		}
		if d := details[e.Key()]; len(d) > 0 {
			desc = append(desc, "Conflicts:")
			desc = append(desc, d...)
		}
		cats := []string{e.Kind, e.Environment}
		if k := kinds[e.Key()]; len(k) > 0 {
			sort.Strings(k)
			cats = append(cats, "conflict")
			cats = append(cats, k...)
		}
		escCats := make([]string, len(cats))
		for i, c := range cats {
			escCats[i] = EscapeText(c)
		}
		status := "CONFIRMED"
		if e.Kind == KindPlan || e.Kind == KindChangeRequest && e.Status != "implemented" {
			status = "TENTATIVE"
		}
		line("BEGIN", "VEVENT")
		line("UID", EscapeText(e.Key())+"@shiplog")
		line("DTSTAMP", stamp)
		line("DTSTART", e.Start.UTC().Format(icsTime))
		line("DTEND", end.UTC().Format(icsTime))
		line("SUMMARY", EscapeText(summary))
		line("DESCRIPTION", EscapeText(strings.Join(desc, "\n")))
		line("CATEGORIES", strings.Join(escCats, ","))
		line("STATUS", status)
		line("END", "VEVENT")
	}
	line("END", "VCALENDAR")
	return bw.Flush()
}

// EscapeText escapes a TEXT value (RFC 5545 section 3.3.11): backslash,
// semicolon, comma and newline.
func EscapeText(s string) string {
	return strings.NewReplacer(`\`, `\\`, `;`, `\;`, `,`, `\,`, "\r\n", `\n`, "\n", `\n`, "\r", `\n`).Replace(s)
}

// writeFolded writes one content line ended by CRLF, folded so that no line
// exceeds 75 octets (section 3.1): continuation lines start with a space,
// and a fold never splits a UTF-8 sequence.
func writeFolded(w *bufio.Writer, s string) {
	limit := 75
	for len(s) > limit {
		cut := limit
		for cut > 0 && !utf8.RuneStart(s[cut]) {
			cut--
		}
		w.WriteString(s[:cut])
		w.WriteString("\r\n ")
		s = s[cut:]
		limit = 74 // the leading space counts
	}
	w.WriteString(s)
	w.WriteString("\r\n")
}
