package chain

import (
	"bytes"
	"context"

	"github.com/evote/evote/chain/store"
	"github.com/evote/evote/rules"
	"github.com/evote/evote/wire"
)

// prefetched is a value read ahead of a block's execution: found is false
// for an absent key.
type prefetched struct {
	v     []byte
	found bool
}

// prefetch reads ahead, when the store reads many keys in one request
// (store.MultiGetter: PostgreSQL), the keys the block's ballots will read:
// rules.ElectionReads of each election and rules.BallotReads of each ballot
// whose pure checks passed, in one request, then the ballots that re-votes
// replace, in a second. Execution then finds them in o instead of making a
// round trip per read. It changes no outcome: a key it missed is read as
// before, and a failed request only leaves the reads to execution, which
// halts on a failing store as always.
func (o *overlay) prefetch(ctx context.Context, txs []decoded, verified map[int]*rules.Verified) {
	mg, ok := o.st.(store.MultiGetter)
	if !ok || o.parent != nil || len(verified) == 0 {
		return
	}
	var keys []store.Key
	seen := map[string]bool{}
	add := func(rs []rules.Read) {
		for _, r := range rs {
			ik := indexKey(r.Bucket, r.Key)
			if seen[ik] || o.written(r.Bucket, r.Key) {
				continue
			}
			seen[ik] = true
			keys = append(keys, store.Key{Bucket: r.Bucket, Key: r.Key})
		}
	}
	elections := map[string]bool{}
	currents := map[string]string{} // index key of a BucketCurrent read → election id
	for i, d := range txs {
		b, ok := d.tx.(*wire.Ballot)
		v := verified[i]
		if !ok || v == nil || v.Err != nil {
			continue
		}
		if !elections[b.ElectionID] {
			elections[b.ElectionID] = true
			add(rules.ElectionReads(b.ElectionID))
		}
		add(rules.BallotReads(b.ElectionID, v))
		currents[indexKey(rules.BucketCurrent, rules.Key(b.ElectionID, v.Credential))] = b.ElectionID
	}
	var replaced []rules.Read
	for _, kv := range o.fetch(ctx, mg, keys) {
		if id, ok := currents[kv.ik]; ok && kv.found {
			replaced = append(replaced, rules.Read{Bucket: rules.BucketBallot, Key: rules.Key(id, kv.v)},
				rules.Read{Bucket: rules.BucketBallotCT, Key: rules.Key(id, kv.v)})
		}
	}
	keys = keys[:0]
	add(replaced)
	o.fetch(ctx, mg, keys)
}

type fetchedKey struct {
	ik string
	prefetched
}

// fetch reads keys with one GetMany into o's prefetched values and returns
// them; nothing if the request fails.
func (o *overlay) fetch(ctx context.Context, mg store.MultiGetter, keys []store.Key) []fetchedKey {
	if len(keys) == 0 {
		return nil
	}
	vals, err := mg.GetMany(ctx, keys)
	if err != nil || len(vals) != len(keys) {
		return nil
	}
	if o.pre == nil {
		o.pre = make(map[string]prefetched, len(keys))
	}
	out := make([]fetchedKey, len(keys))
	for i, k := range keys {
		p := prefetched{v: vals[i], found: vals[i] != nil}
		ik := indexKey(k.Bucket, k.Key)
		o.pre[ik] = p
		out[i] = fetchedKey{ik, p}
	}
	return out
}

// readAhead returns a copy of a prefetched value of the key, if there is one.
func (o *overlay) readAhead(bucket string, k []byte) ([]byte, bool, bool) {
	p, ok := o.pre[indexKey(bucket, k)]
	if !ok {
		return nil, false, false
	}
	return bytes.Clone(p.v), p.found, true
}
