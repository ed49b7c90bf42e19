package rules

// Layer is a State of writes on top of another State, kept only if Merge is
// called: one transaction's changes, dropped whole if it is rejected.
type Layer struct {
	base  State
	m     map[string][]byte
	order []Write
}

// NewLayer returns an empty layer on base.
func NewLayer(base State) *Layer { return &Layer{base: base, m: map[string][]byte{}} }

// Layer returns an empty layer on s.
func (s *MemState) Layer() *Layer { return NewLayer(s) }

// Get implements State.
func (l *Layer) Get(bucket string, k []byte) ([]byte, bool, error) {
	if v, ok := l.m[memKey(bucket, k)]; ok {
		return v, true, nil
	}
	return l.base.Get(bucket, k)
}

// Put implements State.
func (l *Layer) Put(bucket string, k, v []byte) {
	l.m[memKey(bucket, k)] = v
	l.order = append(l.order, Write{Bucket: bucket, Key: append([]byte(nil), k...), Value: v})
}

// Merge applies the layer's writes to its base, in order.
func (l *Layer) Merge() {
	for _, w := range l.order {
		l.base.Put(w.Bucket, w.Key, w.Value)
	}
}
