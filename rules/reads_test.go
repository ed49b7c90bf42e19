package rules_test

import (
	"encoding/base64"
	"testing"

	"github.com/evote/evote/chain"
	"github.com/evote/evote/rules"
	"github.com/evote/evote/wire"
)

// recorder is a State that notes the reads that reach the committed state:
// the keys no transaction of the block has written yet.
type recorder struct {
	rules.State
	written map[string]bool
	reads   []rules.Read
}

func readKey(bucket string, k []byte) string { return bucket + "\x00" + string(k) }

func (r *recorder) Get(bucket string, k []byte) ([]byte, bool, error) {
	if !r.written[readKey(bucket, k)] {
		r.reads = append(r.reads, rules.Read{Bucket: bucket, Key: append([]byte(nil), k...)})
	}
	return r.State.Get(bucket, k)
}

func (r *recorder) Put(bucket string, k, v []byte) {
	r.written[readKey(bucket, k)] = true
	r.State.Put(bucket, k, v)
}

// TestBallotReads: replaying the known-answer blocks, every read of the
// committed state that a ballot's execution makes is one of BallotReads and
// ElectionReads, or, for a re-vote, the replaced ballot's records; so a
// node that fetches those in advance (chain's prefetch) has each ballot's
// reads at hand. The blocks hold first ballots, re-votes and refused
// ballots.
func TestBallotReads(t *testing.T) {
	k := loadKAT(t)
	_, officials, err := chain.ParseGenesisState(k.AppState)
	if err != nil {
		t.Fatal(err)
	}
	r := rules.New(k.ChainID, officials)
	st := rules.NewMemState()
	for _, w := range rules.GenesisWrites(k.ChainID, k.AppState) {
		st.Put(w.Bucket, w.Key, w.Value)
	}
	ballots, revotes := 0, 0
	for _, b := range k.Blocks {
		blk := r.Block(b.Height, b.Time)
		rec := &recorder{State: st, written: map[string]bool{}}
		for i, enc := range b.Txs {
			raw, err := base64.StdEncoding.DecodeString(enc)
			if err != nil {
				t.Fatal(err)
			}
			tx, err := wire.Decode(raw)
			if err != nil {
				continue
			}
			bal, isBallot := tx.(*wire.Ballot)
			allowed := map[string]bool{}
			if isBallot {
				_, ec, err := r.Election(st, bal.ElectionID)
				if err != nil {
					t.Fatal(err)
				}
				v := rules.CheckBallot(ec.Ballot, bal.Cast)
				for _, rd := range append(rules.ElectionReads(bal.ElectionID), rules.BallotReads(bal.ElectionID, v)...) {
					allowed[readKey(rd.Bucket, rd.Key)] = true
				}
				if prev, ok, _ := rec.State.Get(rules.BucketCurrent, rules.Key(bal.ElectionID, v.Credential)); ok {
					allowed[readKey(rules.BucketBallot, rules.Key(bal.ElectionID, prev))] = true
					allowed[readKey(rules.BucketBallotCT, rules.Key(bal.ElectionID, prev))] = true
					revotes++
				}
				ballots++
			}
			layer := st.Layer()
			rec.State = layer
			rec.reads = nil
			if _, err := blk.Apply(rec, rules.Tx{Raw: raw, Tx: tx, Index: i}); err == nil {
				layer.Merge()
			} else {
				// A rejected transaction's writes are dropped.
				for key := range rec.written {
					if _, ok, _ := st.Get(splitReadKey(key)); !ok {
						delete(rec.written, key)
					}
				}
			}
			rec.State = st
			if !isBallot {
				continue
			}
			for _, rd := range rec.reads {
				if !allowed[readKey(rd.Bucket, rd.Key)] {
					t.Errorf("height %d tx %d: the ballot read %s/%x, which BallotReads and ElectionReads do not list", b.Height, i, rd.Bucket, rd.Key)
				}
			}
		}
		blk.End(st)
		st.Commit(b.Height)
	}
	if ballots == 0 || revotes == 0 {
		t.Fatalf("%d ballots, %d re-votes in the known-answer blocks: the test checks nothing", ballots, revotes)
	}
	t.Logf("%d ballots (%d re-votes) read only listed keys", ballots, revotes)
}

func splitReadKey(k string) (string, []byte) {
	for i := range len(k) {
		if k[i] == 0 {
			return k[:i], []byte(k[i+1:])
		}
	}
	return k, nil
}
