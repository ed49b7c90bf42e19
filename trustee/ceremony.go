package trustee

import (
	"bytes"
	cryptorand "crypto/rand"
	"encoding/binary"
	"errors"
	"fmt"
	"sort"

	"github.com/evote/evote/ballot"
	"github.com/evote/evote/crypto"
	"github.com/evote/evote/crypto/dkg"
)

// Message kinds, in round order.
const (
	KindRegister       = "register"       // round 0: the trustee's HPKE public key
	KindDealing        = "dealing"        // round 1: commitments with proofs, encrypted shares
	KindComplaints     = "complaints"     // round 2: complaints about received shares (possibly none)
	KindJustifications = "justifications" // round 3: answers to complaints (possibly none)
)

var kindOrder = []string{KindRegister, KindDealing, KindComplaints, KindJustifications}

// Tags of the ceremony's hashes (docs/spec-threshold.md, "Ceremony messages").
const (
	tagCeremony = "evote/v1/ceremony"
	tagMessage  = "ceremony/message"
)

// Errors of the ceremony.
var (
	// ErrNotTrustee is returned when a key is not one of the election's trustees.
	ErrNotTrustee = errors.New("trustee: this key is not one of the election's trustees")
	// ErrSignature is returned for a message whose signature does not verify:
	// it was altered, or not made by the trustee it names.
	ErrSignature = errors.New("trustee: message signature does not verify (the message was altered or not signed by its trustee)")
	// ErrWaiting is returned when a round cannot start because messages of
	// the previous round are missing.
	ErrWaiting = errors.New("trustee: waiting for other trustees")
)

// Message is one signed ceremony message.
type Message struct {
	Kind       string
	ElectionID string
	From       int // trustee index, 1..n
	Payload    []byte
	Signature  crypto.SchnorrProof // by the trustee's identity key
}

// Ceremony is the key ceremony of one election: its trustees' identity keys,
// the parameters and the context that binds every message and proof to the
// election's manifest.
type Ceremony struct {
	Manifest *ballot.Manifest
	Params   dkg.Params
	Context  crypto.Context
	identity []crypto.Point // identity[l−1] is trustee l's identity key
}

// NewCeremony prepares the ceremony of an election. Every trustee of the manifest must
// have its identity public key listed.
func NewCeremony(m *ballot.Manifest) (*Ceremony, error) {
	if err := m.Validate(); err != nil {
		return nil, err
	}
	c := &Ceremony{Manifest: m, Params: dkg.Params{N: len(m.Trustees.Members), K: m.Trustees.Threshold}}
	if err := c.Params.Validate(); err != nil {
		return nil, err
	}
	for _, t := range m.Trustees.Members {
		if len(t.PublicKey) == 0 {
			return nil, fmt.Errorf("trustee: trustee %d (%s) has no public_key in the election configuration; run `evote trustee init` and add the key it prints", t.Index, t.Name)
		}
		p, err := crypto.DecodeNonIdentityPoint(t.PublicKey)
		if err != nil {
			return nil, fmt.Errorf("trustee: trustee %d (%s): public key: %w", t.Index, t.Name, err)
		}
		c.identity = append(c.identity, p)
	}
	mh := m.Hash()
	c.Context = crypto.Context(crypto.Hash(tagCeremony, mh[:]))
	return c, nil
}

// Name returns "trustee l (name)" for messages.
func (c *Ceremony) Name(l int) string {
	if l < 1 || l > len(c.Manifest.Trustees.Members) {
		return fmt.Sprintf("trustee %d", l)
	}
	return fmt.Sprintf("trustee %d (%s)", l, c.Manifest.Trustees.Members[l-1].Name)
}

// IndexOf returns the index of the trustee whose identity key is k's.
func (c *Ceremony) IndexOf(k *Key) (int, error) {
	for i, t := range c.Manifest.Trustees.Members {
		if bytes.Equal(t.PublicKey, k.Identity) {
			return i + 1, nil
		}
	}
	return 0, fmt.Errorf("%w: %q's identity key %s is not in election %q", ErrNotTrustee, k.Name, k.IdentityText(), c.Manifest.ElectionID)
}

func u64(v int) []byte { return binary.BigEndian.AppendUint64(nil, uint64(v)) }

// messageContext is the context of a message's signature: it binds the
// ceremony, the kind, the sender and the payload.
func (c *Ceremony) messageContext(kind string, from int, payload []byte) crypto.Context {
	ph := crypto.Hash(tagCeremony+"/payload", payload)
	return c.Context.Derive(tagMessage, []byte(kind), u64(from), ph[:])
}

// sign makes a signed message from trustee key k.
func (c *Ceremony) sign(k *Key, kind string, payload []byte) (*Message, error) {
	from, err := c.IndexOf(k)
	if err != nil {
		return nil, err
	}
	sig, err := crypto.ProveSchnorr(cryptorand.Reader, c.messageContext(kind, from, payload), k.identity, c.identity[from-1])
	if err != nil {
		return nil, err
	}
	return &Message{Kind: kind, ElectionID: c.Manifest.ElectionID, From: from, Payload: payload, Signature: sig}, nil
}

// Verify checks a message's election, sender and signature.
func (c *Ceremony) Verify(msg *Message) error {
	if msg.ElectionID != c.Manifest.ElectionID {
		return fmt.Errorf("trustee: %s message for election %q, not %q", msg.Kind, msg.ElectionID, c.Manifest.ElectionID)
	}
	if msg.From < 1 || msg.From > c.Params.N {
		return fmt.Errorf("trustee: %s message from trustee %d: no such trustee", msg.Kind, msg.From)
	}
	if !contains(kindOrder, msg.Kind) {
		return fmt.Errorf("trustee: message of unknown kind %q from %s", msg.Kind, c.Name(msg.From))
	}
	if msg.Signature.Commitment == nil || msg.Signature.Verify(c.messageContext(msg.Kind, msg.From, msg.Payload), c.identity[msg.From-1]) != nil {
		return fmt.Errorf("%s: %s: %w", c.Name(msg.From), msg.Kind, ErrSignature)
	}
	return nil
}

func contains(xs []string, x string) bool {
	for _, y := range xs {
		if x == y {
			return true
		}
	}
	return false
}

// Transcript is the ceremony's messages, checked and decoded.
type Transcript struct {
	HPKE           []dkg.HPKEPublicKey // by trustee index − 1; zero if not registered
	Registered     []int
	Dealings       []*dkg.Dealing
	DealtBy        []int
	Complaints     []dkg.Complaint
	ComplainedBy   []int
	Justifications []dkg.Justification
	JustifiedBy    []int
	// Problems lists messages that were rejected (bad signature, wrong
	// election, undecodable payload, a second different message of the same
	// kind): each names the trustee the message claims to come from.
	Problems []error
}

// Collect checks every message and assembles the transcript. Invalid
// messages are left out and listed in Problems; the ceremony goes on
// without them (a trustee whose dealing is missing is disqualified).
func (c *Ceremony) Collect(msgs []*Message) *Transcript {
	t := &Transcript{HPKE: make([]dkg.HPKEPublicKey, c.Params.N)}
	seen := map[string]*Message{}
	sorted := append([]*Message(nil), msgs...)
	sort.SliceStable(sorted, func(i, j int) bool {
		a, b := sorted[i], sorted[j]
		if ka, kb := indexOf(kindOrder, a.Kind), indexOf(kindOrder, b.Kind); ka != kb {
			return ka < kb
		}
		return a.From < b.From
	})
	for _, msg := range sorted {
		if err := c.Verify(msg); err != nil {
			t.Problems = append(t.Problems, err)
			continue
		}
		key := fmt.Sprintf("%s/%d", msg.Kind, msg.From)
		if prev, ok := seen[key]; ok {
			if !bytes.Equal(prev.Payload, msg.Payload) {
				t.Problems = append(t.Problems, fmt.Errorf("%s: two different signed %s messages (equivocation); the first is used", c.Name(msg.From), msg.Kind))
			}
			continue
		}
		seen[key] = msg
		if err := t.add(c, msg); err != nil {
			t.Problems = append(t.Problems, fmt.Errorf("%s: %s: %w", c.Name(msg.From), msg.Kind, err))
		}
	}
	return t
}

func indexOf(xs []string, x string) int {
	for i, y := range xs {
		if x == y {
			return i
		}
	}
	return len(xs)
}

func (t *Transcript) add(c *Ceremony, msg *Message) error {
	switch msg.Kind {
	case KindRegister:
		k, err := dkg.DecodeHPKEPublicKey(msg.Payload)
		if err != nil {
			return err
		}
		t.HPKE[msg.From-1] = k
		t.Registered = append(t.Registered, msg.From)
	case KindDealing:
		d, err := dkg.DecodeDealing(c.Params, msg.Payload)
		if err != nil {
			return err
		}
		if d.Dealer != msg.From {
			return fmt.Errorf("dealing names dealer %d", d.Dealer)
		}
		t.Dealings = append(t.Dealings, d)
		t.DealtBy = append(t.DealtBy, msg.From)
	case KindComplaints:
		cs, err := splitFixed(msg.Payload, dkg.ComplaintSize)
		if err != nil {
			return err
		}
		var decoded []dkg.Complaint
		for _, raw := range cs {
			cp, err := dkg.DecodeComplaint(c.Params, raw)
			if err != nil {
				return err
			}
			if cp.Accuser != msg.From {
				return fmt.Errorf("complaint in the name of trustee %d", cp.Accuser)
			}
			decoded = append(decoded, cp)
		}
		t.Complaints = append(t.Complaints, decoded...)
		t.ComplainedBy = append(t.ComplainedBy, msg.From)
	case KindJustifications:
		js, err := splitFixed(msg.Payload, dkg.JustificationSize)
		if err != nil {
			return err
		}
		var decoded []dkg.Justification
		for _, raw := range js {
			j, err := dkg.DecodeJustification(c.Params, raw)
			if err != nil {
				return err
			}
			if j.Dealer != msg.From {
				return fmt.Errorf("justification in the name of trustee %d", j.Dealer)
			}
			decoded = append(decoded, j)
		}
		t.Justifications = append(t.Justifications, decoded...)
		t.JustifiedBy = append(t.JustifiedBy, msg.From)
	}
	return nil
}

// splitFixed splits b into records of size n.
func splitFixed(b []byte, n int) ([][]byte, error) {
	if len(b)%n != 0 {
		return nil, fmt.Errorf("payload of %d bytes is not a whole number of %d-byte records", len(b), n)
	}
	var out [][]byte
	for len(b) > 0 {
		out = append(out, b[:n])
		b = b[n:]
	}
	return out, nil
}

// missing returns the trustees 1..n not in have.
func (c *Ceremony) missing(have []int) []int {
	var out []int
	for l := 1; l <= c.Params.N; l++ {
		if !containsInt(have, l) {
			out = append(out, l)
		}
	}
	return out
}

func containsInt(xs []int, x int) bool {
	for _, y := range xs {
		if x == y {
			return true
		}
	}
	return false
}

// waiting returns ErrWaiting naming the trustees whose kind messages are
// missing, or nil.
func (c *Ceremony) waiting(kind string, have []int) error {
	return c.waitingFor(kind, c.missing(have))
}

// waitingFor returns ErrWaiting naming the trustees miss whose kind
// messages are missing, or nil if there are none.
func (c *Ceremony) waitingFor(kind string, miss []int) error {
	if len(miss) == 0 {
		return nil
	}
	var names []string
	for _, l := range miss {
		names = append(names, c.Name(l))
	}
	return fmt.Errorf("%w: no %s message yet from %s", ErrWaiting, kind, joinAnd(names))
}

func joinAnd(xs []string) string {
	switch len(xs) {
	case 0:
		return ""
	case 1:
		return xs[0]
	}
	s := xs[0]
	for _, x := range xs[1 : len(xs)-1] {
		s += ", " + x
	}
	return s + " and " + xs[len(xs)-1]
}

// Register is round 0: it returns trustee k's message publishing its HPKE
// public key.
func (c *Ceremony) Register(k *Key) (*Message, error) {
	return c.sign(k, KindRegister, k.HPKE)
}

// Deal is round 1: it needs every trustee's registration, draws the
// trustee's polynomial, keeps its coefficients in k.Ceremony (save the key
// file afterwards) and returns the dealing message.
func (c *Ceremony) Deal(k *Key, t *Transcript) (*Message, error) {
	me, err := c.IndexOf(k)
	if err != nil {
		return nil, err
	}
	if err := c.waiting(KindRegister, t.Registered); err != nil {
		return nil, err
	}
	mh := c.Manifest.Hash()
	if st := k.Ceremonies[c.Manifest.ElectionID]; st != nil {
		if !bytes.Equal(st.ManifestHash, mh[:]) {
			return nil, fmt.Errorf("trustee: %s's key file holds a ceremony for another definition of election %q; refusing to deal for this one", c.Name(me), c.Manifest.ElectionID)
		}
		if st.Coefficients != nil {
			return nil, fmt.Errorf("trustee: %s has already dealt in this ceremony; dealing twice would be equivocation", c.Name(me))
		}
	}
	coeffs := make([]crypto.Scalar, c.Params.K)
	enc := make([][]byte, c.Params.K)
	for j := range coeffs {
		if coeffs[j], err = crypto.RandomNonZeroScalar(cryptorand.Reader); err != nil {
			return nil, err
		}
		e := crypto.EncodeScalar(coeffs[j])
		enc[j] = e[:]
	}
	d, _, err := dkg.NewDealingWithRandomness(cryptorand.Reader, c.Context, c.Params, me, t.HPKE, coeffs)
	if err != nil {
		return nil, err
	}
	if k.Ceremonies == nil {
		k.Ceremonies = map[string]*CeremonyState{}
	}
	k.Ceremonies[c.Manifest.ElectionID] = &CeremonyState{ElectionID: c.Manifest.ElectionID, ManifestHash: mh[:], Index: me, Coefficients: enc}
	return c.sign(k, KindDealing, d.Encode())
}

// state returns k's state in this ceremony, which must have reached the deal
// round.
func (c *Ceremony) state(k *Key) (*CeremonyState, error) {
	mh := c.Manifest.Hash()
	st := k.Ceremonies[c.Manifest.ElectionID]
	if st == nil || st.Coefficients == nil || !bytes.Equal(st.ManifestHash, mh[:]) {
		return nil, fmt.Errorf("trustee: %q has not dealt in the ceremony of election %q (run the deal round first)", k.Name, c.Manifest.ElectionID)
	}
	return st, nil
}

// dealerSecret rebuilds k's polynomial from its key file.
func (c *Ceremony) dealerSecret(k *Key) (*dkg.DealerSecret, int, error) {
	st, err := c.state(k)
	if err != nil {
		return nil, 0, err
	}
	coeffs := make([]crypto.Scalar, len(st.Coefficients))
	for j, raw := range st.Coefficients {
		s, err := crypto.DecodeScalar(raw)
		if err != nil {
			return nil, 0, fmt.Errorf("trustee: key file: coefficient %d: %w", j, err)
		}
		coeffs[j] = s
	}
	s, err := dkg.NewDealerSecret(c.Params, st.Index, coeffs)
	return s, st.Index, err
}

// Check is round 2: it needs every dealing, opens the shares dealt to k and
// returns the complaints message (possibly with no complaint). A dealing
// that fails its public checks needs no complaint: everyone disqualifies it.
func (c *Ceremony) Check(k *Key, t *Transcript) (*Message, []dkg.Complaint, error) {
	_, me, err := c.dealerSecret(k)
	if err != nil {
		return nil, nil, err
	}
	if err := c.waiting(KindDealing, t.DealtBy); err != nil {
		return nil, nil, err
	}
	var complaints []dkg.Complaint
	var payload []byte
	for _, d := range t.Dealings {
		if d.Dealer == me || dkg.VerifyDealing(c.Context, c.Params, d) != nil {
			continue
		}
		_, cp, err := dkg.OpenShare(c.Context, c.Params, me, k.hpke, d)
		if err != nil {
			return nil, nil, err
		}
		if cp != nil {
			complaints = append(complaints, *cp)
			payload = append(payload, cp.Encode()...)
		}
	}
	msg, err := c.sign(k, KindComplaints, payload)
	return msg, complaints, err
}

// Justify is round 3: it needs every complaints message and answers each
// complaint against k by revealing the accuser's share.
func (c *Ceremony) Justify(k *Key, t *Transcript) (*Message, []dkg.Justification, error) {
	sec, me, err := c.dealerSecret(k)
	if err != nil {
		return nil, nil, err
	}
	if err := c.waiting(KindComplaints, t.ComplainedBy); err != nil {
		return nil, nil, err
	}
	var js []dkg.Justification
	var payload []byte
	for _, cp := range t.Complaints {
		if cp.Accused != me {
			continue
		}
		j, err := sec.Justify(cp)
		if err != nil {
			return nil, nil, err
		}
		js = append(js, j)
		payload = append(payload, j.Encode()...)
	}
	msg, err := c.sign(k, KindJustifications, payload)
	return msg, js, err
}

// Resolve runs the deterministic end of the ceremony over the transcript.
// Unless force is set (after the deadline, a trustee that sent nothing is
// disqualified), it needs every trustee's dealing and complaints message,
// and the justifications message of every trustee that a complaint names:
// only those decide anything (docs/spec-threshold.md §6), so the result is
// the one the chain reaches once every trustee's message is in. Anyone can
// run it: it uses public data only.
func (c *Ceremony) Resolve(t *Transcript, force bool) (*dkg.Result, error) {
	if !force {
		for _, r := range []struct {
			kind string
			have []int
		}{{KindDealing, t.DealtBy}, {KindComplaints, t.ComplainedBy}} {
			if err := c.waiting(r.kind, r.have); err != nil {
				return nil, err
			}
		}
		var unanswered []int
		for _, l := range c.accused(t) {
			if !containsInt(t.JustifiedBy, l) {
				unanswered = append(unanswered, l)
			}
		}
		if len(unanswered) > 0 {
			return nil, c.waitingFor(KindJustifications, unanswered)
		}
	}
	return dkg.Resolve(c.Context, c.Params, t.Dealings, t.Complaints, t.Justifications)
}

// accused lists the trustees that a complaint of t names, in order.
func (c *Ceremony) accused(t *Transcript) []int {
	var out []int
	for l := 1; l <= c.Params.N; l++ {
		for _, cp := range t.Complaints {
			if cp.Accused == l {
				out = append(out, l)
				break
			}
		}
	}
	return out
}

// ErrAccused is returned by NoJustification when complaints name the
// trustee: it must answer them (Justify).
var ErrAccused = errors.New("trustee: complaints name this trustee")

// NoJustification is round 3 for a trustee that no complaint names: once
// every complaints message is in, it returns k's empty justifications
// message, which closes the round for k without anything to answer. It
// returns nil if k has sent its justifications message already, and an
// error wrapping ErrAccused, naming the accusers, if complaints name k.
func (c *Ceremony) NoJustification(k *Key, t *Transcript) (*Message, error) {
	_, me, err := c.dealerSecret(k)
	if err != nil {
		return nil, err
	}
	if containsInt(t.JustifiedBy, me) {
		return nil, nil
	}
	if err := c.waiting(KindComplaints, t.ComplainedBy); err != nil {
		return nil, err
	}
	var accusers []string
	for _, cp := range t.Complaints {
		if cp.Accused == me {
			accusers = append(accusers, c.Name(cp.Accuser))
		}
	}
	if len(accusers) > 0 {
		return nil, fmt.Errorf("%w: %s complained about the share you dealt them", ErrAccused, joinAnd(accusers))
	}
	return c.sign(k, KindJustifications, nil)
}

// Finish resolves the ceremony and computes k's secret share of the
// election key, checked against its public verification key. It stores the
// share and the public results in k's ceremony state (save the key file
// afterwards).
func (c *Ceremony) Finish(k *Key, t *Transcript, force bool) (*dkg.Result, error) {
	sec, me, err := c.dealerSecret(k)
	if err != nil {
		return nil, err
	}
	res, err := c.Resolve(t, force)
	if err != nil {
		return res, err
	}
	shares := map[int]crypto.Scalar{}
	for _, d := range t.Dealings {
		if d.Dealer == me {
			if shares[me], err = sec.Share(me); err != nil {
				return nil, err
			}
			continue
		}
		if !containsInt(res.Qualified, d.Dealer) {
			continue
		}
		s, _, err := dkg.OpenShare(c.Context, c.Params, me, k.hpke, d)
		if err != nil {
			return nil, err
		}
		if s != nil {
			shares[d.Dealer] = s
		}
	}
	x, err := res.SecretShare(me, shares)
	if err != nil {
		return nil, err
	}
	st := k.Ceremonies[c.Manifest.ElectionID]
	xe := crypto.EncodeScalar(x)
	jk := crypto.EncodePoint(res.PublicKey)
	st.Share, st.JointKey = xe[:], jk[:]
	st.VerificationKeys = nil
	for _, vk := range res.VerificationKeys {
		e := crypto.EncodePoint(vk)
		st.VerificationKeys = append(st.VerificationKeys, e[:])
	}
	return res, nil
}

// SecretShare returns the trustee's secret share x_l of an election's key
// and its index, after Finish.
func (k *Key) SecretShare(electionID string) (crypto.Scalar, int, error) {
	st := k.Ceremonies[electionID]
	if st == nil || st.Share == nil {
		return nil, 0, fmt.Errorf("trustee: %q has no share of the key of election %q (finish the key ceremony first)", k.Name, electionID)
	}
	x, err := crypto.DecodeScalar(st.Share)
	return x, st.Index, err
}
