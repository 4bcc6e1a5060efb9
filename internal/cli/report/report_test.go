package report

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/shiplog/shiplog/internal/cmdutil"
	"github.com/shiplog/shiplog/internal/config"
	"github.com/shiplog/shiplog/internal/iostreams"
	"github.com/shiplog/shiplog/internal/output"
	"github.com/shiplog/shiplog/internal/version"
	"github.com/shiplog/shiplog/internal/warehouse"
	"github.com/shiplog/shiplog/reports"
)

// emptyData is a warehouse with nothing in it: every query and metric
// comes back with no rows.
type emptyData struct{ queries []string }

func (d *emptyData) Query(ctx context.Context, name string, params map[string]string) (*output.Table, error) {
	d.queries = append(d.queries, name)
	return &output.Table{Columns: []string{"x"}}, nil
}
func (d *emptyData) Metrics(ctx context.Context, f reports.MetricsFilter) (*output.Table, error) {
	return &output.Table{Columns: []string{f.Level, "period_start", "deployments"}}, nil
}
func (d *emptyData) Audit(ctx context.Context, from, to time.Time) ([]reports.ControlResult, error) {
	return nil, nil
}

var now = time.Date(2026, 11, 15, 9, 30, 0, 0, time.UTC)

func testFactory() (*cmdutil.Factory, *iostreams.IOStreams) {
	ios, _, _, _ := iostreams.Test()
	f := &cmdutil.Factory{IOStreams: ios, Now: func() time.Time { return now }, Getenv: func(string) string { return "" }}
	f.SetConfig(config.Default())
	return f, ios
}

func TestFlags(t *testing.T) {
	tests := []struct {
		name    string
		cmd     string
		args    []string
		wantErr string
		check   func(*testing.T, *Options)
	}{
		{name: "all", cmd: "all", args: []string{"--out", "site", "--from", "2026-10-01", "--to", "2026-11-01T00:00:00Z", "--team", "core", "--archive", "arch"},
			check: func(t *testing.T, o *Options) {
				if strings.Join(o.Kinds, ",") != "leadership,retro,audit" || o.Out != "site" || o.Team != "core" || o.Archive != "arch" {
					t.Errorf("options %+v", o)
				}
				if !o.From.Equal(time.Date(2026, 10, 1, 0, 0, 0, 0, time.UTC)) || !o.To.Equal(time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)) {
					t.Errorf("window %v %v", o.From, o.To)
				}
			}},
		{name: "retro", cmd: "retro", args: []string{"--out", "x"}, check: func(t *testing.T, o *Options) {
			if strings.Join(o.Kinds, ",") != "retro" {
				t.Errorf("kinds %v", o.Kinds)
			}
		}},
		{name: "no out", cmd: "leadership", args: nil, wantErr: "--out is required"},
		{name: "bad date", cmd: "audit", args: []string{"--out", "x", "--from", "10/01/2026"}, wantErr: `--from: "10/01/2026" is not a date`},
		{name: "reversed", cmd: "audit", args: []string{"--out", "x", "--from", "2026-11-01", "--to", "2026-10-01"}, wantErr: "is not before --to"},
		{name: "dashboard", cmd: "dashboard", args: []string{"teams", "--out", "x"}, check: func(t *testing.T, o *Options) {
			if o.Dashboard != "teams" {
				t.Errorf("dashboard %q", o.Dashboard)
			}
		}},
		{name: "verify", cmd: "verify", args: []string{"arch"}, check: func(t *testing.T, o *Options) {
			if o.Dir != "arch" {
				t.Errorf("dir %q", o.Dir)
			}
		}},
		{name: "verify expect", cmd: "verify", args: []string{"arch", "--expect", "SHA256:" + strings.Repeat("AB", 32), "--public-key", "k.pem"}, check: func(t *testing.T, o *Options) {
			if o.Expect != strings.Repeat("ab", 32) || o.PublicKeyFile != "k.pem" {
				t.Errorf("expect %q key %q", o.Expect, o.PublicKeyFile)
			}
		}},
		{name: "verify bad expect", cmd: "verify", args: []string{"arch", "--expect", "abc"}, wantErr: `--expect: "abc" is not a head hash (64 hex digits)`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f, _ := testFactory()
			var got *Options
			runF := func(ctx context.Context, o *Options) error { got = o; return nil }
			var cmd interface {
				SetArgs([]string)
				SetOut(io.Writer)
				SetErr(io.Writer)
				Execute() error
			}
			switch tt.cmd {
			case "dashboard":
				cmd = NewCmdDashboard(f, runF)
			case "verify":
				cmd = NewCmdVerify(f, runF)
			default:
				cmd = NewCmdWrite(f, tt.cmd, "", runF)
			}
			cmd.SetArgs(tt.args)
			cmd.SetOut(io.Discard)
			cmd.SetErr(io.Discard)
			err := cmd.Execute()
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("error %v, want %q", err, tt.wantErr)
				}
				if cmdutil.ExitCode(err) != cmdutil.ExitUsage {
					t.Errorf("exit code %d, want 2", cmdutil.ExitCode(err))
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			tt.check(t, got)
		})
	}
}

// archiveCommand returns report options writing every report of an empty
// warehouse to DIR/site and archiving them in DIR/archive, with a real
// warehouse file for archive_runs and env as the environment.
func archiveCommand(t *testing.T, dir string, env map[string]string) (*Options, *iostreams.IOStreams) {
	t.Helper()
	f, ios := testFactory()
	f.DBPath = filepath.Join(dir, "shiplog.duckdb")
	f.Getenv = func(k string) string { return env[k] }
	opts := newOptions(f)
	opts.Data = func(ctx context.Context) (reports.Data, func() error, error) {
		return &emptyData{}, func() error { return nil }, nil
	}
	opts.Kinds = reports.Kinds
	opts.Out = filepath.Join(dir, "site")
	opts.Archive = filepath.Join(dir, "archive")
	opts.From = time.Date(2026, 10, 1, 0, 0, 0, 0, time.UTC)
	return opts, ios
}

func text(w io.Writer) string { return w.(interface{ String() string }).String() }

// TestWriteArchiveVerify runs the whole command over an empty warehouse,
// archives the result twice, checks what the runs printed and recorded,
// verifies the archive with and without the kept head, then changes one
// byte.
func TestWriteArchiveVerify(t *testing.T) {
	dir := t.TempDir()
	ctx := context.Background()
	opts, ios := archiveCommand(t, dir, nil)
	if err := RunWrite(ctx, opts); err != nil {
		t.Fatal(err)
	}
	if out := text(ios.Out); strings.TrimSpace(out) != filepath.Join(opts.Out, "index.html") {
		t.Errorf("stdout %q, want the index path", out)
	}
	lead, err := os.ReadFile(filepath.Join(opts.Out, "leadership.html"))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(lead), "The organisation made no production deployments in this period") {
		t.Errorf("empty organisation not said in words")
	}
	// The head printed is the hash of the manifest's only line, worked
	// out from its fields.
	m, err := os.ReadFile(filepath.Join(opts.Archive, reports.ManifestName))
	if err != nil {
		t.Fatal(err)
	}
	var e reports.ManifestEntry
	if err := json.Unmarshal(m, &e); err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256([]byte(e.Prev + e.Path + e.SHA256 + e.Time))
	head1 := hex.EncodeToString(sum[:])
	if e.Path != "2026-11-15T093000Z/SHA256SUMS" || e.Hash != head1 {
		t.Fatalf("manifest entry %+v, hash want %s", e, head1)
	}
	stderr := text(ios.ErrOut)
	// index, leadership, retro, audit and the ECharts script.
	for _, want := range []string{"archived 5 files in " + filepath.Join(opts.Archive, "2026-11-15T093000Z") + " (run 1, unsigned)", "archive head " + head1} {
		if !strings.Contains(stderr, want) {
			t.Errorf("stderr lacks %q:\n%s", want, stderr)
		}
	}

	// A second run, an hour later: it chains on the first.
	opts2, ios2 := archiveCommand(t, dir, nil)
	opts2.Now = func() time.Time { return now.Add(time.Hour) }
	if err := RunWrite(ctx, opts2); err != nil {
		t.Fatal(err)
	}
	_, head2, _ := reports.ManifestHead(opts.Archive)
	if !strings.Contains(text(ios2.ErrOut), "archive head "+head2) {
		t.Errorf("second run did not print its head %s", head2)
	}
	db, err := warehouse.Open(ctx, filepath.Join(dir, "shiplog.duckdb"), warehouse.Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	rows, err := db.QueryContext(ctx, `SELECT strftime(archived_at, '%Y-%m-%d %H:%M'), archive_dir, run_folder, reports,
		strftime(period_from, '%Y-%m-%d'), strftime(period_to, '%Y-%m-%d'), file_count, seq, previous_head, head, signed, shiplog_version = ?
		FROM archive_runs ORDER BY id`, version.Build().Version)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for rows.Next() {
		var at, adir, folder, what, from, to, prev, head string
		var files, seq int
		var signed, thisVersion bool
		if err := rows.Scan(&at, &adir, &folder, &what, &from, &to, &files, &seq, &prev, &head, &signed, &thisVersion); err != nil {
			t.Fatal(err)
		}
		got = append(got, fmt.Sprintf("%s %s %s %s %s..%s files=%d seq=%d %s→%s signed=%v this-version=%v", at, adir, folder, what, from, to, files, seq, prev[:8], head[:8], signed, thisVersion))
	}
	rows.Close()
	db.Close()
	// --from 2026-10-01 alone runs up to now (2026-11-15 09:30): the
	// period recorded is the pages' period.
	abs, _ := filepath.Abs(opts.Archive)
	want := []string{
		"2026-11-15 09:30 " + abs + " 2026-11-15T093000Z leadership,retro,audit 2026-10-01..2026-11-15 files=5 seq=1 00000000→" + head1[:8] + " signed=false this-version=true",
		"2026-11-15 10:30 " + abs + " 2026-11-15T103000Z leadership,retro,audit 2026-10-01..2026-11-15 files=5 seq=2 " + head1[:8] + "→" + head2[:8] + " signed=false this-version=true",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("archive_runs:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}

	verify := func(expect string) (string, string, error) {
		f, ios := testFactory()
		v := newOptions(f)
		v.Dir, v.Expect = opts.Archive, expect
		err := RunVerify(ctx, v)
		return text(ios.Out), text(ios.ErrOut), err
	}
	out, errOut, err := verify(head2)
	if err != nil || strings.TrimSpace(out) != head2 || !strings.Contains(errOut, "intact, 2 run(s), 10 file(s); head as expected; not signed") {
		t.Fatalf("fresh archive: %v\nstdout %s\nstderr %s", err, out, errOut)
	}
	out, _, err = verify(head1)
	if cmdutil.ExitCode(err) != 1 || !strings.Contains(out, "the expected head is entry 1 (run 2026-11-15T093000Z) and 1 run(s) were archived after it (2026-11-15T103000Z)") {
		t.Errorf("older --expect: %v %q", err, out)
	}
	folders, _ := filepath.Glob(filepath.Join(opts.Archive, "2026-11-15T093000Z", "*.html"))
	if len(folders) != 4 { // index, leadership, retro, audit
		t.Fatalf("archived pages %v", folders)
	}
	p := folders[0]
	os.Chmod(p, 0o644)
	b, _ := os.ReadFile(p)
	b[10] ^= 1
	os.WriteFile(p, b, 0o644)
	out, _, err = verify("")
	if cmdutil.ExitCode(err) != 1 || !strings.Contains(out, "content changed") {
		t.Fatalf("tampered archive: %v %q", err, out)
	}
}

// TestArchiveRefusesTruncatedArchive removes the last run with its
// manifest line: the chain is consistent, but the next archive run finds
// that the head the warehouse recorded is gone and appends nothing.
func TestArchiveRefusesTruncatedArchive(t *testing.T) {
	dir := t.TempDir()
	ctx := context.Background()
	for i := 0; i < 2; i++ {
		opts, _ := archiveCommand(t, dir, nil)
		opts.Now = func() time.Time { return now.Add(time.Duration(i) * time.Hour) }
		if err := RunWrite(ctx, opts); err != nil {
			t.Fatal(err)
		}
	}
	arch := filepath.Join(dir, "archive")
	_, head2, _ := reports.ManifestHead(arch)
	os.RemoveAll(filepath.Join(arch, "2026-11-15T103000Z"))
	m, _ := os.ReadFile(filepath.Join(arch, reports.ManifestName))
	os.WriteFile(filepath.Join(arch, reports.ManifestName), m[:strings.IndexByte(string(m), '\n')+1], 0o644)
	opts, _ := archiveCommand(t, dir, nil)
	opts.Now = func() time.Time { return now.Add(2 * time.Hour) }
	err := RunWrite(ctx, opts)
	if err == nil || !strings.Contains(err.Error(), "the head "+head2+" recorded for this archive is not in its manifest") {
		t.Fatalf("archive after truncation: %v", err)
	}
	if _, err := os.Stat(filepath.Join(arch, "2026-11-15T113000Z")); err == nil {
		t.Errorf("a run folder was written")
	}
}

// TestSignedArchive signs with a key from the environment and verifies
// with the public key from a file and from the environment.
func TestSignedArchive(t *testing.T) {
	pub, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	der, _ := x509.MarshalPKCS8PrivateKey(priv)
	pubDER, _ := x509.MarshalPKIXPublicKey(pub)
	keyPEM := string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}))
	pubPEM := pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: pubDER})
	otherPub, _, _ := ed25519.GenerateKey(rand.Reader)
	otherDER, _ := x509.MarshalPKIXPublicKey(otherPub)

	dir := t.TempDir()
	ctx := context.Background()
	t.Run("bad key stops before anything is written", func(t *testing.T) {
		d := t.TempDir()
		opts, _ := archiveCommand(t, d, map[string]string{SigningKeyEnv: "c2VjcmV0LXZhbHVl"})
		err := RunWrite(ctx, opts)
		if err == nil || !strings.HasPrefix(err.Error(), "ARCHIVE_SIGNING_KEY: not a PKCS #8 private key") || strings.Contains(err.Error(), "c2VjcmV0LXZhbHVl") {
			t.Fatalf("bad key: %v", err)
		}
		if _, err := os.Stat(opts.Out); err == nil {
			t.Errorf("pages were written")
		}
	})
	opts, ios := archiveCommand(t, dir, map[string]string{SigningKeyEnv: keyPEM})
	if err := RunWrite(ctx, opts); err != nil {
		t.Fatal(err)
	}
	if want := "(run 1, signed with key " + reports.KeyFingerprint(pub) + ")"; !strings.Contains(text(ios.ErrOut), want) {
		t.Errorf("stderr %q lacks %q", text(ios.ErrOut), want)
	}
	pubFile := filepath.Join(dir, "archive-pub.pem")
	os.WriteFile(pubFile, pubPEM, 0o644)
	tests := []struct {
		name    string
		file    string
		env     string
		wantErr string
		wantOut string
	}{
		{name: "public key file", file: pubFile, wantOut: "signature good (key " + reports.KeyFingerprint(pub) + ")"},
		{name: "public key env, base64 DER", env: base64.StdEncoding.EncodeToString(pubDER), wantOut: "signature good"},
		{name: "another key", env: base64.StdEncoding.EncodeToString(otherDER), wantErr: "1 problem(s) found", wantOut: "manifest.jsonl.sig: the signature does not match"},
		{name: "no key", wantOut: "signed, signature not checked (no --public-key)"},
		{name: "unreadable key", env: "not a key", wantErr: "ARCHIVE_PUBLIC_KEY: neither PEM"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f, ios := testFactory()
			f.Getenv = func(k string) string {
				if k == PublicKeyEnv {
					return tt.env
				}
				return ""
			}
			v := newOptions(f)
			v.Dir, v.PublicKeyFile = opts.Archive, tt.file
			err := RunVerify(ctx, v)
			if tt.wantErr == "" && err != nil || tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)) {
				t.Fatalf("error %v, want %q", err, tt.wantErr)
			}
			if all := text(ios.Out) + text(ios.ErrOut); !strings.Contains(all, tt.wantOut) {
				t.Errorf("output %q lacks %q", all, tt.wantOut)
			}
		})
	}
}

// TestUserDashboard renders a spec from reports.dashboards_dir, found
// relative to the configuration file.
func TestUserDashboard(t *testing.T) {
	dir := t.TempDir()
	os.MkdirAll(filepath.Join(dir, "boards"), 0o755)
	spec := "name: mine\ntitle: My board <b>\npanels:\n  - title: Slowest\n    query: retro-slowest-changes\n    params: {team: $team, limit: \"5\"}\n    chart: table\n"
	if err := os.WriteFile(filepath.Join(dir, "boards", "mine.yaml"), []byte(spec), 0o644); err != nil {
		t.Fatal(err)
	}
	f, ios := testFactory()
	cfg := config.Default()
	cfg.Path = filepath.Join(dir, "shiplog.yaml")
	cfg.Reports.DashboardsDir = "boards"
	f.SetConfig(cfg)
	data := &emptyData{}
	opts := newOptions(f)
	opts.Data = func(ctx context.Context) (reports.Data, func() error, error) {
		return data, func() error { return nil }, nil
	}
	opts.Out = filepath.Join(dir, "site")
	opts.Dashboard = "mine"
	if err := RunDashboard(context.Background(), opts); err != nil {
		t.Fatal(err)
	}
	if strings.Join(data.queries, ",") != "retro-slowest-changes" {
		t.Errorf("queries run: %v", data.queries)
	}
	b, err := os.ReadFile(filepath.Join(opts.Out, "dashboard-mine.html"))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(b), "<h1>My board &lt;b&gt;</h1>") {
		t.Errorf("title not rendered escaped")
	}
	if !strings.Contains(ios.Out.(interface{ String() string }).String(), "index.html") {
		t.Errorf("index path not printed")
	}
	opts.Dashboard = "nope"
	if err := RunDashboard(context.Background(), opts); err == nil || !strings.Contains(err.Error(), `no dashboard named "nope"`) {
		t.Errorf("unknown dashboard: %v", err)
	}
	cfg.Reports.DashboardsDir = "missing"
	if err := RunDashboard(context.Background(), opts); err == nil || !strings.Contains(err.Error(), "reports.dashboards_dir") {
		t.Errorf("missing folder: %v", err)
	}
}

// teamsData knows two teams through report-service-teams.
type teamsData struct{ emptyData }

func (d *teamsData) Query(ctx context.Context, name string, params map[string]string) (*output.Table, error) {
	if name == "report-service-teams" {
		return &output.Table{Columns: []string{"service", "team"}, Rows: [][]any{{"api", "payments"}, {"site", "web"}}}, nil
	}
	return d.emptyData.Query(ctx, name, params)
}

// A typo'd --team is an error with the closest team, exit 2, and no page
// is written.
func TestUnknownTeam(t *testing.T) {
	f, _ := testFactory()
	opts := newOptions(f)
	opts.Data = func(ctx context.Context) (reports.Data, func() error, error) {
		return &teamsData{}, func() error { return nil }, nil
	}
	opts.Kinds = []string{reports.Leadership}
	opts.Out = filepath.Join(t.TempDir(), "site")
	opts.Team = "paymnts"
	err := RunWrite(context.Background(), opts)
	if err == nil || err.Error() != `unknown team "paymnts"; did you mean "payments"?` || cmdutil.ExitCode(err) != cmdutil.ExitUsage {
		t.Errorf("err = %v", err)
	}
	if _, err := os.Stat(opts.Out); !os.IsNotExist(err) {
		t.Errorf("a report was written for an unknown team: %v", err)
	}
}
