package chain_test

import (
	"context"
	"crypto/rand"
	"strings"
	"testing"
	"time"

	"github.com/evote/evote/ballot"
	"github.com/evote/evote/ballot/ballottest"
	"github.com/evote/evote/ballot/credential"
	"github.com/evote/evote/chain/chaintest"
	"github.com/evote/evote/crypto"
	"github.com/evote/evote/rules"
	"github.com/evote/evote/wire"
)

// auditTx encrypts choices for the credential pub and returns the audit
// transaction of that ballot, signed by signer over base (nil: unsigned).
func auditTx(t *testing.T, be *ballot.Election, pub []byte, signer *credential.Credential, base crypto.Context) ([]byte, *ballot.Ballot) {
	t.Helper()
	b, sec, err := be.Encrypt(rand.Reader, pub, ballottest.FirstChoices(be.Manifest, ballot.DefaultStyleID))
	if err != nil {
		t.Fatal(err)
	}
	a := &ballot.Audit{Ballot: b, Secrets: sec}
	if signer != nil {
		a.Signature = signer.Sign(ballot.AuditMessage(base, b.Hash(), sec))
	}
	j, err := a.MarshalJSON()
	if err != nil {
		t.Fatal(err)
	}
	return wire.Encode(&wire.Audit{ElectionID: be.Manifest.ElectionID, File: j}), b
}

// TestAuditNeedsCredential: an audit is accepted only signed by a
// credential on the roll, for this election, and at most
// MaxAuditsPerCredential times per credential; each refusal has its code,
// in CheckTx and in a block, and changes nothing. Honest audits and casts
// go on meanwhile.
func TestAuditNeedsCredential(t *testing.T) {
	h, e, be := setup(t)
	ctx := context.Background()
	stranger := chaintest.New(t, "test-chain", "city-2026", 1, t0, t0.Add(12*time.Hour)).Credentials[0]
	victim := e.Credentials[1]
	sk, _ := crypto.RandomNonZeroScalar(rand.Reader)
	other, err := ballot.NewElection(e.Manifest, crypto.BaseMul(sk)) // the same manifest, another key
	if err != nil {
		t.Fatal(err)
	}

	honest, hb := auditTx(t, be, e.Credentials[0].PublicKey(), e.Credentials[0], be.BaseHash)
	if r := h.check(honest); r.Code != 0 {
		t.Fatalf("CheckTx of an honest audit: code %d %s", r.Code, r.Log)
	}
	h.mustBlock(honest)

	unsigned, ub := auditTx(t, be, victim.PublicKey(), nil, be.BaseHash)
	notOnRoll, _ := auditTx(t, be, stranger.PublicKey(), stranger, be.BaseHash)
	forged, _ := auditTx(t, be, victim.PublicKey(), stranger, be.BaseHash) // the victim's credential, the attacker's key
	otherElection, _ := auditTx(t, be, victim.PublicKey(), victim, other.BaseHash)
	cases := []struct {
		name string
		tx   []byte
		code uint32
		says string
	}{
		{"unsigned audit", unsigned, uint32(wire.CodeBadSignature), ub.TrackingCode() + " is unsigned"},
		{"credential not on the roll", notOnRoll, uint32(wire.CodeNotOnRoll), "not on the credential roll"},
		{"victim's credential, forged signature", forged, uint32(wire.CodeBadSignature), "not signed by the ballot's credential"},
		{"signature for another election", otherElection, uint32(wire.CodeBadSignature), "not signed by the ballot's credential"},
		{"honest audit again", honest, uint32(wire.CodeDuplicate), hb.TrackingCode() + " is already audited"},
	}
	for _, c := range cases {
		if r := h.check(c.tx); r.Code != c.code || !strings.Contains(r.Log, c.says) {
			t.Errorf("%s: CheckTx code %d (%s), want %d saying %q", c.name, r.Code, r.Log, c.code, c.says)
		}
	}
	var txs [][]byte
	for _, c := range cases {
		txs = append(txs, c.tx)
	}
	for i, r := range h.block(txs...) {
		if r.Code != cases[i].code {
			t.Errorf("%s: block code %d (%s), want %d", cases[i].name, r.Code, r.Log, cases[i].code)
		}
	}
	if _, audited, err := h.app.BallotByTrackingCode(ctx, "city-2026", ub.TrackingCode()); err == nil || audited {
		t.Errorf("the unsigned audit's ballot is on the chain: audited %v, %v", audited, err)
	}

	// Credential 2 audits MaxAuditsPerCredential ballots, the last ones in
	// the same block as one more, which is refused; another voter still
	// audits and casts in that block, and so does the same voter's cast.
	limited := e.Credentials[2]
	first := rules.MaxAuditsPerCredential - 3
	for range first {
		tx, _ := auditTx(t, be, limited.PublicKey(), limited, be.BaseHash)
		h.mustBlock(tx)
	}
	var blk [][]byte
	for range rules.MaxAuditsPerCredential - first {
		tx, _ := auditTx(t, be, limited.PublicKey(), limited, be.BaseHash)
		blk = append(blk, tx)
	}
	over, ob := auditTx(t, be, limited.PublicKey(), limited, be.BaseHash)
	if r := h.check(over); r.Code != 0 {
		t.Fatalf("CheckTx of audit %d (the committed state has %d): code %d %s", first+1, first, r.Code, r.Log)
	}
	otherVoter, _ := auditTx(t, be, e.Credentials[3].PublicKey(), e.Credentials[3], be.BaseHash)
	cast, _ := e.Cast(t, be, 2, ballottest.FirstChoices(e.Manifest, ballot.DefaultStyleID))
	blk = append(blk, over, otherVoter, cast)
	res := h.block(blk...)
	for i, r := range res {
		want := uint32(0)
		if i == len(blk)-3 {
			want = uint32(wire.CodeAuditLimit)
		}
		if r.Code != want {
			t.Errorf("block tx %d: code %d (%s), want %d", i, r.Code, r.Log, want)
		}
	}
	if r := res[len(blk)-3]; !strings.Contains(r.Log, ob.TrackingCode()) || !strings.Contains(r.Log, "already audited 10 ballots") {
		t.Errorf("the audit over the limit is refused with %q", r.Log)
	}
	again, _ := auditTx(t, be, limited.PublicKey(), limited, be.BaseHash)
	if r := h.check(again); r.Code != uint32(wire.CodeAuditLimit) {
		t.Errorf("CheckTx of an audit over the limit: code %d %s", r.Code, r.Log)
	}
	rec, err := h.app.ElectionRecord(ctx, "city-2026")
	if err != nil {
		t.Fatal(err)
	}
	if want := 1 + rules.MaxAuditsPerCredential + 1; rec.Audited != want || rec.BallotsCast != 1 {
		t.Fatalf("after the refusals: %d audited, %d cast; want %d and 1", rec.Audited, rec.BallotsCast, want)
	}

	// A restarted node keeps the counts (they are state, in the app hash).
	h.open()
	if r := h.check(again); r.Code != uint32(wire.CodeAuditLimit) {
		t.Errorf("after a restart, CheckTx of an audit over the limit: code %d %s", r.Code, r.Log)
	}
}
