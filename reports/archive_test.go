package reports

import (
	"bytes"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

var (
	run1 = time.Date(2026, 11, 1, 6, 0, 0, 0, time.UTC)
	run2 = run1.Add(24 * time.Hour)
)

// archiveSource writes three small files, as a report run would, and
// returns the folder and their names.
func archiveSource(t *testing.T) (string, []string) {
	t.Helper()
	src := t.TempDir()
	files := []string{"index.html", "audit.html", "assets/echarts.min.js"}
	for i, f := range files {
		p := filepath.Join(src, filepath.FromSlash(f))
		os.MkdirAll(filepath.Dir(p), 0o755)
		if err := os.WriteFile(p, []byte(strings.Repeat("x", i+1)), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return src, files
}

// archiveFixture archives two runs of the three files (signed with key
// when it is not nil) and returns the archive folder.
func archiveFixture(t *testing.T, key ed25519.PrivateKey) string {
	t.Helper()
	src, files := archiveSource(t)
	dir := t.TempDir()
	for _, now := range []time.Time{run1, run2} {
		if _, err := Archive(src, files, dir, ArchiveOptions{Now: now, Key: key}); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// The checksum list of a run of the fixture, worked out from the format:
// files sorted by path, "<sha256 hex>  <path>\n". index.html is "x",
// audit.html "xx", assets/echarts.min.js "xxx".
func fixtureSums() string {
	return sha256hex([]byte("xxx")) + "  assets/echarts.min.js\n" +
		sha256hex([]byte("xx")) + "  audit.html\n" +
		sha256hex([]byte("x")) + "  index.html\n"
}

// fixtureHeads works out the two entries' hashes from the documented
// formula hash = sha256(prev || path || sha256(SHA256SUMS) || time).
func fixtureHeads() (string, string) {
	sums := sha256hex([]byte(fixtureSums()))
	h1 := sha256hex([]byte(strings.Repeat("0", 64) + "2026-11-01T060000Z/SHA256SUMS" + sums + "2026-11-01T06:00:00.000000000Z"))
	h2 := sha256hex([]byte(h1 + "2026-11-02T060000Z/SHA256SUMS" + sums + "2026-11-02T06:00:00.000000000Z"))
	return h1, h2
}

func readLines(t *testing.T, p string) []string {
	t.Helper()
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	return strings.SplitAfter(string(b), "\n")[:strings.Count(string(b), "\n")]
}

func writeLines(t *testing.T, p string, lines []string) {
	t.Helper()
	os.Chmod(p, 0o644)
	if err := os.WriteFile(p, []byte(strings.Join(lines, "")), 0o644); err != nil {
		t.Fatal(err)
	}
}

func overwrite(t *testing.T, p string, data []byte) {
	t.Helper()
	os.Chmod(p, 0o644)
	if err := os.WriteFile(p, data, 0o644); err != nil {
		t.Fatal(err)
	}
}

func TestArchiveFormat(t *testing.T) {
	dir := archiveFixture(t, nil)
	h1, h2 := fixtureHeads()
	sums := sha256hex([]byte(fixtureSums()))
	want := `{"seq":1,"time":"2026-11-01T06:00:00.000000000Z","path":"2026-11-01T060000Z/SHA256SUMS","sha256":"` + sums + `","prev":"` + strings.Repeat("0", 64) + `","hash":"` + h1 + `"}` + "\n" +
		`{"seq":2,"time":"2026-11-02T06:00:00.000000000Z","path":"2026-11-02T060000Z/SHA256SUMS","sha256":"` + sums + `","prev":"` + h1 + `","hash":"` + h2 + `"}` + "\n"
	got, err := os.ReadFile(filepath.Join(dir, ManifestName))
	if err != nil {
		t.Fatal(err)
	}
	if string(got) != want {
		t.Errorf("manifest:\n%s\nwant:\n%s", got, want)
	}
	for _, run := range []string{"2026-11-01T060000Z", "2026-11-02T060000Z"} {
		b, err := os.ReadFile(filepath.Join(dir, run, "SHA256SUMS"))
		if err != nil || string(b) != fixtureSums() {
			t.Errorf("%s/SHA256SUMS = %q (%v), want %q", run, b, err, fixtureSums())
		}
		st, err := os.Stat(filepath.Join(dir, run, "audit.html"))
		if err != nil || st.Mode().Perm() != 0o444 {
			t.Errorf("archived file mode %v (%v), want read-only", st.Mode(), err)
		}
		if st, err := os.Stat(filepath.Join(dir, run)); err != nil || st.Mode().Perm() != 0o755 {
			t.Errorf("run folder mode %v (%v), want 0755", st.Mode(), err)
		}
	}
	v, err := VerifyArchive(dir, VerifyOptions{Expect: h2})
	if err != nil || !v.Intact() {
		t.Fatalf("intact archive: %+v %v", v, err)
	}
	if v.Head != h2 || v.Runs != 2 || v.Files != 6 || v.Signed {
		t.Errorf("verification %+v, want head %s, 2 runs, 6 files, unsigned", v, h2)
	}
	if n, head, err := ManifestHead(dir); n != 2 || head != h2 || err != nil {
		t.Errorf("ManifestHead = %d %s %v", n, head, err)
	}
}

// TestArchiveRun checks what one run reports and that GNU sha256sum
// accepts a run's SHA256SUMS as it is.
func TestArchiveRun(t *testing.T) {
	src, files := archiveSource(t)
	dir := t.TempDir()
	first, err := Archive(src, files, dir, ArchiveOptions{Now: run1})
	if err != nil {
		t.Fatal(err)
	}
	second, err := Archive(src, files, dir, ArchiveOptions{Now: run1, Known: []string{first.Head}})
	if err != nil {
		t.Fatal(err)
	}
	h1, _ := fixtureHeads()
	if first.Folder != "2026-11-01T060000Z" || first.Files != 3 || first.Seq != 1 || first.PrevHead != strings.Repeat("0", 64) || first.Head != h1 {
		t.Errorf("first run %+v", first)
	}
	// Same second: the folder gets a suffix; the chain goes on from h1.
	if second.Folder != "2026-11-01T060000Z-2" || second.Seq != 2 || second.PrevHead != h1 {
		t.Errorf("second run %+v", second)
	}
	if _, err := exec.LookPath("sha256sum"); err != nil {
		t.Skip("no sha256sum")
	}
	cmd := exec.Command("sha256sum", "--check", "--strict", "SHA256SUMS")
	cmd.Dir = filepath.Join(dir, second.Folder)
	if out, err := cmd.CombinedOutput(); err != nil || strings.Count(string(out), ": OK") != 3 {
		t.Errorf("sha256sum --check: %v\n%s", err, out)
	}
}

func TestVerifyDetectsTampering(t *testing.T) {
	h1, h2 := fixtureHeads()
	tests := []struct {
		name   string
		expect string
		tamper func(t *testing.T, dir string)
		want   []string
	}{
		{name: "byte changed", tamper: func(t *testing.T, dir string) {
			p := filepath.Join(dir, "2026-11-01T060000Z", "audit.html")
			overwrite(t, p, []byte("xy"))
		}, want: []string{"2026-11-01T060000Z/audit.html: content changed (sha256 " + sha256hex([]byte("xy")) + ", SHA256SUMS says " + sha256hex([]byte("xx")) + ")"}},
		{name: "last file removed with its line", tamper: func(t *testing.T, dir string) {
			// index.html is the last file of the last run; its line goes
			// too, so only the list's digest can tell.
			os.Remove(filepath.Join(dir, "2026-11-02T060000Z", "index.html"))
			p := filepath.Join(dir, "2026-11-02T060000Z", "SHA256SUMS")
			l := readLines(t, p)
			writeLines(t, p, l[:2])
		}, want: []string{"2026-11-02T060000Z/SHA256SUMS: content changed (sha256 " + sha256hex([]byte(strings.Join(strings.SplitAfter(fixtureSums(), "\n")[:2], ""))) + ", manifest says " + sha256hex([]byte(fixtureSums())) + ")"}},
		{name: "last manifest line and its list removed", tamper: func(t *testing.T, dir string) {
			os.Remove(filepath.Join(dir, "2026-11-02T060000Z", "SHA256SUMS"))
			p := filepath.Join(dir, ManifestName)
			writeLines(t, p, readLines(t, p)[:1])
		}, want: []string{
			"2026-11-02T060000Z/assets/echarts.min.js: present but not in the archive (added)",
			"2026-11-02T060000Z/audit.html: present but not in the archive (added)",
			"2026-11-02T060000Z/index.html: present but not in the archive (added)",
		}},
		{name: "whole last run removed, caught by the kept head", expect: h2, tamper: func(t *testing.T, dir string) {
			os.RemoveAll(filepath.Join(dir, "2026-11-02T060000Z"))
			p := filepath.Join(dir, ManifestName)
			writeLines(t, p, readLines(t, p)[:1])
		}, want: []string{"head " + h1 + " differs from the expected " + h2 + ", which is not in the manifest: the manifest ends at entry 1 (run 2026-11-01T060000Z); runs after it were removed, or the chain was rewritten"}},
		{name: "file removed", tamper: func(t *testing.T, dir string) {
			os.Remove(filepath.Join(dir, "2026-11-01T060000Z", "audit.html"))
		}, want: []string{"2026-11-01T060000Z/audit.html: listed but missing (removed)"}},
		{name: "file added", tamper: func(t *testing.T, dir string) {
			os.WriteFile(filepath.Join(dir, "2026-11-01T060000Z", "extra.html"), []byte("z"), 0o644)
			os.MkdirAll(filepath.Join(dir, "2026-12-01T000000Z"), 0o755)
			os.WriteFile(filepath.Join(dir, "2026-12-01T000000Z", "audit.html"), []byte("z"), 0o644)
		}, want: []string{
			"2026-11-01T060000Z/extra.html: present but not in the archive (added)",
			"2026-12-01T000000Z/audit.html: present but not in the archive (added)",
		}},
		{name: "file added with its line", tamper: func(t *testing.T, dir string) {
			os.WriteFile(filepath.Join(dir, "2026-11-02T060000Z", "zz.html"), []byte("z"), 0o644)
			p := filepath.Join(dir, "2026-11-02T060000Z", "SHA256SUMS")
			writeLines(t, p, append(readLines(t, p), sha256hex([]byte("z"))+"  zz.html\n"))
		}, want: []string{"2026-11-02T060000Z/SHA256SUMS: content changed"}},
		{name: "manifest lines reordered", tamper: func(t *testing.T, dir string) {
			p := filepath.Join(dir, ManifestName)
			l := readLines(t, p)
			writeLines(t, p, []string{l[1], l[0]})
		}, want: []string{
			"entry 1 (2026-11-02T060000Z/SHA256SUMS): sequence number 2, expected 1 (entries removed or reordered)",
			"entry 1 (2026-11-02T060000Z/SHA256SUMS): does not follow the previous entry's hash (entries removed or reordered)",
			"entry 2 (2026-11-01T060000Z/SHA256SUMS): sequence number 1, expected 2 (entries removed or reordered)",
		}},
		{name: "list reordered", tamper: func(t *testing.T, dir string) {
			p := filepath.Join(dir, "2026-11-01T060000Z", "SHA256SUMS")
			l := readLines(t, p)
			writeLines(t, p, []string{l[1], l[0], l[2]})
		}, want: []string{
			"2026-11-01T060000Z/SHA256SUMS: content changed",
			"2026-11-01T060000Z/SHA256SUMS:2: assets/echarts.min.js is out of path order (lines reordered or repeated)",
		}},
		{name: "files swapped", tamper: func(t *testing.T, dir string) {
			overwrite(t, filepath.Join(dir, "2026-11-01T060000Z", "audit.html"), []byte("x"))
			overwrite(t, filepath.Join(dir, "2026-11-01T060000Z", "index.html"), []byte("xx"))
		}, want: []string{"2026-11-01T060000Z/audit.html: content changed", "2026-11-01T060000Z/index.html: content changed"}},
		{name: "entry edited", tamper: func(t *testing.T, dir string) {
			// A forged list with a line removed, and the manifest line
			// pointed at its digest: the line's hash no longer matches.
			sp := filepath.Join(dir, "2026-11-01T060000Z", "SHA256SUMS")
			forged := strings.Join(readLines(t, sp)[:2], "")
			overwrite(t, sp, []byte(forged))
			os.Remove(filepath.Join(dir, "2026-11-01T060000Z", "index.html"))
			p := filepath.Join(dir, ManifestName)
			l := readLines(t, p)
			l[0] = strings.Replace(l[0], sha256hex([]byte(fixtureSums())), sha256hex([]byte(forged)), 1)
			writeLines(t, p, l)
		}, want: []string{"entry 1 (2026-11-01T060000Z/SHA256SUMS): entry hash does not match its fields (entry edited)"}},
		{name: "manifest cut short", tamper: func(t *testing.T, dir string) {
			p := filepath.Join(dir, ManifestName)
			b, _ := os.ReadFile(p)
			os.WriteFile(p, b[:len(b)-1], 0o644)
		}, want: []string{"manifest.jsonl: the last line has no newline (cut short?)"}},
		{name: "wrong expected head", expect: strings.Repeat("ab", 32), tamper: func(t *testing.T, dir string) {},
			want: []string{"head " + h2 + " differs from the expected " + strings.Repeat("ab", 32) + ", which is not in the manifest: the manifest ends at entry 2 (run 2026-11-02T060000Z)"}},
		{name: "older expected head", expect: h1, tamper: func(t *testing.T, dir string) {},
			want: []string{"head " + h2 + " differs from the expected " + h1 + ": the expected head is entry 1 (run 2026-11-01T060000Z) and 1 run(s) were archived after it (2026-11-02T060000Z)"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := archiveFixture(t, nil)
			tt.tamper(t, dir)
			v, err := VerifyArchive(dir, VerifyOptions{Expect: tt.expect})
			if err != nil {
				t.Fatal(err)
			}
			for _, w := range tt.want {
				found := false
				for _, p := range v.Problems {
					found = found || strings.HasPrefix(p, w)
				}
				if !found {
					t.Errorf("problems lack %q:\n  %s", w, strings.Join(v.Problems, "\n  "))
				}
			}
			if v.Intact() {
				t.Errorf("tampered archive reads as intact")
			}
		})
	}
}

// Removing the last run with its manifest line leaves a consistent
// chain: only a kept head (above) or the signature (below) tells.
func TestVerifyCannotSeeTruncationAlone(t *testing.T) {
	dir := archiveFixture(t, nil)
	os.RemoveAll(filepath.Join(dir, "2026-11-02T060000Z"))
	p := filepath.Join(dir, ManifestName)
	writeLines(t, p, readLines(t, p)[:1])
	v, err := VerifyArchive(dir, VerifyOptions{})
	h1, _ := fixtureHeads()
	if err != nil || !v.Intact() || v.Head != h1 {
		t.Errorf("truncated archive without a kept head: %+v %v", v, err)
	}
}

func testKey(t *testing.T) (ed25519.PublicKey, ed25519.PrivateKey) {
	t.Helper()
	pub, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return pub, priv
}

func TestArchiveSignature(t *testing.T) {
	pub, priv := testKey(t)
	other, _ := testKey(t)
	dir := archiveFixture(t, priv)
	sig, err := os.ReadFile(filepath.Join(dir, SignatureName))
	if err != nil {
		t.Fatal(err)
	}
	manifest, _ := os.ReadFile(filepath.Join(dir, ManifestName))
	if len(sig) != 64 || !ed25519.Verify(pub, manifest, sig) {
		t.Fatalf("the signature file is not the raw Ed25519 signature of the manifest's bytes")
	}
	v, err := VerifyArchive(dir, VerifyOptions{PublicKey: pub})
	if err != nil || !v.Intact() || !v.Signed || !v.SignatureChecked {
		t.Fatalf("good signature: %+v %v", v, err)
	}
	tests := []struct {
		name   string
		key    ed25519.PublicKey
		tamper func(dir string)
		want   string
	}{
		{"another key", other, func(string) {}, "manifest.jsonl.sig: the signature does not match manifest.jsonl under the public key " + KeyFingerprint(other)},
		{"last run removed", pub, func(dir string) {
			os.RemoveAll(filepath.Join(dir, "2026-11-02T060000Z"))
			p := filepath.Join(dir, ManifestName)
			writeLines(t, p, readLines(t, p)[:1])
		}, "manifest.jsonl.sig: the signature does not match"},
		{"signature byte changed", pub, func(dir string) {
			p := filepath.Join(dir, SignatureName)
			b, _ := os.ReadFile(p)
			b[0] ^= 1
			os.WriteFile(p, b, 0o644)
		}, "manifest.jsonl.sig: the signature does not match"},
		{"signature removed", pub, func(dir string) { os.Remove(filepath.Join(dir, SignatureName)) },
			"manifest.jsonl.sig: missing: the archive is not signed, a public key was given"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := archiveFixture(t, priv)
			tt.tamper(dir)
			v, err := VerifyArchive(dir, VerifyOptions{PublicKey: tt.key})
			if err != nil {
				t.Fatal(err)
			}
			if len(v.Problems) != 1 || !strings.HasPrefix(v.Problems[0], tt.want) {
				t.Errorf("problems %q, want one starting %q", v.Problems, tt.want)
			}
		})
	}
	t.Run("unsigned run refused on a signed archive", func(t *testing.T) {
		src, files := archiveSource(t)
		before, _ := os.ReadFile(filepath.Join(dir, ManifestName))
		_, err := Archive(src, files, dir, ArchiveOptions{Now: run2.Add(time.Hour)})
		if err == nil || !strings.Contains(err.Error(), "the archive is signed (manifest.jsonl.sig) but no signing key is set") {
			t.Fatalf("unsigned run: %v", err)
		}
		after, _ := os.ReadFile(filepath.Join(dir, ManifestName))
		if !bytes.Equal(before, after) {
			t.Errorf("the manifest changed")
		}
		if m, _ := filepath.Glob(filepath.Join(dir, "2026-11-02T07*")); len(m) != 0 {
			t.Errorf("a run folder was written: %v", m)
		}
	})
}

// TestSignatureWithOpenSSL checks the signature against an independent
// implementation: keys made by openssl, as docs/reports.md says, sign
// through ParseSigningKey (PEM and one-line base64 DER) and the signature
// verifies with the documented openssl command.
func TestSignatureWithOpenSSL(t *testing.T) {
	if _, err := exec.LookPath("openssl"); err != nil {
		t.Skip("no openssl")
	}
	tmp := t.TempDir()
	keyPEM, pubPEM := filepath.Join(tmp, "archive-key.pem"), filepath.Join(tmp, "archive-pub.pem")
	run := func(dir string, args ...string) ([]byte, error) {
		cmd := exec.Command("openssl", args...)
		cmd.Dir = dir
		return cmd.CombinedOutput()
	}
	if out, err := run(tmp, "genpkey", "-algorithm", "ed25519", "-out", keyPEM); err != nil {
		t.Fatalf("openssl genpkey: %v %s", err, out)
	}
	if out, err := run(tmp, "pkey", "-in", keyPEM, "-pubout", "-out", pubPEM); err != nil {
		t.Fatalf("openssl pkey: %v %s", err, out)
	}
	der, err := run(tmp, "pkey", "-in", keyPEM, "-outform", "DER")
	if err != nil {
		t.Fatal(err)
	}
	pemText, _ := os.ReadFile(keyPEM)
	priv, err := ParseSigningKey(string(pemText))
	if err != nil {
		t.Fatal(err)
	}
	priv2, err := ParseSigningKey(base64.StdEncoding.EncodeToString(der))
	if err != nil || !priv.Equal(priv2) {
		t.Fatalf("base64 DER form: %v", err)
	}
	pubText, _ := os.ReadFile(pubPEM)
	pub, err := ParsePublicKey(string(pubText))
	if err != nil || !pub.Equal(priv.Public()) {
		t.Fatalf("public key: %v", err)
	}
	dir := archiveFixture(t, priv)
	verify := func() error {
		_, err := run(dir, "pkeyutl", "-verify", "-pubin", "-inkey", pubPEM, "-rawin", "-in", ManifestName, "-sigfile", SignatureName)
		return err
	}
	if err := verify(); err != nil {
		t.Fatalf("openssl rejects the signature: %v", err)
	}
	if v, err := VerifyArchive(dir, VerifyOptions{PublicKey: pub}); err != nil || !v.Intact() {
		t.Fatalf("VerifyArchive: %+v %v", v, err)
	}
	p := filepath.Join(dir, ManifestName)
	writeLines(t, p, readLines(t, p)[:1])
	if verify() == nil {
		t.Errorf("openssl accepts the signature of a truncated manifest")
	}
	// The fingerprint as the documentation computes it: SHA-256 of the
	// last 32 bytes of the public key's DER.
	pubDER, _ := pem.Decode(pubText)
	if want := "sha256:" + sha256hex(pubDER.Bytes[len(pubDER.Bytes)-32:])[:16]; KeyFingerprint(pub) != want {
		t.Errorf("fingerprint %s, want %s", KeyFingerprint(pub), want)
	}
}

func TestParseKeys(t *testing.T) {
	pub, priv := testKey(t)
	der, _ := x509.MarshalPKCS8PrivateKey(priv)
	pubDER, _ := x509.MarshalPKIXPublicKey(pub)
	secret := base64.StdEncoding.EncodeToString(der)
	tests := []struct {
		name, in, want string
		public         bool
	}{
		{name: "empty", in: "  ", want: "empty"},
		{name: "not a key", in: "hello world", want: "neither PEM (-----BEGIN PRIVATE KEY-----) nor base64"},
		{name: "public for private", in: string(pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: pubDER})), want: `PEM block "PUBLIC KEY", want "PRIVATE KEY"`},
		{name: "truncated DER", in: secret[:20], want: "not a PKCS #8 private key"},
		{name: "private for public", in: string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der})), public: true, want: `PEM block "PRIVATE KEY", want "PUBLIC KEY"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var err error
			if tt.public {
				_, err = ParsePublicKey(tt.in)
			} else {
				_, err = ParseSigningKey(tt.in)
			}
			if err == nil || err.Error() != tt.want {
				t.Fatalf("error %v, want %q", err, tt.want)
			}
			if strings.Contains(err.Error(), secret[:20]) {
				t.Errorf("the error repeats the key")
			}
		})
	}
}

func TestArchiveRefuses(t *testing.T) {
	h1, _ := fixtureHeads()
	tests := []struct {
		name   string
		tamper func(t *testing.T, dir string)
		opts   ArchiveOptions
		want   string
	}{
		{name: "broken chain", tamper: func(t *testing.T, dir string) {
			p := filepath.Join(dir, ManifestName)
			l := readLines(t, p)
			writeLines(t, p, []string{l[1], l[0]})
		}, want: "the manifest is already inconsistent, not appending: entry 1 (2026-11-02T060000Z/SHA256SUMS): sequence number 2"},
		{name: "recorded head removed", tamper: func(t *testing.T, dir string) {
			os.RemoveAll(filepath.Join(dir, "2026-11-02T060000Z"))
			p := filepath.Join(dir, ManifestName)
			writeLines(t, p, readLines(t, p)[:1])
		}, opts: ArchiveOptions{Known: []string{"HEAD2"}}, want: "the head HEAD2 recorded for this archive is not in its manifest: runs were removed or the chain was rewritten; not appending"},
		{name: "archive deleted", tamper: func(t *testing.T, dir string) {
			os.RemoveAll(filepath.Join(dir, "2026-11-01T060000Z"))
			os.RemoveAll(filepath.Join(dir, "2026-11-02T060000Z"))
			os.Remove(filepath.Join(dir, ManifestName))
		}, opts: ArchiveOptions{Known: []string{h1}}, want: "the head " + h1 + " recorded for this archive is not in its manifest"},
		{name: "manifest cut short", tamper: func(t *testing.T, dir string) {
			p := filepath.Join(dir, ManifestName)
			b, _ := os.ReadFile(p)
			os.WriteFile(p, b[:len(b)-1], 0o644)
		}, want: "manifest.jsonl does not end with a newline"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := archiveFixture(t, nil)
			_, h2 := fixtureHeads()
			tt.opts.Known = append([]string(nil), tt.opts.Known...)
			for i, k := range tt.opts.Known {
				if k == "HEAD2" {
					tt.opts.Known[i] = h2
				}
			}
			tt.want = strings.ReplaceAll(tt.want, "HEAD2", h2)
			tt.tamper(t, dir)
			before, _ := os.ReadFile(filepath.Join(dir, ManifestName))
			src, files := archiveSource(t)
			tt.opts.Now = run2.Add(time.Hour)
			_, err := Archive(src, files, dir, tt.opts)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("error %v, want %q", err, tt.want)
			}
			after, _ := os.ReadFile(filepath.Join(dir, ManifestName))
			if !bytes.Equal(before, after) {
				t.Errorf("the manifest changed")
			}
			if m, _ := filepath.Glob(filepath.Join(dir, "2026-11-02T07*")); len(m) != 0 {
				t.Errorf("a run folder was written: %v", m)
			}
		})
	}
	t.Run("known head kept", func(t *testing.T) {
		dir := archiveFixture(t, nil)
		src, files := archiveSource(t)
		// An older recorded head is fine: the archive only grew since.
		if _, err := Archive(src, files, dir, ArchiveOptions{Now: run2.Add(time.Hour), Known: []string{h1}}); err != nil {
			t.Fatal(err)
		}
	})
}

// A killed run leaves a temporary entry: verify names it, the next run
// removes it and the archive verifies again.
func TestArchiveAfterKilledRun(t *testing.T) {
	dir := archiveFixture(t, nil)
	stale := filepath.Join(dir, ".shiplog-tmp-run-123")
	os.MkdirAll(stale, 0o755)
	os.WriteFile(filepath.Join(stale, "audit.html"), []byte("x"), 0o444)
	v, err := VerifyArchive(dir, VerifyOptions{})
	if err != nil || len(v.Problems) != 1 || v.Problems[0] != ".shiplog-tmp-run-123/audit.html: left by an interrupted archive run (not in the archive; the next run removes it)" {
		t.Fatalf("problems %q %v", v.Problems, err)
	}
	src, files := archiveSource(t)
	if _, err := Archive(src, files, dir, ArchiveOptions{Now: run2.Add(time.Hour)}); err != nil {
		t.Fatal(err)
	}
	if v, err := VerifyArchive(dir, VerifyOptions{}); err != nil || !v.Intact() || v.Runs != 3 {
		t.Errorf("after the next run: %+v %v", v, err)
	}
}

func TestArchiveLock(t *testing.T) {
	dir := t.TempDir()
	unlock, err := lockDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	src, files := archiveSource(t)
	if _, err := Archive(src, files, dir, ArchiveOptions{Now: run1}); err == nil || !strings.Contains(err.Error(), "another archive run is writing to it") {
		t.Errorf("archive while locked: %v", err)
	}
	unlock()
	if _, err := Archive(src, files, dir, ArchiveOptions{Now: run1}); err != nil {
		t.Errorf("archive after unlock: %v", err)
	}
}

// TestDocumentedVerifier runs the Python verifier of docs/reports.md, an
// implementation independent of this package, on a good archive (it must
// print the head worked out by hand) and on tampered ones.
func TestDocumentedVerifier(t *testing.T) {
	py, err := exec.LookPath("python3")
	if err != nil {
		t.Skip("no python3")
	}
	doc, err := os.ReadFile(filepath.Join("..", "docs", "reports.md"))
	if err != nil {
		t.Fatal(err)
	}
	const open = "```python\n# verify-archive.py"
	i := bytes.Index(doc, []byte(open))
	if i < 0 {
		t.Fatal("docs/reports.md has no verify-archive.py block")
	}
	body := doc[i+len("```python\n"):]
	body = body[:bytes.Index(body, []byte("```"))]
	script := filepath.Join(t.TempDir(), "verify-archive.py")
	if err := os.WriteFile(script, body, 0o644); err != nil {
		t.Fatal(err)
	}
	check := func(dir string) (string, bool) {
		cmd := exec.Command(py, script)
		cmd.Dir = dir
		out, err := cmd.CombinedOutput()
		return strings.TrimSpace(string(out)), err == nil
	}
	_, h2 := fixtureHeads()
	dir := archiveFixture(t, nil)
	if out, ok := check(dir); !ok || out != h2 {
		t.Fatalf("good archive: %v %q, want head %s", ok, out, h2)
	}
	for _, tamper := range []struct {
		name string
		do   func(dir string)
		want string
	}{
		{"byte changed", func(dir string) { overwrite(t, filepath.Join(dir, "2026-11-01T060000Z", "audit.html"), []byte("xy")) }, "2026-11-01T060000Z/audit.html: missing or changed"},
		{"file added", func(dir string) { os.WriteFile(filepath.Join(dir, "2026-11-01T060000Z", "x.html"), nil, 0o644) }, "2026-11-01T060000Z/x.html: added"},
		{"last file removed with its line", func(dir string) {
			os.Remove(filepath.Join(dir, "2026-11-02T060000Z", "index.html"))
			p := filepath.Join(dir, "2026-11-02T060000Z", "SHA256SUMS")
			writeLines(t, p, readLines(t, p)[:2])
		}, "2026-11-02T060000Z/SHA256SUMS: missing or changed"},
		{"reordered", func(dir string) {
			p := filepath.Join(dir, ManifestName)
			l := readLines(t, p)
			writeLines(t, p, []string{l[1], l[0]})
		}, "entry 1: removed or reordered"},
	} {
		t.Run(tamper.name, func(t *testing.T) {
			dir := archiveFixture(t, nil)
			tamper.do(dir)
			if out, ok := check(dir); ok || !strings.Contains(out, tamper.want) {
				t.Errorf("tampered archive: ok=%v %q, want %q", ok, out, tamper.want)
			}
		})
	}
}
