package shuffle_test

import (
	"crypto/rand"
	"fmt"

	"github.com/evote/evote/crypto"
	"github.com/evote/evote/crypto/shuffle"
)

// A mix server shuffles three ballots of two selections each; anyone can
// check the proof from the public data and its encoding.
func ExampleShuffle() {
	sk, _ := crypto.RandomNonZeroScalar(rand.Reader)
	pk := crypto.BaseMul(sk)
	in := make([][]crypto.Ciphertext, 3)
	for i := range in {
		for k := range 2 {
			ct, _, _ := crypto.Encrypt(rand.Reader, pk, uint64(i+k))
			in[i] = append(in[i], ct)
		}
	}
	ctx := crypto.Context(crypto.Hash("evote/v1/example", []byte("mix 1")))

	out, proof, err := shuffle.Shuffle(rand.Reader, ctx, pk, in)
	if err != nil {
		panic(err)
	}
	enc := proof.Encode()

	// The verifier knows N and w from the statement.
	p, err := shuffle.Decode(enc, len(out), len(out[0]))
	if err != nil {
		panic(err)
	}
	fmt.Println(len(enc), shuffle.Verify(ctx, pk, in, out, p))
	// Output: 864 <nil>
}
