package config

import (
	"strings"
	"testing"
)

func TestServeValidate(t *testing.T) {
	tests := []struct {
		yaml, want string
	}{
		{"serve: {listen: 127.0.0.1:9000}", ""},
		{"serve: {flight_sql: ''}", ""},
		{"serve: {listen: ''}", `serve.listen: "" is not a host:port address`},
		{"serve: {listen: localhost}", `serve.listen: "localhost" is not a host:port address`},
		{"serve: {flight_sql: '8815'}", `serve.flight_sql: "8815" is not a host:port address`},
		{"serve: {max_body_bytes: 0}", "serve.max_body_bytes: must be positive"},
		{"serve: {read_timeout: 30s, read_header_timeout: 5s, idle_timeout: 1m, write_timeout: 1m}", ""},
		{"serve: {read_timeout: 0s}", "serve.read_timeout: must be positive"},
		{"serve: {read_header_timeout: 2m}", "serve.read_header_timeout (2m0s) must not be longer than serve.read_timeout (1m0s)"},
		{"serve: {query_timeout: 0s}", "serve.query_timeout: must be positive"},
		{"serve: {max_queries: 0}", "serve.max_queries: must be at least 1, not 0"},
		{"serve: {memory_limit: 4GB, threads: 2}", ""},
		{"serve: {memory_limit: lots}", `serve.memory_limit: "lots" is not a size`},
		{"serve: {threads: -1}", "serve.threads: must not be negative"},
		{"serve: {allow_body_only_signatures: true}", ""},
	}
	for _, tt := range tests {
		cfg := Default()
		if err := Parse([]byte(tt.yaml), cfg); err != nil {
			t.Fatalf("%s: %v", tt.yaml, err)
		}
		err := cfg.Validate()
		switch {
		case tt.want == "" && err != nil:
			t.Errorf("%s: %v", tt.yaml, err)
		case tt.want != "" && (err == nil || !strings.Contains(err.Error(), tt.want)):
			t.Errorf("%s: got %v, want %q", tt.yaml, err, tt.want)
		}
	}
}
