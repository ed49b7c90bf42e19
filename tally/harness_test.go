package tally

import (
	"context"
	"crypto/ed25519"
	cryptorand "crypto/rand"
	"encoding/json"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	rpcclient "github.com/cometbft/cometbft/rpc/client"
	"github.com/cometbft/cometbft/types"
	"github.com/jackc/pgx/v5"

	"github.com/evote/evote/ballot"
	"github.com/evote/evote/chain"
	"github.com/evote/evote/chain/chaintest"
	"github.com/evote/evote/chain/node"
	"github.com/evote/evote/chain/store"
	"github.com/evote/evote/chain/store/pebblestore"
	"github.com/evote/evote/chain/store/pgstore"
	"github.com/evote/evote/crypto"
	"github.com/evote/evote/rules"
	"github.com/evote/evote/wire"
)

const testChainID = "evote-tally-test"

// testChain is one in-process authority node (or several) running an
// election built by chaintest.
type testChain struct {
	t      *testing.T
	nodes  []*node.Node
	apps   []*chain.App
	stores []store.Store // the nodes' state
	e      *chaintest.Election
	be     *ballot.Election
	id     string
}

func testLogger(t testing.TB) *slog.Logger {
	return slog.New(slog.NewTextHandler(tWriter{t}, &slog.HandlerOptions{Level: slog.LevelWarn}))
}

type tWriter struct{ t testing.TB }

func (w tWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimRight(string(p), "\n"))
	return len(p), nil
}

// newTestChain starts n nodes of a new chain whose genesis authorises the
// election's official. The election is not set up yet (setup does it).
func newTestChain(t *testing.T, nodes, voters int) *testChain {
	t.Helper()
	now := time.Now().Truncate(time.Second)
	id := "tally-test"
	e := chaintest.New(t, testChainID, id, voters, now.Add(-time.Hour), now.Add(time.Hour))
	dir := t.TempDir()
	infos, err := node.GenerateTestnet(dir, node.TestnetOptions{
		Nodes: nodes, ChainID: testChainID, IdleBlockInterval: 100 * time.Millisecond,
		Officials: []string{ballot.FormatEd25519Key(e.Official.Public().(ed25519.PublicKey))},
	})
	if err != nil {
		t.Fatal(err)
	}
	tc := &testChain{t: t, e: e, id: id, nodes: make([]*node.Node, len(infos))}
	var wg sync.WaitGroup
	errs := make([]error, len(infos))
	for i, in := range infos {
		st, err := pebblestore.New(t.Context(), pebblestore.Config{Dir: filepath.Join(in.Home, node.StateDir)})
		if err != nil {
			t.Fatal(err)
		}
		app, err := chain.NewApp(st, chain.AppOptions{Logger: testLogger(t)})
		if err != nil {
			t.Fatal(err)
		}
		tc.apps = append(tc.apps, app)
		tc.stores = append(tc.stores, st)
		wg.Go(func() {
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
			defer cancel()
			n, err := node.Start(ctx, node.Config{Home: in.Home, App: app, Logger: testLogger(t)})
			if err != nil {
				errs[i] = err
				st.Close()
				return
			}
			tc.nodes[i] = n
			t.Cleanup(func() {
				if err := n.Stop(); err != nil {
					t.Error(err)
				}
				st.Close()
			})
		})
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	// A node refuses transactions until it has caught up with its peers.
	waitFor(t, "the nodes to be in consensus", 20*time.Second, func() bool {
		for _, n := range tc.nodes {
			st, err := n.Client().Status(t.Context())
			if err != nil || st.SyncInfo.CatchingUp {
				return false
			}
		}
		return true
	})
	return tc
}

func (tc *testChain) client(i int) rpcclient.Client { return tc.nodes[i].Client() }

// submit sends transactions to node 0 and waits until all are in blocks.
func (tc *testChain) submit(txs ...[]byte) {
	tc.t.Helper()
	ctx, cancel := context.WithTimeout(tc.t.Context(), 20*time.Second)
	defer cancel()
	for _, tx := range txs {
		if _, err := chain.Submit(ctx, tc.client(0), tx, false); err != nil {
			tc.t.Fatalf("submit %s: %v", txType(tx), err)
		}
	}
	for _, tx := range txs {
		if _, err := chain.WaitTx(ctx, tc.client(0), types.Tx(tx).Hash()); err != nil {
			tc.t.Fatalf("wait for %s: %v", txType(tx), err)
		}
	}
}

// reject sends a transaction that must be refused with the given code, and
// returns the refusal's message.
func (tc *testChain) reject(tx []byte, code wire.Code) string {
	tc.t.Helper()
	_, err := chain.Submit(tc.t.Context(), tc.client(0), tx, true)
	if !chain.IsCode(err, code) {
		tc.t.Fatalf("%s: got %v, want rejection code %d", txType(tx), err, code)
	}
	return err.Error()
}

func txType(tx []byte) string {
	d, err := wire.Decode(tx)
	if err != nil {
		return "malformed transaction"
	}
	return d.Kind().String()
}

// setup defines the election, runs the key ceremony, loads the roll and
// opens the election.
func (tc *testChain) setup() {
	tc.t.Helper()
	for _, block := range tc.e.SetupBlocks(tc.t) {
		tc.submit(block...)
	}
	tc.be = tc.e.BallotElection(tc.t)
}

// tally is a test's record of the choices that count.
type tally struct {
	m    *ballot.Manifest
	last map[int][][]uint64 // voter → marks of the ballot that counts
}

func newTally(m *ballot.Manifest) *tally { return &tally{m: m, last: map[int][][]uint64{}} }

// vote draws valid random choices for voter i and records them as the
// voter's counted ballot.
func (tl *tally) vote(rng *rand.Rand, i int) *ballot.Plaintext {
	p := &ballot.Plaintext{StyleID: ballot.DefaultStyleID, Choices: map[string][]string{}}
	for _, c := range tl.m.Contests {
		lo, hi := c.MinSelections(), c.MaxSelections()
		n := lo + rng.IntN(hi-lo+1)
		for _, k := range rng.Perm(len(c.Selections))[:n] {
			p.Choices[c.ID] = append(p.Choices[c.ID], c.Selections[k].ID)
		}
	}
	marks, err := p.Marks(tl.m)
	if err != nil {
		panic(err)
	}
	tl.last[i] = marks
	return p
}

// want returns the expected counts in manifest order.
func (tl *tally) want() []uint64 {
	var out []uint64
	for ci, c := range tl.m.Contests {
		for k := range c.Selections {
			var n uint64
			for _, marks := range tl.last {
				n += marks[ci][k]
			}
			out = append(out, n)
		}
	}
	return out
}

// audit encrypts a ballot for voter i and returns its audit transaction
// and the cast transaction of the same (now spoiled) ballot.
func (tc *testChain) audit(rng *rand.Rand, i int) (auditTx, castTx []byte) {
	tc.t.Helper()
	p := newTally(tc.e.Manifest).vote(rng, i)
	b, sec, err := tc.be.Encrypt(cryptorand.Reader, tc.e.Credentials[i].PublicKey(), p)
	if err != nil {
		tc.t.Fatal(err)
	}
	a, err := tc.be.SignAudit(tc.e.Credentials[i], b, sec)
	if err != nil {
		tc.t.Fatal(err)
	}
	raw, err := json.Marshal(a)
	if err != nil {
		tc.t.Fatal(err)
	}
	c, err := tc.be.Sign(tc.e.Credentials[i], b)
	if err != nil {
		tc.t.Fatal(err)
	}
	return wire.Encode(&wire.Audit{ElectionID: tc.id, File: raw}), wire.Encode(&wire.Ballot{ElectionID: tc.id, Cast: c.Encode()})
}

// chainTotals returns the application's own totals on node i.
func (tc *testChain) chainTotals(i int) []byte {
	tc.t.Helper()
	t, err := tc.apps[i].Totals(tc.t.Context(), tc.id)
	if err != nil {
		tc.t.Fatal(err)
	}
	return crypto.EncodeCiphertexts(t)
}

func (tc *testChain) record(i int) *rules.ElectionRecord {
	tc.t.Helper()
	rec, err := tc.apps[i].ElectionRecord(tc.t.Context(), tc.id)
	if err != nil {
		tc.t.Fatal(err)
	}
	return rec
}

// decryptTx returns trustee i's (0-based) share transaction for totals.
func (tc *testChain) decryptTx(i int, totals []crypto.Ciphertext) []byte {
	tc.t.Helper()
	s, sig, err := tc.e.Trustees[i].Decrypt(tc.be.BaseHash, totals)
	if err != nil {
		tc.t.Fatal(err)
	}
	return wire.Encode(&wire.Share{ElectionID: tc.id, Trustee: uint64(s.Trustee), Share: s.Encode(), Signature: sig.Encode()})
}

// newService returns a service following node i over st.
func (tc *testChain) newService(i int, st store.Store) *Service {
	tc.t.Helper()
	s, err := New(tc.t.Context(), Config{Client: tc.client(i), ElectionID: tc.id, Store: st,
		Logger: testLogger(tc.t), PollInterval: 200 * time.Millisecond})
	if err != nil {
		tc.t.Fatal(err)
	}
	return s
}

// waitFor polls cond until it holds or the timeout passes.
func waitFor(t *testing.T, what string, timeout time.Duration, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s", timeout, what)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func pebbleStore(t testing.TB, dir string) store.Store {
	t.Helper()
	st, err := pebblestore.New(context.Background(), pebblestore.Config{Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

// The PostgreSQL tests need a server: $EVOTE_TEST_DATABASE_URL or the
// default below. Each test uses a schema of its own, dropped at its end.
// Without a server they fail, unless EVOTE_SKIP_POSTGRES=1.
const defaultTestDatabaseURL = "postgres://postgres@127.0.0.1:5432/test?sslmode=disable"

func postgresStore(t *testing.T) (store.Store, func() store.Store) {
	t.Helper()
	url := os.Getenv("EVOTE_TEST_DATABASE_URL")
	if url == "" {
		url = defaultTestDatabaseURL
	}
	ctx, cancel := context.WithTimeout(t.Context(), 5*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, url)
	if err == nil {
		err = conn.Ping(ctx)
		conn.Close(ctx)
	}
	if err != nil {
		if os.Getenv("EVOTE_SKIP_POSTGRES") == "1" {
			t.Skipf("PostgreSQL unreachable, skipped because EVOTE_SKIP_POSTGRES=1: %v", err)
		}
		t.Fatalf("PostgreSQL unreachable at %s: %v\nstart a server, set EVOTE_TEST_DATABASE_URL, or set EVOTE_SKIP_POSTGRES=1 to skip", url, err)
	}
	schema := fmt.Sprintf("evote_tally_test_%d_%d", os.Getpid(), time.Now().UnixNano()%1e9)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		conn, err := pgx.Connect(ctx, url)
		if err != nil {
			t.Errorf("drop schema %s: %v", schema, err)
			return
		}
		defer conn.Close(ctx)
		if _, err := conn.Exec(ctx, `DROP SCHEMA IF EXISTS `+pgx.Identifier{schema}.Sanitize()+` CASCADE`); err != nil {
			t.Errorf("drop schema %s: %v", schema, err)
		}
	})
	open := func() store.Store {
		st, err := pgstore.New(t.Context(), pgstore.Config{URL: url, Schema: schema})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { st.Close() })
		return st
	}
	return open(), open
}
