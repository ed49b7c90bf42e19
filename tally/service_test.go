package tally

import (
	"bytes"
	"context"
	"encoding/json"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/evote/evote/chain"
	"github.com/evote/evote/crypto"
	"github.com/evote/evote/wire"
)

func getJSON(t *testing.T, url string, v any) int {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if err := json.NewDecoder(resp.Body).Decode(v); err != nil {
		t.Fatalf("%s: %v", url, err)
	}
	return resp.StatusCode
}

// TestElection runs an election through the service on one node: the
// service starts before the election exists, counts ballots, re-votes and
// audits as they come, publishes the totals at close, waits for the
// trustees' shares and publishes the result, which must be the choices the
// test made.
func TestElection(t *testing.T) {
	tc := newTestChain(t, 1, 8)
	svc := tc.newService(0, pebbleStore(t, filepath.Join(t.TempDir(), "tally")))
	srv := httptest.NewServer(svc.Handler())
	defer srv.Close()
	progress := func() Progress {
		var p Progress
		getJSON(t, srv.URL+"/progress", &p)
		return p
	}
	runErr := make(chan error, 1)
	go func() { runErr <- svc.Run(context.Background()) }()
	defer svc.Close()

	waitFor(t, "the service to wait for the election", 10*time.Second, func() bool {
		p := progress()
		return p.State == StateWaitingForElection && p.ChainHeight > 0
	})
	tc.setup()
	m := tc.e.Manifest
	rng := rand.New(rand.NewPCG(1, 2))
	tl := newTally(m)

	// Voters 0–5 vote; 0 and 1 change their minds, 0 in the same block.
	var txs [][]byte
	for i := range 6 {
		tx, _ := tc.e.Cast(t, tc.be, i, tl.vote(rng, i))
		txs = append(txs, tx)
	}
	again, _ := tc.e.Cast(t, tc.be, 0, tl.vote(rng, 0))
	txs = append(txs, again)
	tc.submit(txs...)
	revote, _ := tc.e.Cast(t, tc.be, 1, tl.vote(rng, 1))
	tc.submit(revote)
	// Voter 6 audits a ballot, which can then never be cast; voter 7
	// abstains. Truncated and tampered ballots are refused.
	auditTx, spoiled := tc.audit(rng, 6)
	tc.submit(auditTx)
	tc.reject(spoiled, wire.CodeAudited)
	tc.reject(revote[:len(revote)-1], wire.CodeMalformed)
	bad, _ := tc.e.Cast(t, tc.be, 2, tl.vote(rng, 99))
	delete(tl.last, 99)
	bad[len(bad)-10] ^= 1 // in the signature
	tc.reject(bad, wire.CodeBadSignature)

	waitFor(t, "the service to count the ballots", 10*time.Second, func() bool {
		p := progress()
		return p.State == StateFollowing && p.Counted == 6 && p.Replaced == 2 && p.Audited == 1
	})
	// The service's totals are the chain's, computed independently.
	waitFor(t, "the service's totals to equal the chain's", 5*time.Second, func() bool {
		tot, ok := svc.Totals()
		if !ok {
			return false
		}
		var enc []byte
		for _, c := range tot.Contests {
			for _, s := range c.Selections {
				enc = append(enc, s.Ciphertext...)
			}
		}
		return bytes.Equal(enc, tc.chainTotals(0))
	})
	var tot Totals
	if code := getJSON(t, srv.URL+"/totals", &tot); code != 200 || len(tot.Contests) != len(m.Contests) || tot.Contests[1].Selections[6].ID != m.Contests[1].Selections[6].ID || len(tot.Contests[1].Selections[6].Ciphertext) != 64 {
		t.Fatalf("/totals: %d %+v", code, tot)
	}
	if code := getJSON(t, srv.URL+"/result", &map[string]any{}); code != http.StatusNotFound {
		t.Fatalf("/result before the tally: %d", code)
	}

	// Close: the service publishes the totals, the chain accepts them.
	tc.submit(wire.Encode(chain.CloseTx(testChainID, tc.id, tc.e.Official)))
	waitFor(t, "the totals on the chain", 10*time.Second, func() bool { return tc.record(0).TotalsHeight > 0 })
	waitFor(t, "the service to wait for shares", 10*time.Second, func() bool {
		return progress().Status == "waiting for 2 shares: have 0 of 2"
	})
	totals, err := tc.apps[0].Totals(t.Context(), tc.id)
	if err != nil {
		t.Fatal(err)
	}

	// One share of the two needed: the service waits.
	tc.submit(tc.decryptTx(0, totals))
	waitFor(t, "have 1 of 2", 10*time.Second, func() bool {
		p := progress()
		return p.State == StateWaitingForShares && p.Status == "waiting for 2 shares: have 1 of 2"
	})
	// A trustee who decrypts other ciphertexts is named and refused.
	swapped := slices.Clone(totals)
	swapped[0], swapped[1] = totals[1], totals[0]
	msg := tc.reject(tc.decryptTx(1, swapped), wire.CodeInvalidProof)
	if name := m.Trustees.Members[1].Name; !strings.Contains(msg, name) {
		t.Errorf("rejection of a cheating share %q does not name %q", msg, name)
	}
	time.Sleep(300 * time.Millisecond)
	if p := progress(); p.State != StateWaitingForShares || p.ResultHeight != 0 {
		t.Fatalf("after a refused share: %+v", p)
	}

	// The second valid share: the service combines, solves and publishes.
	tc.submit(tc.decryptTx(2, totals))
	select {
	case err := <-runErr:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(15 * time.Second):
		t.Fatalf("the service did not finish: %+v", progress())
	}
	want := tl.want()
	rec := tc.record(0)
	if rec.Phase != wire.PhaseTallied {
		t.Fatalf("phase %s", rec.Phase)
	}
	var got []uint64
	for _, cr := range rec.Result {
		got = append(got, cr.Counts...)
	}
	if !slices.Equal(got, want) {
		t.Fatalf("chain's result %v, want %v", got, want)
	}
	var res Result
	if code := getJSON(t, srv.URL+"/result", &res); code != 200 || res.Height != rec.ResultHeight || res.Counted != 6 {
		t.Fatalf("/result: %d %+v", code, res)
	}
	got = nil
	for ci, c := range res.Contests {
		if c.ID != m.Contests[ci].ID || c.Title != m.Contests[ci].Title {
			t.Fatalf("/result contest %d: %+v", ci, c)
		}
		for _, s := range c.Selections {
			got = append(got, s.Count)
		}
	}
	if !slices.Equal(got, want) {
		t.Fatalf("/result %v, want %v", got, want)
	}
	if p := progress(); p.State != StateTallied || p.Counted != 6 || p.Replaced != 2 || p.Audited != 1 {
		t.Fatalf("/progress: %+v", p)
	}
	var health map[string]string
	if code := getJSON(t, srv.URL+"/healthz", &health); code != 200 || health["state"] != StateTallied {
		t.Fatalf("/healthz: %d %v", code, health)
	}

	// Any two of the three trustees decrypt to the same counts.
	var shares []crypto.DecryptionShare
	for _, k := range tc.e.Trustees {
		s, _, err := k.Decrypt(tc.be.BaseHash, totals)
		if err != nil {
			t.Fatal(err)
		}
		shares = append(shares, s)
	}
	var vks []crypto.Point
	for _, raw := range rec.VerificationKeys {
		p, err := crypto.DecodeNonIdentityPoint(raw)
		if err != nil {
			t.Fatal(err)
		}
		vks = append(vks, p)
	}
	table, err := crypto.NewDlogTable(6)
	if err != nil {
		t.Fatal(err)
	}
	for _, pair := range [][2]int{{0, 1}, {0, 2}, {1, 2}} {
		pts, err := crypto.Combine(tc.be.BaseHash, 2, vks, totals, []crypto.DecryptionShare{shares[pair[0]], shares[pair[1]]})
		if err != nil {
			t.Fatal(err)
		}
		counts, err := table.SolveMany(pts, 1)
		if err != nil || !slices.Equal(counts, want) {
			t.Fatalf("trustees %v: %v %v, want %v", pair, counts, err, want)
		}
	}
	// A share for other ciphertexts is caught by Combine, naming the trustee.
	cheat, _, _ := tc.e.Trustees[1].Decrypt(tc.be.BaseHash, swapped)
	if _, err := crypto.Combine(tc.be.BaseHash, 2, vks, totals, []crypto.DecryptionShare{shares[0], cheat}); err == nil || !strings.Contains(err.Error(), "trustee 2") {
		t.Fatalf("Combine with a cheating share: %v", err)
	}
}
