package rules

import (
	"fmt"
	"os"
	"sort"
)

// MemState is a State in memory, for the verifier and tests. It keeps the
// writes since the last Commit, so that the app hash of a block can be
// computed as the nodes compute it.
//
// A reader that holds a large state can keep less of it in memory: the
// values of a bucket the rules never read back need only count in the app
// hash (HashOnly), and those of a bucket they read rarely can wait in a file
// (Spill).
type MemState struct {
	m       keyMap[[]byte] // bucket ‖ 0 ‖ key → value
	pending []Write
	index   map[string]int // positions in pending
	appHash []byte

	hashOnly map[string]bool
	spill    *os.File
	spilled  map[string]bool
	refs     keyMap[uint64] // bucket ‖ 0 ‖ key → offset (40 bits) ‖ length (24 bits) in spill
	// The spilled values from offset flushed to end are in buf, not yet
	// in the file; all of them if writing to the file failed.
	buf            []byte
	flushed, end   int64
	spillWriteFail bool
}

// NewMemState returns an empty state.
func NewMemState() *MemState {
	return &MemState{m: newKeyMap[[]byte](), index: map[string]int{}}
}

func memKey(bucket string, k []byte) string { return bucket + "\x00" + string(k) }

// HashOnly makes the values written to buckets count in the app hash
// without being kept: a later Get or ScanFrom of one of these buckets fails.
// It is for a reader that knows the rules never read them (the verifier:
// the tracking-code index, which only queries read). Call it before the
// first Put.
func (s *MemState) HashOnly(buckets ...string) {
	if s.hashOnly == nil {
		s.hashOnly = map[string]bool{}
	}
	for _, b := range buckets {
		s.hashOnly[b] = true
	}
}

// Spill keeps the values written to buckets in f, an empty file open for
// reading and writing, instead of in memory: memory keeps 8 bytes per key
// besides the key. It is for values that are rarely read (the verifier: a
// ballot's ciphertexts and record, and the ballot that counts for a
// credential, read again only when the credential votes again and, for the
// records, once at the end). If writing to f fails, the values stay in
// memory. Call it before the first Put.
func (s *MemState) Spill(f *os.File, buckets ...string) {
	s.spill, s.spilled, s.refs = f, map[string]bool{}, newKeyMap[uint64]()
	for _, b := range buckets {
		s.spilled[b] = true
	}
}

const spillLenBits = 24

// Get implements State.
func (s *MemState) Get(bucket string, k []byte) ([]byte, bool, error) {
	if s.hashOnly[bucket] {
		return nil, false, fmt.Errorf("rules: this state does not keep the values of bucket %q", bucket)
	}
	mk := memKey(bucket, k)
	if v, ok := s.m.get(mk, k); ok {
		return v, true, nil
	}
	if r, ok := s.refs.get(mk, k); s.spilled[bucket] && ok {
		v, err := s.readSpilled(r)
		return v, err == nil, err
	}
	return nil, false, nil
}

func (s *MemState) readSpilled(r uint64) ([]byte, error) {
	off, n := int64(r>>spillLenBits), int64(r&(1<<spillLenBits-1))
	if off >= s.flushed {
		return append([]byte(nil), s.buf[off-s.flushed:off-s.flushed+n]...), nil
	}
	v := make([]byte, n)
	if _, err := s.spill.ReadAt(v, off); err != nil {
		return nil, fmt.Errorf("rules: reading a spilled value: %w", err)
	}
	return v, nil
}

// Put implements State. It keeps a copy of v.
func (s *MemState) Put(bucket string, k, v []byte) {
	mk := memKey(bucket, k)
	v = append([]byte(nil), v...)
	switch {
	case s.hashOnly[bucket]:
	case s.spilled[bucket] && s.spillValue(mk, k, v):
		s.m.delete(mk, k)
	default:
		s.m.put(mk, k, v)
		if s.spilled[bucket] {
			s.refs.delete(mk, k)
		}
	}
	w := Write{Bucket: bucket, Key: append([]byte(nil), k...), Value: v}
	if i, ok := s.index[mk]; ok {
		s.pending[i] = w
		return
	}
	s.index[mk] = len(s.pending)
	s.pending = append(s.pending, w)
}

// spillValue appends v to the spilled values and reports whether it did.
// They are written to the file a megabyte at a time.
func (s *MemState) spillValue(mk string, k, v []byte) bool {
	if len(v) >= 1<<spillLenBits || s.end+int64(len(v)) >= 1<<(64-spillLenBits) {
		return false
	}
	s.refs.put(mk, k, uint64(s.end)<<spillLenBits|uint64(len(v)))
	s.buf = append(s.buf, v...)
	s.end += int64(len(v))
	if len(s.buf) >= 1<<20 && !s.spillWriteFail {
		if _, err := s.spill.WriteAt(s.buf, s.flushed); err != nil {
			s.spillWriteFail = true // the values stay in buf
			return true
		}
		s.flushed, s.buf = s.end, s.buf[:0]
	}
	return true
}

// Commit ends a block: if it wrote anything, the app hash becomes
// NextAppHash of the previous one, the height and the block's writes.
// It returns the app hash after the block.
func (s *MemState) Commit(height int64) []byte {
	if len(s.pending) > 0 {
		s.appHash = NextAppHash(s.appHash, height, ChangesHash(s.pending))
	}
	if cap(s.pending) > 1<<14 {
		// A block of many writes (a roll): do not keep its room.
		s.pending, s.index = nil, map[string]int{}
	} else {
		clear(s.pending)
		s.pending = s.pending[:0]
		clear(s.index)
	}
	return s.appHash
}

// AppHash returns the app hash after the last Commit.
func (s *MemState) AppHash() []byte { return s.appHash }

// Scan calls fn for every key of bucket that starts with prefix, in
// ascending key order, with the key without the prefix. It calls fn for
// none of a HashOnly bucket's keys, and stops at a spilled value it cannot
// read.
func (s *MemState) Scan(bucket string, prefix []byte, fn func(key, value []byte)) {
	_ = s.ScanFrom(bucket, prefix, nil, func(k, v []byte) error {
		fn(k[len(prefix):], v)
		return nil
	})
}

// ScanFrom implements Scanner: the keys of bucket with the prefix that are
// not before start, in ascending order, whole (the prefix included), until
// fn returns an error.
func (s *MemState) ScanFrom(bucket string, prefix, start []byte, fn func(key, value []byte) error) error {
	if s.hashOnly[bucket] {
		return fmt.Errorf("rules: this state does not keep the values of bucket %q", bucket)
	}
	p := memKey(bucket, prefix)
	from := memKey(bucket, start)
	type kv struct {
		k string
		v []byte
		r uint64
	}
	var kvs []kv
	s.m.each(p, from, func(k string, v []byte) { kvs = append(kvs, kv{k: k, v: v}) })
	if s.spilled[bucket] {
		s.refs.each(p, from, func(k string, r uint64) { kvs = append(kvs, kv{k: k, r: r}) })
	}
	sort.Slice(kvs, func(i, j int) bool { return kvs[i].k < kvs[j].k })
	skip := len(bucket) + 1
	for _, e := range kvs {
		v := e.v
		if v == nil {
			var err error
			if v, err = s.readSpilled(e.r); err != nil {
				return err
			}
		}
		if err := fn([]byte(e.k[skip:]), v); err != nil {
			return err
		}
	}
	return nil
}
