package dkg

import (
	"encoding/binary"
	"errors"
	"fmt"
	"github.com/evote/evote/crypto"
	"io"
)

// Threshold key generation: Joint-Feldman distributed key generation, k of n,
// with Schnorr proofs of knowledge for every coefficient commitment, shares
// sent encrypted with HPKE, and complaints that carry verifiable evidence
// (in the style of Gennaro, Jarecki, Krawczyk and Rabin). The functions here
// do not send anything: they make and check the messages of each round, and
// Resolve turns the whole public transcript into the ceremony's result.
// docs/spec-threshold.md specifies every message and rule.
//
// Rounds:
//
//  1. Dealing. Trustee i picks f_i(x) = a_{i,0} + a_{i,1}·x + … + a_{i,k−1}·x^{k−1},
//     publishes A_{i,j} = a_{i,j}·G with a Schnorr proof for each, and
//     s_{i,l} = f_i(l) encrypted to every other trustee l (NewDealing).
//  2. Checking. Trustee l decrypts s_{i,l} and checks
//     s_{i,l}·G = Σ_j l^j·A_{i,j}; if not, it publishes a Complaint holding
//     the HPKE shared secret, with which anyone can repeat the decryption
//     (OpenShare).
//  3. Justification. Dealer i may answer a complaint by publishing s_{i,l}
//     (DealerSecret.Justify).
//  4. Resolution. Everyone runs Resolve on the dealings, complaints and
//     justifications, and gets the qualified set, the joint public key, every
//     trustee's verification key and the list of faults. Trustee l then sums
//     its shares (Result.SecretShare).
//
// Message authorship (that trustee i published dealing i, complaints with
// Accuser l come from l, justifications with Dealer i come from i) is the
// transport's job: the chain accepts these messages only when signed by the
// trustee they name.

// MaxTrustees is the largest number of trustees (crypto.MaxTrustees).
const MaxTrustees = crypto.MaxTrustees

// Sizes of the key-ceremony messages that do not depend on (n, k).
const (
	// EncryptedShareSize is enc ‖ AEAD ciphertext of a 32-byte scalar.
	EncryptedShareSize = hpkeEncSize + crypto.ScalarSize + hpkeTagSize
	// ComplaintSize is accuser ‖ accused ‖ shared secret.
	ComplaintSize = 2 + hpkeSecretSize
	// JustificationSize is dealer ‖ recipient ‖ share.
	JustificationSize = 2 + crypto.ScalarSize
	// coefficientSize is A_j ‖ Schnorr proof of A_j.
	coefficientSize   = crypto.PointSize + crypto.SchnorrProofSize
	dealingHeaderSize = 3
)

// Errors of the key ceremony. Faults found by Resolve wrap one of these.
var (
	// ErrParams is returned for invalid (n, k) or trustee indices.
	ErrParams = crypto.ErrParams
	// ErrDealing is returned for a dealing of the wrong shape.
	ErrDealing = errors.New("crypto: invalid dealing")
	// ErrMissingDealing: a trustee published no dealing.
	ErrMissingDealing = errors.New("crypto: no dealing")
	// ErrEquivocation: a trustee published more than one dealing.
	ErrEquivocation = errors.New("crypto: more than one dealing")
	// ErrComplaintProven: a complaint's evidence decrypts the dealer's
	// ciphertext to an invalid share.
	ErrComplaintProven = errors.New("crypto: complaint proven: invalid share")
	// ErrUnanswered: a complaint the evidence could not decide had no
	// justification.
	ErrUnanswered = errors.New("crypto: complaint not answered")
	// ErrBadJustification: a justification's share does not match the
	// dealer's commitments.
	ErrBadJustification = errors.New("crypto: invalid justification")
	// ErrFalseComplaint: a complaint's evidence decrypts to a valid share.
	ErrFalseComplaint = errors.New("crypto: false complaint")
	// ErrDuplicateMessage: a complaint or justification repeated for the same
	// pair of trustees (only the first counts).
	ErrDuplicateMessage = errors.New("crypto: duplicate message")
	// ErrTooFewQualified: fewer than k dealers qualified.
	ErrTooFewQualified = errors.New("crypto: too few qualified trustees")
	// ErrShareMismatch: a trustee's summed secret share does not match its
	// verification key.
	ErrShareMismatch = crypto.ErrShareMismatch
)

// Reasons why a decrypted share is bad (see openShareWithSecret).
var (
	errShareUndecryptable = errors.New("share does not decrypt")
	errShareNotScalar     = errors.New("share decrypts to a non-canonical scalar")
	errShareWrong         = errors.New("share does not match the dealer's commitments")
)

// Params are the number of trustees N and the threshold K: any K trustees
// can decrypt, fewer learn nothing.
type Params struct {
	N, K int
}

// Validate checks 1 ≤ K ≤ N ≤ MaxTrustees.
func (p Params) Validate() error {
	switch {
	case p.N < 1:
		return fmt.Errorf("%w: %d trustees, need at least 1", ErrParams, p.N)
	case p.N > MaxTrustees:
		return fmt.Errorf("%w: %d trustees, at most %d", ErrParams, p.N, MaxTrustees)
	case p.K < 1:
		return fmt.Errorf("%w: threshold %d, must be at least 1", ErrParams, p.K)
	case p.K > p.N:
		return fmt.Errorf("%w: threshold %d exceeds the %d trustees", ErrParams, p.K, p.N)
	}
	return nil
}

func (p Params) checkIndex(what string, i int) error {
	if i < 1 || i > p.N {
		return fmt.Errorf("%w: %s index %d out of range 1..%d", ErrParams, what, i, p.N)
	}
	return nil
}

// DealingSize returns the size of an encoded Dealing:
// 3 + 96·K + 80·(N−1) bytes.
func (p Params) DealingSize() int {
	return dealingHeaderSize + p.K*coefficientSize + (p.N-1)*EncryptedShareSize
}

func u64(v int) []byte { return binary.BigEndian.AppendUint64(nil, uint64(v)) }

// coefficientContext is the context of the Schnorr proof of A_{i,j}, so that a
// proof cannot be replayed for another trustee, position or ceremony.
func coefficientContext(ctx crypto.Context, p Params, i, j int) crypto.Context {
	return ctx.Derive("dkg/coefficient", u64(p.N), u64(p.K), u64(i), u64(j))
}

// shareInfo is the HPKE info string of the share from dealer i to trustee l.
func shareInfo(ctx crypto.Context, p Params, i, l int) []byte {
	c := ctx.Derive("dkg/share", u64(p.N), u64(p.K), u64(i), u64(l))
	return c[:]
}

// EncryptedShare is s_{i,l} = f_i(l) encrypted with HPKE to trustee l.
type EncryptedShare struct {
	Enc        [hpkeEncSize]byte                     // encapsulated key
	Ciphertext [crypto.ScalarSize + hpkeTagSize]byte // AEAD ciphertext of the 32-byte scalar
}

// Dealing is trustee Dealer's public message of round 1.
type Dealing struct {
	Dealer      int
	Commitments []crypto.Point        // A_{i,0}, …, A_{i,k−1}
	Proofs      []crypto.SchnorrProof // one per commitment
	Shares      []EncryptedShare      // to trustees 1..n except Dealer, in increasing order
}

// sharePosition returns the position of trustee l's share in Shares.
func sharePosition(dealer, l int) int {
	if l < dealer {
		return l - 1
	}
	return l - 2
}

// DealerSecret is what a dealer keeps from round 1: its polynomial. It is
// needed to answer complaints and for the dealer's own share.
type DealerSecret struct {
	params Params
	dealer int
	coeffs []crypto.Scalar
}

// evalPoly returns f(x) by Horner's rule in constant time (x is public).
func evalPoly(coeffs []crypto.Scalar, x int) crypto.Scalar {
	xs := crypto.ScalarFromUint64(uint64(x))
	s := crypto.NewScalar().Set(coeffs[len(coeffs)-1])
	for j := len(coeffs) - 2; j >= 0; j-- {
		s.Mul(s, xs)
		s.Add(s, coeffs[j])
	}
	return s
}

// VarTimeCommitmentAt returns Σ_j x^j·C_j, the public image f(x)·G of a
// polynomial committed to coefficient by coefficient. It is variable-time.
func VarTimeCommitmentAt(commitments []crypto.Point, x int) crypto.Point {
	xs := crypto.ScalarFromUint64(uint64(x))
	p := crypto.NewPoint().Set(commitments[len(commitments)-1])
	for j := len(commitments) - 2; j >= 0; j-- {
		p.Mul(p, xs)
		p.Add(p, commitments[j])
	}
	return p
}

// NewDealerSecret rebuilds a dealer's secret from the coefficients of its
// polynomial, as a trustee keeps them between rounds (in its encrypted key
// file).
func NewDealerSecret(params Params, dealer int, coeffs []crypto.Scalar) (*DealerSecret, error) {
	if err := params.Validate(); err != nil {
		return nil, err
	}
	if err := params.checkIndex("dealer", dealer); err != nil {
		return nil, err
	}
	if len(coeffs) != params.K {
		return nil, fmt.Errorf("%w: %d coefficients for threshold %d", ErrParams, len(coeffs), params.K)
	}
	s := &DealerSecret{params: params, dealer: dealer, coeffs: make([]crypto.Scalar, params.K)}
	for j, a := range coeffs {
		if a == nil || a.IsZero() {
			return nil, fmt.Errorf("crypto: trustee %d: coefficient %d is zero", dealer, j)
		}
		s.coeffs[j] = crypto.NewScalar().Set(a)
	}
	return s, nil
}

// Share returns f_i(l), the share of trustee l (including the dealer itself).
func (s *DealerSecret) Share(l int) (crypto.Scalar, error) {
	if err := s.params.checkIndex("trustee", l); err != nil {
		return nil, err
	}
	return evalPoly(s.coeffs, l), nil
}

// Justify answers a complaint against this dealer by revealing the share of
// the accuser (round 3).
func (s *DealerSecret) Justify(c Complaint) (Justification, error) {
	if c.Accused != s.dealer {
		return Justification{}, fmt.Errorf("crypto: trustee %d: complaint is against trustee %d", s.dealer, c.Accused)
	}
	share, err := s.Share(c.Accuser)
	if err != nil {
		return Justification{}, err
	}
	return Justification{Dealer: s.dealer, Recipient: c.Accuser, Share: share}, nil
}

// NewDealing makes trustee dealer's round-1 message with fresh random
// coefficients. recipients[l−1] is trustee l's HPKE public key (the dealer's
// own entry is not used).
func NewDealing(rand io.Reader, ctx crypto.Context, params Params, dealer int, recipients []HPKEPublicKey) (*Dealing, *DealerSecret, error) {
	if err := params.Validate(); err != nil {
		return nil, nil, err
	}
	coeffs := make([]crypto.Scalar, params.K)
	for j := range coeffs {
		a, err := crypto.RandomNonZeroScalar(rand)
		if err != nil {
			return nil, nil, err
		}
		coeffs[j] = a
	}
	return NewDealingWithRandomness(rand, ctx, params, dealer, recipients, coeffs)
}

// NewDealingWithRandomness is NewDealing with the coefficients a_{i,0..k−1}
// given; rand supplies the Schnorr nonces (64 bytes each, for j = 0..k−1) and
// then the HPKE ephemeral seeds (32 bytes each, for l = 1..n, l ≠ dealer), so
// that a deterministic reader gives a known-answer dealing.
func NewDealingWithRandomness(rand io.Reader, ctx crypto.Context, params Params, dealer int, recipients []HPKEPublicKey, coeffs []crypto.Scalar) (*Dealing, *DealerSecret, error) {
	if err := params.Validate(); err != nil {
		return nil, nil, err
	}
	if err := params.checkIndex("dealer", dealer); err != nil {
		return nil, nil, err
	}
	if len(recipients) != params.N {
		return nil, nil, fmt.Errorf("%w: %d recipient keys for %d trustees", ErrParams, len(recipients), params.N)
	}
	if len(coeffs) != params.K {
		return nil, nil, fmt.Errorf("%w: %d coefficients for threshold %d", ErrParams, len(coeffs), params.K)
	}
	sec := &DealerSecret{params: params, dealer: dealer, coeffs: make([]crypto.Scalar, params.K)}
	d := &Dealing{
		Dealer:      dealer,
		Commitments: make([]crypto.Point, params.K),
		Proofs:      make([]crypto.SchnorrProof, params.K),
		Shares:      make([]EncryptedShare, 0, params.N-1),
	}
	for j, a := range coeffs {
		if a == nil || a.IsZero() {
			return nil, nil, fmt.Errorf("crypto: trustee %d: coefficient %d is zero", dealer, j)
		}
		sec.coeffs[j] = crypto.NewScalar().Set(a)
		d.Commitments[j] = crypto.BaseMul(a)
		pr, err := crypto.ProveSchnorr(rand, coefficientContext(ctx, params, dealer, j), a, d.Commitments[j])
		if err != nil {
			return nil, nil, err
		}
		d.Proofs[j] = pr
	}
	for l := 1; l <= params.N; l++ {
		if l == dealer {
			continue
		}
		s := crypto.EncodeScalar(evalPoly(sec.coeffs, l))
		out, err := hpkeSeal(rand, recipients[l-1], shareInfo(ctx, params, dealer, l), nil, s[:])
		if err != nil {
			return nil, nil, fmt.Errorf("crypto: trustee %d: encrypting the share of trustee %d: %w", dealer, l, err)
		}
		var es EncryptedShare
		if len(out) != EncryptedShareSize {
			return nil, nil, fmt.Errorf("crypto: trustee %d: HPKE output of %d bytes", dealer, len(out))
		}
		copy(es.Enc[:], out[:hpkeEncSize])
		copy(es.Ciphertext[:], out[hpkeEncSize:])
		d.Shares = append(d.Shares, es)
	}
	return d, sec, nil
}

// dealingError names the dealer of a bad dealing.
func dealingError(dealer int, sentinel error, format string, args ...any) error {
	return &crypto.TrusteeError{Trustee: dealer, Detail: "dealing: " + fmt.Sprintf(format, args...), Err: sentinel}
}

// checkDealingShape checks everything about a dealing except the proofs.
func checkDealingShape(params Params, d *Dealing) error {
	if err := params.Validate(); err != nil {
		return err
	}
	if d == nil {
		return fmt.Errorf("%w: nil dealing", ErrDealing)
	}
	if err := params.checkIndex("dealer", d.Dealer); err != nil {
		return err
	}
	if len(d.Commitments) != params.K || len(d.Proofs) != params.K {
		return dealingError(d.Dealer, ErrDealing, "%d commitments and %d proofs, want %d", len(d.Commitments), len(d.Proofs), params.K)
	}
	if len(d.Shares) != params.N-1 {
		return dealingError(d.Dealer, ErrDealing, "%d encrypted shares, want %d", len(d.Shares), params.N-1)
	}
	for j, a := range d.Commitments {
		if a == nil || a.IsIdentity() {
			return dealingError(d.Dealer, crypto.ErrIdentity, "commitment %d is the identity", j)
		}
		if d.Proofs[j].Commitment == nil || d.Proofs[j].Response == nil {
			return dealingError(d.Dealer, ErrDealing, "coefficient %d: missing proof", j)
		}
	}
	for l := 1; l <= params.N; l++ {
		if l == d.Dealer {
			continue
		}
		if err := checkX25519Public(d.Shares[sharePosition(d.Dealer, l)].Enc[:]); err != nil {
			return dealingError(d.Dealer, err, "encrypted share for trustee %d: encapsulated key: %v", l, err)
		}
	}
	return nil
}

// VerifyDealing checks a dealing's shape (k commitments, none the identity;
// k proofs; n−1 encrypted shares whose encapsulated keys are valid X25519
// keys) and its k Schnorr proofs, batch-verified. An error names the dealer
// (a *TrusteeError) and, for a bad proof, the coefficient. It does not (and
// cannot) check the encrypted shares: that is each recipient's job
// (OpenShare). It is variable-time.
func VerifyDealing(ctx crypto.Context, params Params, d *Dealing) error {
	if err := checkDealingShape(params, d); err != nil {
		return err
	}
	b, err := crypto.NewBatch(nil)
	if err != nil {
		return err
	}
	for j, a := range d.Commitments {
		b.AddSchnorr(coefficientContext(ctx, params, d.Dealer, j), a, d.Proofs[j])
	}
	if failed := b.Verify(); len(failed) > 0 {
		return dealingError(d.Dealer, crypto.ErrProof, "coefficient %d: schnorr proof does not verify", failed[0])
	}
	return nil
}

// openShareWithSecret repeats recipient l's decryption of dealer d.Dealer's
// share from the KEM shared secret and checks it against the commitments.
// It fails with errShareUndecryptable (the evidence decides nothing), or
// with errShareNotScalar or errShareWrong (the dealer is at fault).
// d must have passed checkDealingShape.
func openShareWithSecret(ctx crypto.Context, params Params, d *Dealing, l int, sharedSecret []byte) (crypto.Scalar, error) {
	es := d.Shares[sharePosition(d.Dealer, l)]
	pt, err := hpkeOpenWithSecret(sharedSecret, shareInfo(ctx, params, d.Dealer, l), nil, es.Ciphertext[:])
	if err != nil {
		return nil, errShareUndecryptable
	}
	s, err := crypto.DecodeScalar(pt)
	if err != nil {
		return nil, errShareNotScalar
	}
	if err := checkShare(d, l, s); err != nil {
		return nil, err
	}
	return s, nil
}

// checkShare checks s·G = Σ_j l^j·A_{i,j}. s·G is computed in constant time;
// the comparison's result is public.
func checkShare(d *Dealing, l int, s crypto.Scalar) error {
	if s == nil || !crypto.BaseMul(s).IsEqual(VarTimeCommitmentAt(d.Commitments, l)) {
		return errShareWrong
	}
	return nil
}

// OpenShare is round 2 for trustee recipient and the dealing d (which must
// have passed VerifyDealing): it decrypts s_{i,l} and checks it against the
// dealer's commitments. If the share is good it returns it; otherwise it
// returns the Complaint to publish. An error means the inputs are unusable
// (bad parameters, wrong key, a dealing that fails VerifyDealing).
func OpenShare(ctx crypto.Context, params Params, recipient int, sk *HPKEPrivateKey, d *Dealing) (crypto.Scalar, *Complaint, error) {
	if err := checkDealingShape(params, d); err != nil {
		return nil, nil, err
	}
	if err := params.checkIndex("recipient", recipient); err != nil {
		return nil, nil, err
	}
	if recipient == d.Dealer {
		return nil, nil, fmt.Errorf("%w: trustee %d cannot open its own dealing", ErrParams, recipient)
	}
	if sk == nil {
		return nil, nil, fmt.Errorf("crypto: trustee %d: no HPKE private key", recipient)
	}
	es := d.Shares[sharePosition(d.Dealer, recipient)]
	ss, err := sk.decapsulate(es.Enc[:])
	if err != nil {
		return nil, nil, &crypto.TrusteeError{Trustee: d.Dealer, Detail: fmt.Sprintf("dealing: encrypted share for trustee %d: %v", recipient, err), Err: ErrDealing}
	}
	s, err := openShareWithSecret(ctx, params, d, recipient, ss)
	if err != nil {
		c := &Complaint{Accuser: recipient, Accused: d.Dealer}
		copy(c.SharedSecret[:], ss)
		return nil, c, nil
	}
	return s, nil, nil
}

// Complaint is trustee Accuser's round-2 accusation that the share dealer
// Accused sent it is bad. SharedSecret is the HPKE KEM shared secret the
// accuser obtained by decapsulating the dealer's encapsulated key: with it
// anyone can repeat the decryption. It reveals only that one pairwise secret.
type Complaint struct {
	Accuser, Accused int
	SharedSecret     [hpkeSecretSize]byte
}

// Justification is dealer Dealer's round-3 answer to a complaint by
// Recipient: the share s_{Dealer,Recipient} in the clear.
type Justification struct {
	Dealer, Recipient int
	Share             crypto.Scalar
}

// Fault is a trustee's misbehaviour found by Resolve. It is an error whose
// message names the trustee and that wraps one of the sentinel errors above
// (or ErrProof, ErrIdentity, ErrDealing for a bad dealing).
type Fault struct {
	Trustee int
	// Disqualified reports whether the fault excludes the trustee's dealing
	// from the joint key. False accusers keep their dealings.
	Disqualified bool
	Reason       string
	Err          error
	// Evidence is the encoding of the Complaint or Justification that proves
	// the fault, or nil when the fault is in (or the absence of) the dealing.
	Evidence []byte
}

func (f Fault) Error() string { return fmt.Sprintf("crypto: trustee %d: %s", f.Trustee, f.Reason) }

// Unwrap returns the sentinel error.
func (f Fault) Unwrap() error { return f.Err }

// Result is the outcome of a key ceremony, the same for everyone who runs
// Resolve on the same transcript.
type Result struct {
	Params Params
	// Qualified lists the dealers whose polynomials make up the key, in
	// increasing order (QUAL).
	Qualified []int
	// PublicKey is the joint election key K = Σ_{i∈QUAL} A_{i,0}.
	PublicKey crypto.Point
	// VerificationKeys[l−1] is K_l = Σ_{i∈QUAL} Σ_j l^j·A_{i,j} = x_l·G.
	VerificationKeys []crypto.Point
	// Justified holds the valid justifications that decided complaints; their
	// shares replace what the accusers decrypted.
	Justified []Justification
	// Faults lists every fault found, in the order of the rules of
	// docs/spec-threshold.md.
	Faults []Fault
}

// Resolve is the deterministic end of the ceremony, run alike by trustees and
// observers over the public transcript (docs/spec-threshold.md, "Resolve"):
//
//   - A dealer is disqualified if it has no dealing or more than one (the
//     first is the one checked), or its dealing fails VerifyDealing, or a
//     complaint against it is proven by its evidence (the ciphertext decrypts
//     to something that is not a valid share), or a complaint whose evidence
//     does not decrypt the ciphertext is unanswered or answered with an
//     invalid justification.
//   - A complaint whose evidence decrypts to a valid share is false: the
//     accuser is reported (not disqualified) and the dealer kept.
//   - A repeated complaint or justification for the same pair is reported
//     and ignored; only the first counts.
//
// It fails with ErrTooFewQualified if fewer than K dealers qualify, still
// returning the result with the faults (and no keys). Messages whose indices
// are out of range, or complaints against oneself, are an error of the
// caller (decoders never produce them).
func Resolve(ctx crypto.Context, params Params, dealings []*Dealing, complaints []Complaint, justifications []Justification) (*Result, error) {
	if err := params.Validate(); err != nil {
		return nil, err
	}
	n := params.N
	res := &Result{Params: params}
	disq := make([]bool, n+1)
	addFault := func(f Fault) {
		res.Faults = append(res.Faults, f)
		if f.Disqualified {
			disq[f.Trustee] = true
		}
	}

	// Rule 1: dealings.
	byDealer := make([]*Dealing, n+1)
	seen := make([]bool, n+1)
	for pos, d := range dealings {
		if d == nil {
			return nil, fmt.Errorf("crypto: dealing %d of the transcript is nil", pos)
		}
		if err := params.checkIndex("dealer", d.Dealer); err != nil {
			return nil, fmt.Errorf("crypto: dealing %d of the transcript: %w", pos, err)
		}
		if seen[d.Dealer] {
			addFault(Fault{Trustee: d.Dealer, Disqualified: true, Reason: "published more than one dealing", Err: ErrEquivocation})
			continue
		}
		seen[d.Dealer] = true
		if err := VerifyDealing(ctx, params, d); err != nil {
			var te *crypto.TrusteeError
			reason := err.Error()
			if errors.As(err, &te) {
				reason = te.Detail
			}
			addFault(Fault{Trustee: d.Dealer, Disqualified: true, Reason: reason, Err: err})
			continue
		}
		byDealer[d.Dealer] = d
	}
	for i := 1; i <= n; i++ {
		if !seen[i] {
			addFault(Fault{Trustee: i, Disqualified: true, Reason: "published no dealing", Err: ErrMissingDealing})
		}
	}
	dealingOK := make([]bool, n+1)
	for i := 1; i <= n; i++ {
		dealingOK[i] = byDealer[i] != nil && !disq[i]
	}

	// Rule 2: complaints, decided by their evidence where it decrypts.
	type pair struct{ dealer, recipient int }
	complained := make(map[pair]bool)
	var pending []Complaint
	for pos, c := range complaints {
		if err := params.checkIndex("accuser", c.Accuser); err != nil {
			return nil, fmt.Errorf("crypto: complaint %d of the transcript: %w", pos, err)
		}
		if err := params.checkIndex("accused", c.Accused); err != nil {
			return nil, fmt.Errorf("crypto: complaint %d of the transcript: %w", pos, err)
		}
		if c.Accuser == c.Accused {
			return nil, fmt.Errorf("crypto: complaint %d of the transcript: %w: trustee %d accuses itself", pos, ErrParams, c.Accuser)
		}
		p := pair{c.Accused, c.Accuser}
		if complained[p] {
			addFault(Fault{Trustee: c.Accuser, Reason: fmt.Sprintf("repeated complaint against trustee %d", c.Accused), Err: ErrDuplicateMessage, Evidence: c.Encode()})
			continue
		}
		complained[p] = true
		if !dealingOK[c.Accused] {
			continue // already disqualified for its dealing
		}
		_, err := openShareWithSecret(ctx, params, byDealer[c.Accused], c.Accuser, c.SharedSecret[:])
		switch {
		case err == nil:
			addFault(Fault{Trustee: c.Accuser, Reason: fmt.Sprintf("false complaint against trustee %d: the evidence decrypts to a valid share", c.Accused), Err: ErrFalseComplaint, Evidence: c.Encode()})
		case errors.Is(err, errShareUndecryptable):
			pending = append(pending, c)
		default:
			addFault(Fault{Trustee: c.Accused, Disqualified: true, Reason: fmt.Sprintf("complaint by trustee %d proven: %v", c.Accuser, err), Err: ErrComplaintProven, Evidence: c.Encode()})
		}
	}

	// Rule 3: justifications answer the undecided complaints.
	justs := make(map[pair]Justification)
	for pos, j := range justifications {
		if err := params.checkIndex("dealer", j.Dealer); err != nil {
			return nil, fmt.Errorf("crypto: justification %d of the transcript: %w", pos, err)
		}
		if err := params.checkIndex("recipient", j.Recipient); err != nil {
			return nil, fmt.Errorf("crypto: justification %d of the transcript: %w", pos, err)
		}
		if j.Dealer == j.Recipient || j.Share == nil {
			return nil, fmt.Errorf("crypto: justification %d of the transcript: %w: malformed", pos, ErrParams)
		}
		p := pair{j.Dealer, j.Recipient}
		if _, dup := justs[p]; dup {
			addFault(Fault{Trustee: j.Dealer, Reason: fmt.Sprintf("repeated justification for trustee %d", j.Recipient), Err: ErrDuplicateMessage, Evidence: j.Encode()})
			continue
		}
		justs[p] = j
	}
	for _, c := range pending {
		j, ok := justs[pair{c.Accused, c.Accuser}]
		if !ok {
			addFault(Fault{Trustee: c.Accused, Disqualified: true, Reason: fmt.Sprintf("did not answer the complaint by trustee %d", c.Accuser), Err: ErrUnanswered, Evidence: c.Encode()})
			continue
		}
		if err := checkShare(byDealer[c.Accused], c.Accuser, j.Share); err != nil {
			addFault(Fault{Trustee: c.Accused, Disqualified: true, Reason: fmt.Sprintf("justification for trustee %d: %v", c.Accuser, err), Err: ErrBadJustification, Evidence: j.Encode()})
			continue
		}
		res.Justified = append(res.Justified, j)
	}

	// Rule 4: the qualified set and the keys.
	for i := 1; i <= n; i++ {
		if dealingOK[i] && !disq[i] {
			res.Qualified = append(res.Qualified, i)
		}
	}
	if len(res.Qualified) < params.K {
		return res, fmt.Errorf("%w: %d qualified, need %d", ErrTooFewQualified, len(res.Qualified), params.K)
	}
	sum := make([]crypto.Point, params.K) // C_j = Σ_{i∈QUAL} A_{i,j}
	for j := range sum {
		sum[j] = crypto.NewPoint()
		for _, i := range res.Qualified {
			sum[j].Add(sum[j], byDealer[i].Commitments[j])
		}
	}
	res.PublicKey = crypto.NewPoint().Set(sum[0])
	res.VerificationKeys = make([]crypto.Point, n)
	for l := 1; l <= n; l++ {
		res.VerificationKeys[l-1] = VarTimeCommitmentAt(sum, l)
	}
	return res, nil
}

// SecretShare returns trustee l's secret key share x_l = Σ_{i∈QUAL} s_{i,l}.
// shares[i] is the share l received from dealer i (shares[l] its own
// f_l(l)); for a complaint decided by a justification, the justified share is
// used instead. It checks x_l·G = K_l.
func (r *Result) SecretShare(l int, shares map[int]crypto.Scalar) (crypto.Scalar, error) {
	if err := r.Params.checkIndex("trustee", l); err != nil {
		return nil, err
	}
	if len(r.VerificationKeys) != r.Params.N {
		return nil, fmt.Errorf("%w: the ceremony has no keys", ErrTooFewQualified)
	}
	x := crypto.NewScalar()
	for _, i := range r.Qualified {
		s := shares[i]
		for _, j := range r.Justified {
			if j.Dealer == i && j.Recipient == l {
				s = j.Share
			}
		}
		if s == nil {
			return nil, &crypto.TrusteeError{Trustee: l, Detail: fmt.Sprintf("no share from dealer %d", i), Err: ErrShareMismatch}
		}
		x.Add(x, s)
	}
	if !crypto.BaseMul(x).IsEqual(r.VerificationKeys[l-1]) {
		return nil, &crypto.TrusteeError{Trustee: l, Detail: "secret share does not match the verification key", Err: ErrShareMismatch}
	}
	return x, nil
}

// Encode returns the canonical encoding of a well-formed dealing (as made by
// NewDealing or DecodeDealing):
//
//	u8(n) ‖ u8(k) ‖ u8(dealer) ‖ (A_j ‖ h_j ‖ v_j) for j = 0..k−1 ‖
//	(enc_l ‖ ct_l) for l = 1..n, l ≠ dealer.
func (d *Dealing) Encode() []byte {
	k, n := len(d.Commitments), len(d.Shares)+1
	out := make([]byte, 0, Params{N: n, K: k}.DealingSize())
	out = append(out, byte(n), byte(k), byte(d.Dealer))
	for j, a := range d.Commitments {
		out = crypto.AppendPoint(out, a)
		out = append(out, d.Proofs[j].Encode()...)
	}
	for _, s := range d.Shares {
		out = append(out, s.Enc[:]...)
		out = append(out, s.Ciphertext[:]...)
	}
	return out
}

// DecodeDealing decodes a dealing for the ceremony params. It rejects every
// byte string that is not the canonical encoding of a dealing of the right
// shape: wrong length or header, dealer out of range, non-canonical or
// identity commitments, non-canonical proof values, non-canonical or
// small-order encapsulated keys. The proofs are checked by VerifyDealing.
func DecodeDealing(params Params, b []byte) (*Dealing, error) {
	if err := params.Validate(); err != nil {
		return nil, err
	}
	if len(b) != params.DealingSize() {
		return nil, fmt.Errorf("crypto: dealing: %w: %d bytes, want %d", crypto.ErrLength, len(b), params.DealingSize())
	}
	if int(b[0]) != params.N || int(b[1]) != params.K {
		return nil, fmt.Errorf("crypto: dealing: %w: made for %d trustees with threshold %d, the ceremony has %d with threshold %d", crypto.ErrDecode, b[0], b[1], params.N, params.K)
	}
	dealer := int(b[2])
	if dealer < 1 || dealer > params.N {
		return nil, fmt.Errorf("crypto: dealing: %w: dealer index %d out of range 1..%d", crypto.ErrDecode, dealer, params.N)
	}
	d := crypto.NewDecoder(b[dealingHeaderSize:])
	out := &Dealing{
		Dealer:      dealer,
		Commitments: make([]crypto.Point, params.K),
		Proofs:      make([]crypto.SchnorrProof, params.K),
		Shares:      make([]EncryptedShare, params.N-1),
	}
	for j := range out.Commitments {
		out.Commitments[j] = d.NonIdentityPoint(fmt.Sprintf("commitment %d", j))
		out.Proofs[j].Commitment = d.Point(fmt.Sprintf("proof %d commitment", j))
		out.Proofs[j].Response = d.Scalar(fmt.Sprintf("proof %d response", j))
	}
	for pos := range out.Shares {
		l := pos + 1
		if l >= dealer {
			l++
		}
		field := fmt.Sprintf("encrypted share for trustee %d", l)
		enc := d.Bytes(hpkeEncSize, field)
		if d.Err() == nil {
			d.Fail(field, checkX25519Public(enc))
		}
		ct := d.Bytes(crypto.ScalarSize+hpkeTagSize, field)
		if d.Err() == nil {
			copy(out.Shares[pos].Enc[:], enc)
			copy(out.Shares[pos].Ciphertext[:], ct)
		}
	}
	if err := d.Finish(fmt.Sprintf("dealing of trustee %d", dealer)); err != nil {
		return nil, err
	}
	return out, nil
}

// Encode returns u8(accuser) ‖ u8(accused) ‖ shared secret (34 bytes).
func (c Complaint) Encode() []byte {
	out := make([]byte, 0, ComplaintSize)
	out = append(out, byte(c.Accuser), byte(c.Accused))
	return append(out, c.SharedSecret[:]...)
}

// decodePair decodes two trustee indices that must differ.
func decodePair(params Params, what, first, second string, b []byte, size int) (int, int, error) {
	if err := params.Validate(); err != nil {
		return 0, 0, err
	}
	if len(b) != size {
		return 0, 0, fmt.Errorf("crypto: %s: %w: %d bytes, want %d", what, crypto.ErrLength, len(b), size)
	}
	a, c := int(b[0]), int(b[1])
	for _, v := range []struct {
		name string
		i    int
	}{{first, a}, {second, c}} {
		if v.i < 1 || v.i > params.N {
			return 0, 0, fmt.Errorf("crypto: %s: %w: %s index %d out of range 1..%d", what, crypto.ErrDecode, v.name, v.i, params.N)
		}
	}
	if a == c {
		return 0, 0, fmt.Errorf("crypto: %s: %w: %s and %s are both trustee %d", what, crypto.ErrDecode, first, second, a)
	}
	return a, c, nil
}

// DecodeComplaint decodes a complaint for the ceremony params.
func DecodeComplaint(params Params, b []byte) (Complaint, error) {
	a, c, err := decodePair(params, "complaint", "accuser", "accused", b, ComplaintSize)
	if err != nil {
		return Complaint{}, err
	}
	out := Complaint{Accuser: a, Accused: c}
	copy(out.SharedSecret[:], b[2:])
	return out, nil
}

// Encode returns u8(dealer) ‖ u8(recipient) ‖ share (34 bytes).
func (j Justification) Encode() []byte {
	out := make([]byte, 0, JustificationSize)
	out = append(out, byte(j.Dealer), byte(j.Recipient))
	return crypto.AppendScalar(out, j.Share)
}

// DecodeJustification decodes a justification for the ceremony params.
func DecodeJustification(params Params, b []byte) (Justification, error) {
	a, c, err := decodePair(params, "justification", "dealer", "recipient", b, JustificationSize)
	if err != nil {
		return Justification{}, err
	}
	d := crypto.NewDecoder(b[2:])
	s := d.Scalar("share")
	if err := d.Finish("justification"); err != nil {
		return Justification{}, err
	}
	return Justification{Dealer: a, Recipient: c, Share: s}, nil
}
