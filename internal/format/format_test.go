package format

import (
	"encoding/json"
	"math"
	"math/big"
	"testing"
	"time"
)

func TestHuman(t *testing.T) {
	at := time.Date(2026, 10, 1, 10, 10, 32, 0, time.UTC)
	midnight := time.Date(2026, 7, 1, 0, 0, 0, 0, time.UTC)
	tests := []struct {
		kind Kind
		v    any
		want string
	}{
		// unknown is a dash, never 0
		{Rate, nil, "–"},
		{Hours, math.NaN(), "–"},
		{Count, nil, "–"},
		// rates: one decimal, a space before the sign
		{Rate, 0.0121, "1.2 %"},
		{Rate, 1.0 / 255, "0.4 %"}, // one unplanned deployment in 255
		{Rate, 0.375, "37.5 %"},
		{Rate, 0.045454545454545456, "4.5 %"},
		{Rate, 0.0, "0 %"},
		{Rate, 1.0, "100 %"},
		{Rate, 0.0004, "<0.1 %"},
		// durations in the largest sensible unit
		{Hours, 45.0 / 3600, "45 s"},
		{Hours, 35.0 / 60, "35 min"},
		{Hours, 6.4, "6.4 h"},
		{Hours, 26.732, "27 h"},
		{Hours, 36.5, "37 h"}, // halves round up, as people do
		{Hours, 2.25, "2.3 h"},
		{Hours, 52.8, "2.2 d"},
		{Hours, 509.3, "21 d"},
		{Hours, 2041.0, "85 d"},
		{Hours, 59.6 / 60, "1.0 h"}, // 59.6 min rounds to 60: an hour
		{Hours, 0.0, "0 s"},
		{Hours, -3.0, "-3.0 h"},
		{Days, 0.06, "1.4 h"}, // 0.06 days = 1.44 hours
		{Days, 2.5, "2.5 d"},
		// counts with thousands separators, exact for big integers
		{Count, int64(1234567), "1,234,567"},
		{Count, int64(-1234), "-1,234"},
		{Count, int32(999), "999"},
		{Count, big.NewInt(9007199254740993), "9,007,199,254,740,993"},
		{Count, 4.5, "4.5"},
		// measures: at most two decimals, trailing zeros dropped
		{Number, 0.9617486338797814, "0.96"},
		{Number, 4.0, "4"},
		{Number, 1234.5, "1,234.5"},
		// times in UTC minutes; midnight as a date
		{Time, at, "2026-10-01 10:10"},
		{Time, midnight, "2026-07-01"},
		{Date, at, "2026-10-01"},
		{Month, midnight, "2026-07"},
		{Quarter, midnight, "2026 Q3"},
		{Quarter, time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC), "2026 Q4"},
		{Bool, true, "yes"},
		{Text, "two\nlines", "two lines"},
		// undescribed values by their type
		{Auto, 76.80000000000003, "76.8"},
		{Auto, int64(2026), "2026"}, // a year is not 2,026
		{Auto, []any{"INC-1", "INC-2"}, "INC-1, INC-2"},
		{Auto, at, "2026-10-01 10:10"},
	}
	for _, tt := range tests {
		if got := Human(tt.kind, tt.v); got != tt.want {
			t.Errorf("Human(%v, %#v) = %q, want %q", tt.kind, tt.v, got, tt.want)
		}
	}
}

func TestRaw(t *testing.T) {
	tests := []struct {
		kind Kind
		v    any
		want string
	}{
		{Rate, 0.045454545454545456, "0.0455"},
		{Rate, 0.5, "0.5"},
		{Hours, 76.80000000000003, "76.8"},
		{Hours, 25.648055555555555, "25.648"},
		{Days, -0.9791666666666666, "-0.9792"},
		{Number, 0.9617486338797814, "0.9617"},
		{Count, int64(1234567), "1234567"},
		{Auto, 76.80000000000003, "76.8"},
		{Auto, 0.1 + 0.2, "0.3"},
		{Auto, 1.0 / 3, "0.333333333333"},
		{Auto, 123456789012345.0, "123456789012345"}, // whole: exact
		{Auto, 1234567.123456789, "1234567.12346"},
		{Auto, nil, ""},
		{Rate, math.Inf(1), ""},
		{Hours, -0.0001, "0"},
		{Time, time.Date(2026, 10, 1, 12, 10, 32, 0, time.FixedZone("x", 2*3600)), "2026-10-01T10:10:32Z"},
		{Auto, []any{"a", 1.5}, `["a",1.5]`},
		{Bool, false, "false"},
	}
	for _, tt := range tests {
		if got := Raw(tt.kind, tt.v); got != tt.want {
			t.Errorf("Raw(%v, %#v) = %q, want %q", tt.kind, tt.v, got, tt.want)
		}
	}
}

func TestJSON(t *testing.T) {
	doc := map[string]any{
		"rate":  JSON(Rate, 0.045454545454545456),
		"hours": JSON(Hours, 76.80000000000003),
		"none":  JSON(Rate, math.NaN()),
		"count": JSON(Count, int64(3)),
		"at":    JSON(Time, time.Date(2026, 1, 7, 11, 0, 0, 0, time.UTC)),
		"list":  JSON(Auto, []any{0.1 + 0.2}),
	}
	b, err := json.Marshal(doc)
	if err != nil {
		t.Fatal(err)
	}
	want := `{"at":"2026-01-07T11:00:00Z","count":3,"hours":76.8,"list":[0.3],"none":null,"rate":0.0455}`
	if string(b) != want {
		t.Errorf("JSON:\n got %s\nwant %s", b, want)
	}
}

func TestThousands(t *testing.T) {
	for _, tt := range []struct {
		f    float64
		dec  int
		want string
	}{
		{0, 0, "0"}, {999, 0, "999"}, {1000, 0, "1,000"}, {-1234567.891, 2, "-1,234,567.89"}, {-0.001, 0, "0"},
	} {
		if got := Thousands(tt.f, tt.dec); got != tt.want {
			t.Errorf("Thousands(%v, %d) = %q, want %q", tt.f, tt.dec, got, tt.want)
		}
	}
}

func TestDurationWords(t *testing.T) {
	for _, c := range []struct {
		hours float64
		want  string
	}{
		{1.0 / 3600, "1 second"},
		{0.5, "30 minutes"},
		{1, "1.0 hours"}, // a decimal takes the plural
		{6.44, "6.4 hours"},
		{30, "30 hours"},
		{52.8, "2.2 days"},
		{24 * 21.2, "21 days"},
	} {
		if got := DurationWords(c.hours); got != c.want {
			t.Errorf("DurationWords(%v) = %q, want %q", c.hours, got, c.want)
		}
	}
}

func TestKindByName(t *testing.T) {
	for col, want := range map[string]Kind{
		"change_failure_rate": Rate, "day7_share": Rate, "share": Rate, "recovery_hours": Hours,
		"slip_days": Days, "opened_at": Time, "service": Auto, "deployments": Auto,
	} {
		if got := KindByName(col); got != want {
			t.Errorf("KindByName(%q) = %v, want %v", col, got, want)
		}
	}
}
