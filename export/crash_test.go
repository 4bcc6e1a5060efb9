package export

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/shiplog/shiplog/internal/warehouse"
)

// crashTables are the tables the crash tests export: a dimension, a
// canonical table, a view and a mart are enough to stop between, and
// fewer tables keep the tests quick.
var crashTables = []string{"teams", "deployments", "fct_changes", "fct_deployments"}

// A failure at any stage of a run leaves the previous export exactly as it
// was, removes the staging folder and records the run as failed; the next
// run succeeds.
func TestFailureKeepsThePreviousExport(t *testing.T) {
	db, _ := demoWarehouse(t)
	out := filepath.Join(t.TempDir(), "lake")
	first := runExport(t, db, Options{Out: out, Tables: crashTables})
	want := snapshot(t, out)

	loadJSONL(t, db, `{"kind":"deployment","id":"crash-1","service":"checkout-api","environment":"production","status":"success","finished_at":"2026-09-02T10:00:00Z"}`)
	retransform(t, db)

	injected := errors.New("injected failure")
	for _, tc := range []struct {
		stage  string
		sinces []string
	}{
		{"table teams", []string{""}},
		{"table fct_changes", []string{"", "last"}},
		{"table fct_deployments", []string{"last"}},
		{"manifest", []string{"last"}},
		{"swap", []string{"", "last"}},
	} {
		stage := tc.stage
		t.Run(stage, func(t *testing.T) {
			for _, since := range tc.sinces {
				_, err := tryExport(t, db, Options{Out: out, Since: since, Tables: crashTables, failpoint: func(s string) error {
					if s == stage {
						return injected
					}
					return nil
				}})
				if !errors.Is(err, injected) {
					t.Fatalf("since %q: err = %v", since, err)
				}
				sameSnapshot(t, "export folder after a failure at "+stage, snapshot(t, out), want)
				if s := siblings(t, out); len(s) != 0 {
					t.Errorf("left beside the export: %v", s)
				}
				var status, msg string
				if err := db.QueryRow("SELECT status, error FROM export_runs ORDER BY id DESC LIMIT 1").Scan(&status, &msg); err != nil {
					t.Fatal(err)
				}
				if status != "failed" || msg != "injected failure" {
					t.Errorf("last run %s (%s), want failed (injected failure)", status, msg)
				}
			}
		})
	}
	res := runExport(t, db, Options{Out: out, Since: "last", Tables: crashTables})
	if res.Written == 0 || res.Manifest.Since == nil || *res.Manifest.Since != first.Manifest.ExportID {
		t.Errorf("run after the failures: %d written, since %v", res.Written, res.Manifest.Since)
	}
	if n := count(t, db, "SELECT count(*) FROM read_parquet(?, hive_partitioning = true) WHERE id = 'crash-1'", filepath.Join(out, "deployments", "*", "*.parquet")); n != 1 {
		t.Errorf("new deployment read back %d times", n)
	}
}

const helperEnv = "SHIPLOG_EXPORT_TEST_HELPER"

// helperMain is the child process of TestKilledExport: it exports the
// warehouse named in the environment and, once the stage named there is
// reached, says so and waits to be killed.
func helperMain() int {
	ctx := context.Background()
	db, err := warehouse.Open(ctx, os.Getenv("SHIPLOG_EXPORT_TEST_DB"), warehouse.Options{})
	if err != nil {
		fmt.Println("error:", err)
		return 1
	}
	stop := os.Getenv(helperEnv)
	_, err = Run(ctx, db, Options{Out: os.Getenv("SHIPLOG_EXPORT_TEST_OUT"), Since: "last", Tables: crashTables, failpoint: func(s string) error {
		if s == stop {
			fmt.Println("ready")
			time.Sleep(time.Hour)
		}
		return nil
	}})
	fmt.Println("error: not killed:", err)
	return 1
}

// A process killed in the middle of an export (SIGKILL: no cleanup runs)
// leaves the previous export intact; the next run removes the half-written
// staging folder, records the killed run as failed and converges.
func TestKilledExport(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a child process")
	}
	for _, stage := range []string{"table fct_changes", "swap"} {
		t.Run(stage, func(t *testing.T) {
			db, path := demoWarehouse(t)
			out := filepath.Join(t.TempDir(), "lake")
			first := runExport(t, db, Options{Out: out, Tables: crashTables})
			want := snapshot(t, out)
			loadJSONL(t, db, `{"kind":"deployment","id":"killed-1","service":"checkout-api","environment":"staging","status":"success","finished_at":"2026-09-02T10:00:00Z"}`)
			retransform(t, db)
			if err := db.Close(); err != nil {
				t.Fatal(err)
			}

			cmd := exec.Command(os.Args[0], "-test.run=^$")
			cmd.Env = append(os.Environ(), helperEnv+"="+stage, "SHIPLOG_EXPORT_TEST_DB="+path, "SHIPLOG_EXPORT_TEST_OUT="+out)
			stdout, err := cmd.StdoutPipe()
			if err != nil {
				t.Fatal(err)
			}
			cmd.Stderr = os.Stderr
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			line, _ := bufio.NewReader(stdout).ReadString('\n')
			if strings.TrimSpace(line) != "ready" {
				cmd.Process.Kill()
				cmd.Wait()
				t.Fatalf("child said %q", line)
			}
			if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
				t.Fatal(err)
			}
			cmd.Wait()

			sameSnapshot(t, "export folder after a killed run", snapshot(t, out), want)
			if s := siblings(t, out); len(s) != 1 {
				t.Errorf("expected the killed run's staging folder beside the export, found %v", s)
			}

			db, err = warehouse.Open(context.Background(), path, warehouse.Options{})
			if err != nil {
				t.Fatal(err)
			}
			defer db.Close()
			res := runExport(t, db, Options{Out: out, Since: "last", Tables: crashTables})
			if s := siblings(t, out); len(s) != 0 {
				t.Errorf("left beside the export after the re-run: %v", s)
			}
			if *res.Manifest.Since != first.Manifest.ExportID || res.Written != 2 {
				t.Errorf("re-run: since %v, %d written (want the 2 partitions of 2026-09)", *res.Manifest.Since, res.Written)
			}
			rows, err := db.Query("SELECT id, status FROM export_runs ORDER BY id")
			if err != nil {
				t.Fatal(err)
			}
			defer rows.Close()
			var got []string
			for rows.Next() {
				var id int64
				var status string
				rows.Scan(&id, &status)
				got = append(got, fmt.Sprintf("%d:%s", id, status))
			}
			if want := fmt.Sprintf("%d:done %d:failed %d:done", first.Manifest.ExportID, first.Manifest.ExportID+1, first.Manifest.ExportID+2); strings.Join(got, " ") != want {
				t.Errorf("runs %v, want %s", got, want)
			}
		})
	}
}

// Where the file system cannot swap folders atomically, the previous export
// is renamed aside first; a crash between the two renames is repaired by
// the next run, which puts the previous export back.
func TestSwapWithoutExchange(t *testing.T) {
	parent := t.TempDir()
	out := filepath.Join(parent, "lake")
	mk := func(dir, content string) {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, ManifestName), []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	saved := exchange
	defer func() { exchange = saved }()
	exchange = func(a, b string) error { return errNoExchange }

	mk(out, "old")
	mk(stagingDir(out, 2), "new")
	if err := swapIn(stagingDir(out, 2), out); err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(filepath.Join(out, ManifestName)); string(b) != "new" {
		t.Errorf("after the swap the folder holds %q", b)
	}
	if s := siblings(t, out); len(s) != 0 {
		t.Errorf("left: %v", s)
	}

	// the crash: the previous export was renamed aside, the new one not in
	if err := os.Rename(out, stagingDir(out, 3)+".old"); err != nil {
		t.Fatal(err)
	}
	mk(stagingDir(out, 3), "half")
	did, err := recoverOut(out)
	if err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(filepath.Join(out, ManifestName)); string(b) != "new" {
		t.Errorf("after recovery the folder holds %q, want the previous export", b)
	}
	if s := siblings(t, out); len(s) != 0 || len(did) != 2 {
		t.Errorf("left %v; did %v", s, did)
	}
}

// On Linux the swap is one renameat2 call.
func TestSwapExchanges(t *testing.T) {
	parent := t.TempDir()
	out := filepath.Join(parent, "lake")
	for dir, content := range map[string]string{out: "old", stagingDir(out, 2): "new"} {
		os.MkdirAll(dir, 0o755)
		os.WriteFile(filepath.Join(dir, "f"), []byte(content), 0o644)
	}
	err := exchange(stagingDir(out, 2), out)
	if errors.Is(err, errNoExchange) {
		t.Skip("this platform or file system cannot exchange folders")
	}
	if err != nil {
		t.Fatal(err)
	}
	a, _ := os.ReadFile(filepath.Join(out, "f"))
	b, _ := os.ReadFile(filepath.Join(stagingDir(out, 2), "f"))
	if string(a) != "new" || string(b) != "old" {
		t.Errorf("after exchange: %q and %q", a, b)
	}
}
