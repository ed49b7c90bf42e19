package main

import (
	"fmt"
	"net/http/httptest"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/evote/evote/ballot"
	"github.com/evote/evote/chain"
	"github.com/evote/evote/chain/chaintest"
	"github.com/evote/evote/crypto"
	"github.com/evote/evote/web"
	"github.com/evote/evote/wire"
)

// TestTallyCommand runs `evote tally --once` against a node's RPC endpoint
// as a script would: after close it publishes the totals and waits for the
// trustees; once two of three have decrypted, a second run publishes and
// prints the result.
func TestTallyCommand(t *testing.T) {
	now := time.Now().Truncate(time.Second)
	const chainID, id = "evote-cli-tally", "cli-tally"
	e := chaintest.New(t, chainID, id, 3, now.Add(-time.Hour), now.Add(time.Hour))
	on := startOneNode(t, e)
	app, c, submit := on.app, on.c, func(txs ...[]byte) { t.Helper(); on.submit(t, txs...) }
	be := e.BallotElection(t)
	vote := func(choices ...string) *ballot.Plaintext {
		p := &ballot.Plaintext{StyleID: ballot.DefaultStyleID, Choices: map[string][]string{}}
		for i, ch := range choices {
			if ch != "" {
				p.Choices[fmt.Sprintf("contest-%d", i+1)] = strings.Split(ch, ",")
			}
		}
		return p
	}
	v0, _ := e.Cast(t, be, 0, vote("option-1", "option-2", "option-1", ""))
	v1, _ := e.Cast(t, be, 1, vote("option-2", "option-2,option-3", "option-1,option-2", "option-3"))
	submit(v0, v1)
	v0again, _ := e.Cast(t, be, 0, vote("option-2", "", "option-3", "option-1,option-2"))
	submit(v0again) // committed before the close, which could otherwise be ordered first
	submit(wire.Encode(chain.CloseTx(chainID, id, e.Official)))

	rpc := on.rpc
	data := filepath.Join(t.TempDir(), "tally")
	args := []string{"tally", "--node", rpc, "--election-id", id, "--data", data, "--once"}
	out := mustEvote(t, args...)
	for _, want := range []string{
		"election cli-tally: phase closed",
		"ballots: 2 counted (3 cast, 1 replaced by re-votes), 0 audited",
		"state: waiting-for-shares: waiting for 2 shares: have 0 of 2",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("first run: no %q in\n%s", want, out)
		}
	}
	var totals struct{ Totals []byte }
	if err := chain.QueryJSON(t.Context(), c, "totals/"+id, &totals); err != nil {
		t.Fatal(err)
	}
	var cts []crypto.Ciphertext
	for i := 0; i < len(totals.Totals); i += crypto.CiphertextSize {
		ct, err := crypto.DecodeCiphertext(totals.Totals[i : i+crypto.CiphertextSize])
		if err != nil {
			t.Fatal(err)
		}
		cts = append(cts, ct)
	}
	share := func(i int) []byte {
		s, sig, err := e.Trustees[i].Decrypt(be.BaseHash, cts)
		if err != nil {
			t.Fatal(err)
		}
		return wire.Encode(&wire.Share{ElectionID: id, Trustee: uint64(s.Trustee), Share: s.Encode(), Signature: sig.Encode()})
	}
	submit(share(1))
	out = mustEvote(t, args...)
	if !strings.Contains(out, "waiting for 2 shares: have 1 of 2") {
		t.Errorf("one share: %s", out)
	}
	submit(share(2))
	out = mustEvote(t, args...)
	for _, want := range []string{
		"state: tallied",
		"result (on the chain at height",
		// contest-1: voter 0's second ballot and voter 1 both chose option-2.
		"  Contest 1\n    Option 1: 0\n    Option 2: 2\n    Option 3: 0\n",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("tallied: no %q in\n%s", want, out)
		}
	}
	if rec, _ := app.ElectionRecord(t.Context(), id); rec.Phase != wire.PhaseTallied || rec.Result[0].Counts[1] != 2 {
		t.Errorf("chain: %s %+v", rec.Phase, rec.Result)
	}

	// An observer who knows only the node's public web URL verifies the
	// election and exports its record: the CometBFT RPC port is not needed
	// (web/publicrpc.go).
	srv := web.New(web.Config{}, app, c, chainID)
	ts := httptest.NewServer(srv.Handler())
	defer ts.Close()
	vout := mustEvote(t, "verify", "--node", ts.URL, "--election-id", id)
	if !strings.Contains(vout, "16 checks passed, 0 failed") && !strings.Contains(vout, "checks passed") {
		t.Errorf("verify through the public URL:\n%s", vout)
	}
	// node status, on the RPC address and on the public one, gives the
	// genesis fingerprint node show gives.
	show := mustEvote(t, "node", "show", "--home", on.home)
	fp := regexp.MustCompile(`genesis SHA-256: +([0-9a-f]{64})`).FindStringSubmatch(show)
	if fp == nil {
		t.Fatalf("node show gives no genesis fingerprint:\n%s", show)
	}
	for _, addr := range []string{rpc, ts.URL} {
		sout := mustEvote(t, "node", "status", "--node", addr)
		if !strings.Contains(sout, "genesis SHA-256:  "+fp[1]+"\n") {
			t.Errorf("node status --node %s does not give node show's fingerprint %s:\n%s", addr, fp[1], sout)
		}
		for _, want := range []string{"chain:            " + chainID, "genesis SHA-256:  ", "validators:       1, total voting power"} {
			if !strings.Contains(sout, want) {
				t.Errorf("node status --node %s: no %q in\n%s", addr, want, sout)
			}
		}
		if addr == rpc && !regexp.MustCompile(`votes seen:       height \d+ round \d+: prevotes of power \d+, precommits of power \d+, of 10 \(a block needs more than 2/3: 7\)`).MatchString(sout) {
			t.Errorf("node status --node %s gives no votes seen:\n%s", addr, sout)
		}
		wantPeers := map[bool]string{true: "peers:            none connected", false: "peers:            not named through this address"}[addr == rpc]
		if !strings.Contains(sout, wantPeers) {
			t.Errorf("node status --node %s: no %q in\n%s", addr, wantPeers, sout)
		}
	}
	recDir := filepath.Join(t.TempDir(), "record")
	mustEvote(t, "record", "export", "--node", ts.URL, "--election-id", id, "--out", recDir)
	mustEvote(t, "verify", "--record", recDir)

	// Usage errors are clear.
	_, errOut, code := evote(t, "tally", "--node", rpc, "--election-id", id, "--once")
	if code != 2 || !strings.Contains(errOut, "give --data DIR or --database-url URL") {
		t.Errorf("no store: exit %d %s", code, errOut)
	}
}
