package credential

import (
	"bufio"
	"bytes"
	"crypto/ed25519"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/maphash"
	"io"
	"os"
	"slices"

	"github.com/evote/evote/crypto"
)

// Roll format (docs/credentials.md, §4).
const (
	// RollVersion is the roll format version this package reads and writes.
	RollVersion = 1
	// ChunkSize is the number of keys per chunk of the roll hash; the last
	// chunk may be shorter. The chain loads a large roll chunk by chunk.
	ChunkSize = 4096
	// MaxRollSize is the largest number of keys of a roll.
	MaxRollSize = 1 << 30
)

// rollMagic starts the binary encoding of a roll.
var rollMagic = [4]byte{'E', 'V', 'C', 'R'}

// kdfArgon2id is the KDF algorithm code of Argon2id in the binary header.
const kdfArgon2id = 1

// ErrMalformedRoll is wrapped by the errors of a roll that does not decode.
var ErrMalformedRoll = errors.New("credential: malformed roll")

// DuplicateKeyError reports a public key that is on a roll twice.
type DuplicateKeyError struct {
	Index int // the later position of the key, from 0
	First int // its first position, from 0
}

func (e *DuplicateKeyError) Error() string {
	return fmt.Sprintf("credential: roll: the key at index %d is a duplicate of the key at index %d", e.Index, e.First)
}

// Header is the public header of a roll: what a voter's device needs to
// derive its key (the election ID and the KDF parameters) and the number of
// keys.
type Header struct {
	ElectionID string
	KDF        KDFParams
	Count      int
}

// Validate checks the election ID, the KDF parameters and the count (1 to
// MaxRollSize).
func (h Header) Validate() error {
	if err := checkElectionID(h.ElectionID); err != nil {
		return err
	}
	if err := h.KDF.Validate(); err != nil {
		return err
	}
	if h.Count < 1 || h.Count > MaxRollSize {
		return fmt.Errorf("credential: roll size %d is out of range: want 1 to %d", h.Count, MaxRollSize)
	}
	return nil
}

// Chunks returns the number of chunks of the roll hash: Count / ChunkSize,
// rounded up.
func (h Header) Chunks() int { return (h.Count + ChunkSize - 1) / ChunkSize }

// Encode returns the binary encoding of the header (docs/credentials.md,
// §4.1):
//
//	"EVCR" ‖ version (2 bytes) ‖ len(election ID) (1 byte) ‖ election ID ‖
//	KDF algorithm (1 byte, 1 = Argon2id) ‖ time (4) ‖ memory KiB (4) ‖
//	threads (1) ‖ count (4)
//
// with every integer big-endian.
func (h Header) Encode() ([]byte, error) {
	if err := h.Validate(); err != nil {
		return nil, err
	}
	b := make([]byte, 0, 7+len(h.ElectionID)+14)
	b = append(b, rollMagic[:]...)
	b = binary.BigEndian.AppendUint16(b, RollVersion)
	b = append(b, byte(len(h.ElectionID)))
	b = append(b, h.ElectionID...)
	b = append(b, kdfArgon2id)
	b = binary.BigEndian.AppendUint32(b, h.KDF.Time)
	b = binary.BigEndian.AppendUint32(b, h.KDF.MemoryKiB)
	b = append(b, h.KDF.Threads)
	b = binary.BigEndian.AppendUint32(b, uint32(h.Count))
	return b, nil
}

// DecodeHeader decodes the binary encoding of a header, which must be all of b.
func DecodeHeader(b []byte) (Header, error) {
	r := bytes.NewReader(b)
	h, _, err := readHeader(r)
	if err != nil {
		return Header{}, err
	}
	if r.Len() != 0 {
		return Header{}, fmt.Errorf("%w: %d bytes after the header", ErrMalformedRoll, r.Len())
	}
	return h, nil
}

func malformed(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrMalformedRoll, fmt.Sprintf(format, args...))
}

// readHeader reads a header and returns it with its encoding.
func readHeader(r io.Reader) (Header, []byte, error) {
	var pre [7]byte
	if _, err := io.ReadFull(r, pre[:]); err != nil {
		return Header{}, nil, malformed("reading the header: %v", noEOF(err))
	}
	if !bytes.Equal(pre[:4], rollMagic[:]) {
		return Header{}, nil, malformed("does not start with %q", rollMagic[:])
	}
	if v := binary.BigEndian.Uint16(pre[4:]); v != RollVersion {
		return Header{}, nil, malformed("format version %d, this program reads version %d", v, RollVersion)
	}
	rest := make([]byte, int(pre[6])+14)
	if _, err := io.ReadFull(r, rest); err != nil {
		return Header{}, nil, malformed("reading the header: %v", noEOF(err))
	}
	n := int(pre[6])
	if alg := rest[n]; alg != kdfArgon2id {
		return Header{}, nil, malformed("unknown KDF algorithm %d", alg)
	}
	h := Header{
		ElectionID: string(rest[:n]),
		KDF: KDFParams{
			Time:      binary.BigEndian.Uint32(rest[n+1:]),
			MemoryKiB: binary.BigEndian.Uint32(rest[n+5:]),
			Threads:   rest[n+9],
		},
		Count: int(binary.BigEndian.Uint32(rest[n+10:])),
	}
	if err := h.Validate(); err != nil {
		return Header{}, nil, fmt.Errorf("%w: %w", ErrMalformedRoll, err)
	}
	return h, append(pre[:], rest...), nil
}

// noEOF turns io.EOF into io.ErrUnexpectedEOF: inside a roll, the end of the
// input is always too early.
func noEOF(err error) error {
	if err == io.EOF {
		return io.ErrUnexpectedEOF
	}
	return err
}

// ChunkHash returns the hash of chunk number index of a roll, whose keys
// (the concatenated 32-byte public keys, ChunkSize of them except in the last
// chunk) are keys (docs/credentials.md, §4.3):
// H(len ‖ "evote/v1/credential-roll-chunk" ‖ len ‖ index (8 bytes) ‖ len ‖ keys).
func ChunkHash(index uint64, keys []byte) [32]byte {
	return crypto.NewTranscript(tagRollChunk).AppendUint64(index).AppendBytes(keys).Sum256()
}

// RollHash returns the roll hash of a roll with header h and the given chunk
// hashes, one per chunk in order (docs/credentials.md, §4.3):
// H(len ‖ "evote/v1/credential-roll" ‖ len ‖ header encoding ‖ len ‖ chunk
// hash 0 ‖ … ‖ len ‖ chunk hash k-1).
func (h Header) RollHash(chunkHashes [][32]byte) ([32]byte, error) {
	enc, err := h.Encode()
	if err != nil {
		return [32]byte{}, err
	}
	if len(chunkHashes) != h.Chunks() {
		return [32]byte{}, fmt.Errorf("credential: roll hash: %d chunk hashes for a roll of %d keys, want %d", len(chunkHashes), h.Count, h.Chunks())
	}
	return rollHash(enc, chunkHashes), nil
}

func rollHash(header []byte, chunkHashes [][32]byte) [32]byte {
	t := crypto.NewTranscript(tagRoll).AppendBytes(header)
	for i := range chunkHashes {
		t.AppendBytes(chunkHashes[i][:])
	}
	return t.Sum256()
}

// Roll is a credential roll: the header and the public keys in ascending
// byte order (docs/credentials.md, §4). The order is canonical, so it says
// nothing about the order in which the credentials were made or handed out.
// A Roll is immutable and safe for concurrent use.
type Roll struct {
	hdr    Header
	hdrEnc []byte
	keys   []byte // Count·PublicKeySize bytes
	index  keyIndex
	hash   [32]byte
}

// NewRoll returns the roll of the given keys, which it sorts: the roll's
// order is ascending whatever the order of keys. It rejects a key of the
// wrong length or a duplicate key, naming its index in keys.
func NewRoll(electionID string, params KDFParams, keys []ed25519.PublicKey) (*Roll, error) {
	flat := make([]byte, 0, len(keys)*PublicKeySize)
	for i, k := range keys {
		if len(k) != PublicKeySize {
			return nil, fmt.Errorf("credential: roll: the key at index %d is %d bytes, want %d", i, len(k), PublicKeySize)
		}
		flat = append(flat, k...)
	}
	h := Header{ElectionID: electionID, KDF: params, Count: len(keys)}
	if err := h.Validate(); err != nil {
		return nil, err
	}
	sorted, err := sortKeys(flat)
	if err != nil {
		return nil, err
	}
	return newRoll(h, sorted)
}

// sortKeys returns the concatenated keys of flat in ascending order, in a
// new slice, or a DuplicateKeyError naming the indexes in flat of a key that
// occurs twice.
func sortKeys(flat []byte) ([]byte, error) {
	n := len(flat) / PublicKeySize
	key := func(i int32) []byte { return flat[int(i)*PublicKeySize : (int(i)+1)*PublicKeySize] }
	perm := make([]int32, n)
	for i := range perm {
		perm[i] = int32(i)
	}
	slices.SortFunc(perm, func(a, b int32) int {
		if c := bytes.Compare(key(a), key(b)); c != 0 {
			return c
		}
		return int(a - b)
	})
	out := make([]byte, 0, len(flat))
	for j, i := range perm {
		if j > 0 && bytes.Equal(key(perm[j-1]), key(i)) {
			return nil, &DuplicateKeyError{Index: int(i), First: int(perm[j-1])}
		}
		out = append(out, key(i)...)
	}
	return out, nil
}

// CheckKeyOrder checks that keys, concatenated 32-byte public keys, are in
// strictly ascending byte order, as on a roll (docs/credentials.md, §4). It
// returns a DuplicateKeyError for two equal neighbours, or an error naming
// the first key (from 0) that is smaller than the one before it.
func CheckKeyOrder(keys []byte) error {
	if len(keys)%PublicKeySize != 0 {
		return fmt.Errorf("credential: roll: %d bytes of keys is not a whole number of %d-byte keys", len(keys), PublicKeySize)
	}
	for i := 1; i < len(keys)/PublicKeySize; i++ {
		switch bytes.Compare(keys[(i-1)*PublicKeySize:i*PublicKeySize], keys[i*PublicKeySize:(i+1)*PublicKeySize]) {
		case 0:
			return &DuplicateKeyError{Index: i, First: i - 1}
		case 1:
			return fmt.Errorf("%w: the key at index %d is smaller than the key at index %d: a roll lists its keys in ascending order", ErrMalformedRoll, i, i-1)
		}
	}
	return nil
}

// newRoll builds a roll over flat, which it keeps, after checking that its
// keys are in ascending order.
func newRoll(h Header, flat []byte) (*Roll, error) {
	enc, err := h.Encode()
	if err != nil {
		return nil, err
	}
	if len(flat) != h.Count*PublicKeySize {
		return nil, fmt.Errorf("credential: roll: %d bytes of keys for %d keys", len(flat), h.Count)
	}
	if err := CheckKeyOrder(flat); err != nil {
		return nil, err
	}
	r := &Roll{hdr: h, hdrEnc: enc, keys: flat}
	if err := r.index.build(flat, h.Count); err != nil {
		return nil, err
	}
	chunks := make([][32]byte, 0, h.Chunks())
	for i := 0; i < h.Count; i += ChunkSize {
		end := min(i+ChunkSize, h.Count)
		chunks = append(chunks, ChunkHash(uint64(i/ChunkSize), flat[i*PublicKeySize:end*PublicKeySize]))
	}
	r.hash = rollHash(enc, chunks)
	return r, nil
}

// Header returns the roll's header.
func (r *Roll) Header() Header { return r.hdr }

// Len returns the number of keys.
func (r *Roll) Len() int { return r.hdr.Count }

// Key returns a copy of the key at index i (from 0), or nil if i is out of
// range.
func (r *Roll) Key(i int) ed25519.PublicKey {
	if i < 0 || i >= r.hdr.Count {
		return nil
	}
	return append(ed25519.PublicKey(nil), r.key(i)...)
}

func (r *Roll) key(i int) []byte { return r.keys[i*PublicKeySize : (i+1)*PublicKeySize] }

// Index returns the index of pub on the roll (its rank among the roll's keys
// in ascending order), in constant expected time.
func (r *Roll) Index(pub ed25519.PublicKey) (int, bool) {
	if len(pub) != PublicKeySize {
		return 0, false
	}
	return r.index.lookup(r.keys, pub)
}

// Contains reports whether pub is on the roll, in constant expected time.
func (r *Roll) Contains(pub ed25519.PublicKey) bool {
	_, ok := r.Index(pub)
	return ok
}

// Hash returns the roll hash (docs/credentials.md, §4.3), which an election
// definition and the chain refer to the roll by.
func (r *Roll) Hash() [32]byte { return r.hash }

// keyIndex is an open-addressing hash table from public key to its index,
// 8 bytes per key on top of the keys themselves. Its hash is seeded at
// random, so a roll built to collide cannot slow it down.
type keyIndex struct {
	seed  maphash.Seed
	slots []uint32 // key index + 1, 0 for an empty slot; a power of two long
}

// build indexes the n keys of flat, or reports the first duplicate.
func (x *keyIndex) build(flat []byte, n int) error {
	size := 1
	for size < 2*n {
		size <<= 1
	}
	x.seed = maphash.MakeSeed()
	x.slots = make([]uint32, size)
	mask := uint64(size - 1)
	for i := range n {
		k := flat[i*PublicKeySize : (i+1)*PublicKeySize]
		for j := maphash.Bytes(x.seed, k) & mask; ; j = (j + 1) & mask {
			s := x.slots[j]
			if s == 0 {
				x.slots[j] = uint32(i + 1)
				break
			}
			if first := int(s - 1); bytes.Equal(flat[first*PublicKeySize:(first+1)*PublicKeySize], k) {
				return &DuplicateKeyError{Index: i, First: first}
			}
		}
	}
	return nil
}

func (x *keyIndex) lookup(flat, k []byte) (int, bool) {
	if len(x.slots) == 0 {
		return 0, false
	}
	mask := uint64(len(x.slots) - 1)
	for j := maphash.Bytes(x.seed, k) & mask; ; j = (j + 1) & mask {
		s := x.slots[j]
		if s == 0 {
			return 0, false
		}
		if i := int(s - 1); bytes.Equal(flat[i*PublicKeySize:(i+1)*PublicKeySize], k) {
			return i, true
		}
	}
}

// Encode returns the binary encoding of the roll: the header encoding
// (Header.Encode) followed by the keys, 32 bytes each, in ascending order.
func (r *Roll) Encode() []byte {
	b := make([]byte, 0, len(r.hdrEnc)+len(r.keys))
	return append(append(b, r.hdrEnc...), r.keys...)
}

// WriteBinary writes the binary encoding of the roll to w, without copying
// the keys.
func (r *Roll) WriteBinary(w io.Writer) error {
	if _, err := w.Write(r.hdrEnc); err != nil {
		return err
	}
	_, err := w.Write(r.keys)
	return err
}

// Decode decodes the binary encoding of a roll, which must be all of b.
func Decode(b []byte) (*Roll, error) { return ReadBinary(bytes.NewReader(b)) }

// ReadBinary reads the binary encoding of a roll from r, up to the end of r.
// It allocates as the keys arrive, so that a header that claims more keys
// than follow costs nothing; the roll needs little more memory than its keys.
func ReadBinary(r io.Reader) (*Roll, error) {
	h, _, err := readHeader(r)
	if err != nil {
		return nil, err
	}
	var keys []byte
	for n := 0; n < h.Count; {
		m := min(h.Count-n, 16*ChunkSize) * PublicKeySize
		start := len(keys)
		keys = growKeys(keys, m, h.Count)
		if got, err := io.ReadFull(r, keys[start:]); err != nil {
			if err == io.EOF || err == io.ErrUnexpectedEOF {
				return nil, malformed("truncated: the header announces %d keys, the input holds %d bytes of keys", h.Count, start+got)
			}
			return nil, fmt.Errorf("credential: reading roll: %w", err)
		}
		n += m / PublicKeySize
	}
	var extra [1]byte
	switch n, err := io.ReadFull(r, extra[:]); {
	case n > 0:
		return nil, malformed("data after the %d keys the header announces", h.Count)
	case err != io.EOF:
		return nil, fmt.Errorf("credential: reading roll: %w", err)
	}
	return newRoll(h, keys)
}

// growKeys extends keys by m bytes. Its capacity doubles, but never beyond
// the count keys announced, so that a roll whose header tells the truth ends
// with exactly its keys in memory, and one that lies costs at most twice what
// it holds.
func growKeys(keys []byte, m, count int) []byte {
	if cap(keys)-len(keys) < m {
		c := max(2*cap(keys), len(keys)+m)
		if limit := count * PublicKeySize; c > limit && limit >= len(keys)+m {
			c = limit
		}
		grown := make([]byte, len(keys), c)
		copy(grown, keys)
		keys = grown
	}
	return keys[:len(keys)+m]
}

// Load reads a roll file in either form, binary or JSON.
func Load(path string) (*Roll, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("credential: %w", err)
	}
	defer f.Close()
	br := bufio.NewReaderSize(f, 64<<10)
	if magic, err := br.Peek(len(rollMagic)); err == nil && bytes.Equal(magic, rollMagic[:]) {
		r, err := ReadBinary(br)
		if err != nil {
			return nil, fmt.Errorf("credential: loading %s: %w", path, err)
		}
		return r, nil
	}
	r, err := ReadJSON(br)
	if err != nil {
		return nil, fmt.Errorf("credential: loading %s: %w", path, err)
	}
	return r, nil
}
