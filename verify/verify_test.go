package verify_test

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	rpcclient "github.com/cometbft/cometbft/rpc/client"
	"github.com/cometbft/cometbft/types"

	"github.com/evote/evote/ballot"
	"github.com/evote/evote/ballot/ballottest"
	"github.com/evote/evote/ballot/credential"
	"github.com/evote/evote/chain"
	"github.com/evote/evote/chain/chaintest"
	"github.com/evote/evote/chain/node"
	"github.com/evote/evote/chain/store/pebblestore"
	"github.com/evote/evote/crypto"
	"github.com/evote/evote/record"
	"github.com/evote/evote/verify"
	"github.com/evote/evote/wire"
)

const electionID = "verify-2026"

// fixture is one real election run on an in-process node, exported.
type fixture struct {
	dir      string // the exported record
	election *chaintest.Election
	be       *ballot.Election
	node     *node.Node
	counts   []uint64
	audit    []byte // an audited ballot file that is on the chain
}

var (
	fixOnce sync.Once
	fix     *fixture
	fixErr  string
	fixStop func()
)

func TestMain(m *testing.M) {
	code := m.Run()
	if fixStop != nil {
		fixStop()
	}
	os.Exit(code)
}

// getFixture runs the election once for all tests of the package.
func getFixture(t *testing.T) *fixture {
	t.Helper()
	fixOnce.Do(func() {
		tb := &onceTB{T: t}
		func() {
			defer func() {
				if r := recover(); r != nil && r != errFatal {
					panic(r)
				}
			}()
			fix = runElection(tb)
		}()
		if tb.failed != "" {
			fixErr = tb.failed
		}
	})
	if fixErr != "" {
		t.Fatalf("setting up the election: %s", fixErr)
	}
	return fix
}

// onceTB lets the fixture outlive the test that builds it.
type onceTB struct {
	*testing.T
	failed string
}

var errFatal = fmt.Errorf("fatal")

func (o *onceTB) Fatal(args ...any) { o.failed = fmt.Sprint(args...); panic(errFatal) }
func (o *onceTB) Fatalf(f string, args ...any) {
	o.failed = fmt.Sprintf(f, args...)
	panic(errFatal)
}
func (o *onceTB) Helper() {}

func runElection(t *onceTB) *fixture {
	base, err := os.MkdirTemp("", "evote-verify-test-")
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now().UTC().Truncate(time.Second)
	// Two ballot styles and weights: the verifier recomputes weighted totals
	// and checks each ballot's style against its credential's.
	voters := []credential.Entry{{Style: "north", Weight: 1}, {Style: "south", Weight: 2}, {Style: "north", Weight: 1},
		{Style: "south", Weight: 5}, {Style: "north", Weight: 1}, {Style: "south", Weight: 1}}
	e := chaintest.NewWith(t, "evote-verify-test", electionID, ballottest.Districts(), voters, now.Add(-time.Hour), now.Add(time.Hour))
	nodes, err := node.GenerateTestnet(filepath.Join(base, "net"), node.TestnetOptions{
		Nodes: 1, ChainID: "evote-verify-test", IdleBlockInterval: 300 * time.Millisecond,
		Officials: []string{ballot.FormatEd25519Key(e.Official.Public().(ed25519.PublicKey))},
	})
	if err != nil {
		t.Fatal(err)
	}
	st, err := pebblestore.New(context.Background(), pebblestore.Config{Dir: filepath.Join(nodes[0].Home, node.StateDir)})
	if err != nil {
		t.Fatal(err)
	}
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelError}))
	app, err := chain.NewApp(st, chain.AppOptions{Logger: log})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	n, err := node.Start(ctx, node.Config{Home: nodes[0].Home, App: app, Logger: log})
	if err != nil {
		t.Fatal(err)
	}
	fixStop = func() { n.Stop(); st.Close(); os.RemoveAll(base) }
	c := n.Client()
	send := func(txs ...[]byte) {
		var hashes [][]byte
		for _, tx := range txs {
			if _, err := chain.Submit(ctx, c, tx, false); err != nil {
				t.Fatalf("submit: %v", err)
			}
			hashes = append(hashes, types.Tx(tx).Hash())
		}
		for _, h := range hashes {
			if _, err := chain.WaitTx(ctx, c, h); err != nil {
				t.Fatalf("wait: %v", err)
			}
		}
	}
	for _, blk := range e.SetupBlocks(t) {
		send(blk...)
	}
	be := e.BallotElection(t)
	m := e.Manifest
	// choose returns choices k of voter v's ballot style.
	choose := func(v, k int) *ballot.Plaintext {
		p := &ballot.Plaintext{StyleID: voters[v].Style, Choices: map[string][]string{}}
		cs, _ := m.StyleContests(voters[v].Style)
		for _, ct := range cs {
			lo, hi := ct.MinSelections(), ct.MaxSelections()
			want := min(max(lo, 1), hi)
			for j := 0; j < want; j++ {
				p.Choices[ct.ID] = append(p.Choices[ct.ID], ct.Selections[(k+j)%len(ct.Selections)].ID)
			}
		}
		return p
	}
	// Voters 0–4 vote, voter 0 and 1 vote again; voter 5 audits a ballot.
	var first [][]byte
	for i := range 5 {
		tx, _ := e.Cast(t, be, i, choose(i, i))
		first = append(first, tx)
	}
	send(first...)
	again0, _ := e.Cast(t, be, 0, choose(0, 3))
	again1, _ := e.Cast(t, be, 1, choose(1, 2))
	send(again0, again1)
	b5, sec5, err := be.Encrypt(rand.Reader, e.Credentials[5].PublicKey(), choose(5, 5))
	if err != nil {
		t.Fatal(err)
	}
	a5, err := be.SignAudit(e.Credentials[5], b5, sec5)
	if err != nil {
		t.Fatal(err)
	}
	auditFile, err := a5.MarshalJSON()
	if err != nil {
		t.Fatal(err)
	}
	send(wire.Encode(&wire.Audit{ElectionID: electionID, File: auditFile}))
	// A ballot and its audit sent together: both pass CheckTx, the block
	// accepts the first and rejects the second (code 9): a rejected
	// transaction in a block. Retried if a block falls between them.
	for try := 0; ; try++ {
		b, sec, _ := be.Encrypt(rand.Reader, e.Credentials[5].PublicKey(), choose(5, try))
		cast, _ := be.Sign(e.Credentials[5], b)
		sa, _ := be.SignAudit(e.Credentials[5], b, sec)
		af, _ := sa.MarshalJSON()
		atx := wire.Encode(&wire.Audit{ElectionID: electionID, File: af})
		ctx2 := wire.Encode(&wire.Ballot{ElectionID: electionID, Cast: cast.Encode()})
		if _, err := chain.Submit(ctx, c, atx, false); err != nil {
			t.Fatal(err)
		}
		_, err := chain.Submit(ctx, c, ctx2, false)
		r, _ := chain.WaitTx(ctx, c, types.Tx(atx).Hash())
		if err == nil {
			if r2, err2 := chain.WaitTx(ctx, c, types.Tx(ctx2).Hash()); r2 != nil && r.Height == r2.Height && chain.IsCode(err2, wire.CodeAudited) {
				break
			}
		}
		if try == 10 {
			t.Fatal("could not get a rejected ballot into a block")
		}
	}
	send(wire.Encode(chain.CloseTx(e.ChainID, electionID, e.Official)))
	totals, err := app.Totals(ctx, electionID)
	if err != nil {
		t.Fatal(err)
	}
	var enc []byte
	for _, ct := range totals {
		enc = append(enc, ct.Encode()...)
	}
	send(wire.Encode(&wire.Totals{ElectionID: electionID, Ciphertexts: enc}))
	var shares []crypto.DecryptionShare
	for _, k := range e.Trustees {
		s, sig, err := k.Decrypt(be.BaseHash, totals)
		if err != nil {
			t.Fatal(err)
		}
		shares = append(shares, s)
		send(wire.Encode(&wire.Share{ElectionID: electionID, Trustee: uint64(s.Trustee), Share: s.Encode(), Signature: sig.Encode()}))
	}
	var vks []crypto.Point
	for _, raw := range e.Trustees[0].Ceremonies[electionID].VerificationKeys {
		p, _ := crypto.DecodeNonIdentityPoint(raw)
		vks = append(vks, p)
	}
	points, err := crypto.Combine(be.BaseHash, m.Trustees.Threshold, vks, totals, shares)
	if err != nil {
		t.Fatal(err)
	}
	var counts []uint64
	for _, p := range points {
		k := uint64(0)
		for ; k < 100 && !crypto.BaseMul(crypto.ScalarFromUint64(k)).IsEqual(p); k++ {
		}
		counts = append(counts, k)
	}
	send(wire.Encode(&wire.Result{ElectionID: electionID, Counts: counts}))
	dir := filepath.Join(base, "record")
	if err := record.Export(ctx, c, electionID, dir); err != nil {
		t.Fatal(err)
	}
	return &fixture{dir: dir, election: e, be: be, node: n, counts: counts, audit: auditFile}
}

func verifyDir(t *testing.T, dir string) *verify.Report {
	t.Helper()
	r, err := verify.Record(context.Background(), dir, verify.Options{MaxFailures: 50})
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func TestVerifyRecord(t *testing.T) {
	f := getFixture(t)
	r := verifyDir(t, f.dir)
	var buf bytes.Buffer
	r.WriteText(&buf)
	t.Log("\n" + buf.String())
	if !r.OK() {
		t.Fatal("verification of an honest record failed")
	}
	for _, n := range []int{verify.CheckBallots, verify.CheckRevote, verify.CheckAudits, verify.CheckTotals, verify.CheckShares, verify.CheckCombination, verify.CheckCounts} {
		if c := r.Check(n); c.Status != verify.Pass {
			t.Errorf("check %d: %s, want pass", n, c.Status)
		}
	}
	// A rejected transaction is in a block and re-executed alike.
	if !strings.Contains(buf.String(), "rejected") {
		t.Error("no rejected transaction in the report")
	}
	var js bytes.Buffer
	if err := r.WriteJSON(&js); err != nil || !json.Valid(js.Bytes()) {
		t.Fatalf("JSON report: %v", err)
	}
}

func TestVerifyNodes(t *testing.T) {
	f := getFixture(t)
	c := f.node.Client()
	r, err := verify.Nodes(context.Background(), []rpcclient.Client{c, c}, electionID, verify.NodesOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if !r.OK() || r.Check(verify.CheckFork) == nil || r.Check(verify.CheckFork).Status != verify.Pass {
		var buf bytes.Buffer
		r.WriteText(&buf)
		t.Fatalf("verifying the node failed:\n%s", buf.String())
	}
}

func TestAuditRecord(t *testing.T) {
	f := getFixture(t)
	r, err := verify.AuditRecord(context.Background(), f.dir, f.audit)
	if err != nil {
		t.Fatal(err)
	}
	cs, _ := f.election.Manifest.StyleContests(f.election.Voters[5].Style)
	if !r.Valid || r.OnChain != "audited" || r.Height == 0 || len(r.Choices) != len(cs) {
		t.Fatalf("audit report %+v", r)
	}
	// A revealed mark changed: invalid, still named by its tracking code.
	var a map[string]any
	json.Unmarshal(f.audit, &a)
	marks := a["marks"].([]any)[0].([]any)
	marks[0], marks[1] = marks[1], marks[0]
	bad, _ := json.Marshal(a)
	r, err = verify.AuditRecord(context.Background(), f.dir, bad)
	if err != nil {
		t.Fatal(err)
	}
	if r.Valid || r.Error == "" || r.TrackingCode == "" {
		t.Fatalf("tampered audit: %+v", r)
	}
}
