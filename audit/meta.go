package audit

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"sort"
	"time"

	"github.com/shiplog/shiplog/internal/coverage"
)

// Meta says when an audit was made, by which shiplog and from which data,
// so that a signed copy names what it was computed from.
type Meta struct {
	GeneratedAt time.Time
	// Version is the shiplog build (version.Build().String()).
	Version   string
	Warehouse Fingerprint
}

// Fingerprint identifies the data an audit read: per canonical table its
// rows and the range of its event times (coverage). Hash is the first 16
// hex digits of SHA-256 over one line per table, in table order,
// "table<TAB>rows<TAB>first<TAB>last\n" with times in RFC 3339 UTC (empty
// when the table has no event time or no rows), so that anyone can
// recompute it from the JSON and two audits with the same hash read
// warehouses of the same shape.
type Fingerprint struct {
	Hash   string
	Tables []TableRange
}

// TableRange is one canonical table in a Fingerprint.
type TableRange struct {
	Table       string
	Rows        int64
	First, Last time.Time
}

// NewMeta builds the metadata of an audit from the coverage (loaded at
// generation time) and the shiplog version.
func NewMeta(cov *coverage.Coverage, version string) *Meta {
	return &Meta{GeneratedAt: cov.GeneratedAt, Version: version, Warehouse: FingerprintOf(cov)}
}

// FingerprintOf sums the coverage's sources per table.
func FingerprintOf(cov *coverage.Coverage) Fingerprint {
	idx := map[string]int{}
	var f Fingerprint
	for _, s := range cov.Sources {
		i, ok := idx[s.Table]
		if !ok {
			i = len(f.Tables)
			idx[s.Table] = i
			f.Tables = append(f.Tables, TableRange{Table: s.Table})
		}
		t := &f.Tables[i]
		t.Rows += s.Rows
		if !s.First.IsZero() && (t.First.IsZero() || s.First.Before(t.First)) {
			t.First = s.First
		}
		if s.Last.After(t.Last) {
			t.Last = s.Last
		}
	}
	sort.Slice(f.Tables, func(i, j int) bool { return f.Tables[i].Table < f.Tables[j].Table })
	h := sha256.New()
	for _, t := range f.Tables {
		fmt.Fprintf(h, "%s\t%d\t%s\t%s\n", t.Table, t.Rows, stamp(t.First), stamp(t.Last))
	}
	f.Hash = hex.EncodeToString(h.Sum(nil))[:16]
	return f
}

func stamp(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(time.RFC3339)
}

// Document is the JSON form: {fingerprint, tables: [{table, rows, first,
// last}]}.
func (f Fingerprint) Document() map[string]any {
	tables := make([]any, 0, len(f.Tables))
	for _, t := range f.Tables {
		m := map[string]any{"table": t.Table, "rows": t.Rows, "first": nil, "last": nil}
		if !t.First.IsZero() {
			m["first"] = stamp(t.First)
		}
		if !t.Last.IsZero() {
			m["last"] = stamp(t.Last)
		}
		tables = append(tables, m)
	}
	return map[string]any{"fingerprint": f.Hash, "tables": tables}
}
