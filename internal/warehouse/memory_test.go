package warehouse

import (
	"context"
	"path/filepath"
	"strings"
	"testing"
	"testing/fstest"
)

func TestParseMemorySize(t *testing.T) {
	for _, c := range []struct {
		in   string
		want int64
		err  string
	}{
		{"3GB", 3_000_000_000, ""},
		{"3gb", 3_000_000_000, ""},
		{"3G", 3_000_000_000, ""},
		{"2.5GiB", 2_684_354_560, ""}, // 2.5 × 1,073,741,824
		{"1.5 gb", 1_500_000_000, ""},
		{" 512MB ", 512_000_000, ""},
		{"100KiB", 102_400, ""},
		{"4TiB", 4_398_046_511_104, ""},
		{"3006477107B", 3_006_477_107, ""},
		{"7 bytes", 7, ""},
		{"none", 0, ""},
		{"-1", 0, ""},
		{"lots", 0, `"lots" is not a size`},
		{"", 0, `"" is not a size`},
		{"3", 0, `unit "" is none of`},
		{"3 GX", 0, `unit "gx" is none of`},
		{"-3GB", 0, `"-3GB" is not a size`},
		{"0GB", 0, "not a size above zero"},
		{"1.2.3GB", 0, "is not a size"},
	} {
		got, err := ParseMemorySize(c.in)
		if c.err != "" {
			if err == nil || !strings.Contains(err.Error(), c.err) {
				t.Errorf("ParseMemorySize(%q) = %d, %v; want error containing %q", c.in, got, err, c.err)
			}
			continue
		}
		if err != nil || got != c.want {
			t.Errorf("ParseMemorySize(%q) = %d, %v; want %d", c.in, got, err, c.want)
		}
	}
}

func TestAvailableMemory(t *testing.T) {
	const meminfo = "MemTotal:       24576000 kB\nMemFree:         1000000 kB\n" // 24,576,000 × 1024
	const ram = 25_165_824_000
	for _, c := range []struct {
		name  string
		files map[string]string
		want  int64
	}{
		{"no control group file", map[string]string{"proc/meminfo": meminfo}, ram},
		{"v1 group with a 4 GiB limit", map[string]string{
			"proc/meminfo":     meminfo,
			"proc/self/cgroup": "12:cpu,cpuacct:/\n11:memory:/mem3\n",
			"sys/fs/cgroup/memory/mem3/memory.limit_in_bytes": "4294967296\n",
		}, 4_294_967_296},
		{"v1 without a limit (a page-rounded 2^63)", map[string]string{
			"proc/meminfo":     meminfo,
			"proc/self/cgroup": "11:memory:/user.slice\n",
			"sys/fs/cgroup/memory/user.slice/memory.limit_in_bytes": "9223372036854771712\n",
		}, ram},
		{"v1 namespaced: the group's folder is the hierarchy's root", map[string]string{
			"proc/meminfo":     meminfo,
			"proc/self/cgroup": "11:memory:/docker/abc\n",
			"sys/fs/cgroup/memory/memory.limit_in_bytes": "2147483648\n",
		}, 2_147_483_648},
		{"v2 with a limit", map[string]string{
			"proc/meminfo":     meminfo,
			"proc/self/cgroup": "0::/system.slice/job.scope\n",
			"sys/fs/cgroup/system.slice/job.scope/memory.max": "3221225472\n",
		}, 3_221_225_472},
		{"v2 max", map[string]string{
			"proc/meminfo":     meminfo,
			"proc/self/cgroup": "0::/system.slice/job.scope\n",
			"sys/fs/cgroup/system.slice/job.scope/memory.max": "max\n",
		}, ram},
		{"v2 namespaced", map[string]string{
			"proc/meminfo":                 meminfo,
			"proc/self/cgroup":             "0::/\n",
			"sys/fs/cgroup/memory.max":     "1073741824\n",
			"sys/fs/cgroup/memory.current": "1000\n",
		}, 1_073_741_824},
		{"a limit above the RAM", map[string]string{
			"proc/meminfo":                 meminfo,
			"proc/self/cgroup":             "0::/big\n",
			"sys/fs/cgroup/big/memory.max": "68719476736\n",
		}, ram},
		{"no meminfo, a limit", map[string]string{
			"proc/self/cgroup":           "0::/x\n",
			"sys/fs/cgroup/x/memory.max": "1073741824\n",
		}, 1_073_741_824},
		{"nothing readable", map[string]string{}, 0},
	} {
		t.Run(c.name, func(t *testing.T) {
			fsys := fstest.MapFS{}
			for name, data := range c.files {
				fsys[name] = &fstest.MapFile{Data: []byte(data)}
			}
			if got := AvailableMemory(fsys); got != c.want {
				t.Errorf("AvailableMemory = %d, want %d", got, c.want)
			}
		})
	}
}

func TestResolveMemoryLimit(t *testing.T) {
	for _, c := range []struct {
		option, env string
		available   int64
		want        int64
		source      string
		err         string
	}{
		{"1GB", "2GB", 4 << 30, 1_000_000_000, "option", ""},
		{"", "2GB", 4 << 30, 2_000_000_000, "SHIPLOG_MEMORY_LIMIT", ""},
		// 70% of 8 GiB: 8,589,934,592 × 0.7 = 6,012,954,214.4, leaving
		// 2.4 GiB beside it
		{"", "", 8 << 30, 6_012_954_214, "default: 70% of 8589934592 bytes available", ""},
		// 70% of 4 GiB would leave 1.2 GiB: 4 GiB less 1.6 GiB
		// (1,717,986,918 B) is 2,576,980,378 B
		{"", "", 4 << 30, 2_576_980_378, "default: 4294967296 bytes available less 1.6 GiB", ""},
		// 2 GiB less 1.6 GiB would leave the pool 0.4 GiB: half of 2 GiB
		{"", "", 2 << 30, 1 << 30, "default: half of 2147483648 bytes available", ""},
		{"", "", 0, 0, "DuckDB's default (available memory unknown)", ""},
		{"", "none", 4 << 30, 0, "SHIPLOG_MEMORY_LIMIT", ""},
		{"", "2 GX", 4 << 30, 0, "", `memory limit (SHIPLOG_MEMORY_LIMIT): "2 GX" is not a size`},
	} {
		got, err := resolveMemoryLimit(c.option, c.env, c.available)
		if c.err != "" {
			if err == nil || !strings.Contains(err.Error(), c.err) {
				t.Errorf("resolve(%q, %q) = %+v, %v; want error %q", c.option, c.env, got, err, c.err)
			}
			continue
		}
		if err != nil || got.Bytes != c.want || got.Source != c.source {
			t.Errorf("resolve(%q, %q, %d) = %+v, %v; want %d from %q", c.option, c.env, c.available, got, err, c.want, c.source)
		}
	}
}

// The limit is lowered and set back to the exact configured value. DuckDB
// reports it rounded down to a tenth of its unit: 1,000,000,000 B is
// 953.67 MiB ("953.6 MiB"), 700,000,000 B is 667.57 MiB ("667.5 MiB"),
// the floor of a quarter, 250,000,000 B, is 238.42 MiB ("238.4 MiB").
func TestLowerMemoryLimit(t *testing.T) {
	ctx := context.Background()
	setting := func(db *DB) string { t.Helper(); return currentSetting(t, db, "memory_limit") }
	db, err := Open(ctx, filepath.Join(t.TempDir(), "w.duckdb"), Options{MemoryLimit: "1GB"})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if got := db.MemoryLimit(); got.Bytes != 1_000_000_000 || got.Source != "option" {
		t.Fatalf("MemoryLimit = %+v", got)
	}
	if got := setting(db); got != "953.6 MiB" {
		t.Fatalf("opened with %s, want 953.6 MiB", got)
	}
	conn, err := db.Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	exec := func(ctx context.Context, q string) error { _, err := conn.ExecContext(ctx, q); return err }
	for _, c := range []struct {
		by   int64
		want string
	}{{300_000_000, "667.5 MiB"}, {900_000_000, "238.4 MiB"}} {
		restore, ok, err := db.LowerMemoryLimit(ctx, exec, c.by)
		if err != nil || !ok {
			t.Fatalf("lower by %d: ok %v, %v", c.by, ok, err)
		}
		if got := setting(db); got != c.want {
			t.Errorf("lowered by %d: %s, want %s", c.by, got, c.want)
		}
		if err := restore(); err != nil {
			t.Fatal(err)
		}
		if got := setting(db); got != "953.6 MiB" {
			t.Errorf("restored: %s, want 953.6 MiB", got)
		}
	}

	// a locked configuration cannot be changed: nothing is lowered
	locked, err := Open(ctx, filepath.Join(t.TempDir(), "l.duckdb"), Options{MemoryLimit: "1GB", Locked: true})
	if err != nil {
		t.Fatal(err)
	}
	defer locked.Close()
	lconn, err := locked.Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer lconn.Close()
	lexec := func(ctx context.Context, q string) error { _, err := lconn.ExecContext(ctx, q); return err }
	if _, ok, err := locked.LowerMemoryLimit(ctx, lexec, 300_000_000); ok || err != nil {
		t.Errorf("locked: ok %v, %v; want nothing lowered", ok, err)
	}
	if got := setting(locked); got != "953.6 MiB" {
		t.Errorf("locked: %s, want 953.6 MiB", got)
	}
}

func TestBlockPoolSize(t *testing.T) {
	const gib = 1 << 30
	for _, c := range []struct {
		limit, available, want int64
	}{
		// 24 GiB, the default 70% limit (18,038,862,643 B): 24 GiB
		// (25,769,803,776 B) less the limit less 1.5 GiB (1,610,612,736 B)
		{18_038_862_643, 24 * gib, 6_120_328_397},
		// an 8 GiB container, the default limit (6,012,954,214 B)
		{6_012_954_214, 8 * gib, 966_367_642},
		// a 4 GiB container at 70% (3,006,477,107 B): the 1.29 GiB
		// beside it are the margin's
		{3_006_477_107, 4 * gib, 0},
		// a 4 GiB container, the default limit (4 GiB less 1.6 GiB,
		// 2,576,980,378 B): 4,294,967,296 − 2,576,980,378 − 1,610,612,736
		{2_576_980_378, 4 * gib, 107_374_182},
		// a small limit on a large machine: the limit
		{1_000_000_000, 24 * gib, 1_000_000_000},
		// no limit: DuckDB's 80% of 16 GiB is 13,743,895,344 B (16 GiB
		// / 10 × 8, in whole bytes); 17,179,869,184 − 13,743,895,344 −
		// 1,610,612,736
		{0, 16 * gib, 1_825_361_104},
		// the memory available unknown: nothing kept
		{1_000_000_000, 0, 0},
		{0, 0, 0},
	} {
		if got := blockPoolSize(c.limit, c.available); got != c.want {
			t.Errorf("blockPoolSize(%d, %d) = %d, want %d", c.limit, c.available, got, c.want)
		}
	}
}

// KeepFreedBlocks lets DuckDB keep freed blocks up to blockPoolSize,
// which DuckDB reports rounded down to a tenth of its unit: with a 1 GB
// limit on a 24 GiB machine, the limit (953.67 MiB); with no limit on a 16
// GiB machine, 1,825,361,104 B (1.69999 GiB); in an 8 GiB container with a
// 5 GB limit, 8,589,934,592 − 5,000,000,000 − 1,610,612,736 =
// 1,979,321,856 B (1.84 GiB); in a 4 GiB container with a 3 GB limit,
// nothing; on a machine so large that the size is beyond the blocks'
// reserved address space, nothing either: DuckDB refuses it. Opening a
// warehouse keeps nothing, and neither does a locked configuration.
func TestKeepFreedBlocks(t *testing.T) {
	ctx := context.Background()
	setting := func(db *DB) string { t.Helper(); return currentSetting(t, db, "block_allocator_memory") }
	open := func(opts Options) *DB {
		t.Helper()
		db, err := Open(ctx, filepath.Join(t.TempDir(), "w.duckdb"), opts)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { db.Close() })
		return db
	}
	keep := func(db *DB) {
		t.Helper()
		conn, err := db.Conn(ctx)
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		db.KeepFreedBlocks(ctx, func(ctx context.Context, q string) error { _, err := conn.ExecContext(ctx, q); return err })
	}
	saved := osRoot
	t.Cleanup(func() { osRoot = saved })
	for _, c := range []struct {
		memTotalKB, limit, want string
	}{
		{"25165824", "1GB", "953.6 MiB"},
		{"16777216", "none", "1.6 GiB"},
		{"8388608", "5GB", "1.8 GiB"},
		{"4194304", "3GB", "0 bytes"},
		// what 1 PiB leaves beyond its 70% limit, less 1.5 GiB (about
		// 0.3 PiB), is far beyond any address space DuckDB reserves
		{"1099511627776", "", "0 bytes"},
	} {
		osRoot = fstest.MapFS{"proc/meminfo": {Data: []byte("MemTotal:        " + c.memTotalKB + " kB\n")}}
		db := open(Options{MemoryLimit: c.limit})
		if got := setting(db); got != "0 bytes" {
			t.Errorf("MemTotal %s kB, limit %q: opened keeping freed blocks up to %s, want 0 bytes", c.memTotalKB, c.limit, got)
		}
		keep(db)
		if got := setting(db); got != c.want {
			t.Errorf("MemTotal %s kB, limit %q: blocks kept up to %s, want %s", c.memTotalKB, c.limit, got, c.want)
		}
	}
	osRoot = fstest.MapFS{"proc/meminfo": {Data: []byte("MemTotal:        25165824 kB\n")}}
	locked := open(Options{MemoryLimit: "1GB", Locked: true})
	keep(locked)
	if got := setting(locked); got != "0 bytes" {
		t.Errorf("locked: blocks kept up to %s, want 0 bytes", got)
	}
}

// currentSetting is DuckDB's setting name as it reports it ("953.6 MiB").
func currentSetting(t *testing.T, db *DB, name string) string {
	t.Helper()
	var s string
	if err := db.QueryRowContext(context.Background(), "SELECT current_setting($1)", name).Scan(&s); err != nil {
		t.Fatal(err)
	}
	return s
}
