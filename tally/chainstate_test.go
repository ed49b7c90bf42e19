package tally

import (
	"bytes"
	"context"
	"math/rand/v2"
	"path/filepath"
	"reflect"
	"testing"
	"time"

	"github.com/evote/evote/chain"
	"github.com/evote/evote/chain/store"
	"github.com/evote/evote/crypto"
	"github.com/evote/evote/rules"
	"github.com/evote/evote/wire"
)

// TestStateEqualsChain runs the service over a test chain from before the
// election exists to its result, stopped in the middle of the voting and
// restarted over the same store while ballots and a re-vote are cast: at
// the end the election's state in the service's store, read with the rules'
// readers, is the chain's, field by field, and so is every value of every
// bucket of the rules.
func TestStateEqualsChain(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "tally")
	testStateEqualsChain(t, pebbleStore(t, dir), func() store.Store { return pebbleStore(t, dir) })
}

// TestStateEqualsChainPostgres is TestStateEqualsChain with the service's
// state in PostgreSQL.
func TestStateEqualsChainPostgres(t *testing.T) {
	first, reopen := postgresStore(t)
	testStateEqualsChain(t, first, reopen)
}

func testStateEqualsChain(t *testing.T, first store.Store, reopen func() store.Store) {
	tc := newTestChain(t, 1, 6)
	run := func(svc *Service) chan error {
		done := make(chan error, 1)
		go func() { done <- svc.Run(context.Background()) }()
		return done
	}
	svc := tc.newService(0, first)
	done := run(svc)
	tc.setup()
	rng := rand.New(rand.NewPCG(9, 10))
	tl := newTally(tc.e.Manifest)
	cast := func(voters ...int) {
		var txs [][]byte
		for _, i := range voters {
			tx, _ := tc.e.Cast(t, tc.be, i, tl.vote(rng, i))
			txs = append(txs, tx)
		}
		tc.submit(txs...)
	}
	cast(0, 1, 2, 3)
	cast(0, 4)
	auditTx, _ := tc.audit(rng, 5)
	tc.submit(auditTx)
	waitFor(t, "the service to count the first ballots", 10*time.Second, func() bool {
		p := svc.Progress()
		return p.Cast == 6 && p.Audited == 1
	})
	svc.Close()
	if err := <-done; err != nil {
		t.Fatalf("Run after Close: %v", err)
	}
	first.Close()

	// While the service is down: a re-vote and a new voter.
	cast(1, 5)
	st := reopen()
	svc = tc.newService(0, st)
	done = run(svc)
	cast(2)
	tc.submit(wire.Encode(chain.CloseTx(testChainID, tc.id, tc.e.Official)))
	waitFor(t, "the totals on the chain", 15*time.Second, func() bool { return tc.record(0).TotalsHeight > 0 })
	totals, err := tc.apps[0].Totals(t.Context(), tc.id)
	if err != nil {
		t.Fatal(err)
	}
	tc.submit(tc.decryptTx(0, totals), tc.decryptTx(2, totals))
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(20 * time.Second):
		t.Fatalf("no result: %+v", svc.Progress())
	}

	view := newStoreState(t.Context(), st)
	mine, err := rules.Record(view, tc.id)
	if err != nil {
		t.Fatal(err)
	}
	chainRec := tc.record(0)
	if chainRec.Phase != wire.PhaseTallied || chainRec.BallotsCast != 9 || chainRec.BallotsReplaced != 3 || chainRec.Audited != 1 {
		t.Fatalf("the chain's record: %s, %d cast, %d replaced, %d audited", chainRec.Phase, chainRec.BallotsCast, chainRec.BallotsReplaced, chainRec.Audited)
	}
	mv, cv := reflect.ValueOf(*mine), reflect.ValueOf(*chainRec)
	for i := range mv.NumField() {
		name := mv.Type().Field(i).Name
		if name == "Manifest" { // not part of the record's encoding
			continue
		}
		if a, b := mv.Field(i).Interface(), cv.Field(i).Interface(); !reflect.DeepEqual(a, b) {
			t.Errorf("election record, %s: the service's is %v, the chain's %v", name, a, b)
		}
	}
	if m, err := rules.Manifest(view, tc.id); err != nil || !bytes.Equal(m, chainRec.Manifest) {
		t.Errorf("the service's manifest differs from the chain's (%v)", err)
	}
	mt, err := rules.Totals(view, tc.e.Manifest)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(crypto.EncodeCiphertexts(mt), tc.chainTotals(0)) {
		t.Error("the service's totals differ from the chain's")
	}
	// The chain holds one election: each bucket of the rules holds the
	// same keys and values in both stores.
	for _, bucket := range []string{rules.BucketMeta, rules.BucketElection, rules.BucketManifest, rules.BucketCeremony,
		rules.BucketRollChunk, rules.BucketRollBounds, rules.BucketCred, rules.BucketCurrent, rules.BucketBallot,
		rules.BucketBallotCT, rules.BucketTracking, rules.BucketAudited, rules.BucketAuditCount, rules.BucketTotals, rules.BucketShare} {
		a, b := scanBucket(t, st, bucket), scanBucket(t, tc.stores[0], bucket)
		if len(b) == 0 {
			t.Errorf("bucket %s is empty on the chain", bucket)
		}
		if !reflect.DeepEqual(a, b) {
			t.Errorf("bucket %s: the service holds %d values, the chain %d, not the same", bucket, len(a), len(b))
		}
	}
	p := svc.Progress()
	if p.State != StateTallied || p.Counted != chainRec.Counted() || p.Replaced != chainRec.BallotsReplaced || p.Audited != chainRec.Audited ||
		p.ClosedHeight != chainRec.ClosedHeight || p.TotalsHeight != chainRec.TotalsHeight || p.ResultHeight != chainRec.ResultHeight || p.SharesHave != 2 {
		t.Errorf("progress %+v, chain's record %+v", p, chainRec)
	}
	res, ok := svc.Result()
	if !ok {
		t.Fatal("no result")
	}
	var got []uint64
	for _, c := range res.Contests {
		for _, s := range c.Selections {
			got = append(got, s.Count)
		}
	}
	if want := tl.want(); !reflect.DeepEqual(got, want) || !reflect.DeepEqual(got, resultCounts(chainRec)) {
		t.Errorf("result %v, want %v", got, want)
	}
}

// scanBucket returns every key and value of a bucket of st.
func scanBucket(t *testing.T, st store.Store, bucket string) map[string]string {
	t.Helper()
	out := map[string]string{}
	if err := st.Scan(t.Context(), bucket, nil, func(k, v []byte) error {
		out[string(k)] = string(v)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	return out
}
