package rules

import (
	"sort"
	"strings"
)

// MemState is a State in memory, for the verifier and tests. It keeps the
// writes since the last Commit, so that the app hash of a block can be
// computed as the nodes compute it.
type MemState struct {
	m       map[string][]byte // bucket ‖ 0 ‖ key → value
	pending []Write
	index   map[string]int // positions in pending
	appHash []byte
}

// NewMemState returns an empty state.
func NewMemState() *MemState {
	return &MemState{m: map[string][]byte{}, index: map[string]int{}}
}

func memKey(bucket string, k []byte) string { return bucket + "\x00" + string(k) }

// Get implements State.
func (s *MemState) Get(bucket string, k []byte) ([]byte, bool, error) {
	v, ok := s.m[memKey(bucket, k)]
	return v, ok, nil
}

// Put implements State.
func (s *MemState) Put(bucket string, k, v []byte) {
	mk := memKey(bucket, k)
	s.m[mk] = v
	w := Write{Bucket: bucket, Key: append([]byte(nil), k...), Value: v}
	if i, ok := s.index[mk]; ok {
		s.pending[i] = w
		return
	}
	s.index[mk] = len(s.pending)
	s.pending = append(s.pending, w)
}

// Commit ends a block: if it wrote anything, the app hash becomes
// NextAppHash of the previous one, the height and the block's writes.
// It returns the app hash after the block.
func (s *MemState) Commit(height int64) []byte {
	if len(s.pending) > 0 {
		s.appHash = NextAppHash(s.appHash, height, ChangesHash(s.pending))
	}
	s.pending = s.pending[:0]
	clear(s.index)
	return s.appHash
}

// AppHash returns the app hash after the last Commit.
func (s *MemState) AppHash() []byte { return s.appHash }

// Scan calls fn for every key of bucket that starts with prefix, in
// ascending key order, with the key without the prefix.
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
	p := memKey(bucket, prefix)
	from := memKey(bucket, start)
	var ks []string
	for k := range s.m {
		if strings.HasPrefix(k, p) && k >= from {
			ks = append(ks, k)
		}
	}
	sort.Strings(ks)
	skip := len(bucket) + 1
	for _, k := range ks {
		if err := fn([]byte(k[skip:]), s.m[k]); err != nil {
			return err
		}
	}
	return nil
}
