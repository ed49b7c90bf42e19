package rules

import (
	"errors"
	"fmt"
	"strconv"

	"github.com/evote/evote/ballot"
	"github.com/evote/evote/crypto"
	"github.com/evote/evote/trustee"
	"github.com/evote/evote/wire"
)

// CeremonyKinds are the key ceremony's message kinds in round order.
var CeremonyKinds = []string{trustee.KindRegister, trustee.KindDealing, trustee.KindComplaints, trustee.KindJustifications}

// ceremonyMessage turns a ceremony transaction into the trustee's message.
func ceremonyMessage(tx *wire.Ceremony) (*trustee.Message, *Rejection) {
	sig, err := crypto.DecodeSchnorrProof(tx.Signature)
	if err != nil {
		return nil, reject(wire.CodeMalformed, "ceremony: signature: %v", err)
	}
	if tx.From > 255 {
		return nil, reject(wire.CodeCeremony, "ceremony: no trustee %d", tx.From)
	}
	return &trustee.Message{Kind: tx.Message, ElectionID: tx.ElectionID, From: int(tx.From), Payload: tx.Payload, Signature: sig}, nil
}

// ceremony: docs/spec-chain.md §3 and docs/spec-threshold.md §11.
func (x *exec) ceremony(tx *wire.Ceremony) ([]Event, error) {
	rec, ec, err := x.electionFor(tx)
	if err != nil {
		return nil, err
	}
	if rec.Phase != wire.PhaseCeremony {
		return nil, reject(wire.CodeWrongPhase, "ceremony: the key ceremony of %q is over", tx.ElectionID)
	}
	msg, rej := ceremonyMessage(tx)
	if rej != nil {
		return nil, rej
	}
	if err := ec.Ceremony.Verify(msg); err != nil {
		r := reject(wire.CodeCeremony, "ceremony: %v", err)
		if errors.Is(err, trustee.ErrSignature) {
			r.Code = wire.CodeBadSignature
		}
		r.Trustee = msg.From
		return nil, r
	}
	if t := ec.Ceremony.Collect([]*trustee.Message{msg}); len(t.Problems) > 0 {
		r := reject(wire.CodeCeremony, "ceremony: %v", t.Problems[0])
		r.Trustee = msg.From
		return nil, r
	}
	k := Key(tx.ElectionID, []byte(msg.Kind), u64(tx.From))
	if found, err := x.has(BucketCeremony, k); err != nil {
		return nil, err
	} else if found {
		return nil, reject(wire.CodeDuplicate, "ceremony: %s already sent its %s message", ec.Ceremony.Name(msg.From), msg.Kind)
	}
	x.st.Put(BucketCeremony, k, wire.Encode(tx))
	events := []Event{event("ceremony", "election", tx.ElectionID, "kind", msg.Kind, "from", strconv.Itoa(msg.From))}
	if msg.Kind == trustee.KindJustifications {
		done, err := x.resolveCeremony(rec, ec)
		if err != nil {
			return nil, err
		}
		if done {
			events = append(events, event("election", "election", tx.ElectionID, "action", "keyed"))
		}
	}
	return events, nil
}

// CeremonyMessages reads the ceremony messages of an election in st, in
// round order (kind, then sender).
func CeremonyMessages(st State, ec *Election) ([]*trustee.Message, error) {
	var out []*trustee.Message
	for _, kind := range CeremonyKinds {
		for l := 1; l <= ec.Ceremony.Params.N; l++ {
			b, ok, err := st.Get(BucketCeremony, Key(ec.Manifest.ElectionID, []byte(kind), u64(uint64(l))))
			if err != nil {
				return nil, err
			}
			if !ok {
				continue
			}
			m, err := decodeStoredCeremony(b)
			if err != nil {
				return nil, err
			}
			out = append(out, m)
		}
	}
	return out, nil
}

func decodeStoredCeremony(b []byte) (*trustee.Message, error) {
	tx, err := wire.Decode(b)
	if err != nil {
		return nil, fmt.Errorf("rules: stored ceremony message: %w", err)
	}
	c, ok := tx.(*wire.Ceremony)
	if !ok {
		return nil, fmt.Errorf("rules: stored ceremony message is a %s transaction", tx.Kind())
	}
	m, rej := ceremonyMessage(c)
	if rej != nil {
		return nil, fmt.Errorf("rules: stored ceremony message: %v", rej)
	}
	return m, nil
}

// resolveCeremony runs the ceremony's resolution once every trustee's
// justifications message is on the chain.
func (x *exec) resolveCeremony(rec *ElectionRecord, ec *Election) (bool, error) {
	id := ec.Manifest.ElectionID
	for l := 1; l <= ec.Ceremony.Params.N; l++ {
		if found, err := x.has(BucketCeremony, Key(id, []byte(trustee.KindJustifications), u64(uint64(l)))); err != nil || !found {
			return false, err // not everyone has finished
		}
	}
	msgs, err := CeremonyMessages(x.st, ec)
	if err != nil {
		return false, err
	}
	t := ec.Ceremony.Collect(msgs)
	res, err := ec.Ceremony.Resolve(t, true)
	rec.Faults = nil
	if res != nil {
		for _, f := range res.Faults {
			rec.Faults = append(rec.Faults, f.Error())
		}
	}
	if err != nil {
		// Too few qualified trustees: the election cannot get a key; the
		// faults say why. It stays in the ceremony phase.
		rec.Faults = append(rec.Faults, err.Error())
		x.putRecord(id, rec)
		return false, nil
	}
	jk := crypto.EncodePoint(res.PublicKey)
	e, err := ballot.NewElection(ec.Manifest, res.PublicKey)
	if err != nil {
		// A joint key no ballot can be encrypted to (the identity, which
		// dishonest dealers could aim at): no key, as above.
		rec.Faults = append(rec.Faults, "the resolved joint key is unusable: "+err.Error())
		x.putRecord(id, rec)
		return false, nil
	}
	rec.JointKey, rec.BaseHash, rec.Qualified, rec.KeyHeight, rec.Phase = jk[:], e.BaseHash[:], res.Qualified, x.b.height, wire.PhaseReady
	rec.VerificationKeys = nil
	for _, vk := range res.VerificationKeys {
		v := crypto.EncodePoint(vk)
		rec.VerificationKeys = append(rec.VerificationKeys, v[:])
	}
	x.putRecord(id, rec)
	return true, nil
}
