package dkg

import (
	"bytes"
	"crypto/rand"
	"errors"
	"fmt"
	"github.com/evote/evote/crypto"
	"github.com/evote/evote/crypto/cryptotest"
	"strings"
	"testing"
)

// dkgCeremony is a test harness that plays every trustee of a key ceremony.
type dkgCeremony struct {
	ctx      crypto.Context
	params   Params
	keys     []*HPKEPrivateKey // keys[l−1]
	pubs     []HPKEPublicKey
	dealings []*Dealing      // dealings[i−1]
	secrets  []*DealerSecret // secrets[i−1]
}

func newDKGCeremony(t testing.TB, n, k int) *dkgCeremony {
	t.Helper()
	c := &dkgCeremony{ctx: testContext(fmt.Sprintf("dkg %d of %d", k, n)), params: Params{N: n, K: k}}
	for l := 1; l <= n; l++ {
		sk := mustHPKEKey(t)
		c.keys = append(c.keys, sk)
		c.pubs = append(c.pubs, sk.Public())
	}
	for i := 1; i <= n; i++ {
		d, s, err := NewDealing(rand.Reader, c.ctx, c.params, i, c.pubs)
		if err != nil {
			t.Fatal(err)
		}
		c.dealings = append(c.dealings, d)
		c.secrets = append(c.secrets, s)
	}
	return c
}

// openAll runs round 2 for every trustee and returns the shares received
// (shares[l][i] = s_{i,l}, including the own share) and the complaints.
func (c *dkgCeremony) openAll(t testing.TB) (map[int]map[int]crypto.Scalar, []Complaint) {
	t.Helper()
	shares := make(map[int]map[int]crypto.Scalar)
	var complaints []Complaint
	for l := 1; l <= c.params.N; l++ {
		shares[l] = make(map[int]crypto.Scalar)
		own, err := c.secrets[l-1].Share(l)
		if err != nil {
			t.Fatal(err)
		}
		shares[l][l] = own
		for _, d := range c.dealings {
			if d.Dealer == l {
				continue
			}
			s, comp, err := OpenShare(c.ctx, c.params, l, c.keys[l-1], d)
			if err != nil {
				t.Fatalf("trustee %d opening dealing %d: %v", l, d.Dealer, err)
			}
			if comp != nil {
				complaints = append(complaints, *comp)
				continue
			}
			shares[l][d.Dealer] = s
		}
	}
	return shares, complaints
}

// resealShare replaces the share dealer i sends to trustee l with an
// encryption of the given plaintext bytes.
func (c *dkgCeremony) resealShare(t testing.TB, i, l int, pt []byte) {
	t.Helper()
	out, err := hpkeSeal(rand.Reader, c.pubs[l-1], shareInfo(c.ctx, c.params, i, l), nil, pt)
	if err != nil {
		t.Fatal(err)
	}
	d := c.dealings[i-1]
	es := &d.Shares[sharePosition(i, l)]
	copy(es.Enc[:], out[:hpkeEncSize])
	copy(es.Ciphertext[:], out[hpkeEncSize:])
}

func findFault(res *Result, trustee int, sentinel error) *Fault {
	for i := range res.Faults {
		if res.Faults[i].Trustee == trustee && errors.Is(res.Faults[i], sentinel) {
			return &res.Faults[i]
		}
	}
	return nil
}

func qualifies(res *Result, i int) bool {
	for _, q := range res.Qualified {
		if q == i {
			return true
		}
	}
	return false
}

// subsets returns every subset of {1..n} of size k.
func subsets(n, k int) [][]int {
	var out [][]int
	var rec func(start int, cur []int)
	rec = func(start int, cur []int) {
		if len(cur) == k {
			out = append(out, append([]int(nil), cur...))
			return
		}
		for i := start; i <= n; i++ {
			rec(i+1, append(cur, i))
		}
	}
	rec(1, nil)
	return out
}

// TestCeremony runs honest ceremonies and decrypts with every k-subset.
func TestCeremony(t *testing.T) {
	for _, nk := range [][2]int{{1, 1}, {3, 2}, {5, 3}, {4, 4}} {
		n, k := nk[0], nk[1]
		t.Run(fmt.Sprintf("n=%d,k=%d", n, k), func(t *testing.T) {
			c := newDKGCeremony(t, n, k)
			shares, complaints := c.openAll(t)
			if len(complaints) != 0 {
				t.Fatalf("honest ceremony has complaints: %+v", complaints)
			}
			res, err := Resolve(c.ctx, c.params, c.dealings, nil, nil)
			if err != nil {
				t.Fatal(err)
			}
			if len(res.Faults) != 0 || len(res.Qualified) != n {
				t.Fatalf("faults %v, qualified %v", res.Faults, res.Qualified)
			}
			// K = Σ a_{i,0}·G.
			a0 := crypto.NewScalar()
			for _, s := range c.secrets {
				a0.Add(a0, s.coeffs[0])
			}
			if !res.PublicKey.IsEqual(crypto.BaseMul(a0)) {
				t.Fatal("joint key is not Σ a_{i,0}·G")
			}
			xs := make([]crypto.Scalar, n+1)
			for l := 1; l <= n; l++ {
				x, err := res.SecretShare(l, shares[l])
				if err != nil {
					t.Fatal(err)
				}
				if !crypto.BaseMul(x).IsEqual(res.VerificationKeys[l-1]) {
					t.Fatalf("x_%d·G ≠ K_%d", l, l)
				}
				xs[l] = x
			}

			// Decrypt known values with every share.
			ms := []uint64{0, 1, 42}
			cts := make([]crypto.Ciphertext, len(ms))
			for a, m := range ms {
				cts[a], _, err = crypto.Encrypt(rand.Reader, res.PublicKey, m)
				if err != nil {
					t.Fatal(err)
				}
			}
			ds := make([]crypto.DecryptionShare, n+1)
			for l := 1; l <= n; l++ {
				ds[l], err = crypto.PartialDecrypt(rand.Reader, c.ctx, l, xs[l], res.VerificationKeys[l-1], cts)
				if err != nil {
					t.Fatal(err)
				}
				if err := crypto.VerifyShare(c.ctx, res.VerificationKeys, cts, ds[l]); err != nil {
					t.Fatal(err)
				}
			}
			pick := func(set []int) []crypto.DecryptionShare {
				var out []crypto.DecryptionShare
				for _, l := range set {
					out = append(out, ds[l])
				}
				return out
			}
			for _, set := range subsets(n, k) {
				got, err := crypto.Combine(c.ctx, k, res.VerificationKeys, cts, pick(set))
				if err != nil {
					t.Fatalf("subset %v: %v", set, err)
				}
				for a, m := range ms {
					if !got[a].IsEqual(crypto.BaseMul(crypto.ScalarFromUint64(m))) {
						t.Fatalf("subset %v: ciphertext %d does not decrypt to %d", set, a, m)
					}
				}
			}
			for _, set := range subsets(n, k-1) {
				_, err := crypto.Combine(c.ctx, k, res.VerificationKeys, cts, pick(set))
				if !errors.Is(err, crypto.ErrNotEnoughShares) {
					t.Fatalf("subset %v of size k−1: got %v, want ErrNotEnoughShares", set, err)
				}
				want := fmt.Sprintf("have %d share", k-1)
				if !strings.Contains(err.Error(), want) {
					t.Errorf("error %q does not say %q", err, want)
				}
			}
			// All n shares at once also work.
			if got, err := crypto.Combine(c.ctx, k, res.VerificationKeys, cts, pick(subsets(n, n)[0])); err != nil || !got[2].IsEqual(crypto.BaseMul(crypto.ScalarFromUint64(42))) {
				t.Fatalf("all shares: %v", err)
			}

			// A valid share of a different ciphertext, in place of trustee 1's.
			other, _, _ := crypto.Encrypt(rand.Reader, res.PublicKey, 7)
			wrongCts := append([]crypto.Ciphertext(nil), cts...)
			wrongCts[1] = other
			wrong, err := crypto.PartialDecrypt(rand.Reader, c.ctx, 1, xs[1], res.VerificationKeys[0], wrongCts)
			if err != nil {
				t.Fatal(err)
			}
			set := pick(subsets(n, k)[0])
			set[0] = wrong
			_, err = crypto.Combine(c.ctx, k, res.VerificationKeys, cts, set)
			wantTrusteeError(t, err, 1, crypto.ErrBadShare, "decryption share for ciphertext 1: proof does not verify")

			// A tampered share of the last trustee.
			last := subsets(n, k)[len(subsets(n, k))-1]
			set = pick(last)
			bad := set[len(set)-1]
			bad.Parts = append([]crypto.DecryptionPart(nil), bad.Parts...)
			bad.Parts[2].M = crypto.NewPoint().Add(bad.Parts[2].M, crypto.Generator())
			set[len(set)-1] = bad
			_, err = crypto.Combine(c.ctx, k, res.VerificationKeys, cts, set)
			wantTrusteeError(t, err, last[len(last)-1], crypto.ErrBadShare, "ciphertext 2")
		})
	}
}

func wantTrusteeError(t *testing.T, err error, trustee int, sentinel error, detail string) {
	t.Helper()
	var te *crypto.TrusteeError
	if !errors.As(err, &te) || te.Trustee != trustee || !errors.Is(err, sentinel) {
		t.Fatalf("got %v, want a crypto.TrusteeError for trustee %d wrapping %v", err, trustee, sentinel)
	}
	if !strings.Contains(err.Error(), detail) || !strings.HasPrefix(err.Error(), fmt.Sprintf("crypto: trustee %d: ", trustee)) {
		t.Fatalf("error %q does not name trustee %d and %q", err, trustee, detail)
	}
}

func TestCheatingDealerWrongShare(t *testing.T) {
	for name, pt := range map[string][]byte{
		"wrong scalar":  nil,
		"non-canonical": bytes.Repeat([]byte{0xff}, 32),
	} {
		t.Run(name, func(t *testing.T) {
			c := newDKGCeremony(t, 4, 2)
			// Dealer 2 sends trustee 3 a wrong share.
			if pt == nil {
				s, _ := c.secrets[1].Share(3)
				e := crypto.EncodeScalar(crypto.NewScalar().Add(s, crypto.ScalarFromUint64(1)))
				pt = e[:]
			}
			c.resealShare(t, 2, 3, pt)
			if err := VerifyDealing(c.ctx, c.params, c.dealings[1]); err != nil {
				t.Fatalf("a wrong share is invisible to VerifyDealing, got %v", err)
			}
			shares, complaints := c.openAll(t)
			if len(complaints) != 1 || complaints[0].Accuser != 3 || complaints[0].Accused != 2 {
				t.Fatalf("complaints %+v", complaints)
			}
			res, err := Resolve(c.ctx, c.params, c.dealings, complaints, nil)
			if err != nil {
				t.Fatal(err)
			}
			f := findFault(res, 2, ErrComplaintProven)
			if f == nil || !f.Disqualified || !bytes.Equal(f.Evidence, complaints[0].Encode()) {
				t.Fatalf("dealer 2 not disqualified with evidence: %+v", res.Faults)
			}
			if !strings.Contains(f.Error(), "crypto: trustee 2: complaint by trustee 3 proven") {
				t.Errorf("fault message %q", f.Error())
			}
			if qualifies(res, 2) || len(res.Qualified) != 3 || len(res.Faults) != 1 {
				t.Fatalf("qualified %v, faults %v", res.Qualified, res.Faults)
			}
			for l := 1; l <= 4; l++ {
				if _, err := res.SecretShare(l, shares[l]); err != nil {
					t.Fatalf("trustee %d: %v", l, err)
				}
			}
		})
	}
}

func TestCheatingDealerBadProof(t *testing.T) {
	c := newDKGCeremony(t, 3, 2)
	p := &c.dealings[2].Proofs[1]
	p.Response = crypto.NewScalar().Add(p.Response, crypto.ScalarFromUint64(1))
	err := VerifyDealing(c.ctx, c.params, c.dealings[2])
	wantTrusteeError(t, err, 3, crypto.ErrProof, "dealing: coefficient 1: schnorr proof does not verify")
	res, err := Resolve(c.ctx, c.params, c.dealings, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	f := findFault(res, 3, crypto.ErrProof)
	if f == nil || !f.Disqualified || !strings.Contains(f.Error(), "coefficient 1") {
		t.Fatalf("faults %+v", res.Faults)
	}
	if qualifies(res, 3) {
		t.Fatal("dealer 3 qualified")
	}

	// A proof replayed from another position does not verify.
	c = newDKGCeremony(t, 3, 2)
	c.dealings[0].Proofs[0], c.dealings[0].Proofs[1] = c.dealings[0].Proofs[1], c.dealings[0].Proofs[0]
	c.dealings[0].Commitments[0], c.dealings[0].Commitments[1] = c.dealings[0].Commitments[1], c.dealings[0].Commitments[0]
	wantTrusteeError(t, VerifyDealing(c.ctx, c.params, c.dealings[0]), 1, crypto.ErrProof, "coefficient 0")
	// A whole dealing replayed under another dealer's index does not verify.
	c = newDKGCeremony(t, 3, 2)
	c.dealings[1].Commitments, c.dealings[1].Proofs = c.dealings[0].Commitments, c.dealings[0].Proofs
	wantTrusteeError(t, VerifyDealing(c.ctx, c.params, c.dealings[1]), 2, crypto.ErrProof, "coefficient")
}

func TestFalseComplaint(t *testing.T) {
	c := newDKGCeremony(t, 3, 2)
	shares, complaints := c.openAll(t)
	if len(complaints) != 0 {
		t.Fatal(complaints)
	}
	// Trustee 1 accuses dealer 2 with its real shared secret.
	es := c.dealings[1].Shares[sharePosition(2, 1)]
	ss, err := c.keys[0].decapsulate(es.Enc[:])
	if err != nil {
		t.Fatal(err)
	}
	comp := Complaint{Accuser: 1, Accused: 2}
	copy(comp.SharedSecret[:], ss)
	res, err := Resolve(c.ctx, c.params, c.dealings, []Complaint{comp}, nil)
	if err != nil {
		t.Fatal(err)
	}
	f := findFault(res, 1, ErrFalseComplaint)
	if f == nil || f.Disqualified || !bytes.Equal(f.Evidence, comp.Encode()) || len(res.Faults) != 1 {
		t.Fatalf("faults %+v", res.Faults)
	}
	if len(res.Qualified) != 3 {
		t.Fatalf("qualified %v", res.Qualified)
	}
	if _, err := res.SecretShare(1, shares[1]); err != nil {
		t.Fatal(err)
	}
	// Repeating the complaint is reported too.
	res, err = Resolve(c.ctx, c.params, c.dealings, []Complaint{comp, comp}, nil)
	if err != nil || findFault(res, 1, ErrDuplicateMessage) == nil {
		t.Fatalf("repeated complaint: %v %+v", err, res.Faults)
	}
}

func TestUnansweredAndJustifiedComplaints(t *testing.T) {
	// Dealer 1 sends trustee 2 garbage that does not decrypt: the evidence
	// decides nothing, so dealer 1 must justify.
	setup := func(t *testing.T) (*dkgCeremony, map[int]map[int]crypto.Scalar, []Complaint) {
		c := newDKGCeremony(t, 3, 2)
		es := &c.dealings[0].Shares[sharePosition(1, 2)]
		copy(es.Ciphertext[:], randomBytes(t, len(es.Ciphertext)))
		shares, complaints := c.openAll(t)
		if len(complaints) != 1 || complaints[0].Accuser != 2 || complaints[0].Accused != 1 {
			t.Fatalf("complaints %+v", complaints)
		}
		return c, shares, complaints
	}

	t.Run("unanswered", func(t *testing.T) {
		c, _, complaints := setup(t)
		res, err := Resolve(c.ctx, c.params, c.dealings, complaints, nil)
		if err != nil {
			t.Fatal(err)
		}
		f := findFault(res, 1, ErrUnanswered)
		if f == nil || !f.Disqualified || qualifies(res, 1) {
			t.Fatalf("faults %+v", res.Faults)
		}
	})
	t.Run("justified", func(t *testing.T) {
		c, shares, complaints := setup(t)
		j, err := c.secrets[0].Justify(complaints[0])
		if err != nil {
			t.Fatal(err)
		}
		if _, err := c.secrets[1].Justify(complaints[0]); err == nil {
			t.Fatal("dealer 2 justified a complaint against dealer 1")
		}
		res, err := Resolve(c.ctx, c.params, c.dealings, complaints, []Justification{j})
		if err != nil {
			t.Fatal(err)
		}
		if len(res.Faults) != 0 || !qualifies(res, 1) || len(res.Justified) != 1 {
			t.Fatalf("faults %+v, qualified %v", res.Faults, res.Qualified)
		}
		if _, ok := shares[2][1]; ok {
			t.Fatal("trustee 2 should not have dealer 1's share")
		}
		x, err := res.SecretShare(2, shares[2])
		if err != nil {
			t.Fatalf("trustee 2 with the justified share: %v", err)
		}
		if !crypto.BaseMul(x).IsEqual(res.VerificationKeys[1]) {
			t.Fatal("x_2 does not match K_2")
		}
	})
	t.Run("justified with a wrong share", func(t *testing.T) {
		c, _, complaints := setup(t)
		j, _ := c.secrets[0].Justify(complaints[0])
		j.Share = crypto.NewScalar().Add(j.Share, crypto.ScalarFromUint64(1))
		res, err := Resolve(c.ctx, c.params, c.dealings, complaints, []Justification{j})
		if err != nil {
			t.Fatal(err)
		}
		if f := findFault(res, 1, ErrBadJustification); f == nil || !f.Disqualified || !bytes.Equal(f.Evidence, j.Encode()) {
			t.Fatalf("faults %+v", res.Faults)
		}
	})
	t.Run("fake evidence against an honest dealer", func(t *testing.T) {
		c := newDKGCeremony(t, 3, 2)
		comp := Complaint{Accuser: 3, Accused: 2}
		copy(comp.SharedSecret[:], randomBytes(t, 32))
		j, _ := c.secrets[1].Justify(comp)
		res, err := Resolve(c.ctx, c.params, c.dealings, []Complaint{comp}, []Justification{j})
		if err != nil || len(res.Faults) != 0 || len(res.Qualified) != 3 {
			t.Fatalf("%v %+v", err, res.Faults)
		}
		res, err = Resolve(c.ctx, c.params, c.dealings, []Complaint{comp}, nil)
		if err != nil || findFault(res, 2, ErrUnanswered) == nil {
			t.Fatalf("%v %+v", err, res.Faults)
		}
	})
}

func TestTooFewQualified(t *testing.T) {
	c := newDKGCeremony(t, 3, 3)
	c.dealings[0].Commitments[0] = crypto.Generator() // proof no longer matches
	res, err := Resolve(c.ctx, c.params, c.dealings, nil, nil)
	if !errors.Is(err, ErrTooFewQualified) || res == nil || res.PublicKey != nil {
		t.Fatalf("got %v, want ErrTooFewQualified", err)
	}
	if findFault(res, 1, crypto.ErrProof) == nil {
		t.Fatalf("faults %+v", res.Faults)
	}
	if _, err := res.SecretShare(2, nil); err == nil {
		t.Fatal("secret share without keys")
	}
	if !strings.Contains(err.Error(), "2 qualified, need 3") {
		t.Errorf("message %q", err)
	}
}

func TestMissingAndDuplicateDealings(t *testing.T) {
	c := newDKGCeremony(t, 4, 2)
	res, err := Resolve(c.ctx, c.params, []*Dealing{c.dealings[0], c.dealings[1], c.dealings[1], c.dealings[3]}, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	if findFault(res, 3, ErrMissingDealing) == nil || findFault(res, 2, ErrEquivocation) == nil {
		t.Fatalf("faults %+v", res.Faults)
	}
	if fmt.Sprint(res.Qualified) != "[1 4]" {
		t.Fatalf("qualified %v", res.Qualified)
	}
	// Observers get the same key from the same transcript.
	res2, _ := Resolve(c.ctx, c.params, []*Dealing{c.dealings[0], c.dealings[1], c.dealings[1], c.dealings[3]}, nil, nil)
	if !res.PublicKey.IsEqual(res2.PublicKey) {
		t.Fatal("Resolve is not deterministic")
	}
	want := crypto.NewPoint().Add(c.dealings[0].Commitments[0], c.dealings[3].Commitments[0])
	if !res.PublicKey.IsEqual(want) {
		t.Fatal("K ≠ A_{1,0} + A_{4,0}")
	}
	// Out-of-range input is the caller's error.
	if _, err := Resolve(c.ctx, c.params, c.dealings, []Complaint{{Accuser: 5, Accused: 1}}, nil); !errors.Is(err, ErrParams) {
		t.Fatalf("got %v", err)
	}
	if _, err := Resolve(c.ctx, c.params, c.dealings, []Complaint{{Accuser: 1, Accused: 1}}, nil); !errors.Is(err, ErrParams) {
		t.Fatalf("got %v", err)
	}
	if _, err := Resolve(c.ctx, c.params, []*Dealing{nil}, nil, nil); err == nil {
		t.Fatal("nil dealing accepted")
	}
}

func TestDKGParams(t *testing.T) {
	for _, tc := range []struct {
		n, k int
		want string
	}{
		{0, 0, "0 trustees"},
		{3, 0, "threshold 0"},
		{3, 4, "threshold 4 exceeds the 3 trustees"},
		{256, 2, "256 trustees, at most 255"},
	} {
		err := Params{N: tc.n, K: tc.k}.Validate()
		if !errors.Is(err, ErrParams) || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("(%d, %d): got %v, want %q", tc.n, tc.k, err, tc.want)
		}
	}
	if err := (Params{N: 255, K: 255}).Validate(); err != nil {
		t.Error(err)
	}
	keys := []HPKEPublicKey{mustHPKEKey(t).Public(), mustHPKEKey(t).Public()}
	p := Params{N: 2, K: 1}
	if _, _, err := NewDealing(rand.Reader, crypto.Context{}, p, 3, keys); !errors.Is(err, ErrParams) {
		t.Errorf("dealer 3 of 2: %v", err)
	}
	if _, _, err := NewDealing(rand.Reader, crypto.Context{}, p, 0, keys); !errors.Is(err, ErrParams) {
		t.Errorf("dealer 0: %v", err)
	}
	if _, _, err := NewDealing(rand.Reader, crypto.Context{}, p, 1, keys[:1]); !errors.Is(err, ErrParams) {
		t.Errorf("one key for two trustees: %v", err)
	}
	if _, _, err := NewDealing(rand.Reader, crypto.Context{}, p, 1, []HPKEPublicKey{keys[0], {}}); err == nil || !strings.Contains(err.Error(), "trustee 2") {
		t.Errorf("zero recipient key: %v", err)
	}
	if _, _, err := NewDealingWithRandomness(rand.Reader, crypto.Context{}, p, 1, keys, []crypto.Scalar{crypto.NewScalar()}); err == nil {
		t.Error("zero coefficient accepted")
	}
}

// TestDealingKnownAnswer: a dealing is a function of its randomness.
func TestDealingKnownAnswer(t *testing.T) {
	p := Params{N: 3, K: 2}
	var keys []HPKEPublicKey
	for l := 1; l <= 3; l++ {
		k, _ := GenerateHPKEKey(cryptotest.NewDRBG(fmt.Sprintf("hpke key %d", l)))
		keys = append(keys, k.Public())
	}
	coeffs := []crypto.Scalar{drbgScalar("a0"), drbgScalar("a1")}
	d1, _, err := NewDealingWithRandomness(cryptotest.NewDRBG("dealing"), testContext("kat"), p, 2, keys, coeffs)
	if err != nil {
		t.Fatal(err)
	}
	d2, _, _ := NewDealingWithRandomness(cryptotest.NewDRBG("dealing"), testContext("kat"), p, 2, keys, coeffs)
	if !bytes.Equal(d1.Encode(), d2.Encode()) {
		t.Fatal("same randomness, different dealings")
	}
	if err := VerifyDealing(testContext("kat"), p, d1); err != nil {
		t.Fatal(err)
	}
	if err := VerifyDealing(testContext("other"), p, d1); !errors.Is(err, crypto.ErrProof) {
		t.Fatalf("dealing verified in another context: %v", err)
	}
}

func TestDKGEncodings(t *testing.T) {
	c := newDKGCeremony(t, 3, 2)
	p := c.params
	for _, d := range c.dealings {
		b := d.Encode()
		if len(b) != p.DealingSize() {
			t.Fatalf("dealing is %d bytes, want %d", len(b), p.DealingSize())
		}
		d2, err := DecodeDealing(p, b)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(d2.Encode(), b) {
			t.Fatal("dealing round trip")
		}
		if err := VerifyDealing(c.ctx, p, d2); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := DecodeDealing(Params{N: 3, K: 3}, c.dealings[0].Encode()); !errors.Is(err, crypto.ErrLength) {
		t.Errorf("dealing for other params: %v", err)
	}

	// Mutating any byte of a dealing: decoding fails, VerifyDealing fails,
	// or the affected recipient complains.
	d := c.dealings[1] // dealer 2; shares to 1 and 3
	enc := d.Encode()
	for pos := range enc {
		for _, x := range []byte{0x01, 0x80, 0xff} {
			m := bytes.Clone(enc)
			m[pos] ^= x
			md, err := DecodeDealing(p, m)
			if err != nil {
				continue
			}
			if err := VerifyDealing(c.ctx, p, md); err != nil {
				continue
			}
			shareStart := dealingHeaderSize + p.K*coefficientSize
			if pos < shareStart {
				t.Fatalf("byte %d ^ %#x: mutated dealing accepted", pos, x)
			}
			l := 1
			if (pos-shareStart)/EncryptedShareSize == 1 {
				l = 3
			}
			_, comp, err := OpenShare(c.ctx, p, l, c.keys[l-1], md)
			if err == nil && comp == nil {
				t.Fatalf("byte %d ^ %#x: trustee %d accepted the mutated share", pos, x, l)
			}
		}
	}

	// Complaints and justifications.
	c.resealShare(t, 2, 3, bytes.Repeat([]byte{0xff}, 32))
	_, comps := c.openAll(t)
	if len(comps) != 1 {
		t.Fatal(comps)
	}
	cb := comps[0].Encode()
	if got, err := DecodeComplaint(p, cb); err != nil || !bytes.Equal(got.Encode(), cb) {
		t.Fatalf("complaint round trip: %v", err)
	}
	for pos := range cb {
		for _, x := range []byte{0x01, 0x80, 0xff} {
			m := bytes.Clone(cb)
			m[pos] ^= x
			mc, err := DecodeComplaint(p, m)
			if err != nil {
				continue
			}
			if mc.Accused != 2 || mc.Accuser == 2 {
				continue // not about this dealer any more
			}
			if _, err := openShareWithSecret(c.ctx, p, c.dealings[1], mc.Accuser, mc.SharedSecret[:]); !errors.Is(err, errShareUndecryptable) {
				t.Fatalf("byte %d ^ %#x: mutated complaint still decides: %v", pos, x, err)
			}
		}
	}
	j, _ := c.secrets[0].Justify(Complaint{Accuser: 3, Accused: 1})
	jb := j.Encode()
	if got, err := DecodeJustification(p, jb); err != nil || !bytes.Equal(got.Encode(), jb) {
		t.Fatalf("justification round trip: %v", err)
	}
	if err := checkShare(c.dealings[0], 3, j.Share); err != nil {
		t.Fatal(err)
	}
	for pos := range jb {
		for _, x := range []byte{0x01, 0x80, 0xff} {
			m := bytes.Clone(jb)
			m[pos] ^= x
			mj, err := DecodeJustification(p, m)
			if err != nil {
				continue
			}
			if err := checkShare(c.dealings[mj.Dealer-1], mj.Recipient, mj.Share); err == nil {
				t.Fatalf("byte %d ^ %#x: mutated justification accepted", pos, x)
			}
		}
	}
	for name, b := range map[string][]byte{
		"complaint accuser 0":    append([]byte{0, 1}, make([]byte, 32)...),
		"complaint accuser 4":    append([]byte{4, 1}, make([]byte, 32)...),
		"complaint self":         append([]byte{2, 2}, make([]byte, 32)...),
		"complaint short":        {1, 2},
		"justification self":     append([]byte{1, 1}, make([]byte, 32)...),
		"justification scalar≥ℓ": append([]byte{1, 2}, bytes.Repeat([]byte{0xff}, 32)...),
	} {
		var err error
		if strings.HasPrefix(name, "complaint") {
			_, err = DecodeComplaint(p, b)
		} else {
			_, err = DecodeJustification(p, b)
		}
		if !errors.Is(err, crypto.ErrDecode) {
			t.Errorf("%s: got %v, want a decoding error", name, err)
		}
	}
}

func FuzzDecodeDealing(f *testing.F) {
	p := Params{N: 3, K: 2}
	c := newDKGCeremony(f, p.N, p.K)
	for _, d := range c.dealings {
		f.Add(d.Encode())
	}
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, b []byte) {
		d, err := DecodeDealing(p, b)
		if err != nil {
			return
		}
		if !bytes.Equal(d.Encode(), b) {
			t.Fatal("decode→encode is not the identity")
		}
		_ = VerifyDealing(c.ctx, p, d)
	})
}

func FuzzDecodeComplaint(f *testing.F) {
	p := Params{N: 3, K: 2}
	f.Add(Complaint{Accuser: 1, Accused: 3}.Encode())
	f.Fuzz(func(t *testing.T, b []byte) {
		c, err := DecodeComplaint(p, b)
		if err != nil {
			return
		}
		if !bytes.Equal(c.Encode(), b) {
			t.Fatal("decode→encode is not the identity")
		}
	})
}

func FuzzDecodeJustification(f *testing.F) {
	p := Params{N: 3, K: 2}
	f.Add(Justification{Dealer: 2, Recipient: 1, Share: drbgScalar("j")}.Encode())
	f.Fuzz(func(t *testing.T, b []byte) {
		j, err := DecodeJustification(p, b)
		if err != nil {
			return
		}
		if !bytes.Equal(j.Encode(), b) {
			t.Fatal("decode→encode is not the identity")
		}
	})
}

func BenchmarkVerifyDealing(b *testing.B) {
	c := newDKGCeremony(b, 3, 2)
	b.ResetTimer()
	for b.Loop() {
		if err := VerifyDealing(c.ctx, c.params, c.dealings[0]); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkNewDealing(b *testing.B) {
	c := newDKGCeremony(b, 3, 2)
	b.ResetTimer()
	for b.Loop() {
		if _, _, err := NewDealing(rand.Reader, c.ctx, c.params, 1, c.pubs); err != nil {
			b.Fatal(err)
		}
	}
}

func testContext(label string) crypto.Context {
	return crypto.Context(crypto.Hash("evote/v1/test", []byte(label)))
}

// drbgScalar is a scalar drawn from the deterministic stream for label.
func drbgScalar(label string) crypto.Scalar {
	s, _ := crypto.RandomScalar(cryptotest.NewDRBG(label))
	return s
}
