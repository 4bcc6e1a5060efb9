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
