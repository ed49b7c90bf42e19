package crypto

// Verification from encodings. Computing a point's canonical encoding costs
// an inverse square root, as much as a sixth of a scalar multiplication, and
// a Fiat-Shamir challenge needs the encodings of every point it covers. When
// a proof arrives as bytes, those bytes already are the canonical encodings
// (the decoders accept nothing else), so the functions here hash the received
// bytes instead of encoding the decoded points again. They accept and reject
// exactly what decoding and then calling the point-based verifiers would.

// rangeChallengeEncoded is rangeChallenge over encodings: pk (32 bytes), the
// ciphertext α ‖ β (64 bytes) and the proof (128 bytes per branch).
func rangeChallengeEncoded(tag string, ctx Context, pk, ct, proof []byte, lo, hi uint64) Scalar {
	t := newChallenge(ctx).AppendBytes(pk).AppendUint64(lo).AppendUint64(hi).AppendBytes(ct[:PointSize]).AppendBytes(ct[PointSize:])
	for i := 0; i+RangeBranchSize <= len(proof); i += RangeBranchSize {
		t.AppendBytes(proof[i : i+PointSize]).AppendBytes(proof[i+PointSize : i+2*PointSize])
	}
	return t.challenge(tag)
}

// EncodedKey is a public key together with its canonical encoding, so that
// verifiers of many proofs under one key encode it once.
type EncodedKey struct {
	Point   Point
	Encoded [PointSize]byte
}

// NewEncodedKey pairs a key with its encoding.
func NewEncodedKey(p Point) EncodedKey { return EncodedKey{Point: p, Encoded: EncodePoint(p)} }

// AddRangeEncoded decodes a ciphertext (64 bytes) and a range proof over
// [lo, hi], and adds the proof to the batch, computing its challenge from the
// received bytes. It returns the decoded ciphertext (the caller usually sums
// ciphertexts) and the proof's index in the batch; a decoding error is
// returned at once, a wrong challenge sum is recorded as a failed item.
func (b *Batch) AddRangeEncoded(tag string, ctx Context, pk EncodedKey, ctBytes, proofBytes []byte, lo, hi uint64) (Ciphertext, int, error) {
	ct, err := DecodeCiphertext(ctBytes)
	if err != nil {
		return Ciphertext{}, -1, err
	}
	idx, err := b.addRangeEncoded(tag, ctx, pk, []Ciphertext{ct}, ctBytes, proofBytes, lo, hi)
	if err != nil {
		return Ciphertext{}, -1, err
	}
	return ct, idx, nil
}

// AddRangeSumEncoded is AddRangeSum with the proof as received bytes: it adds
// a range proof over [lo, hi] on the sum of the already decoded ciphertexts
// parts. The sum is encoded once, for the challenge, and never decoded; the
// equations are written over the parts (see AddRangeSum).
func (b *Batch) AddRangeSumEncoded(tag string, ctx Context, pk EncodedKey, parts []Ciphertext, proofBytes []byte, lo, hi uint64) (int, error) {
	return b.addRangeEncoded(tag, ctx, pk, parts, SumCiphertexts(parts).Encode(), proofBytes, lo, hi)
}

// addRangeEncoded decodes a range proof on the sum of parts, whose encoding
// is ctBytes, and adds it to the batch, computing its challenge from the
// bytes; a wrong challenge sum is recorded as a failed item.
func (b *Batch) addRangeEncoded(tag string, ctx Context, pk EncodedKey, parts []Ciphertext, ctBytes, proofBytes []byte, lo, hi uint64) (int, error) {
	p, err := DecodeRangeProof(proofBytes, lo, hi)
	if err != nil {
		return -1, err
	}
	if !p.challengeSum().IsEqual(rangeChallengeEncoded(tag, ctx, pk.Encoded[:], ctBytes, proofBytes, lo, hi)) {
		return b.add(batchItem{bad: true}), nil
	}
	return b.addRangeEquations(pk.Point, parts, lo, p), nil
}

// VerifyRangeEncoded verifies one encoded range proof on its own, computing
// the challenge from the received bytes; it is the single-proof counterpart
// of AddRangeEncoded.
func VerifyRangeEncoded(tag string, ctx Context, pk EncodedKey, ctBytes, proofBytes []byte, lo, hi uint64) (Ciphertext, error) {
	ct, err := DecodeCiphertext(ctBytes)
	if err != nil {
		return Ciphertext{}, err
	}
	p, err := DecodeRangeProof(proofBytes, lo, hi)
	if err != nil {
		return Ciphertext{}, err
	}
	if !p.challengeSum().IsEqual(rangeChallengeEncoded(tag, ctx, pk.Encoded[:], ctBytes, proofBytes, lo, hi)) {
		return ct, ErrChallengeSum
	}
	return ct, p.verifyEquations(pk.Point, ct, lo)
}
