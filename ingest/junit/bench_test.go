package junit

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/shiplog/shiplog/internal/warehouse"
)

// bigReport writes a Surefire-style report of suites × cases test cases,
// one in twenty failing.
func bigReport(suites, cases int) []byte {
	var b bytes.Buffer
	b.WriteString(`<?xml version="1.0" encoding="UTF-8"?>` + "\n<testsuites>\n")
	for s := 0; s < suites; s++ {
		fmt.Fprintf(&b, `<testsuite name="com.shop.Suite%d" time="12.5" tests="%d">`+"\n", s, cases)
		for c := 0; c < cases; c++ {
			if c%20 == 0 {
				fmt.Fprintf(&b, `<testcase name="test%d" classname="com.shop.Suite%d" time="0.01"><failure message="expected 1 but was 2">trace line 1
trace line 2</failure></testcase>`+"\n", c, s)
			} else {
				fmt.Fprintf(&b, `<testcase name="test%d" classname="com.shop.Suite%d" time="0.01"/>`+"\n", c, s)
			}
		}
		b.WriteString("</testsuite>\n")
	}
	b.WriteString("</testsuites>\n")
	return b.Bytes()
}

// BenchmarkParse: 100 suites × 100 cases = 10,000 test cases (~0.9 MB).
func BenchmarkParse(b *testing.B) {
	data := bigReport(100, 100)
	b.SetBytes(int64(len(data)))
	for i := 0; i < b.N; i++ {
		if _, err := Parse("big.xml", bytes.NewReader(data)); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkLoad: the same 10,000 cases written to an in-memory warehouse,
// including flaky marking; each iteration loads a fresh warehouse.
func BenchmarkLoad(b *testing.B) {
	path := filepath.Join(b.TempDir(), "big.xml")
	if err := os.WriteFile(path, bigReport(100, 100), 0o644); err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		db, err := warehouse.OpenMemory(ctx)
		if err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
		if _, err := Load(ctx, db, []string{path}, Options{Service: "shop", Commit: "abc"}); err != nil {
			b.Fatal(err)
		}
		b.StopTimer()
		db.Close()
		b.StartTimer()
	}
}
