package reports

import (
	"bufio"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// archiveFixture archives two runs of three small files and returns the
// archive folder.
func archiveFixture(t *testing.T) string {
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
	dir := t.TempDir()
	t0 := time.Date(2026, 11, 1, 6, 0, 0, 0, time.UTC)
	if _, err := Archive(src, files, dir, t0); err != nil {
		t.Fatal(err)
	}
	if _, err := Archive(src, files, dir, t0.Add(24*time.Hour)); err != nil {
		t.Fatal(err)
	}
	return dir
}

func manifestLines(t *testing.T, dir string) []string {
	f, err := os.Open(filepath.Join(dir, ManifestName))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var lines []string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		lines = append(lines, sc.Text())
	}
	return lines
}

func writeManifest(t *testing.T, dir string, lines []string) {
	if err := os.WriteFile(filepath.Join(dir, ManifestName), []byte(strings.Join(lines, "\n")+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
}

func TestArchiveChain(t *testing.T) {
	dir := archiveFixture(t)
	lines := manifestLines(t, dir)
	if len(lines) != 6 {
		t.Fatalf("%d manifest entries, want 6", len(lines))
	}
	// First entry worked out from the definition: files sorted, so
	// assets/echarts.min.js ("xxx") comes first; its entry hash is
	// sha256(64 zeros || path || sha256("xxx") || time).
	fileSum := sha256hex([]byte("xxx"))
	path := "2026-11-01T060000Z/assets/echarts.min.js"
	stamp := "2026-11-01T06:00:00.000000000Z"
	want := sha256hex([]byte(strings.Repeat("0", 64) + path + fileSum + stamp))
	if !strings.Contains(lines[0], `"path":"`+path+`"`) || !strings.Contains(lines[0], `"hash":"`+want+`"`) || !strings.Contains(lines[0], `"sha256":"`+fileSum+`"`) {
		t.Errorf("first entry %s\nwant hash %s", lines[0], want)
	}
	problems, err := Verify(dir)
	if err != nil || len(problems) != 0 {
		t.Fatalf("intact archive: %v %v", problems, err)
	}
}

func TestVerifyDetectsTampering(t *testing.T) {
	tests := []struct {
		name   string
		tamper func(t *testing.T, dir string)
		want   string
	}{
		{"changed byte", func(t *testing.T, dir string) {
			p := filepath.Join(dir, "2026-11-01T060000Z", "audit.html")
			os.Chmod(p, 0o644)
			os.WriteFile(p, []byte("y"), 0o644)
		}, "2026-11-01T060000Z/audit.html: content changed"},
		{"removed file", func(t *testing.T, dir string) {
			os.Remove(filepath.Join(dir, "2026-11-02T060000Z", "index.html"))
		}, "2026-11-02T060000Z/index.html: listed but missing"},
		{"added file", func(t *testing.T, dir string) {
			os.WriteFile(filepath.Join(dir, "2026-11-01T060000Z", "extra.html"), []byte("z"), 0o644)
		}, "2026-11-01T060000Z/extra.html: present but not in the manifest"},
		{"reordered entries", func(t *testing.T, dir string) {
			l := manifestLines(t, dir)
			l[1], l[2] = l[2], l[1]
			writeManifest(t, dir, l)
		}, "entry 2 (2026-11-01T060000Z/index.html): sequence number 3, expected 2"},
		{"removed entry", func(t *testing.T, dir string) {
			l := manifestLines(t, dir)
			writeManifest(t, dir, append(l[:3:3], l[4:]...))
		}, "does not follow the previous entry's hash"},
		{"edited entry", func(t *testing.T, dir string) {
			// Point an entry at a forged file with its checksum: the entry
			// hash no longer matches.
			l := manifestLines(t, dir)
			forged := sha256hex([]byte("y"))
			old := sha256hex([]byte("xx"))
			l[1] = strings.Replace(l[1], old, forged, 1)
			writeManifest(t, dir, l)
			p := filepath.Join(dir, "2026-11-01T060000Z", "audit.html")
			os.Chmod(p, 0o644)
			os.WriteFile(p, []byte("y"), 0o644)
		}, "entry 2 (2026-11-01T060000Z/audit.html): entry hash does not match its fields"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := archiveFixture(t)
			tt.tamper(t, dir)
			problems, err := Verify(dir)
			if err != nil {
				t.Fatal(err)
			}
			found := false
			for _, p := range problems {
				found = found || strings.Contains(p, tt.want)
			}
			if !found {
				t.Errorf("problems %q lack %q", problems, tt.want)
			}
		})
	}
}

func TestArchiveRefusesBrokenChain(t *testing.T) {
	dir := archiveFixture(t)
	l := manifestLines(t, dir)
	l[0], l[1] = l[1], l[0]
	writeManifest(t, dir, l)
	_, err := Archive(t.TempDir(), nil, dir, time.Now())
	if err == nil || !strings.Contains(err.Error(), "already inconsistent") {
		t.Fatalf("appending to a broken chain: %v", err)
	}
}
