package config

import (
	"errors"
	"fmt"
	"strings"
	"time"
	// Time-zone rules are built in so that windows and freezes resolve the
	// same way on machines without a zoneinfo database.
	_ "time/tzdata"
)

// Calendar configures release windows and freezes, each in a time zone.
type Calendar struct {
	// TimeZone is the default zone for windows and freezes (IANA name).
	TimeZone string `yaml:"time_zone"`
	// Freezes are periods in which no production release should happen.
	Freezes []Freeze `yaml:"freezes"`
	// ReleaseWindows are the weekly windows in which releases are allowed;
	// none means any time.
	ReleaseWindows []ReleaseWindow `yaml:"release_windows"`
	// StagingEnvironments are the environment names `shiplog drift` compares
	// with production (default staging, stage).
	StagingEnvironments []string `yaml:"staging_environments"`
}

// Freeze is a period with no releases.
type Freeze struct {
	Name     string   `yaml:"name"`
	Start    string   `yaml:"start"` // "2026-12-20 00:00" in TimeZone, or RFC 3339
	End      string   `yaml:"end"`
	TimeZone string   `yaml:"time_zone"`
	Services []string `yaml:"services"` // empty: all
}

// ReleaseWindow is a recurring weekly window.
type ReleaseWindow struct {
	Days     []string `yaml:"days"`  // mon, tue, ...
	Start    string   `yaml:"start"` // "09:00"
	End      string   `yaml:"end"`   // "16:00"; before Start: ends the next day
	TimeZone string   `yaml:"time_zone"`
	Services []string `yaml:"services"`
}

func defaultCalendar() Calendar {
	return Calendar{TimeZone: "UTC", StagingEnvironments: []string{"staging", "stage"}}
}

// Weekdays maps the accepted day names to time.Weekday.
var Weekdays = map[string]time.Weekday{
	"sun": time.Sunday, "mon": time.Monday, "tue": time.Tuesday, "wed": time.Wednesday,
	"thu": time.Thursday, "fri": time.Friday, "sat": time.Saturday,
}

// Location returns the zone named tz, or the calendar's default zone when
// tz is empty.
func (c *Calendar) Location(tz string) (*time.Location, error) {
	if tz == "" {
		tz = c.TimeZone
	}
	if tz == "" {
		return time.UTC, nil
	}
	loc, err := time.LoadLocation(tz)
	if err != nil {
		return nil, fmt.Errorf("unknown time zone %q (use an IANA name such as Europe/Berlin)", tz)
	}
	return loc, nil
}

// ParseLocalTime reads a freeze bound: RFC 3339 (its own offset), or
// "2006-01-02 15:04" / "2006-01-02" as wall-clock time in loc. A wall time
// that falls in a DST gap or overlap resolves as time.Date does (Go's
// documented rule: the same clock reading in one of the two offsets).
func ParseLocalTime(s string, loc *time.Location) (time.Time, error) {
	s = strings.TrimSpace(s)
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t, nil
	}
	for _, layout := range []string{"2006-01-02 15:04", "2006-01-02T15:04", "2006-01-02"} {
		if t, err := time.ParseInLocation(layout, s, loc); err == nil {
			return t, nil
		}
	}
	return time.Time{}, fmt.Errorf("%q is not a time (use 2006-01-02 15:04, 2006-01-02 or RFC 3339)", s)
}

// ParseClock reads "HH:MM" (00:00 to 24:00) as minutes after midnight.
func ParseClock(s string) (int, error) {
	var h, m int
	if n, err := fmt.Sscanf(s, "%d:%d", &h, &m); err != nil || n != 2 || len(s) != 5 {
		return 0, fmt.Errorf("%q is not a time of day (use HH:MM)", s)
	}
	if h < 0 || m < 0 || m > 59 || h > 24 || (h == 24 && m != 0) {
		return 0, fmt.Errorf("%q is not a time of day (00:00 to 24:00)", s)
	}
	return h*60 + m, nil
}

// FreezeInterval returns the freeze's start and end instants.
func (c *Calendar) FreezeInterval(f Freeze) (time.Time, time.Time, error) {
	loc, err := c.Location(f.TimeZone)
	if err != nil {
		return time.Time{}, time.Time{}, err
	}
	start, err := ParseLocalTime(f.Start, loc)
	if err != nil {
		return time.Time{}, time.Time{}, fmt.Errorf("start: %w", err)
	}
	end, err := ParseLocalTime(f.End, loc)
	if err != nil {
		return time.Time{}, time.Time{}, fmt.Errorf("end: %w", err)
	}
	return start, end, nil
}

func (c *Calendar) validate() error {
	if _, err := c.Location(""); err != nil {
		return fmt.Errorf("calendar.time_zone: %w", err)
	}
	for i, f := range c.Freezes {
		at := fmt.Sprintf("calendar.freezes[%d]", i)
		if f.Name != "" {
			at = fmt.Sprintf("calendar.freezes[%d] (%s)", i, f.Name)
		}
		if f.Start == "" || f.End == "" {
			return fmt.Errorf("%s: start and end are needed", at)
		}
		if _, err := c.Location(f.TimeZone); err != nil {
			return fmt.Errorf("%s.time_zone: %w", at, err)
		}
		start, end, err := c.FreezeInterval(f)
		if err != nil {
			return fmt.Errorf("%s.%w", at, err)
		}
		if !end.After(start) {
			return fmt.Errorf("%s: end %s is not after start %s", at, f.End, f.Start)
		}
	}
	for i, w := range c.ReleaseWindows {
		at := fmt.Sprintf("calendar.release_windows[%d]", i)
		if len(w.Days) == 0 {
			return fmt.Errorf("%s.days: at least one day is needed (mon … sun)", at)
		}
		for _, d := range w.Days {
			if _, ok := Weekdays[strings.ToLower(d)]; !ok {
				return fmt.Errorf("%s.days: %q is not one of mon, tue, wed, thu, fri, sat, sun", at, d)
			}
		}
		s, err := ParseClock(w.Start)
		if err != nil {
			return fmt.Errorf("%s.start: %w", at, err)
		}
		e, err := ParseClock(w.End)
		if err != nil {
			return fmt.Errorf("%s.end: %w", at, err)
		}
		if s == e {
			return fmt.Errorf("%s: start and end are both %s", at, w.Start)
		}
		if _, err := c.Location(w.TimeZone); err != nil {
			return fmt.Errorf("%s.time_zone: %w", at, err)
		}
	}
	for _, e := range c.StagingEnvironments {
		if e == "" {
			return errors.New("calendar.staging_environments: empty name")
		}
	}
	return nil
}
