package config

import (
	"fmt"
	"net"
	"time"
)

// Serve configures `shiplog serve`.
type Serve struct {
	Listen           string `yaml:"listen"`
	FlightSQL        string `yaml:"flight_sql"`
	TokenEnv         string `yaml:"token_env"`
	WebhookSecretEnv string `yaml:"webhook_secret_env"`
	ReportsDir       string `yaml:"reports_dir"`
	MaxBodyBytes     int64  `yaml:"max_body_bytes"`
	// Jitter caps the random delay before each scheduled run, so that many
	// shiplog instances do not hit an API at the same second.
	Jitter Duration `yaml:"jitter"`
}

func defaultServe() Serve {
	return Serve{
		Listen:           "127.0.0.1:8787",
		FlightSQL:        "127.0.0.1:8815",
		TokenEnv:         "SHIPLOG_TOKEN",
		WebhookSecretEnv: "SHIPLOG_WEBHOOK_SECRET",
		ReportsDir:       "./reports",
		MaxBodyBytes:     10 << 20,
		Jitter:           Duration(30 * time.Second),
	}
}

func (s *Serve) validate() error {
	if _, _, err := net.SplitHostPort(s.Listen); err != nil || s.Listen == "" {
		return fmt.Errorf("serve.listen: %q is not a host:port address (for example 127.0.0.1:8787)", s.Listen)
	}
	if s.FlightSQL != "" {
		if _, _, err := net.SplitHostPort(s.FlightSQL); err != nil {
			return fmt.Errorf("serve.flight_sql: %q is not a host:port address (for example 127.0.0.1:8815; empty turns it off)", s.FlightSQL)
		}
	}
	if s.MaxBodyBytes <= 0 {
		return fmt.Errorf("serve.max_body_bytes: must be positive, not %d", s.MaxBodyBytes)
	}
	if s.Jitter < 0 {
		return fmt.Errorf("serve.jitter: must not be negative")
	}
	return nil
}
