package ballot

import (
	"fmt"
	"io"

	"github.com/evote/evote/crypto"
)

// Secrets is what only the voter's device knows about an encrypted ballot:
// the marks and the encryption randomness of every selection, in ballot
// order. It is revealed only when the voter audits the ballot instead of
// casting it (Benaloh challenge); otherwise it is discarded.
type Secrets struct {
	Marks      [][]uint64
	Randomness [][]crypto.Scalar
}

// Encrypt checks the voter's choices against the manifest and encrypts them
// for the credential with public key credential: one ciphertext and 0/1 proof
// per selection and one range proof per contest, all bound to the election
// and the credential. rand supplies the randomness (crypto/rand in normal
// use).
func (e *Election) Encrypt(rand io.Reader, credential []byte, p *Plaintext) (*Ballot, *Secrets, error) {
	if len(credential) != CredentialSize {
		return nil, nil, fmt.Errorf("ballot: credential is %d bytes, want %d", len(credential), CredentialSize)
	}
	marks, err := p.Marks(e.Manifest)
	if err != nil {
		return nil, nil, err
	}
	contests, _ := e.Manifest.StyleContests(p.StyleID)
	ctx := e.ballotContext(credential, p.StyleID)
	b := &Ballot{ElectionID: e.Manifest.ElectionID, StyleID: p.StyleID, Credential: append([]byte(nil), credential...), Contests: make([]EncryptedContest, len(contests))}
	sec := &Secrets{Marks: marks, Randomness: make([][]crypto.Scalar, len(contests))}
	for i, c := range contests {
		ec := EncryptedContest{ContestID: c.ID, Selections: make([]EncryptedSelection, len(c.Selections))}
		sum := crypto.ZeroCiphertext()
		rsum := crypto.NewScalar()
		var count uint64
		for k, s := range c.Selections {
			m := marks[i][k]
			ct, r, err := crypto.Encrypt(rand, e.Key, m)
			if err != nil {
				return nil, nil, err
			}
			proof, err := crypto.ProveZeroOne(rand, selectionContext(ctx, c.ID, s.ID), e.Key, ct, m, r)
			if err != nil {
				return nil, nil, err
			}
			ec.Selections[k] = EncryptedSelection{SelectionID: s.ID, Ciphertext: ct, Proof: proof}
			sec.Randomness[i] = append(sec.Randomness[i], r)
			sum = sum.Add(ct)
			rsum.Add(rsum, r)
			count += m
		}
		var blank uint64
		var rb crypto.Scalar
		if c.CountBlank {
			if count == 0 {
				blank = 1
			}
			if ec.Blank, rb, err = encryptBlank(rand, e.Key, blankContext(ctx, c.ID), blank); err != nil {
				return nil, nil, err
			}
		}
		ec.Range, err = crypto.ProveRange(rand, crypto.TagRange, contestContext(ctx, c.ID), e.Key, sum, count, rsum, uint64(c.MinSelections()), uint64(c.MaxSelections()))
		if err != nil {
			return nil, nil, fmt.Errorf("ballot: contest %q: %w", c.ID, err)
		}
		if c.CountBlank {
			// Σ + f·B encrypts count + f·blank with randomness R + f·r_B.
			lo, f := blankRange(c)
			r := crypto.NewScalar().Mul(rb, crypto.ScalarFromUint64(f))
			r.Add(r, rsum)
			ec.Blank.Range, err = crypto.ProveRange(rand, TagBlankRange, blankContext(ctx, c.ID), e.Key, sum.Add(ec.Blank.Ciphertext.Scale(f)), count+f*blank, r, lo, f)
			if err != nil {
				return nil, nil, fmt.Errorf("ballot: contest %q: blank range proof: %w", c.ID, err)
			}
		}
		b.Contests[i] = ec
	}
	return b, sec, nil
}

// encryptBlank encrypts a contest's blank mark b (1 iff no selection is
// marked) with its 0/1 proof; the caller adds the blank range proof. It
// returns the randomness, which the blank range proof needs.
func encryptBlank(rand io.Reader, key crypto.Point, ctx crypto.Context, b uint64) (*EncryptedBlank, crypto.Scalar, error) {
	ct, r, err := crypto.Encrypt(rand, key, b)
	if err != nil {
		return nil, nil, err
	}
	proof, err := crypto.ProveZeroOne(rand, ctx, key, ct, b, r)
	if err != nil {
		return nil, nil, err
	}
	return &EncryptedBlank{Ciphertext: ct, Proof: proof}, r, nil
}
