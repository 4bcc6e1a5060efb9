// Package version says which shiplog this is: the release or `git describe`
// name, the commit and whether the tree it was built from had uncommitted
// changes, the Go toolchain, and the DuckDB library and driver it links.
// `shiplog version` prints it; export manifests (and anything else that
// leaves a trace of the build that wrote it, such as report footers or a
// health endpoint) read it from here rather than working it out again.
//
// The build name and commit come from the linker when the Makefile sets
// them (`-ldflags -X`, from `git describe`), otherwise from the VCS stamp
// the Go toolchain records (runtime/debug.ReadBuildInfo: vcs.revision,
// vcs.modified), otherwise they are "devel" and "unknown". The DuckDB
// version is asked of the library at run time, so it cannot disagree with
// the library actually linked.
package version

import (
	"context"
	"fmt"
	"runtime"
	"runtime/debug"
	"strings"

	"github.com/shiplog/shiplog/internal/warehouse"
)

// Set by the linker (see the Makefile):
//
//	-X github.com/shiplog/shiplog/internal/version.version=v0.4.0-3-gabc1234
//	-X github.com/shiplog/shiplog/internal/version.commit=<full sha>
//	-X github.com/shiplog/shiplog/internal/version.dirty=true|false
var (
	version string
	commit  string
	dirty   string
)

// DriverModule is the Go module of the DuckDB driver, whose version the
// build records.
const DriverModule = "github.com/duckdb/duckdb-go/v2"

// Info describes this build. The JSON names are a stable interface (export
// manifests and `shiplog version --format json` carry them).
type Info struct {
	// Version is the release tag or `git describe` name ("v0.4.0",
	// "v0.4.0-3-gabc1234-dirty"), the module version when installed with
	// `go install`, or "devel".
	Version string `json:"version"`
	// Commit is the full commit hash, or "unknown".
	Commit string `json:"commit"`
	// Dirty is true when the build's tree had uncommitted changes.
	Dirty bool `json:"dirty"`
	// Go is the toolchain that built the binary.
	Go string `json:"go"`
	// Platform is GOOS/GOARCH.
	Platform string `json:"platform"`
	// DuckDB is the linked DuckDB library's version, and DuckDBSource the
	// DuckDB commit it was built from.
	DuckDB       string `json:"duckdb"`
	DuckDBSource string `json:"duckdb_source_id"`
	// Driver is the version of the duckdb-go driver module.
	Driver string `json:"duckdb_go"`
}

// Get returns this build's Info. Only the DuckDB fields can fail (the
// library is asked); the error says so and the other fields are still set.
func Get(ctx context.Context) (Info, error) {
	info := Build()
	e, err := warehouse.EngineVersion(ctx)
	info.DuckDB, info.DuckDBSource = e.Version, e.SourceID
	return info, err
}

// Build returns the build fields of Info without asking DuckDB (Driver
// included, DuckDB and DuckDBSource empty): for records that name the
// shiplog that wrote them.
func Build() Info {
	bi, _ := debug.ReadBuildInfo()
	return resolve(linkerValues{version: version, commit: commit, dirty: dirty}, bi)
}

type linkerValues struct{ version, commit, dirty string }

// resolve works out the build fields from the linker's values, falling back
// to the toolchain's build information field by field.
func resolve(lv linkerValues, bi *debug.BuildInfo) Info {
	info := Info{Version: "devel", Commit: "unknown", Go: runtime.Version(), Platform: runtime.GOOS + "/" + runtime.GOARCH}
	var vcsRev, vcsModified string
	if bi != nil {
		if bi.GoVersion != "" {
			info.Go = bi.GoVersion
		}
		if v := bi.Main.Version; v != "" && v != "(devel)" {
			info.Version = v
		}
		for _, s := range bi.Settings {
			switch s.Key {
			case "vcs.revision":
				vcsRev = s.Value
			case "vcs.modified":
				vcsModified = s.Value
			}
		}
		for _, d := range bi.Deps {
			if d.Path == DriverModule {
				info.Driver = d.Version
				if d.Replace != nil {
					info.Driver = d.Replace.Version
				}
			}
		}
	}
	if vcsRev != "" {
		info.Commit = vcsRev
		info.Dirty = vcsModified == "true"
	}
	if v := strings.TrimSpace(lv.version); v != "" {
		info.Version = v
	}
	if c := strings.TrimSpace(lv.commit); c != "" {
		info.Commit = c
		info.Dirty = strings.TrimSpace(lv.dirty) == "true"
	}
	return info
}

// String is the one-line form `shiplog --version` prints.
func (i Info) String() string {
	commit := i.Commit
	if len(commit) > 12 {
		commit = commit[:12]
	}
	if i.Dirty {
		commit += ", modified"
	}
	duck := i.DuckDB
	if duck == "" {
		duck = "unknown"
	}
	s := fmt.Sprintf("shiplog %s (commit %s) DuckDB %s", i.Version, commit, duck)
	if i.Driver != "" {
		s += " (duckdb-go " + i.Driver + ")"
	}
	return s
}
