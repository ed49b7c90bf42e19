package web_test

import (
	"archive/tar"
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	rpchttp "github.com/cometbft/cometbft/rpc/client/http"

	"github.com/evote/evote/ballot"
	"github.com/evote/evote/ballot/ballottest"
	evrecord "github.com/evote/evote/record"
	"github.com/evote/evote/verify"
	"github.com/evote/evote/web"
	"github.com/evote/evote/web/webtest"
)

// TestPublicRPC: an observer who knows only the node's public URL exports
// the election record through /rpc with CometBFT's own client and verifies
// it; the RPC port is never used. Everything outside the read-only methods
// and the application's public queries is refused with a JSON-RPC error
// naming why, and the calls of one address are rate-limited.
func TestPublicRPC(t *testing.T) {
	env := webtest.Start(t, 4, 100*time.Millisecond)
	_, ts := startServer(t, env, web.Config{ReadRate: 1, ReadBurst: 1000})
	for i := range 3 {
		raw, _ := env.Election.Cast(t, env.Ballot, i, ballottest.FirstChoices(env.Election.Manifest, ballot.DefaultStyleID))
		env.Commit(t, raw)
	}
	cl, err := rpchttp.New(ts.URL + "/rpc")
	if err != nil {
		t.Fatal(err)
	}
	ctx := t.Context()
	st, err := cl.Status(ctx)
	if err != nil || st.NodeInfo.Network != env.ChainID {
		t.Fatalf("status through /rpc: %v %+v", err, st)
	}
	dir := t.TempDir() + "/record"
	if err := evrecord.Export(ctx, cl, webtest.ElectionID, dir); err != nil {
		t.Fatalf("export through the public URL: %v", err)
	}
	rep, err := verify.Record(ctx, dir, verify.Options{})
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	rep.WriteText(&buf)
	if !rep.OK() {
		t.Fatalf("the record exported through the public URL does not verify:\n%s", buf.String())
	}
	if c := rep.Check(verify.CheckAppHash); c.Status != verify.Pass {
		t.Fatalf("check 15: %s\n%s", c.Status, buf.String())
	}

	call := func(body string) (int, map[string]any) {
		t.Helper()
		res, err := http.Post(ts.URL+"/rpc", "application/json", strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		b, _ := io.ReadAll(res.Body)
		var m map[string]any
		_ = json.Unmarshal(b, &m)
		return res.StatusCode, m
	}
	for _, c := range []struct {
		name, body string
		code       float64
		says       string
	}{
		{"broadcast", `{"jsonrpc":"2.0","id":1,"method":"broadcast_tx_sync","params":{"tx":"AQ=="}}`, -32601, "not served on the public port"},
		{"net_info", `{"jsonrpc":"2.0","id":1,"method":"net_info","params":{}}`, -32601, "not served"},
		{"unsafe", `{"jsonrpc":"2.0","id":1,"method":"unsafe_flush_mempool","params":{}}`, -32601, "not served"},
		{"query path", `{"jsonrpc":"2.0","id":1,"method":"abci_query","params":{"path":"/store/x"}}`, -32602, "not one of the application's public queries"},
		{"hostile path", `{"jsonrpc":"2.0","id":1,"method":"abci_query","params":{"path":"election/<script>&\"'\\x"}}`, 0, ""},
		{"negative height", `{"jsonrpc":"2.0","id":1,"method":"block","params":{"height":"-4"}}`, -32602, "a height is positive"},
		{"height not a number", `{"jsonrpc":"2.0","id":1,"method":"block","params":{"height":"ten"}}`, -32602, "want an integer"},
		{"per_page", `{"jsonrpc":"2.0","id":1,"method":"validators","params":{"per_page":"100000"}}`, -32602, "not within 1 to 100"},
		{"not JSON", `{"jsonrpc":`, -32700, "not one JSON-RPC object"},
		{"batch", `[{"jsonrpc":"2.0","id":1,"method":"status"}]`, -32700, "batches are not served"},
		{"version", `{"jsonrpc":"1.0","id":1,"method":"status"}`, -32600, `"jsonrpc": "2.0"`},
		{"oversize", `{"jsonrpc":"2.0","id":1,"method":"status","params":{"x":"` + strings.Repeat("a", 20<<10) + `"}}`, -32600, "over 16384 bytes"},
	} {
		status, m := call(c.body)
		e, _ := m["error"].(map[string]any)
		if c.code == 0 {
			// An unknown election: the application's own refusal, in the
			// result, with no echo of the hostile text left unescaped.
			if status != http.StatusOK || m["result"] == nil {
				t.Errorf("%s: HTTP %d, error %v", c.name, status, e)
			}
			continue
		}
		if status != http.StatusOK || e == nil || e["code"] != c.code || !strings.Contains(e["data"].(string), c.says) {
			t.Errorf("%s: HTTP %d, error %v, want error %v saying %q", c.name, status, e, c.code, c.says)
		}
	}
	if res, err := http.Get(ts.URL + "/rpc"); err != nil || res.StatusCode != http.StatusMethodNotAllowed {
		t.Errorf("GET /rpc: %v %v", res.StatusCode, err)
	}

	// One address's calls beyond its bucket get 429 with Retry-After.
	_, limited := startServer(t, env, web.Config{ReadRate: 0.01, ReadBurst: 2})
	var got []int
	for range 3 {
		res, err := http.Post(limited.URL+"/rpc", "application/json", strings.NewReader(`{"jsonrpc":"2.0","id":1,"method":"status"}`))
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		got = append(got, res.StatusCode)
		if res.StatusCode == http.StatusTooManyRequests && res.Header.Get("Retry-After") == "" {
			t.Error("429 without Retry-After")
		}
	}
	if got[0] != 200 || got[1] != 200 || got[2] != http.StatusTooManyRequests {
		t.Errorf("statuses %v, want 200 200 429", got)
	}
}

// TestRecordArchive: the whole election record is one download from the
// public port; unpacked, it verifies. A second download within
// RecordMaxAge is the same archive; an unknown election is 404.
func TestRecordArchive(t *testing.T) {
	env := webtest.Start(t, 4, 100*time.Millisecond)
	_, ts := startServer(t, env, web.Config{})
	raw, _ := env.Election.Cast(t, env.Ballot, 0, ballottest.FirstChoices(env.Election.Manifest, ballot.DefaultStyleID))
	env.Commit(t, raw)
	get := func() ([]byte, *http.Response) {
		t.Helper()
		res, err := http.Get(ts.URL + "/api/elections/" + webtest.ElectionID + "/record.tar")
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		b, _ := io.ReadAll(res.Body)
		return b, res
	}
	first, res := get()
	if res.StatusCode != http.StatusOK || res.Header.Get("Content-Type") != "application/x-tar" || !strings.HasPrefix(res.Header.Get("Content-Disposition"), "attachment;") {
		t.Fatalf("HTTP %d %v: %.200s", res.StatusCode, res.Header, first)
	}
	dir := t.TempDir()
	tr := tar.NewReader(bytes.NewReader(first))
	files := 0
	for {
		h, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		if !strings.HasPrefix(h.Name, "record/") || strings.Contains(h.Name, "..") || h.Typeflag != tar.TypeReg {
			t.Fatalf("archive entry %q (type %c)", h.Name, h.Typeflag)
		}
		p := filepath.Join(dir, filepath.FromSlash(h.Name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(tr)
		if err := os.WriteFile(p, b, 0o644); err != nil {
			t.Fatal(err)
		}
		files++
	}
	rep, err := verify.Record(t.Context(), filepath.Join(dir, "record"), verify.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if !rep.OK() {
		var buf bytes.Buffer
		rep.WriteText(&buf)
		t.Fatalf("the downloaded record (%d files) does not verify:\n%s", files, buf.String())
	}
	if second, _ := get(); !bytes.Equal(second, first) {
		t.Error("a second download within RecordMaxAge differs")
	}
	res2, err := http.Get(ts.URL + "/api/elections/no-such-election/record.tar")
	if err != nil {
		t.Fatal(err)
	}
	res2.Body.Close()
	if res2.StatusCode != http.StatusNotFound {
		t.Errorf("unknown election: HTTP %d", res2.StatusCode)
	}
}
