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
		{"serve: {memory_limit: 2.5GiB}", ""},
		{"serve: {memory_limit: none}", ""},
		{"serve: {memory_limit: 4 parsecs}", `serve.memory_limit: "4 parsecs" is not a size: unit "parsecs"`},
		{"serve: {threads: -1}", "serve.threads: must not be negative"},
		{"serve: {allow_body_only_signatures: true}", ""},
		{"serve: {dora_gauges: true, tokens: [{name: g, sha256: ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad, scopes: [read, 'read:teams=a, b', push, admin]}]}", ""},
		{"serve: {tokens: [{sha256: ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad, scopes: [read]}]}", "serve.tokens[0].name: every token needs a name"},
		{"serve: {tokens: [{name: g, sha256: ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad, scopes: [read]}, {name: g, sha256: ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad, scopes: [read]}]}", "serve.tokens[1] (g).name: another token has this name"},
		{"serve: {tokens: [{name: g, sha256: ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad, scopes: [read]}, {name: h, sha256: ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad, scopes: [read]}]}", "serve.tokens[1] (h).sha256: another token has the same hash"},
		{"serve: {tokens: [{name: g, sha256: s3cret-token, scopes: [read]}]}", "serve.tokens[0] (g).sha256: must be the 64 lower-case hex digits"},
		{"serve: {tokens: [{name: g, sha256: BA7816BF8F01CFEA414140DE5DAE2223B00361A396177A9CB410FF61F20015AD, scopes: [read]}]}", "serve.tokens[0] (g).sha256: must be the 64 lower-case hex digits"},
		{"serve: {tokens: [{name: g, sha256: ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad}]}", "serve.tokens[0] (g).scopes: list at least one"},
		{"serve: {tokens: [{name: g, sha256: ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad, scopes: [write]}]}", `serve.tokens[0] (g).scopes: scope "write" is not one of`},
		{"serve: {tokens: [{name: g, sha256: ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad, scopes: ['read:teams=a,,b']}]}", `serve.tokens[0] (g).scopes: scope "read:teams=a,,b" names an empty team`},
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
