package config

import (
	"testing"
	"time"
)

func TestParseClock(t *testing.T) {
	for in, want := range map[string]int{"00:00": 0, "09:30": 570, "23:59": 1439, "24:00": 1440} {
		if got, err := ParseClock(in); err != nil || got != want {
			t.Errorf("ParseClock(%q) = %d, %v; want %d", in, got, err, want)
		}
	}
	for _, in := range []string{"9:00", "24:01", "12:60", "noon", "12:00:00", "-1:00"} {
		if _, err := ParseClock(in); err == nil {
			t.Errorf("ParseClock(%q) accepted", in)
		}
	}
}

func TestParseLocalTime(t *testing.T) {
	berlin, err := time.LoadLocation("Europe/Berlin")
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ in, want string }{
		{"2026-03-28 12:00", "2026-03-28T11:00:00Z"}, // CET, UTC+1
		{"2026-03-29 12:00", "2026-03-29T10:00:00Z"}, // CEST from 02:00 that day
		{"2026-10-25", "2026-10-24T22:00:00Z"},       // midnight, still CEST
		{"2026-12-20T08:00", "2026-12-20T07:00:00Z"},
		{"2026-12-20T08:00:00-05:00", "2026-12-20T13:00:00Z"}, // RFC 3339 keeps its offset
	} {
		got, err := ParseLocalTime(tc.in, berlin)
		if err != nil || got.UTC().Format(time.RFC3339) != tc.want {
			t.Errorf("ParseLocalTime(%q) = %s, %v; want %s", tc.in, got.UTC().Format(time.RFC3339), err, tc.want)
		}
	}
	if _, err := ParseLocalTime("20/12/2026", berlin); err == nil {
		t.Error("20/12/2026 accepted")
	}
}

func TestCalendarDefaults(t *testing.T) {
	c := Default().Calendar
	if c.TimeZone != "UTC" || len(c.StagingEnvironments) != 2 || c.StagingEnvironments[0] != "staging" || c.StagingEnvironments[1] != "stage" {
		t.Errorf("defaults %+v", c)
	}
	if err := c.validate(); err != nil {
		t.Errorf("defaults invalid: %v", err)
	}
}
