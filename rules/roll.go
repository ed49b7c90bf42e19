package rules

import (
	"bytes"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/evote/evote/ballot/credential"
	"github.com/evote/evote/wire"
)

// credentialRoll: docs/spec-chain.md §3, credential-roll.
func (x *exec) credentialRoll(tx *wire.CredentialRoll) ([]Event, error) {
	rec, ec, err := x.electionFor(tx)
	if err != nil {
		return nil, err
	}
	id := tx.ElectionID
	if rec.Phase != wire.PhaseCeremony && rec.Phase != wire.PhaseReady {
		return nil, reject(wire.CodeWrongPhase, "credential-roll: election %q is %s; the roll can only be loaded before it opens", id, rec.Phase)
	}
	if rec.RollComplete {
		return nil, reject(wire.CodeDuplicate, "credential-roll: the roll of %q is already complete", id)
	}
	hdr, err := credential.DecodeHeader(tx.Header)
	if err != nil {
		return nil, reject(wire.CodeRoll, "credential-roll: header: %v", err)
	}
	if hdr.ElectionID != id {
		return nil, reject(wire.CodeRoll, "credential-roll: roll is for election %q", hdr.ElectionID)
	}
	if rs := ec.Manifest.Voters.RollSize; rs > 0 && hdr.Count > rs {
		return nil, reject(wire.CodeRoll, "credential-roll: %d credentials, the election's roll size is %d", hdr.Count, rs)
	}
	if styles := ec.Manifest.StyleIDs(); !slices.Equal(hdr.Styles, styles) {
		return nil, reject(wire.CodeRoll, "credential-roll: the roll's ballot styles %q are not the election's %q", hdr.Styles, styles)
	}
	if rec.RollHeader != nil && !bytes.Equal(rec.RollHeader, tx.Header) {
		return nil, reject(wire.CodeRoll, "credential-roll: header differs from the roll's first chunk")
	}
	idx := tx.Chunk
	if idx >= uint64(hdr.Chunks()) {
		return nil, reject(wire.CodeRoll, "credential-roll: chunk %d, the roll has %d chunks", idx, hdr.Chunks())
	}
	want := hdr.ChunkLen(int(idx))
	entries := tx.Entries
	if len(entries) != want*credential.EntrySize {
		return nil, reject(wire.CodeRoll, "credential-roll: chunk %d holds %d bytes, want %d entries of %d bytes", idx, len(entries), want, credential.EntrySize)
	}
	if found, err := x.has(BucketRollChunk, Key(id, u64(idx))); err != nil {
		return nil, err
	} else if found {
		return nil, reject(wire.CodeDuplicate, "credential-roll: chunk %d is already loaded", idx)
	}
	weight, err := credential.CheckEntries(hdr, entries)
	if err != nil {
		return nil, reject(wire.CodeRoll, "credential-roll: chunk %d: %v", idx, strings.TrimPrefix(err.Error(), "credential: malformed roll: "))
	}
	if weight > hdr.TotalWeight-rec.RollWeight {
		return nil, reject(wire.CodeRoll, "credential-roll: chunk %d: the weights loaded so far add up to more than the roll's total weight %d", idx, hdr.TotalWeight)
	}
	if err := x.checkChunkOrder(id, idx, entries); err != nil {
		return nil, err
	}
	const n = credential.PublicKeySize
	last := len(entries) - credential.EntrySize
	x.st.Put(BucketRollBounds, Key(id, u64(idx)), append(append([]byte(nil), entries[:n]...), entries[last:last+n]...))
	for i := range want {
		k, style, w := credential.EntryAt(entries, i)
		pos := int(idx)*credential.ChunkSize + i
		// The keys are in strictly ascending order (CheckEntries): none
		// repeats another of the chunk.
		if found, err := x.has(BucketCred, Key(id, k)); err != nil {
			return nil, err
		} else if found {
			return nil, reject(wire.CodeRoll, "credential-roll: credential %d is already on the roll", pos)
		}
		x.st.Put(BucketCred, Key(id, k), CredentialRecord{Position: uint64(pos), Style: style, Weight: w}.Encode())
	}
	x.st.Put(BucketRollEntry, Key(id, u64(idx)), entries)
	ch := credential.ChunkHash(idx, entries)
	x.st.Put(BucketRollChunk, Key(id, u64(idx)), ch[:])
	rec.RollHeader = tx.Header
	rec.RollChunks++
	// RollWeight counts the weight loaded so far, and is the roll's total
	// weight once it is complete.
	rec.RollWeight += weight
	if rec.RollChunks == hdr.Chunks() {
		hashes := make([][32]byte, hdr.Chunks())
		for i := range hashes {
			b, ok, err := x.get(BucketRollChunk, Key(id, u64(uint64(i))))
			if err != nil {
				return nil, err
			}
			if !ok || len(b) != 32 {
				return nil, fmt.Errorf("rules: stored hash of roll chunk %d is missing or malformed", i)
			}
			copy(hashes[i][:], b)
		}
		rh, err := hdr.RollHash(hashes)
		if err != nil {
			return nil, reject(wire.CodeRoll, "credential-roll: %v", err)
		}
		if rec.RollWeight != hdr.TotalWeight {
			return nil, reject(wire.CodeRoll, "credential-roll: the weights of the roll add up to %d, its header says %d", rec.RollWeight, hdr.TotalWeight)
		}
		rec.RollComplete, rec.RollHash, rec.RollCount = true, rh[:], hdr.Count
	}
	x.putRecord(id, rec)
	return []Event{event("roll", "election", id, "chunk", strconv.FormatUint(idx, 10), "complete", strconv.FormatBool(rec.RollComplete))}, nil
}

// checkChunkOrder checks that a chunk's keys come after those of the chunk
// before it and before those of the chunk after it, for each of the two
// that is loaded: a roll lists its keys in ascending order (docs/credentials.md
// §4), so that its order says nothing of the order the credentials were made
// in. Every boundary is checked when the second of its chunks comes.
func (x *exec) checkChunkOrder(id string, idx uint64, entries []byte) error {
	const n = credential.PublicKeySize
	first, last := entries[:n], entries[len(entries)-credential.EntrySize:][:n]
	neighbour := func(i uint64) ([]byte, error) {
		b, ok, err := x.get(BucketRollBounds, Key(id, u64(i)))
		if err == nil && ok && len(b) != 2*n {
			err = fmt.Errorf("rules: stored bounds of roll chunk %d are %d bytes", i, len(b))
		}
		return b, err
	}
	if idx > 0 {
		b, err := neighbour(idx - 1)
		if err != nil {
			return err
		}
		if b != nil && bytes.Compare(b[n:], first) >= 0 {
			return reject(wire.CodeRoll, "credential-roll: the first key of chunk %d is not after the last key of chunk %d: a roll lists its keys in ascending order", idx, idx-1)
		}
	}
	b, err := neighbour(idx + 1)
	if err != nil {
		return err
	}
	if b != nil && bytes.Compare(last, b[:n]) >= 0 {
		return reject(wire.CodeRoll, "credential-roll: the last key of chunk %d is not before the first key of chunk %d: a roll lists its keys in ascending order", idx, idx+1)
	}
	return nil
}
