package calendar

import (
	"fmt"
	"strings"
	"time"

	"github.com/shiplog/shiplog/internal/config"
)

// Rules are the configured freezes and weekly release windows, resolved to
// instants and zones.
type Rules struct {
	Freezes []FreezeRule
	Windows []WindowRule
}

// FreezeRule is one freeze as an instant interval [Start, End).
type FreezeRule struct {
	Name       string
	Start, End time.Time
	Services   []string // keys (config.Key); empty: every service
}

// WindowRule is one weekly window: on each of Days, from Start to End
// minutes after local midnight in Loc (End <= Start: the window ends the
// next day).
type WindowRule struct {
	Days       map[time.Weekday]bool
	Start, End int
	Loc        *time.Location
	Services   []string // empty: every service
}

// NewRules resolves the calendar section of the configuration.
func NewRules(c *config.Calendar) (*Rules, error) {
	r := &Rules{}
	for i, f := range c.Freezes {
		start, end, err := c.FreezeInterval(f)
		if err != nil {
			return nil, fmt.Errorf("calendar.freezes[%d]: %w", i, err)
		}
		name := f.Name
		if name == "" {
			name = fmt.Sprintf("freeze %d", i+1)
		}
		r.Freezes = append(r.Freezes, FreezeRule{Name: name, Start: start, End: end, Services: config.Keys(f.Services)})
	}
	for i, w := range c.ReleaseWindows {
		loc, err := c.Location(w.TimeZone)
		if err != nil {
			return nil, fmt.Errorf("calendar.release_windows[%d]: %w", i, err)
		}
		s, err := config.ParseClock(w.Start)
		if err != nil {
			return nil, fmt.Errorf("calendar.release_windows[%d].start: %w", i, err)
		}
		e, err := config.ParseClock(w.End)
		if err != nil {
			return nil, fmt.Errorf("calendar.release_windows[%d].end: %w", i, err)
		}
		days := map[time.Weekday]bool{}
		for _, d := range w.Days {
			wd, ok := config.Weekdays[strings.ToLower(d)]
			if !ok {
				return nil, fmt.Errorf("calendar.release_windows[%d].days: %q is not a day", i, d)
			}
			days[wd] = true
		}
		r.Windows = append(r.Windows, WindowRule{Days: days, Start: s, End: e, Loc: loc, Services: config.Keys(w.Services)})
	}
	return r, nil
}

func applies(services []string, ruleServices []string) bool {
	if len(ruleServices) == 0 {
		return true
	}
	for _, s := range services {
		for _, r := range ruleServices {
			if s == r {
				return true
			}
		}
	}
	return false
}

// Named returns the freezes called names, in that order (a name the
// configuration no longer has is skipped).
func (r *Rules) Named(names []string) []FreezeRule {
	var out []FreezeRule
	for _, n := range names {
		for _, f := range r.Freezes {
			if f.Name == n {
				out = append(out, f)
				break
			}
		}
	}
	return out
}

// FreezesOverlapping returns the freezes of the services that overlap
// [start, end). A freeze that starts in the middle of the interval counts;
// one that ends exactly when the interval starts does not.
func (r *Rules) FreezesOverlapping(services []string, start, end time.Time) []FreezeRule {
	var out []FreezeRule
	for _, f := range r.Freezes {
		if applies(services, f.Services) && overlaps(start, end, f.Start, f.End) {
			out = append(out, f)
		}
	}
	return out
}

// overlaps reports whether [a1, a2) and [b1, b2) share an instant. Windows
// that only touch do not overlap. A zero-length interval overlaps one that
// strictly contains its instant.
func overlaps(a1, a2, b1, b2 time.Time) bool {
	if a1.Equal(a2) {
		return a1.After(b1) && a1.Before(b2) || a1.Equal(b1) && b2.After(b1)
	}
	if b1.Equal(b2) {
		return overlaps(b1, b2, a1, a2)
	}
	return a1.Before(b2) && b1.Before(a2)
}

// occurrence returns window w's occurrence that starts on the local date of
// day, if w is open that weekday.
func (w WindowRule) occurrence(y int, m time.Month, d int) (time.Time, time.Time, bool) {
	day := time.Date(y, m, d, 12, 0, 0, 0, w.Loc)
	if !w.Days[day.Weekday()] {
		return time.Time{}, time.Time{}, false
	}
	// time.Date applies the zone's offset of that wall time, so a window
	// "09:00" is 09:00 local on both sides of a DST change.
	start := time.Date(y, m, d, 0, w.Start, 0, 0, w.Loc)
	endDay := d
	if w.End <= w.Start {
		endDay++
	}
	end := time.Date(y, m, endDay, 0, w.End, 0, 0, w.Loc)
	return start, end, true
}

// InWindow reports whether [start, end) lies inside the release windows that
// apply to the services (adjacent occurrences join up). With no window
// applying, any time is allowed.
func (r *Rules) InWindow(services []string, start, end time.Time) bool {
	var ws []WindowRule
	for _, w := range r.Windows {
		if applies(services, w.Services) {
			ws = append(ws, w)
		}
	}
	if len(ws) == 0 {
		return true
	}
	covering := func(t time.Time, closed bool) time.Time {
		var reach time.Time
		for _, w := range ws {
			lt := t.In(w.Loc)
			for back := -1; back <= 0; back++ {
				y, m, d := lt.AddDate(0, 0, back).Date()
				s, e, ok := w.occurrence(y, m, d)
				if !ok || t.Before(s) || t.After(e) || t.Equal(e) && !closed {
					continue
				}
				if e.After(reach) {
					reach = e
				}
			}
		}
		return reach
	}
	if !start.Before(end) { // an instant: inside when some window holds it, ends included
		return !covering(start, true).IsZero()
	}
	for t := start; t.Before(end); {
		reach := covering(t, false)
		if reach.IsZero() {
			return false
		}
		t = reach
	}
	return true
}
