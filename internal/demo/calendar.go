package demo

import (
	"time"

	"github.com/shiplog/shiplog/internal/config"
)

// CalendarFreezes returns Freezes(o) as calendar configuration, for the
// demo to put in the configuration it runs with so that the freeze views and
// the outside-window control see them.
func CalendarFreezes(o Options) []config.Freeze {
	var out []config.Freeze
	for _, f := range Freezes(o) {
		out = append(out, config.Freeze{Name: f.Name, Start: f.Start.Format(time.RFC3339), End: f.End.Format(time.RFC3339), TimeZone: "UTC"})
	}
	return out
}
