package ballot_test

import (
	"bytes"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/binary"
	"slices"
	"testing"

	"github.com/evote/evote/ballot"
	"github.com/evote/evote/ballot/ballottest"
	"github.com/evote/evote/ballot/credential"
)

// fuzzElection returns the mixed-rules election, a voter's credential, and
// a ballot of that voter with its secrets.
func fuzzElection(tb testing.TB) (*ballot.Election, *credential.Credential, *ballot.Ballot, *ballot.Secrets) {
	m := ballottest.Mixed()
	e, _ := ballottest.Election(tb, m)
	code, err := credential.NewCode(rand.Reader)
	if err != nil {
		tb.Fatal(err)
	}
	c, err := credential.Derive(code, m.ElectionID, cheapKDF)
	if err != nil {
		tb.Fatal(err)
	}
	b, s, err := e.Encrypt(rand.Reader, c.PublicKey(), ballottest.FirstChoices(m, ballot.DefaultStyleID))
	if err != nil {
		tb.Fatal(err)
	}
	return e, c, b, s
}

// firstLP returns the first length-prefixed part of b (8-byte big-endian
// length), or nil.
func firstLP(b []byte) []byte {
	if len(b) < 8 || binary.BigEndian.Uint64(b) > uint64(len(b)-8) {
		return nil
	}
	return b[8 : 8+binary.BigEndian.Uint64(b)]
}

// FuzzInspectCast runs arbitrary bytes through the decoders a node runs on
// a cast ballot: InspectCast (framing, header, signature), CastHash,
// DecodeCast, and the two proof checks, AddToBatchEncoded on the received
// bytes and Validate of the decoded ballot. They must agree: what
// InspectCast accepts has the hash CastHash gives; what DecodeCast decodes
// encodes back to the same bytes, and VerifyCast accepts it exactly when
// InspectCast does; and the encoded and decoded proof checks (and the
// unbatched ValidateEach) accept exactly the same ballots.
func FuzzInspectCast(f *testing.F) {
	e, cred, b, _ := fuzzElection(f)
	c, err := e.Sign(cred, b)
	if err != nil {
		f.Fatal(err)
	}
	valid := c.Encode()
	f.Add(valid)
	for _, i := range []int{9, 40, 8 + 90, len(valid) / 2, len(valid) - 70, len(valid) - 1} {
		m := bytes.Clone(valid)
		m[i] ^= 1
		f.Add(m)
	}
	f.Add(valid[:len(valid)-1])
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, cast []byte) {
		info, inspErr := e.InspectCast(cast)
		h, hashErr := e.CastHash(cast)
		if inspErr == nil {
			if hashErr != nil || h != info.Hash || h != ballot.HashEncoding(info.Ballot) {
				t.Fatalf("InspectCast accepts, CastHash: %x, %v; InspectCast's hash %x", h, hashErr, info.Hash)
			}
			if _, err := e.CiphertextBytes(info.Ballot); err != nil {
				t.Fatalf("InspectCast accepts, CiphertextBytes: %v", err)
			}
		}
		dc, decErr := e.DecodeCast(cast)
		if decErr == nil {
			if enc := dc.Encode(); !bytes.Equal(enc, cast) {
				t.Fatalf("DecodeCast then Encode: %x, want %x", enc, cast)
			}
			if hashErr != nil || dc.Ballot.Hash() != h {
				t.Fatalf("DecodeCast decodes, CastHash: %x, %v; the ballot's hash %x", h, hashErr, dc.Ballot.Hash())
			}
			if verErr := e.VerifyCast(dc, func(ed25519.PublicKey) bool { return true }); (verErr == nil) != (inspErr == nil) {
				t.Fatalf("VerifyCast: %v; InspectCast: %v", verErr, inspErr)
			}
		}
		enc := firstLP(cast)
		if enc == nil {
			return
		}
		encErr := validateEncoded(e, enc)
		db, err := e.Decode(enc)
		if err == nil {
			err = e.Validate(db)
			if eachErr := e.ValidateEach(db); (eachErr == nil) != (err == nil) {
				t.Fatalf("Validate: %v; ValidateEach: %v", err, eachErr)
			}
		}
		if (encErr == nil) != (err == nil) {
			t.Fatalf("AddToBatchEncoded: %v; Decode and Validate: %v", encErr, err)
		}
	})
}

// FuzzDecodeAudit runs arbitrary bytes through the decoders a node runs on
// an audit file: DecodeAudit, then VerifyAudit. What decodes is written
// back by MarshalJSON as a file that decodes to the same audit (the same
// bytes again); what verifies has valid proofs and a signature, and reveals
// the plaintext of the audit's marks, which the manifest allows.
func FuzzDecodeAudit(f *testing.F) {
	e, cred, b, s := fuzzElection(f)
	a, err := e.SignAudit(cred, b, s)
	if err != nil {
		f.Fatal(err)
	}
	signed, _ := a.MarshalJSON()
	unsigned, _ := (&ballot.Audit{Ballot: b, Secrets: s}).MarshalJSON()
	f.Add(signed)
	f.Add(unsigned)
	for _, old := range []string{`"marks":[[1`, `"format":"evote`, `"randomness":[["`} {
		if i := bytes.Index(signed, []byte(old)); i >= 0 {
			m := bytes.Clone(signed)
			m[i+len(old)-1] ^= 1
			f.Add(m)
		}
	}
	f.Add(signed[:len(signed)-1])
	f.Add([]byte(`{}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		a, err := e.DecodeAudit(data)
		if err != nil {
			return
		}
		j, err := a.MarshalJSON()
		if err != nil {
			t.Fatalf("MarshalJSON of a decoded audit: %v", err)
		}
		a2, err := e.DecodeAudit(j)
		if err != nil {
			t.Fatalf("DecodeAudit of MarshalJSON's file %s: %v", j, err)
		}
		if j2, _ := a2.MarshalJSON(); !bytes.Equal(j, j2) {
			t.Fatalf("MarshalJSON, DecodeAudit, MarshalJSON: %s, then %s", j, j2)
		}
		p, err := e.VerifyAudit(a)
		if err != nil {
			return
		}
		if a.Signature == nil {
			t.Fatal("VerifyAudit accepts an unsigned audit")
		}
		if err := e.Validate(a.Ballot); err != nil {
			t.Fatalf("VerifyAudit accepts a ballot that Validate refuses: %v", err)
		}
		marks, err := p.Marks(e.Manifest)
		if err != nil {
			t.Fatalf("VerifyAudit reveals a plaintext the manifest refuses: %v", err)
		}
		if !slices.EqualFunc(marks, a.Secrets.Marks, slices.Equal) {
			t.Fatalf("VerifyAudit reveals %v, the audit's marks are %v", marks, a.Secrets.Marks)
		}
	})
}
