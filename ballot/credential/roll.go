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
	// Version 2 binds each key to a ballot style and a weight.
	RollVersion = 2
	// ChunkSize is the number of entries per chunk of the roll hash; the
	// last chunk may be shorter. The chain loads a large roll chunk by chunk.
	ChunkSize = 4096
	// MaxRollSize is the largest number of entries of a roll.
	MaxRollSize = 1 << 30
	// EntrySize is the size of one entry of the binary roll: the public key
	// (32 bytes), the index of its ballot style in the header (2) and its
	// weight (8).
	EntrySize = PublicKeySize + 2 + 8
	// MaxStyles is the largest number of ballot styles of a roll.
	MaxStyles = 1<<16 - 1
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
// derive its key (the election ID and the KDF parameters), the number of
// entries, the ballot styles the entries refer to and the total weight.
type Header struct {
	ElectionID string
	KDF        KDFParams
	Count      int
	// Styles are the ids of the election's ballot styles, in the order of
	// its manifest (DefaultStyle alone for an election that defines none);
	// an entry names its style by its index here.
	Styles []string
	// TotalWeight is the sum of the entries' weights: Count when every
	// weight is 1, at most MaxTotalWeight.
	TotalWeight uint64
}

// Validate checks the election ID, the KDF parameters, the count (1 to
// MaxRollSize), the styles (1 to MaxStyles valid ids, each once) and the
// total weight (Count to MaxTotalWeight).
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
	if len(h.Styles) < 1 || len(h.Styles) > MaxStyles {
		return fmt.Errorf("credential: roll: %d ballot styles, want 1 to %d", len(h.Styles), MaxStyles)
	}
	seen := make(map[string]bool, len(h.Styles))
	for i, s := range h.Styles {
		if !validElectionID(s) {
			return fmt.Errorf("credential: roll: ballot style %d, %q, is not a valid id: use 1 to %d lowercase letters, digits and '-'", i, s, MaxElectionIDLength)
		}
		if seen[s] {
			return fmt.Errorf("credential: roll: ballot style %q is listed twice", s)
		}
		seen[s] = true
	}
	if h.TotalWeight < uint64(h.Count) || h.TotalWeight > MaxTotalWeight {
		return fmt.Errorf("credential: roll: total weight %d is out of range: want %d (one per entry) to %d", h.TotalWeight, h.Count, uint64(MaxTotalWeight))
	}
	return nil
}

// Weighted reports whether some entry of the roll weighs more than 1.
func (h Header) Weighted() bool { return h.TotalWeight != uint64(h.Count) }

// Style returns the index of the ballot style id in the header.
func (h Header) Style(id string) (int, bool) {
	i := slices.Index(h.Styles, id)
	return i, i >= 0
}

// Chunks returns the number of chunks of the roll hash: Count / ChunkSize,
// rounded up.
func (h Header) Chunks() int { return (h.Count + ChunkSize - 1) / ChunkSize }

// ChunkLen returns the number of entries of chunk i.
func (h Header) ChunkLen(i int) int { return max(0, min(ChunkSize, h.Count-i*ChunkSize)) }

// Encode returns the binary encoding of the header (docs/credentials.md,
// §4.1):
//
//	"EVCR" ‖ version (2 bytes) ‖ len(election ID) (1 byte) ‖ election ID ‖
//	KDF algorithm (1 byte, 1 = Argon2id) ‖ time (4) ‖ memory KiB (4) ‖
//	threads (1) ‖ count (4) ‖ total weight (8) ‖ number of styles (2) ‖
//	for each style: len(style id) (1) ‖ style id
//
// with every integer big-endian.
func (h Header) Encode() ([]byte, error) {
	if err := h.Validate(); err != nil {
		return nil, err
	}
	b := make([]byte, 0, 7+len(h.ElectionID)+24+len(h.Styles)*8)
	b = append(b, rollMagic[:]...)
	b = binary.BigEndian.AppendUint16(b, RollVersion)
	b = append(b, byte(len(h.ElectionID)))
	b = append(b, h.ElectionID...)
	b = append(b, kdfArgon2id)
	b = binary.BigEndian.AppendUint32(b, h.KDF.Time)
	b = binary.BigEndian.AppendUint32(b, h.KDF.MemoryKiB)
	b = append(b, h.KDF.Threads)
	b = binary.BigEndian.AppendUint32(b, uint32(h.Count))
	b = binary.BigEndian.AppendUint64(b, h.TotalWeight)
	b = binary.BigEndian.AppendUint16(b, uint16(len(h.Styles)))
	for _, s := range h.Styles {
		b = append(b, byte(len(s)))
		b = append(b, s...)
	}
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
	read := func(n int) ([]byte, error) {
		b := make([]byte, n)
		if _, err := io.ReadFull(r, b); err != nil {
			return nil, malformed("reading the header: %v", noEOF(err))
		}
		return b, nil
	}
	pre, err := read(7)
	if err != nil {
		return Header{}, nil, err
	}
	if !bytes.Equal(pre[:4], rollMagic[:]) {
		return Header{}, nil, malformed("does not start with %q", rollMagic[:])
	}
	if v := binary.BigEndian.Uint16(pre[4:]); v != RollVersion {
		return Header{}, nil, malformed("format version %d, this program reads version %d", v, RollVersion)
	}
	n := int(pre[6])
	rest, err := read(n + 24)
	if err != nil {
		return Header{}, nil, err
	}
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
		Count:       int(binary.BigEndian.Uint32(rest[n+10:])),
		TotalWeight: binary.BigEndian.Uint64(rest[n+14:]),
	}
	enc := append(pre, rest...)
	styles := int(binary.BigEndian.Uint16(rest[n+22:]))
	for range styles {
		l, err := read(1)
		if err != nil {
			return Header{}, nil, err
		}
		s, err := read(int(l[0]))
		if err != nil {
			return Header{}, nil, err
		}
		h.Styles = append(h.Styles, string(s))
		enc = append(append(enc, l...), s...)
	}
	if err := h.Validate(); err != nil {
		return Header{}, nil, fmt.Errorf("%w: %w", ErrMalformedRoll, err)
	}
	return h, enc, nil
}

// noEOF turns io.EOF into io.ErrUnexpectedEOF: inside a roll, the end of the
// input is always too early.
func noEOF(err error) error {
	if err == io.EOF {
		return io.ErrUnexpectedEOF
	}
	return err
}

// ChunkHash returns the hash of chunk number index of a roll, whose entries
// (EntrySize bytes each, ChunkSize of them except in the last chunk) are
// entries (docs/credentials.md, §4.3):
// H(len ‖ "evote/v1/credential-roll-chunk" ‖ len ‖ index (8 bytes) ‖ len ‖ entries).
func ChunkHash(index uint64, entries []byte) [32]byte {
	return crypto.NewTranscript(tagRollChunk).AppendUint64(index).AppendBytes(entries).Sum256()
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
		return [32]byte{}, fmt.Errorf("credential: roll hash: %d chunk hashes for a roll of %d entries, want %d", len(chunkHashes), h.Count, h.Chunks())
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

// Entry is one credential of a roll: its public key, the id of its ballot
// style and its weight (at least 1).
type Entry struct {
	Key    ed25519.PublicKey
	Style  string
	Weight uint64
}

// AppendEntry appends the binary encoding of one entry, key ‖ style index
// (2 bytes) ‖ weight (8 bytes), big-endian.
func AppendEntry(b []byte, key []byte, style int, weight uint64) []byte {
	b = append(b, key...)
	b = binary.BigEndian.AppendUint16(b, uint16(style))
	return binary.BigEndian.AppendUint64(b, weight)
}

// EntryAt splits the entry at index i of concatenated entries.
func EntryAt(entries []byte, i int) (key []byte, style int, weight uint64) {
	e := entries[i*EntrySize : (i+1)*EntrySize]
	return e[:PublicKeySize], int(binary.BigEndian.Uint16(e[PublicKeySize:])), binary.BigEndian.Uint64(e[PublicKeySize+2:])
}

// CheckEntries checks concatenated entries of a roll with header h, as a
// chunk or a whole roll: whole entries, keys in strictly ascending byte
// order, each style an index of h.Styles, each weight at least 1, and
// their sum at most h.TotalWeight. It returns the sum of the weights.
func CheckEntries(h Header, entries []byte) (uint64, error) {
	if len(entries)%EntrySize != 0 {
		return 0, fmt.Errorf("%w: %d bytes of entries is not a whole number of %d-byte entries", ErrMalformedRoll, len(entries), EntrySize)
	}
	var sum uint64
	for i := range len(entries) / EntrySize {
		k, st, w := EntryAt(entries, i)
		if i > 0 {
			switch bytes.Compare(entries[(i-1)*EntrySize:(i-1)*EntrySize+PublicKeySize], k) {
			case 0:
				return 0, &DuplicateKeyError{Index: i, First: i - 1}
			case 1:
				return 0, malformed("the key at index %d is smaller than the key at index %d: a roll lists its keys in ascending order", i, i-1)
			}
		}
		if st >= len(h.Styles) {
			return 0, malformed("the entry at index %d has ballot style %d; the roll has %d styles", i, st, len(h.Styles))
		}
		if w < 1 {
			return 0, malformed("the entry at index %d has weight 0; a weight is at least 1", i)
		}
		if w > h.TotalWeight-sum {
			return 0, malformed("the weights up to the entry at index %d add up to more than the roll's total weight %d", i, h.TotalWeight)
		}
		sum += w
	}
	return sum, nil
}

// Roll is a credential roll: the header and the entries (public key, ballot
// style, weight) in ascending byte order of the keys (docs/credentials.md,
// §4). The order is canonical, so it says nothing about the order in which
// the credentials were made or handed out. A Roll is immutable and safe for
// concurrent use.
type Roll struct {
	hdr     Header
	hdrEnc  []byte
	entries []byte // Count·EntrySize bytes
	index   keyIndex
	hash    [32]byte
}

// NewRoll returns the roll of the given keys, each with the one implicit
// ballot style DefaultStyle and weight 1; see BuildRoll.
func NewRoll(electionID string, params KDFParams, keys []ed25519.PublicKey) (*Roll, error) {
	entries := make([]Entry, len(keys))
	for i, k := range keys {
		entries[i] = Entry{Key: k, Style: DefaultStyle, Weight: 1}
	}
	return BuildRoll(electionID, params, []string{DefaultStyle}, entries)
}

// BuildRoll returns the roll of the given entries, which it sorts by key:
// the roll's order is ascending whatever the order of entries. styles are
// the election's ballot style ids in manifest order. It rejects a key of
// the wrong length, a duplicate key, a style not in styles and a weight of
// 0, naming the index in entries, and a total weight over MaxTotalWeight.
func BuildRoll(electionID string, params KDFParams, styles []string, entries []Entry) (*Roll, error) {
	h := Header{ElectionID: electionID, KDF: params, Count: len(entries), Styles: styles}
	for i, e := range entries {
		if len(e.Key) != PublicKeySize {
			return nil, fmt.Errorf("credential: roll: the key at index %d is %d bytes, want %d", i, len(e.Key), PublicKeySize)
		}
	}
	index, total, err := checkStylesAndWeights(styles, entries, func(i int) string { return fmt.Sprintf("roll: the entry at index %d", i) }, "roll: the total weight")
	if err != nil {
		return nil, err
	}
	h.TotalWeight = total
	flat := make([]byte, 0, len(entries)*EntrySize)
	for i, e := range entries {
		flat = AppendEntry(flat, e.Key, index[i], e.Weight)
	}
	if err := h.Validate(); err != nil {
		return nil, err
	}
	sorted, err := sortEntries(flat)
	if err != nil {
		return nil, err
	}
	return newRoll(h, sorted)
}

// checkStylesAndWeights checks that each entry's style is one of styles
// and its weight at least 1, and that the weights add up to at most
// MaxTotalWeight. It returns each entry's style index and the total weight.
// Its errors name entry i as what(i), and the sum as total.
func checkStylesAndWeights(styles []string, entries []Entry, what func(i int) string, total string) ([]int, uint64, error) {
	idx := make(map[string]int, len(styles))
	for i, s := range styles {
		idx[s] = i
	}
	index := make([]int, len(entries))
	var sum uint64
	for i, e := range entries {
		st, ok := idx[e.Style]
		switch {
		case !ok:
			return nil, 0, fmt.Errorf("credential: %s has ballot style %q, which is not one of the election's styles %q", what(i), e.Style, styles)
		case e.Weight < 1:
			return nil, 0, fmt.Errorf("credential: %s has weight 0; a weight is at least 1", what(i))
		case e.Weight > MaxTotalWeight-sum:
			return nil, 0, fmt.Errorf("credential: %s is more than %d, the largest a tally can count", total, uint64(MaxTotalWeight))
		}
		index[i], sum = st, sum+e.Weight
	}
	return index, sum, nil
}

// sortEntries returns the entries of flat in ascending order of their keys,
// in a new slice, or a DuplicateKeyError naming the indexes in flat of a
// key that occurs twice.
func sortEntries(flat []byte) ([]byte, error) {
	n := len(flat) / EntrySize
	key := func(i int32) []byte { return flat[int(i)*EntrySize : int(i)*EntrySize+PublicKeySize] }
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
		out = append(out, flat[int(i)*EntrySize:(int(i)+1)*EntrySize]...)
	}
	return out, nil
}

// newRoll builds a roll over flat, which it keeps, after checking its
// entries (CheckEntries) and that their weights add up to the header's.
func newRoll(h Header, flat []byte) (*Roll, error) {
	enc, err := h.Encode()
	if err != nil {
		return nil, err
	}
	if len(flat) != h.Count*EntrySize {
		return nil, fmt.Errorf("credential: roll: %d bytes of entries for %d entries", len(flat), h.Count)
	}
	sum, err := CheckEntries(h, flat)
	if err != nil {
		return nil, err
	}
	if sum != h.TotalWeight {
		return nil, malformed("the weights add up to %d, the header says %d", sum, h.TotalWeight)
	}
	r := &Roll{hdr: h, hdrEnc: enc, entries: flat}
	if err := r.index.build(flat, h.Count); err != nil {
		return nil, err
	}
	chunks := make([][32]byte, 0, h.Chunks())
	for i := range h.Chunks() {
		chunks = append(chunks, ChunkHash(uint64(i), r.Chunk(i)))
	}
	r.hash = rollHash(enc, chunks)
	return r, nil
}

// Header returns the roll's header.
func (r *Roll) Header() Header { return r.hdr }

// Len returns the number of entries.
func (r *Roll) Len() int { return r.hdr.Count }

// Key returns a copy of the key at index i (from 0), or nil if i is out of
// range.
func (r *Roll) Key(i int) ed25519.PublicKey {
	if i < 0 || i >= r.hdr.Count {
		return nil
	}
	return append(ed25519.PublicKey(nil), r.key(i)...)
}

func (r *Roll) key(i int) []byte { return r.entries[i*EntrySize : i*EntrySize+PublicKeySize] }

// Entry returns the entry at index i (from 0); i must be in range.
func (r *Roll) Entry(i int) Entry {
	k, st, w := EntryAt(r.entries, i)
	return Entry{Key: append(ed25519.PublicKey(nil), k...), Style: r.hdr.Styles[st], Weight: w}
}

// Chunk returns the concatenated entries of chunk i (docs/credentials.md,
// §4.3), which the caller must not modify.
func (r *Roll) Chunk(i int) []byte {
	start := i * ChunkSize
	return r.entries[start*EntrySize : (start+r.hdr.ChunkLen(i))*EntrySize]
}

// Index returns the index of pub on the roll (its rank among the roll's keys
// in ascending order), in constant expected time.
func (r *Roll) Index(pub ed25519.PublicKey) (int, bool) {
	if len(pub) != PublicKeySize {
		return 0, false
	}
	return r.index.lookup(r.entries, pub)
}

// Lookup returns the entry of pub, if it is on the roll.
func (r *Roll) Lookup(pub ed25519.PublicKey) (Entry, bool) {
	i, ok := r.Index(pub)
	if !ok {
		return Entry{}, false
	}
	return r.Entry(i), true
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
// 8 bytes per key on top of the entries themselves. Its hash is seeded at
// random, so a roll built to collide cannot slow it down.
type keyIndex struct {
	seed  maphash.Seed
	slots []uint32 // key index + 1, 0 for an empty slot; a power of two long
}

// build indexes the n entries of flat, or reports the first duplicate key.
func (x *keyIndex) build(flat []byte, n int) error {
	size := 1
	for size < 2*n {
		size <<= 1
	}
	x.seed = maphash.MakeSeed()
	x.slots = make([]uint32, size)
	mask := uint64(size - 1)
	key := func(i int) []byte { return flat[i*EntrySize : i*EntrySize+PublicKeySize] }
	for i := range n {
		k := key(i)
		for j := maphash.Bytes(x.seed, k) & mask; ; j = (j + 1) & mask {
			s := x.slots[j]
			if s == 0 {
				x.slots[j] = uint32(i + 1)
				break
			}
			if first := int(s - 1); bytes.Equal(key(first), k) {
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
		if i := int(s - 1); bytes.Equal(flat[i*EntrySize:i*EntrySize+PublicKeySize], k) {
			return i, true
		}
	}
}

// Encode returns the binary encoding of the roll: the header encoding
// (Header.Encode) followed by the entries, EntrySize bytes each, in
// ascending order of their keys.
func (r *Roll) Encode() []byte {
	b := make([]byte, 0, len(r.hdrEnc)+len(r.entries))
	return append(append(b, r.hdrEnc...), r.entries...)
}

// WriteBinary writes the binary encoding of the roll to w, without copying
// the entries.
func (r *Roll) WriteBinary(w io.Writer) error {
	if _, err := w.Write(r.hdrEnc); err != nil {
		return err
	}
	_, err := w.Write(r.entries)
	return err
}

// Decode decodes the binary encoding of a roll, which must be all of b.
func Decode(b []byte) (*Roll, error) { return ReadBinary(bytes.NewReader(b)) }

// ReadBinary reads the binary encoding of a roll from r, up to the end of r.
// It allocates as the entries arrive, so that a header that claims more
// entries than follow costs nothing; the roll needs little more memory than
// its entries.
func ReadBinary(r io.Reader) (*Roll, error) {
	h, _, err := readHeader(r)
	if err != nil {
		return nil, err
	}
	var entries []byte
	for n := 0; n < h.Count; {
		m := min(h.Count-n, 16*ChunkSize) * EntrySize
		start := len(entries)
		entries = growEntries(entries, m, h.Count)
		if got, err := io.ReadFull(r, entries[start:]); err != nil {
			if err == io.EOF || err == io.ErrUnexpectedEOF {
				return nil, malformed("truncated: the header announces %d entries, the input holds %d bytes of entries", h.Count, start+got)
			}
			return nil, fmt.Errorf("credential: reading roll: %w", err)
		}
		n += m / EntrySize
	}
	var extra [1]byte
	switch n, err := io.ReadFull(r, extra[:]); {
	case n > 0:
		return nil, malformed("data after the %d entries the header announces", h.Count)
	case err != io.EOF:
		return nil, fmt.Errorf("credential: reading roll: %w", err)
	}
	return newRoll(h, entries)
}

// growEntries extends entries by m bytes. Its capacity doubles, but never
// beyond the count entries announced, so that a roll whose header tells the
// truth ends with exactly its entries in memory, and one that lies costs at
// most twice what it holds.
func growEntries(entries []byte, m, count int) []byte {
	if cap(entries)-len(entries) < m {
		c := max(2*cap(entries), len(entries)+m)
		if limit := count * EntrySize; c > limit && limit >= len(entries)+m {
			c = limit
		}
		grown := make([]byte, len(entries), c)
		copy(grown, entries)
		entries = grown
	}
	return entries[:len(entries)+m]
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
