package file

import (
	"context"
	"testing"
)

// Files with no records load nothing and succeed.
func TestEmptyFiles(t *testing.T) {
	dir := t.TempDir()
	paths := []string{
		writeFile(t, dir, "empty.jsonl", ""),
		writeFile(t, dir, "blank.ndjson", "\n  \n\n"),
		writeFile(t, dir, "deployments.csv", "id,service,environment,finished_at,status\n"),
		writeFile(t, dir, "incidents.csv", ""),
	}
	db := openDB(t)
	res, err := Load(context.Background(), db, paths, Options{Now: fixedNow})
	if err != nil {
		t.Fatal(err)
	}
	if res.Read != 0 || res.Written != 0 {
		t.Errorf("result = %+v, want nothing read or written", res)
	}
}

// Non-ASCII text, escaped characters and CRLF line ends survive.
func TestTextSurvives(t *testing.T) {
	dir := t.TempDir()
	p := writeFile(t, dir, "teams.jsonl", "{\"kind\":\"team\",\"id\":\"zürich\",\"name\":\"Équipe \\\"Δ\\\"\\ttab\"}\r\n{\"kind\":\"team\",\"id\":\"t2\"}\r\n")
	db := openDB(t)
	if _, err := Load(context.Background(), db, []string{p}, Options{Now: fixedNow}); err != nil {
		t.Fatal(err)
	}
	got := dump(t, db, `SELECT id, name FROM teams ORDER BY id`)
	want := []string{"id=t2 | name=NULL", "id=zürich | name=Équipe \"Δ\"\ttab"}
	if len(got) != 2 || got[0] != want[0] || got[1] != want[1] {
		t.Errorf("got %q, want %q", got, want)
	}
}

// A pretty-printed JSON document is not JSON Lines: the error says so.
func TestPrettyJSONHint(t *testing.T) {
	p := writeFile(t, t.TempDir(), "events.json", "[\n  {\"kind\": \"team\", \"id\": \"t1\"}\n]\n")
	_, err := Load(context.Background(), openDB(t), []string{p}, Options{Now: fixedNow})
	want := p + ": line 1: malformed JSON: unexpected end of JSON input (a JSON document spread over lines? shiplog reads JSON Lines: one complete object per line) (and 1 more bad record; nothing was loaded; --skip-invalid keeps the good ones)"
	if err == nil || err.Error() != want {
		t.Errorf("err = %v\nwant %s", err, want)
	}
}
