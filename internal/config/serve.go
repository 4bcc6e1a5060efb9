package config

import (
	"fmt"
	"net"
	"regexp"
	"time"

	"github.com/shiplog/shiplog/internal/access"
	"github.com/shiplog/shiplog/internal/warehouse"
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

	// ReadHeaderTimeout bounds how long a client may take to send a
	// request's headers, ReadTimeout the whole request with its body (a
	// sender trickling a body is cut off), WriteTimeout the answer, and
	// IdleTimeout how long a kept-alive connection may wait for its next
	// request.
	ReadHeaderTimeout Duration `yaml:"read_header_timeout"`
	ReadTimeout       Duration `yaml:"read_timeout"`
	WriteTimeout      Duration `yaml:"write_timeout"`
	IdleTimeout       Duration `yaml:"idle_timeout"`

	// QueryTimeout bounds one query of the Flight SQL endpoint, from its
	// start to the last batch read; MaxQueries is how many may run at once
	// (others wait for a slot within their QueryTimeout).
	QueryTimeout Duration `yaml:"query_timeout"`
	MaxQueries   int      `yaml:"max_queries"`
	// MemoryLimit ("4GB") and Threads cap the DuckDB instance that serve
	// runs, jobs and queries together (empty, 0: DuckDB's defaults).
	MemoryLimit string `yaml:"memory_limit"`
	Threads     int    `yaml:"threads"`

	// AllowBodyOnlySignatures accepts pushes to /api/v1/events signed over
	// the body alone, without X-Shiplog-Timestamp, for senders written
	// before timestamps were required. Such a push can be replayed with a
	// new delivery id until its body is applied once; leave it off.
	AllowBodyOnlySignatures bool `yaml:"allow_body_only_signatures"`

	// Tokens are the named, scoped tokens of the HTTP endpoints and Flight
	// SQL, each given by the SHA-256 of the token so that the file holds
	// no secret (`shiplog token hash` computes it). The token of TokenEnv
	// keeps every scope beside them. With any token listed, pushes need a
	// push-scoped token besides their signature.
	Tokens []Token `yaml:"tokens"`
	// DORAGauges adds the current month's five DORA metrics per team to
	// /metrics as Prometheus gauges (computed at each scrape).
	DORAGauges bool `yaml:"dora_gauges"`
}

// Token is one entry of serve.tokens.
type Token struct {
	// Name appears in the server's log and in refusals, never the token.
	Name string `yaml:"name"`
	// SHA256 is the lower-case hex SHA-256 of the token.
	SHA256 string `yaml:"sha256"`
	// Scopes: read, read:teams=a,b, push, admin.
	Scopes []string `yaml:"scopes"`
}

var sha256HexRE = regexp.MustCompile(`^[0-9a-f]{64}$`)

func (s *Serve) validateTokens() error {
	names, hashes := map[string]bool{}, map[string]bool{}
	for i, t := range s.Tokens {
		where := fmt.Sprintf("serve.tokens[%d]", i)
		if t.Name == "" {
			return fmt.Errorf("%s.name: every token needs a name (it is what the log shows)", where)
		}
		where = fmt.Sprintf("serve.tokens[%d] (%s)", i, t.Name)
		if names[t.Name] {
			return fmt.Errorf("%s.name: another token has this name", where)
		}
		names[t.Name] = true
		if !sha256HexRE.MatchString(t.SHA256) {
			return fmt.Errorf("%s.sha256: must be the 64 lower-case hex digits of the token's SHA-256 (`shiplog token hash` prints it), never the token itself", where)
		}
		if hashes[t.SHA256] {
			return fmt.Errorf("%s.sha256: another token has the same hash", where)
		}
		hashes[t.SHA256] = true
		if len(t.Scopes) == 0 {
			return fmt.Errorf("%s.scopes: list at least one of read, read:teams=TEAM[,TEAM…], push, admin", where)
		}
		for _, sc := range t.Scopes {
			if _, err := access.Parse(sc); err != nil {
				return fmt.Errorf("%s.scopes: %v", where, err)
			}
		}
	}
	return nil
}

// AccessTokens returns serve.tokens with their scopes parsed, keyed by
// their SHA-256 hex (validate has checked them).
func (s *Serve) AccessTokens() map[string]access.Token {
	out := make(map[string]access.Token, len(s.Tokens))
	for _, t := range s.Tokens {
		tok := access.Token{Name: t.Name}
		for _, sc := range t.Scopes {
			p, _ := access.Parse(sc)
			tok.Scopes = append(tok.Scopes, p)
		}
		out[t.SHA256] = tok
	}
	return out
}

func defaultServe() Serve {
	return Serve{
		Listen:            "127.0.0.1:8787",
		FlightSQL:         "127.0.0.1:8815",
		TokenEnv:          "SHIPLOG_TOKEN",
		WebhookSecretEnv:  "SHIPLOG_WEBHOOK_SECRET",
		ReportsDir:        "./reports",
		MaxBodyBytes:      10 << 20,
		Jitter:            Duration(30 * time.Second),
		ReadHeaderTimeout: Duration(10 * time.Second),
		ReadTimeout:       Duration(60 * time.Second),
		WriteTimeout:      Duration(5 * time.Minute),
		IdleTimeout:       Duration(2 * time.Minute),
		QueryTimeout:      Duration(5 * time.Minute),
		MaxQueries:        2,
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
	for _, d := range []struct {
		name string
		v    Duration
	}{
		{"read_header_timeout", s.ReadHeaderTimeout}, {"read_timeout", s.ReadTimeout},
		{"write_timeout", s.WriteTimeout}, {"idle_timeout", s.IdleTimeout}, {"query_timeout", s.QueryTimeout},
	} {
		if d.v <= 0 {
			return fmt.Errorf("serve.%s: must be positive (for example 30s)", d.name)
		}
	}
	if s.ReadHeaderTimeout > s.ReadTimeout {
		return fmt.Errorf("serve.read_header_timeout (%s) must not be longer than serve.read_timeout (%s)", s.ReadHeaderTimeout, s.ReadTimeout)
	}
	if s.MaxQueries < 1 {
		return fmt.Errorf("serve.max_queries: must be at least 1, not %d", s.MaxQueries)
	}
	if s.MemoryLimit != "" {
		// the parser warehouse.Open reads the limit with, so that what
		// passes here opens
		if _, err := warehouse.ParseMemorySize(s.MemoryLimit); err != nil {
			return fmt.Errorf("serve.memory_limit: %w", err)
		}
	}
	if s.Threads < 0 {
		return fmt.Errorf("serve.threads: must not be negative")
	}
	return s.validateTokens()
}
