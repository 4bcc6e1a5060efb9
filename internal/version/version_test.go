package version

import (
	"context"
	"os/exec"
	"reflect"
	"regexp"
	"runtime"
	"runtime/debug"
	"strings"
	"testing"

	"github.com/shiplog/shiplog/internal/warehouse"
)

func TestResolve(t *testing.T) {
	goVer := runtime.Version()
	stamped := &debug.BuildInfo{
		GoVersion: "go1.26.8",
		Main:      debug.Module{Path: "github.com/shiplog/shiplog", Version: "v0.0.0-20261102093000-0123456789ab+dirty"},
		Deps:      []*debug.Module{{Path: "github.com/spf13/cobra", Version: "v1.10.2"}, {Path: DriverModule, Version: "v2.10506.0"}},
		Settings: []debug.BuildSetting{
			{Key: "vcs", Value: "git"},
			{Key: "vcs.revision", Value: "0123456789abcdef0123456789abcdef01234567"},
			{Key: "vcs.modified", Value: "true"},
		},
	}
	unstamped := &debug.BuildInfo{
		GoVersion: "go1.26.8",
		Main:      debug.Module{Path: "github.com/shiplog/shiplog", Version: "(devel)"},
		Deps:      []*debug.Module{{Path: DriverModule, Version: "v2.10506.0", Replace: &debug.Module{Path: "../duckdb-go", Version: "v2.10507.0-local"}}},
	}
	for _, tc := range []struct {
		name string
		lv   linkerValues
		bi   *debug.BuildInfo
		want Info
	}{
		{"nothing known", linkerValues{}, nil,
			Info{Version: "devel", Commit: "unknown", Go: goVer}},
		{"toolchain stamp only", linkerValues{}, stamped,
			Info{Version: "v0.0.0-20261102093000-0123456789ab+dirty", Commit: "0123456789abcdef0123456789abcdef01234567", Dirty: true, Go: "go1.26.8", Driver: "v2.10506.0"}},
		{"linker values win over the stamp", linkerValues{version: "v0.4.0-3-gfedcba9", commit: "fedcba9876543210fedcba9876543210fedcba98", dirty: "false"}, stamped,
			Info{Version: "v0.4.0-3-gfedcba9", Commit: "fedcba9876543210fedcba9876543210fedcba98", Dirty: false, Go: "go1.26.8", Driver: "v2.10506.0"}},
		{"empty linker values fall back (no tag, no git)", linkerValues{version: " ", commit: "", dirty: ""}, stamped,
			Info{Version: "v0.0.0-20261102093000-0123456789ab+dirty", Commit: "0123456789abcdef0123456789abcdef01234567", Dirty: true, Go: "go1.26.8", Driver: "v2.10506.0"}},
		{"linker commit without a tag; (devel) is not a version; replaced driver", linkerValues{commit: "abc", dirty: "true"}, unstamped,
			Info{Version: "devel", Commit: "abc", Dirty: true, Go: "go1.26.8", Driver: "v2.10507.0-local"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := resolve(tc.lv, tc.bi)
			tc.want.Platform = runtime.GOOS + "/" + runtime.GOARCH
			if got != tc.want {
				t.Errorf("resolve:\n got  %+v\n want %+v", got, tc.want)
			}
		})
	}
}

func TestString(t *testing.T) {
	i := Info{Version: "v0.4.0", Commit: "fedcba9876543210fedcba9876543210fedcba98", Dirty: true, DuckDB: "v1.5.6", Driver: "v2.10506.0"}
	want := "shiplog v0.4.0 (commit fedcba987654, modified) DuckDB v1.5.6 (duckdb-go v2.10506.0)"
	if got := i.String(); got != want {
		t.Errorf("String() = %q, want %q", got, want)
	}
}

// The DuckDB version Get reports is the one SQL reports on a warehouse. (A
// test binary records no dependencies, so the driver version is checked on
// a real build, in cmd/shiplog.)
func TestGetAgreesWithDuckDB(t *testing.T) {
	ctx := context.Background()
	info, err := Get(ctx)
	if err != nil {
		t.Fatal(err)
	}
	db, err := warehouse.OpenMemory(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var sqlVersion string
	if err := db.QueryRowContext(ctx, "SELECT version()").Scan(&sqlVersion); err != nil {
		t.Fatal(err)
	}
	if info.DuckDB != sqlVersion || !regexp.MustCompile(`^v\d+\.\d+\.\d+`).MatchString(info.DuckDB) {
		t.Errorf("DuckDB %q, SELECT version() says %q", info.DuckDB, sqlVersion)
	}
	if len(info.DuckDBSource) < 7 {
		t.Errorf("DuckDB source id %q", info.DuckDBSource)
	}
}

// The Makefile's -X flags name this package's variables; a renamed package
// or variable would otherwise silently leave every build "devel".
func TestMakefileSetsLinkerValues(t *testing.T) {
	if _, err := exec.LookPath("make"); err != nil {
		t.Skip("make not installed")
	}
	cmd := exec.Command("make", "-n", "-C", "../..", "build", "VERSION=v9.8.7-1-gabcdef0", "COMMIT=abcdef0123", "DIRTY=true")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("make -n build: %v\n%s", err, out)
	}
	pkg := reflect.TypeOf(Info{}).PkgPath()
	for _, want := range []string{
		"-X " + pkg + ".version=v9.8.7-1-gabcdef0",
		"-X " + pkg + ".commit=abcdef0123",
		"-X " + pkg + ".dirty=true",
	} {
		if !strings.Contains(string(out), want) {
			t.Errorf("make build does not pass %q:\n%s", want, out)
		}
	}
	// the variables exist with those names (this test is in the package)
	_, _, _ = version, commit, dirty
}
