package tally

import (
	"encoding/json"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/evote/evote/ballot"
	"github.com/evote/evote/ballot/ballottest"
	"github.com/evote/evote/ballot/credential"
	"github.com/evote/evote/chain"
	"github.com/evote/evote/chain/chaintest"
	"github.com/evote/evote/crypto"
	"github.com/evote/evote/wire"
)

// TestBlankResult: the service decrypts a count_blank contest's blank total
// with the counts, and /result gives every contest's blank count and how it
// is counted (null where it is not).
func TestBlankResult(t *testing.T) {
	now := time.Now().Truncate(time.Second)
	all := ballot.DefaultStyleID
	e := chaintest.NewWith(t, "evote-tally-blank", "blank", ballottest.Blank(),
		[]credential.Entry{{Style: all, Weight: 1}, {Style: all, Weight: 4}, {Style: all, Weight: 2}}, now.Add(-time.Hour), now.Add(time.Hour))
	setup := e.SetupBlocks(t)
	o := newOffline(t, e, pebbleStore(t, t.TempDir()))
	for _, blk := range setup {
		o.accept(blk...)
	}
	be := e.BallotElection(t)
	vote := func(i int, c1, c3 []string) []byte {
		tx, _ := e.Cast(t, be, i, &ballot.Plaintext{StyleID: all, Choices: map[string][]string{"contest-1": c1, "contest-2": {"option-2"}, "contest-3": c3}})
		return tx
	}
	// Contest 1 blank: voters 0 and 1 (weight 5); contest 3 blank: voter 2 (2).
	o.accept(vote(0, nil, []string{"option-1"}), vote(1, nil, []string{"option-2"}), vote(2, []string{"option-1", "option-3"}, nil))
	o.accept(wire.Encode(chain.CloseTx(e.ChainID, e.Manifest.ElectionID, e.Official)))
	s := o.state()
	o.accept(wire.Encode(&wire.Totals{ElectionID: e.Manifest.ElectionID, Ciphertexts: crypto.EncodeCiphertexts(s.totals)}))
	shares, counts := e.Decrypt(t, be, o.state().rec, s.totals)
	o.accept(shares...)
	o.accept(wire.Encode(&wire.Result{ElectionID: e.Manifest.ElectionID, Counts: counts}))
	if _, err := o.svc.act(t.Context(), o.state().height); err != nil {
		t.Fatal(err)
	}
	rec := httptest.NewRecorder()
	o.svc.Handler().ServeHTTP(rec, httptest.NewRequest("GET", "/result", nil))
	var res struct {
		Contests []struct {
			ID        string  `json:"id"`
			Blank     *uint64 `json:"blank"`
			BlankKind string  `json:"blank_kind"`
		} `json:"contests"`
	}
	if err := json.Unmarshal(rec.Body.Bytes(), &res); err != nil || rec.Code != 200 {
		t.Fatalf("/result %d: %s (%v)", rec.Code, rec.Body, err)
	}
	if !strings.Contains(rec.Body.String(), `"blank": null`) {
		t.Errorf("/result does not say null for a contest whose blank ballots are not counted:\n%s", rec.Body)
	}
	want := []struct {
		kind  string
		blank int64 // -1: null
	}{{"encrypted", 5}, {"impossible", 0}, {"derived", 2}, {"not-counted", -1}}
	for i, c := range res.Contests {
		got := int64(-1)
		if c.Blank != nil {
			got = int64(*c.Blank)
		}
		if c.BlankKind != want[i].kind || got != want[i].blank {
			t.Errorf("contest %s: blank %d (%s), want %d (%s)", c.ID, got, c.BlankKind, want[i].blank, want[i].kind)
		}
	}
}
