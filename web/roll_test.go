package web_test

import (
	"context"
	"encoding/hex"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/evote/evote/ballot/credential"
	"github.com/evote/evote/web"
	webclient "github.com/evote/evote/web/client"
	"github.com/evote/evote/web/protocol"
	"github.com/evote/evote/web/webtest"
)

// TestRollEndpoints: the roll's index and its chunk let a page find each
// voter's entry, checked against the roll hash; client.FetchRoll rebuilds
// the roll the official loaded; hostile paths get specific errors.
func TestRollEndpoints(t *testing.T) {
	env := webtest.Start(t, 5, 100*time.Millisecond)
	_, ts := startServer(t, env, web.Config{})
	base := ts.URL + "/api/elections/" + webtest.ElectionID + "/roll"
	get := func(url string) (int, http.Header, []byte) {
		t.Helper()
		res, err := http.Get(url)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		b, _ := io.ReadAll(res.Body)
		return res.StatusCode, res.Header, b
	}
	code, _, body := get(base)
	if code != http.StatusOK {
		t.Fatalf("roll index: HTTP %d %s", code, body)
	}
	var idx protocol.RollIndex
	if err := json.Unmarshal(body, &idx); err != nil {
		t.Fatal(err)
	}
	want := env.Election.Roll
	wh := want.Hash()
	if !idx.Complete || idx.RollHash != hex.EncodeToString(wh[:]) || idx.Count != 5 || idx.Weight != 5 || len(idx.Chunks) != 1 || idx.Styles[0] != "all" {
		t.Fatalf("roll index %+v", idx)
	}
	hdr, err := credential.DecodeHeader(idx.Header)
	if err != nil {
		t.Fatal(err)
	}
	var firsts [][]byte
	var hashes [][32]byte
	for _, c := range idx.Chunks {
		f, _ := hex.DecodeString(c.First)
		h, _ := hex.DecodeString(c.Hash)
		firsts = append(firsts, f)
		hashes = append(hashes, [32]byte(h))
	}
	code, h, chunk := get(base + "/0")
	if code != http.StatusOK || h.Get("Content-Type") != "application/octet-stream" || !strings.Contains(h.Get("Cache-Control"), "immutable") || len(chunk) != 5*credential.EntrySize {
		t.Fatalf("chunk 0: HTTP %d %v, %d bytes", code, h, len(chunk))
	}
	for i, cr := range env.Election.Credentials {
		c, ok := credential.ChunkFor(firsts, cr.PublicKey())
		if !ok {
			t.Fatalf("voter %d: no chunk", i)
		}
		e, found, err := credential.LookupInChunk(hdr, wh, hashes, c, chunk, cr.PublicKey())
		if err != nil || !found || e.Style != "all" || e.Weight != 1 {
			t.Fatalf("voter %d: %+v, %v, %v", i, e, found, err)
		}
	}
	roll, err := webclient.FetchRoll(context.Background(), nil, ts.URL, webtest.ElectionID)
	if err != nil || roll.Hash() != wh {
		t.Fatalf("FetchRoll: %v", err)
	}
	for _, tc := range []struct {
		path string
		code int
		want string
	}{
		{"/1", 404, "chunk 1 of the roll of"},
		{"/abc", 400, `chunk \"abc\" is not a chunk number`},
		{"/-1", 400, "is not a chunk number"},
		{"/01", 400, "is not a chunk number"},
		{"/99999999999999999999", 400, "is not a chunk number"},
		{"/%3Cscript%3E%26%22'", 400, "is not a chunk number"},
	} {
		// Errors are JSON (never HTML), whatever the path holds.
		code, h, body := get(base + tc.path)
		if code != tc.code || !strings.Contains(string(body), tc.want) || !strings.HasPrefix(h.Get("Content-Type"), "application/json") {
			t.Errorf("%s: HTTP %d %s, want %d %q", tc.path, code, body, tc.code, tc.want)
		}
	}
	if code, _, body := get(ts.URL + "/api/elections/nope/roll"); code != 404 || !strings.Contains(string(body), `"code":2`) {
		t.Errorf("unknown election: HTTP %d %s", code, body)
	}
	if code, _, body := get(ts.URL + "/api/elections/nope/roll/0"); code != 404 || !strings.Contains(string(body), `"code":2`) {
		t.Errorf("unknown election, chunk: HTTP %d %s", code, body)
	}
}
