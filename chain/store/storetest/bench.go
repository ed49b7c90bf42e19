package storetest

import (
	"encoding/binary"
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/evote/evote/chain/store"
)

// BenchCommit measures Commit of blocks of n writes of valueSize random
// bytes each, to fresh keys, on the empty store s.
func BenchCommit(b *testing.B, s store.Store, n, valueSize int) {
	rng := rand.New(rand.NewPCG(7, 8))
	value := make([]byte, valueSize)
	for i := range value {
		value[i] = byte(rng.Uint32())
	}
	ctx := b.Context()
	last, err := s.LastBlock(ctx)
	if err != nil {
		b.Fatal(err)
	}
	h := last.Height
	b.SetBytes(int64(n * valueSize))
	for b.Loop() {
		b.StopTimer()
		h++
		writes := make([]store.Write, n)
		for i := range writes {
			key := binary.BigEndian.AppendUint64(nil, rng.Uint64())
			writes[i] = store.Write{Bucket: "bench", Key: key, Value: value}
		}
		c := &store.Changes{Height: h, AppHash: fmt.Appendf(nil, "h%d", h), Writes: writes}
		b.StartTimer()
		if err := s.Commit(ctx, c); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchGet measures Get of random present keys among 10,000 of 300 bytes.
func BenchGet(b *testing.B, s store.Store) {
	const n = 10000
	ctx := b.Context()
	value := make([]byte, 300)
	writes := make([]store.Write, n)
	for i := range writes {
		writes[i] = store.Write{Bucket: "bench", Key: binary.BigEndian.AppendUint32(nil, uint32(i)), Value: value}
	}
	last, err := s.LastBlock(ctx)
	if err != nil {
		b.Fatal(err)
	}
	if err := s.Commit(ctx, &store.Changes{Height: last.Height + 1, Writes: writes}); err != nil {
		b.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(9, 10))
	for b.Loop() {
		if _, err := s.Get(ctx, "bench", writes[rng.IntN(n)].Key); err != nil {
			b.Fatal(err)
		}
	}
}
