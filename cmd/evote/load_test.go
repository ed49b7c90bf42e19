package main

import (
	"context"
	"crypto/ed25519"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/cometbft/cometbft/rpc/client/local"
	"github.com/cometbft/cometbft/types"

	"github.com/evote/evote/ballot"
	"github.com/evote/evote/chain"
	"github.com/evote/evote/chain/chaintest"
	"github.com/evote/evote/chain/node"
	"github.com/evote/evote/chain/store/pebblestore"
	"github.com/evote/evote/web"
)

// oneNode is a single-validator chain in this process, for the commands'
// tests: its app, its local client, its RPC address and its home folder.
type oneNode struct {
	app       *chain.App
	c         *local.Local
	rpc, home string
}

// startOneNode starts a one-node chain whose genesis authorises e's
// official, and runs e's setup blocks (definition, ceremony, roll, open).
func startOneNode(t *testing.T, e *chaintest.Election) *oneNode {
	t.Helper()
	infos, err := node.GenerateTestnet(t.TempDir(), node.TestnetOptions{
		Nodes: 1, ChainID: e.ChainID, IdleBlockInterval: 100 * time.Millisecond,
		Officials: []string{ballot.FormatEd25519Key(e.Official.Public().(ed25519.PublicKey))},
	})
	if err != nil {
		t.Fatal(err)
	}
	st, err := pebblestore.New(t.Context(), pebblestore.Config{Dir: filepath.Join(infos[0].Home, node.StateDir)})
	if err != nil {
		t.Fatal(err)
	}
	app, err := chain.NewApp(st, chain.AppOptions{})
	if err != nil {
		t.Fatal(err)
	}
	n, err := node.Start(t.Context(), node.Config{Home: infos[0].Home, App: app})
	if err != nil {
		st.Close()
		t.Fatal(err)
	}
	t.Cleanup(func() {
		n.Stop()
		st.Close()
	})
	on := &oneNode{app: app, c: n.Client(), rpc: "http://" + infos[0].RPCAddr, home: infos[0].Home}
	for _, block := range e.SetupBlocks(t) {
		on.submit(t, block...)
	}
	return on
}

// submit sends txs and waits until each is in a block.
func (on *oneNode) submit(t *testing.T, txs ...[]byte) {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 20*time.Second)
	defer cancel()
	for _, tx := range txs {
		if _, err := chain.Submit(ctx, on.c, tx, false); err != nil {
			t.Fatal(err)
		}
	}
	for _, tx := range txs {
		if _, err := chain.WaitTx(ctx, on.c, types.Tx(tx).Hash()); err != nil {
			t.Fatal(err)
		}
	}
}

// TestLoadCodesRange: two `evote load` processes given disjoint ranges of
// codes.csv cast for disjoint voters, together for all of them; a bad range
// is refused before any node is asked.
func TestLoadCodesRange(t *testing.T) {
	now := time.Now().Truncate(time.Second)
	const chainID, id = "evote-cli-load", "cli-load"
	e := chaintest.New(t, chainID, id, 6, now.Add(-time.Hour), now.Add(time.Hour))
	codes := filepath.Join(t.TempDir(), "codes.csv")
	var b strings.Builder
	b.WriteString("card,code,voter,style,weight\n")
	for i, c := range e.Codes {
		fmt.Fprintf(&b, "00000-0000%d,%s,,default,1\n", i, c.Text())
	}
	if err := os.WriteFile(codes, []byte(b.String()), 0o600); err != nil {
		t.Fatal(err)
	}

	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"--codes-range", "4-3"}, `load: --codes-range: range "4-3" is empty: row 4 is after row 3`},
		{[]string{"--codes-range", "0-3"}, `load: --codes-range: range "0-3": "0" is not a row number (1 or more)`},
		{[]string{"--codes-range", "3"}, `load: --codes-range: range "3" is not FROM-TO`},
		{[]string{"--codes-range", "5-7"}, "load: " + codes + " has 6 codes (rows 1 to 6): range 5-7 goes past its end"},
		{[]string{"--codes-range", "1-3", "--voters", "4"}, "load: --voters 4 is not between 0 and the 3 codes to cast for"},
	} {
		// No node listens at the URL: the range is checked first.
		args := append([]string{"load", "--url", "http://127.0.0.1:1", "--election-id", id, "--codes", codes}, c.args...)
		_, errOut, code := evote(t, args...)
		if code != 2 || !strings.Contains(errOut, c.want) {
			t.Errorf("evote %s: exit %d, %q; want exit 2 and %q", strings.Join(c.args, " "), code, errOut, c.want)
		}
	}

	on := startOneNode(t, e)
	srv := web.New(web.Config{}, on.app, on.c, chainID)
	ts := httptest.NewServer(srv.Handler())
	defer ts.Close()
	checkElectionKeyEncoding(t, on, ts.URL, id)
	for _, r := range []string{"1-2", "3-"} {
		out := mustEvote(t, "load", "--url", ts.URL, "--election-id", id, "--codes", codes, "--codes-range", r, "--clients", "2")
		lines := map[string]string{"1-2": "derived 2 credentials (lines 2 to 3 of ", "3-": "derived 4 credentials (lines 4 to 7 of "}[r]
		committed := map[string]string{"1-2": "2 committed", "3-": "4 committed"}[r]
		if !strings.Contains(out, lines) || !strings.Contains(out, committed+", 0 rejected as expected, 0 unexpected") {
			t.Errorf("load --codes-range %s:\n%s", r, out)
		}
	}
	// Each voter cast once: six ballots, none replaced.
	rec, err := on.app.ElectionRecord(t.Context(), id)
	if err != nil {
		t.Fatal(err)
	}
	if rec.BallotsCast != 6 || rec.BallotsReplaced != 0 {
		t.Errorf("the chain has %d ballots, %d replaced; want 6 voters' ballots, none replaced", rec.BallotsCast, rec.BallotsReplaced)
	}
}

// checkElectionKeyEncoding: the election key is printed by election status
// in the encoding the web API and the record serve (base64, docs/record.md).
func checkElectionKeyEncoding(t *testing.T, on *oneNode, webURL, id string) {
	t.Helper()
	var info web.ElectionInfo
	if err := getJSON(t.Context(), webURL+"/api/elections/"+id, &info); err != nil {
		t.Fatal(err)
	}
	raw, err := json.Marshal(info.Record)
	if err != nil {
		t.Fatal(err)
	}
	var served struct {
		JointKey string `json:"joint_key"`
	}
	if err := json.Unmarshal(raw, &served); err != nil || len(served.JointKey) != 44 {
		t.Fatalf("the web API serves joint_key %q, %v", served.JointKey, err)
	}
	if want := base64.StdEncoding.EncodeToString(info.Record.JointKey); served.JointKey != want {
		t.Fatalf("joint_key %q is not the base64 of the key (%s)", served.JointKey, want)
	}
	out := mustEvote(t, "election", "status", "--node", on.rpc, "--election-id", id)
	if !strings.Contains(out, "election key: "+served.JointKey+" (") {
		t.Errorf("election status does not print the key as the API serves it, %s:\n%s", served.JointKey, out)
	}
}
