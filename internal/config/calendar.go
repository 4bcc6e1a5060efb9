package config

// Calendar configures release windows and freezes, each in a time zone.
type Calendar struct {
	// TimeZone is the default zone for windows and freezes (IANA name).
	TimeZone string `yaml:"time_zone"`
	// Freezes are periods in which no production release should happen.
	Freezes []Freeze `yaml:"freezes"`
	// ReleaseWindows are the weekly windows in which releases are allowed;
	// none means any time.
	ReleaseWindows []ReleaseWindow `yaml:"release_windows"`
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
	End      string   `yaml:"end"`   // "16:00"
	TimeZone string   `yaml:"time_zone"`
	Services []string `yaml:"services"`
}

func defaultCalendar() Calendar { return Calendar{TimeZone: "UTC"} }

func (c *Calendar) validate() error { return nil }
