package warehouse

import (
	"bufio"
	"context"
	"fmt"
	"io/fs"
	"math"
	"os"
	"path"
	"strconv"
	"strings"
)

// DefaultMemoryShare is the part of the memory available to the process
// (the smaller of the machine's RAM and the control group's limit) that
// DuckDB's buffer pool gets when no limit is configured. DuckDB's own
// default is 80%; shiplog leaves more room, because two kinds of memory
// come on top of the pool: what DuckDB allocates outside it (measured at
// 0.3–0.6 GB above a 3 GB limit through most of the 3× transform, more
// while a model builds a large window or join) and what shiplog holds in
// Go (the commit-graph walk's arrays, about 0.6 GB at 25 M commits, which
// the walk takes from the pool while they live when it can, see
// DB.LowerMemoryLimit). At 80% a 3× transform in a 4 GiB container was
// killed for memory; at this share it finished in two runs
// (docs/benchmarks/growth.md) but not in 3 of 18 later ones: in a small
// container the share is not enough (MinOutsidePool).
const DefaultMemoryShare = 0.7

// MinOutsidePool is the memory the default limit leaves outside DuckDB's
// buffer pool at least (1.6 GiB), unless that would give the pool less
// than half of what is available. What DuckDB allocates outside the pool
// does not shrink with the machine: at 3× size in a 4 GiB container a
// full transform at the 70% share (a 3.0 GB pool) peaked at 3.5–4.2 GB
// and was killed for memory in 3 of 18 runs, each time when
// int_prod_deployments overran the pool by about a gigabyte; with a 2.58
// GB pool (4 GiB less this) ten runs of ten finished, peaking at 3.3–3.7
// GB, the same overrun included, 9 % slower (docs/benchmarks/metrics.md,
// "Marts refilled in place"). From about 5.3 GiB up the share leaves more.
const MinOutsidePool = 1717986918

// MemoryLimit is the limit DuckDB's buffer pool was opened with, in bytes,
// and where it came from. Bytes is 0 when DuckDB keeps its own default
// (80% of RAM or of the control group's limit): when the limit is
// configured as "none" or "-1", or the memory available could not be read.
type MemoryLimit struct {
	Bytes  int64
	Source string // "SHIPLOG_MEMORY_LIMIT", "option", "default: 70% of …"
}

// ParseMemorySize reads a size the way DuckDB's memory_limit does: a
// number, optional spaces and a unit, B (bytes), KB, MB, GB, TB (powers of
// 1000; K, M, G, T alone too) or KiB, MiB, GiB, TiB (powers of 1024), in
// any case. "-1" and "none" leave the limit to DuckDB (0).
func ParseMemorySize(s string) (int64, error) {
	t := strings.ToLower(strings.TrimSpace(s))
	if t == "-1" || t == "none" {
		return 0, nil
	}
	i := 0
	for i < len(t) && (t[i] >= '0' && t[i] <= '9' || t[i] == '.') {
		i++
	}
	num, unit := t[:i], strings.TrimSpace(t[i:])
	v, err := strconv.ParseFloat(num, 64)
	if num == "" || err != nil || v < 0 {
		return 0, fmt.Errorf("%q is not a size (for example 3GB, 2.5GiB or 512MB)", s)
	}
	mult := map[string]float64{
		"b": 1, "byte": 1, "bytes": 1,
		"k": 1e3, "kb": 1e3, "m": 1e6, "mb": 1e6, "g": 1e9, "gb": 1e9, "t": 1e12, "tb": 1e12,
		"kib": 1 << 10, "mib": 1 << 20, "gib": 1 << 30, "tib": 1 << 40,
	}[unit]
	if mult == 0 {
		return 0, fmt.Errorf("%q is not a size: unit %q is none of B, KB, MB, GB, TB, KiB, MiB, GiB, TiB", s, unit)
	}
	b := v * mult
	if b >= math.MaxInt64/2 {
		return 0, fmt.Errorf("%q is too large a size", s)
	}
	if b < 1 {
		return 0, fmt.Errorf("%q is not a size above zero (\"none\" lifts the limit)", s)
	}
	return int64(b), nil
}

// AvailableMemory is the memory this process may use: the machine's RAM
// (MemTotal in /proc/meminfo), or the memory limit of the control group the
// process runs in when that is lower (cgroup v2 memory.max, v1
// memory.limit_in_bytes), as a container runtime sets it. root is the file
// system holding proc/ and sys/ ("/" in use, a test's own tree in tests).
// 0 means it could not be read.
func AvailableMemory(root fs.FS) int64 {
	total := memTotal(root)
	if lim := cgroupLimit(root); lim > 0 && (total == 0 || lim < total) {
		return lim
	}
	return total
}

func memTotal(root fs.FS) int64 {
	f, err := root.Open("proc/meminfo")
	if err != nil {
		return 0
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) >= 2 && fields[0] == "MemTotal:" {
			kb, err := strconv.ParseInt(fields[1], 10, 64)
			if err != nil {
				return 0
			}
			return kb << 10
		}
	}
	return 0
}

// cgroupLimit reads the memory limit of the process's control group from
// /proc/self/cgroup and the cgroup file systems under sys/fs/cgroup: the
// group's own folder first, then the root of the hierarchy (a container
// with its own cgroup namespace sees its group there). v1 writes "no
// limit" as a huge number, v2 as "max": both read as 0.
func cgroupLimit(root fs.FS) int64 {
	data, err := fs.ReadFile(root, "proc/self/cgroup")
	if err != nil {
		return 0
	}
	var best int64
	consider := func(file string) bool {
		b, err := fs.ReadFile(root, file)
		if err != nil {
			return false
		}
		v, err := strconv.ParseInt(strings.TrimSpace(string(b)), 10, 64)
		if err != nil || v <= 0 || v >= 1<<62 {
			return true // "max", or v1's "unlimited"
		}
		if best == 0 || v < best {
			best = v
		}
		return true
	}
	for _, line := range strings.Split(string(data), "\n") {
		// hierarchy-id:controllers:path
		parts := strings.SplitN(line, ":", 3)
		if len(parts) != 3 {
			continue
		}
		group := strings.TrimPrefix(path.Clean("/"+parts[2]), "/")
		switch {
		case parts[0] == "0" && parts[1] == "": // v2
			if !consider(path.Join("sys/fs/cgroup", group, "memory.max")) {
				consider("sys/fs/cgroup/memory.max")
			}
		case hasController(parts[1], "memory"): // v1
			if !consider(path.Join("sys/fs/cgroup/memory", group, "memory.limit_in_bytes")) {
				consider("sys/fs/cgroup/memory/memory.limit_in_bytes")
			}
		}
	}
	return best
}

func hasController(list, name string) bool {
	for _, c := range strings.Split(list, ",") {
		if c == name {
			return true
		}
	}
	return false
}

// resolveMemoryLimit decides the limit DuckDB is opened with: the option,
// else SHIPLOG_MEMORY_LIMIT, else DefaultMemoryShare of the available
// memory, or less where that would leave under MinOutsidePool beside it.
// shiplog always sets the limit itself, in bytes, so that it knows the
// exact value (DuckDB reports it rounded, "2.7 GiB") and can restore it
// after lowering it (DB.LowerMemoryLimit).
func resolveMemoryLimit(option, env string, available int64) (MemoryLimit, error) {
	for _, c := range []struct{ value, source string }{{option, "option"}, {env, "SHIPLOG_MEMORY_LIMIT"}} {
		if c.value == "" {
			continue
		}
		b, err := ParseMemorySize(c.value)
		if err != nil {
			return MemoryLimit{}, fmt.Errorf("memory limit (%s): %w", c.source, err)
		}
		return MemoryLimit{Bytes: b, Source: c.source}, nil
	}
	if available <= 0 {
		return MemoryLimit{Source: "DuckDB's default (available memory unknown)"}, nil
	}
	limit := MemoryLimit{
		Bytes:  int64(float64(available) * DefaultMemoryShare),
		Source: fmt.Sprintf("default: %.0f%% of %d bytes available", DefaultMemoryShare*100, available),
	}
	if rest := available - MinOutsidePool; rest < limit.Bytes {
		limit = MemoryLimit{Bytes: rest, Source: fmt.Sprintf("default: %d bytes available less 1.6 GiB", available)}
		if half := available / 2; rest < half {
			limit = MemoryLimit{Bytes: half, Source: fmt.Sprintf("default: half of %d bytes available", available)}
		}
	}
	return limit, nil
}

// MemoryLimit reports the limit DuckDB's buffer pool was opened with.
func (db *DB) MemoryLimit() MemoryLimit { return db.memLimit }

// LowerMemoryLimit takes by bytes from DuckDB's buffer pool for as long as
// shiplog holds that much memory of its own (the commit-graph walk's
// arrays), so that the two together stay within the configured limit:
// DuckDB evicts (spilling to its temporary folder) down to the lower limit
// at once. exec runs a statement on the caller's connection (the setting
// is global; a caller inside WithArrow passes ArrowConn.Exec, since the
// connection is busy). restore sets the limit back to the exact
// configured value. Nothing is lowered (restore does nothing, ok is
// false) when the limit is unknown or unlimited, or the configuration is
// locked (Options.Sandbox, Options.Locked: `serve`), where the headroom
// of DefaultMemoryShare has to cover shiplog's own memory. The pool is
// never lowered below a quarter of the limit.
func (db *DB) LowerMemoryLimit(ctx context.Context, exec func(ctx context.Context, query string) error, bytes int64) (restore func() error, ok bool, err error) {
	noop := func() error { return nil }
	lim := db.memLimit.Bytes
	if lim <= 0 || db.locked || bytes <= 0 {
		return noop, false, nil
	}
	lower := max(lim-bytes, lim/4)
	if err := exec(ctx, fmt.Sprintf("SET memory_limit = '%dB'", lower)); err != nil {
		return noop, false, fmt.Errorf("warehouse: lower memory_limit to %d bytes: %w", lower, err)
	}
	return func() error {
		if err := exec(context.WithoutCancel(ctx), fmt.Sprintf("SET memory_limit = '%dB'", lim)); err != nil {
			return fmt.Errorf("warehouse: restore memory_limit to %d bytes: %w", lim, err)
		}
		return nil
	}, true, nil
}

// osRoot is the real file system, for AvailableMemory.
var osRoot fs.FS = os.DirFS("/")

// KeepFreedBlocks lets DuckDB keep the memory of the buffer blocks it
// frees and hand it to the next block it needs (DuckDB's
// block_allocator_memory; its default, 0, returns every freed block's
// pages to the system), for the rest of the process, up to
// blockPoolSize. exec runs a statement on one of the warehouse's
// connections.
//
// It is for work that allocates and frees blocks by the gigabyte: a full
// transform, model after model. There, with the pages returned, the
// kernel faulted in and zeroed about 10 GiB of them again at full size
// (2.6 M page faults, a quarter of the build's CPU time in the kernel);
// keeping them cut the faults by 40 %, the kernel's time by a third to a
// half and the build's wall time by a third, for 0.1 GB more at the peak
// (docs/benchmarks/metrics.md, "Freed blocks kept"). Short work pays
// for it instead (its blocks come from fresh pages rather than from memory
// the allocator already holds): a `metrics` call took 0.05 s longer, and
// a one-team incremental transform ran no faster. So the warehouse does
// not do it when it opens.
//
// It does nothing when the configuration is locked (serve), where DuckDB
// would refuse the setting anyway. DuckDB also refuses a size beyond the
// address space it reserved for blocks, and never shrinks the setting:
// either refusal leaves the allocator as it was, which costs speed, not
// correctness, so it is not an error.
func (db *DB) KeepFreedBlocks(ctx context.Context, exec func(ctx context.Context, query string) error) {
	if db.locked {
		return
	}
	if n := blockPoolSize(db.memLimit.Bytes, db.available); n > 0 {
		_ = exec(ctx, fmt.Sprintf("SET block_allocator_memory = '%dB'", n))
	}
}

// blockPoolMargin is the memory blockPoolSize leaves beside DuckDB's limit
// and the freed blocks it keeps: what DuckDB allocates outside its pool
// (up to 1.1 GiB above a 2.8 GiB limit at 3× size, the commit walk's
// arrays included) and 0.4 GiB to spare.
const blockPoolMargin = 3 << 29 // 1.5 GiB

// blockPoolSize is the memory of freed blocks DuckDB may keep: what the
// memory available leaves beyond DuckDB's limit (limit; 0 is DuckDB's own
// default, 80%) and blockPoolMargin, and never more than the limit. Blocks
// kept are resident though DuckDB no longer counts them, so they must fit
// beside everything the limit allows: when DuckDB gives blocks up to make
// room (the commit walk lowers the limit for its arrays) it keeps their
// memory. At the whole limit a 3× transform in a 4 GiB container was
// killed for memory at the walk; with 1 GiB of margin it finished 0.2 GiB
// under the cap; with this margin a 4 GiB container kept nothing beside a
// 70% limit and keeps 0.1 GiB beside the default (MinOutsidePool), and a
// 24 GiB machine 5.7 GiB. 0 keeps nothing.
func blockPoolSize(limit, available int64) int64 {
	if available <= 0 {
		return 0
	}
	if limit <= 0 {
		limit = available / 10 * 8
	}
	return max(0, min(limit, available-limit-blockPoolMargin))
}
