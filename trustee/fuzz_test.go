package trustee

import (
	"bytes"
	"crypto/rand"
	"fmt"
	"testing"

	"github.com/evote/evote/ballot/ballottest"
)

// fuzzCeremony runs an honest ceremony of three trustees (threshold 2) in
// memory and returns it, the keys and its twelve messages in round order.
func fuzzCeremony(tb testing.TB) (*Ceremony, []*Key, []*Message) {
	m := ballottest.Mixed()
	var keys []*Key
	for i := range m.Trustees.Members {
		k, err := NewKey(rand.Reader, m.Trustees.Members[i].Name)
		if err != nil {
			tb.Fatal(err)
		}
		m.Trustees.Members[i].PublicKey = k.Identity
		keys = append(keys, k)
	}
	c, err := NewCeremony(m)
	if err != nil {
		tb.Fatal(err)
	}
	var msgs []*Message
	rounds := []func(k *Key, t *Transcript) (*Message, error){
		func(k *Key, _ *Transcript) (*Message, error) { return c.Register(k) },
		c.Deal,
		func(k *Key, t *Transcript) (*Message, error) { m, _, err := c.Check(k, t); return m, err },
		func(k *Key, t *Transcript) (*Message, error) { m, _, err := c.Justify(k, t); return m, err },
	}
	for _, round := range rounds {
		t := c.Collect(msgs)
		var next []*Message
		for _, k := range keys {
			m, err := round(k, t)
			if err != nil {
				tb.Fatal(err)
			}
			next = append(next, m)
		}
		msgs = append(msgs, next...)
	}
	return c, keys, msgs
}

// FuzzDecodeMessage runs arbitrary bytes through DecodeMessage, the decoder
// of a ceremony message file, and Ceremony.Verify. What decodes is encoded
// by EncodeMessage to a file that decodes to the same message; what
// verifies is one of the trustees' own messages (a signature cannot be
// moved to another kind, sender or payload). Then the decoded content is
// signed by the trustee it names, as a hostile trustee would send it, and
// put in the honest transcript in place of that trustee's message of that
// kind: Collect must account for every message (used, or listed in
// Problems) and Resolve must return, never panic.
func FuzzDecodeMessage(f *testing.F) {
	c, keys, msgs := fuzzCeremony(f)
	for _, m := range msgs {
		b, err := EncodeMessage(m)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add([]byte(`{"format":"evote/v1/ceremony-message","kind":"dealing","election_id":"mixed-test","from":4,"payload":"","signature":""}`))
	f.Add([]byte(`{}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		m, err := DecodeMessage(data)
		if err != nil {
			return
		}
		enc, err := EncodeMessage(m)
		if err != nil {
			t.Fatalf("EncodeMessage of a decoded message: %v", err)
		}
		m2, err := DecodeMessage(enc)
		if err != nil {
			t.Fatalf("DecodeMessage of EncodeMessage's file %s: %v", enc, err)
		}
		if same(m, m2) != nil {
			t.Fatalf("EncodeMessage then DecodeMessage: %+v, want %+v", m2, m)
		}
		if c.Verify(m) == nil {
			found := false
			for _, h := range msgs {
				if m.Kind == h.Kind && m.From == h.From && m.ElectionID == h.ElectionID && bytes.Equal(m.Payload, h.Payload) {
					found = true
				}
			}
			if !found {
				t.Fatalf("Verify accepts a message no trustee sent: %+v", m)
			}
		}
		if m.From < 1 || m.From > len(keys) || indexOf(kindOrder, m.Kind) == len(kindOrder) {
			return
		}
		signed, err := c.sign(keys[m.From-1], m.Kind, m.Payload)
		if err != nil {
			t.Fatal(err)
		}
		if err := c.Verify(signed); err != nil {
			t.Fatalf("Verify of a trustee's signed message: %v", err)
		}
		all := []*Message{signed}
		for _, h := range msgs {
			if h.Kind != m.Kind || h.From != m.From {
				all = append(all, h)
			}
		}
		tr := c.Collect(all)
		if n := len(tr.Registered) + len(tr.DealtBy) + len(tr.ComplainedBy) + len(tr.JustifiedBy) + len(tr.Problems); n != len(all) {
			t.Fatalf("Collect of %d messages: %d used and %d problems", len(all), n-len(tr.Problems), len(tr.Problems))
		}
		_, _ = c.Resolve(tr, true)
	})
}

// same returns an error naming the first field in which a and b differ.
func same(a, b *Message) error {
	switch {
	case a.Kind != b.Kind, a.ElectionID != b.ElectionID, a.From != b.From:
		return fmt.Errorf("header")
	case !bytes.Equal(a.Payload, b.Payload):
		return fmt.Errorf("payload")
	case !bytes.Equal(a.Signature.Encode(), b.Signature.Encode()):
		return fmt.Errorf("signature")
	}
	return nil
}
