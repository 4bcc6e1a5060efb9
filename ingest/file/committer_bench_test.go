package file

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"

	"github.com/shiplog/shiplog/internal/warehouse"
)

// BenchmarkGroupCommitter loads groups of 16 streams of 10 deployments
// each (a group of the push benchmark) through the committer, and through
// LoadGroup, the path it falls back to: ns/op is one group.
func BenchmarkGroupCommitter(b *testing.B) {
	for _, mode := range []string{"fast", "group"} {
		b.Run(mode, func(b *testing.B) {
			ctx := context.Background()
			db, err := warehouse.Open(ctx, filepath.Join(b.TempDir(), "w.duckdb"), warehouse.Options{})
			if err != nil {
				b.Fatal(err)
			}
			defer db.Close()
			c := NewGroupCommitter(db, Options{Source: "push"})
			defer c.Close()
			b.ResetTimer()
			for n := 0; n < b.N; n++ {
				streams := make([]Stream, 16)
				for i := range streams {
					var data []byte
					for j := 0; j < 10; j++ {
						data = fmt.Appendf(data, `{"kind":"deployment","id":"b%d-%d-%d","service":"svc%d","environment":"production","finished_at":"2026-03-01T10:00:00Z","status":"success"}`+"\n", n, i, j, j)
					}
					streams[i] = Stream{Name: fmt.Sprintf("push:%d-%d", n, i), Data: data}
				}
				if mode == "fast" {
					_, err = c.Load(ctx, streams, nil)
					if c.path != "fast" {
						b.Fatalf("path %s", c.path)
					}
				} else {
					_, err = LoadGroup(ctx, db, streams, Options{Source: "push"})
				}
				if err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
