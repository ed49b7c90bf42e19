package rules_test

import (
	"slices"
	"testing"
	"time"

	"github.com/evote/evote/ballot"
	"github.com/evote/evote/ballot/ballottest"
	"github.com/evote/evote/ballot/credential"
	"github.com/evote/evote/chain"
	"github.com/evote/evote/chain/chaintest"
	"github.com/evote/evote/crypto"
	"github.com/evote/evote/rules"
	"github.com/evote/evote/wire"
)

// blankElection runs an election of ballottest.Blank (contest 1 counting
// its blank ballots encrypted, contest 2 "exactly 1", contest 3 "up-to 1",
// contest 4 "approval") with weighted voters up to close and published
// totals, and returns the blocks, the totals and the shares' transactions
// with the counts they decrypt to.
func blankElection(t *testing.T) (*KATBlocks, *chaintest.Election, [][]byte, []uint64) {
	t.Helper()
	t0 := time.Date(2026, 6, 1, 8, 0, 0, 0, time.UTC)
	all := ballot.DefaultStyleID
	voters := []credential.Entry{{Style: all, Weight: 1}, {Style: all, Weight: 2}, {Style: all, Weight: 5}, {Style: all, Weight: 3}, {Style: all, Weight: 1}}
	e := chaintest.NewWith(t, "blank-chain", "blank-2026", ballottest.Blank(), voters, t0, t0.Add(24*time.Hour))
	k := &KATBlocks{ChainID: e.ChainID, AppState: e.GenesisAppState()}
	add := func(txs ...[]byte) { k.add(t0, txs...) }
	for _, b := range e.SetupBlocks(t) {
		add(b...)
	}
	be := e.BallotElection(t)
	vote := func(i int, c1, c3 []string) []byte {
		tx, _ := e.Cast(t, be, i, &ballot.Plaintext{StyleID: ballot.DefaultStyleID, Choices: map[string][]string{
			"contest-1": c1, "contest-2": {"option-1"}, "contest-3": c3}})
		return tx
	}
	// Contest 1 blank: voters 0 (1) and 2 (5, after a re-vote from a
	// marked ballot) and 4 (1): 7. Voter 3 first votes blank, then marks.
	// Contest 3 blank: voters 1 (2) and 2 (5): 7.
	add(vote(0, nil, []string{"option-1"}), vote(1, []string{"option-1", "option-2"}, nil), vote(2, []string{"option-3"}, []string{"option-2"}), vote(3, nil, []string{"option-1"}))
	add(vote(2, nil, nil), vote(3, []string{"option-2"}, []string{"option-2"}), vote(4, nil, []string{"option-1"}))
	add(wire.Encode(chain.CloseTx(e.ChainID, e.Manifest.ElectionID, e.Official)))
	st := replayState(t, k)
	totals, err := rules.Totals(st, e.Manifest)
	if err != nil {
		t.Fatal(err)
	}
	if len(totals) != 10 {
		t.Fatalf("%d totals, want 10 (4 + 1 blank, 2, 2, 2)", len(totals))
	}
	add(wire.Encode(&wire.Totals{ElectionID: e.Manifest.ElectionID, Ciphertexts: crypto.EncodeCiphertexts(totals)}))
	rec, err := rules.Record(st, e.Manifest.ElectionID)
	if err != nil {
		t.Fatal(err)
	}
	shares, counts := e.Decrypt(t, be, rec, totals)
	add(shares...)
	return k, e, shares, counts
}

// TestBlankResult: the chain accepts the result with the decrypted blank
// count of the count_blank contest, the record holds it apart from the
// counts, and Blanks gives every contest's blank count by its kind.
func TestBlankResult(t *testing.T) {
	k, e, _, counts := blankElection(t)
	// Contest 1: voter 1 (weight 2) marks options 1 and 2, voter 3 (3)
	// option 2 at the re-vote; blank: 7. Contest 3: option 1 by voters 0
	// and 4 (1 each), option 2 by voter 3 (3), blank: 12 − 5 = 7.
	want := []uint64{2, 5, 0, 7, 12, 0, 2, 3, 0, 0}
	if !slices.Equal(counts, want) {
		t.Fatalf("decrypted counts %v, want %v", counts, want)
	}
	k.add(k.Blocks[0].Time.Add(-time.Minute), wire.Encode(&wire.Result{ElectionID: e.Manifest.ElectionID, Counts: counts}))
	st, _, codes := replayAll(t, k)
	for h, cs := range codes {
		for i, c := range cs {
			if c != wire.OK {
				t.Fatalf("height %d tx %d: code %s", h, i, c)
			}
		}
	}
	rec, err := rules.Record(st, e.Manifest.ElectionID)
	if err != nil {
		t.Fatal(err)
	}
	if rec.Phase != wire.PhaseTallied || rec.WeightCounted != 12 || rec.Result[0].Blank == nil || *rec.Result[0].Blank != 7 ||
		!slices.Equal(rec.Result[0].Counts, []uint64{2, 5, 0}) || rec.Result[2].Blank != nil {
		t.Fatalf("record %+v", rec.Result)
	}
	// The stored encoding lists the blank count after the counts; a
	// decoding without the manifest leaves it there.
	raw, _, _ := st.Get(rules.BucketElection, []byte(e.Manifest.ElectionID))
	flat, err := rules.DecodeElectionRecord(raw)
	if err != nil || !slices.Equal(flat.Result[0].Counts, []uint64{2, 5, 0, 7}) {
		t.Fatalf("stored result %+v, %v", flat.Result, err)
	}
	blanks, err := rules.Blanks(e.Manifest, rec)
	if err != nil {
		t.Fatal(err)
	}
	wantKinds := []rules.BlankKind{rules.BlankEncrypted, rules.BlankImpossible, rules.BlankDerived, rules.BlankNotCounted}
	wantCounts := []uint64{7, 0, 7}
	for i, b := range blanks {
		if b.Kind != wantKinds[i] || (b.Count == nil) != (i == 3) || i < 3 && *b.Count != wantCounts[i] {
			t.Errorf("contest %d: blank %+v, want %s %v", i+1, b, wantKinds[i], wantCounts)
		}
	}
	// Blanks refuses a record whose result does not fit the manifest.
	bad := rec.Clone()
	bad.Result = slices.Clone(rec.Result)
	bad.Result[0].Blank = nil
	if _, err := rules.Blanks(e.Manifest, bad); err == nil {
		t.Error("a count_blank result without its blank count accepted")
	}
	bad.Result = slices.Clone(rec.Result)
	bad.WeightCounted = 4
	if _, err := rules.Blanks(e.Manifest, bad); err == nil {
		t.Error("derived blank count below zero accepted")
	}
}

// TestBlankResultRefused: the chain refuses a result whose blank count is
// wrong (17, naming the contest's blank position) and one without it or
// with a blank count where there is none (1).
func TestBlankResultRefused(t *testing.T) {
	k, e, _, counts := blankElection(t)
	id := e.Manifest.ElectionID
	st := replayState(t, k)
	_, officials, err := chain.ParseGenesisState(k.AppState)
	if err != nil {
		t.Fatal(err)
	}
	r := rules.New(k.ChainID, officials)
	apply := func(tx wire.Tx) *rules.Rejection {
		t.Helper()
		raw := wire.Encode(tx)
		_, err := r.Block(int64(len(k.Blocks)+1), k.Blocks[len(k.Blocks)-1].Time.Add(time.Minute)).Apply(st.Layer(), rules.Tx{Raw: raw, Tx: tx})
		rej := rules.AsRejection(err)
		if rej == nil {
			t.Fatalf("%T accepted (%v)", tx, err)
		}
		return rej
	}
	for _, tc := range []struct {
		name   string
		counts []uint64
		code   wire.Code
		sel    string
	}{
		{"blank count one more", with(counts, 3, counts[3]+1), wire.CodeWrongResult, ballot.BlankSelection},
		{"blank count one less", with(counts, 3, counts[3]-1), wire.CodeWrongResult, ballot.BlankSelection},
		{"blank count above the weight", with(counts, 3, 13), wire.CodeWrongResult, ballot.BlankSelection},
		{"blank count left out", slices.Delete(slices.Clone(counts), 3, 4), wire.CodeMalformed, ""},
		{"blank count in a contest without count_blank", slices.Insert(slices.Clone(counts), 8, 7), wire.CodeMalformed, ""},
	} {
		rej := apply(&wire.Result{ElectionID: id, Counts: tc.counts})
		if rej.Code != tc.code || rej.Selection != tc.sel || tc.sel != "" && rej.Contest != "contest-1" {
			t.Errorf("%s: %v (code %s, contest %q, selection %q), want %s at %q", tc.name, rej, rej.Code, rej.Contest, rej.Selection, tc.code, tc.sel)
		}
	}
	if rec, _ := rules.Record(st, id); rec.Phase == wire.PhaseTallied {
		t.Error("tallied by a refused result")
	}
	if c, s := rules.Position(e.Manifest, 3); c != "contest-1" || s != ballot.BlankSelection {
		t.Errorf("position 3 is %q, %q", c, s)
	}
	if c, s := rules.Position(e.Manifest, 4); c != "contest-2" || s != "option-1" {
		t.Errorf("position 4 is %q, %q", c, s)
	}
}

// with returns a copy of counts with counts[i] = v.
func with(counts []uint64, i int, v uint64) []uint64 {
	out := slices.Clone(counts)
	out[i] = v
	return out
}

// TestBlankBallotRefused: a signed ballot whose blank ciphertext is another
// ballot's, or whose blank range proof is another ballot's, is refused by
// the chain as an invalid proof (7) naming the contest and the blank part.
func TestBlankBallotRefused(t *testing.T) {
	t0 := time.Date(2026, 6, 1, 8, 0, 0, 0, time.UTC)
	all := ballot.DefaultStyleID
	e := chaintest.NewWith(t, "blank-chain", "blank-2026", ballottest.Blank(), []credential.Entry{{Style: all, Weight: 1}, {Style: all, Weight: 1}}, t0, t0.Add(24*time.Hour))
	k := &KATBlocks{ChainID: e.ChainID, AppState: e.GenesisAppState()}
	for _, b := range e.SetupBlocks(t) {
		k.add(t0, b...)
	}
	st := replayState(t, k)
	_, officials, err := chain.ParseGenesisState(k.AppState)
	if err != nil {
		t.Fatal(err)
	}
	r := rules.New(k.ChainID, officials)
	be := e.BallotElection(t)
	p := &ballot.Plaintext{StyleID: all, Choices: map[string][]string{"contest-2": {"option-1"}}}
	_, other := e.Cast(t, be, 1, p)
	for _, tc := range []struct {
		name   string
		mutate func(b *ballot.EncryptedBlank)
		part   string
	}{
		{"another ballot's blank ciphertext", func(b *ballot.EncryptedBlank) {
			b.Ciphertext, b.Proof = other.Contests[0].Blank.Ciphertext, other.Contests[0].Blank.Proof
		}, ballot.BlankSelection},
		{"another ballot's blank range proof", func(b *ballot.EncryptedBlank) { b.Range = other.Contests[0].Blank.Range }, ballot.BlankRangeSelection},
	} {
		_, b := e.Cast(t, be, 0, p)
		blank := *b.Contests[0].Blank
		tc.mutate(&blank)
		b.Contests[0].Blank = &blank
		c, err := be.Sign(e.Credentials[0], b)
		if err != nil {
			t.Fatal(err)
		}
		tx := &wire.Ballot{ElectionID: e.Manifest.ElectionID, Cast: c.Encode()}
		_, err = r.Block(int64(len(k.Blocks)+1), t0.Add(time.Hour)).Apply(st.Layer(), rules.Tx{Raw: wire.Encode(tx), Tx: tx})
		if rej := rules.AsRejection(err); rej == nil || rej.Code != wire.CodeInvalidProof || rej.Contest != "contest-1" || rej.Selection != tc.part {
			t.Errorf("%s: %v, want code 7 at contest-1, %s", tc.name, err, tc.part)
		}
	}
}
