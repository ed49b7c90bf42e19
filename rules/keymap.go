package rules

import "strings"

// keyMap maps the state's keys (memKey: bucket ‖ 0 ‖ key) to values in less
// memory than a map of strings: a key of 32 bytes or more (the per-ballot
// and per-credential keys end in a hash or a public key) is held as its
// last 32 bytes in the map's slot, under its prefix, without a string of
// its own.
type keyMap[V any] struct {
	short map[string]V
	long  map[string]map[[32]byte]V // memKey without its last 32 bytes → last 32 bytes → value
}

func newKeyMap[V any]() keyMap[V] {
	return keyMap[V]{short: map[string]V{}, long: map[string]map[[32]byte]V{}}
}

// split returns the prefix and the last 32 bytes of mk, the memKey of key
// k, or false if k is shorter than 32 bytes.
func split(mk string, k []byte) (prefix string, tail [32]byte, ok bool) {
	if len(k) < 32 {
		return "", tail, false
	}
	copy(tail[:], k[len(k)-32:])
	return mk[:len(mk)-32], tail, true
}

func (m keyMap[V]) get(mk string, k []byte) (V, bool) {
	if p, t, ok := split(mk, k); ok {
		v, found := m.long[p][t]
		return v, found
	}
	v, found := m.short[mk]
	return v, found
}

func (m keyMap[V]) put(mk string, k []byte, v V) {
	p, t, ok := split(mk, k)
	if !ok {
		m.short[mk] = v
		return
	}
	inner := m.long[p]
	if inner == nil {
		inner = map[[32]byte]V{}
		m.long[strings.Clone(p)] = inner
	}
	inner[t] = v
}

func (m keyMap[V]) delete(mk string, k []byte) {
	if p, t, ok := split(mk, k); ok {
		delete(m.long[p], t)
		return
	}
	delete(m.short, mk)
}

// each calls fn, in no particular order, with every memKey that starts
// with p and is not before from, and its value.
func (m keyMap[V]) each(p, from string, fn func(mk string, v V)) {
	for k, v := range m.short {
		if strings.HasPrefix(k, p) && k >= from {
			fn(k, v)
		}
	}
	for pre, inner := range m.long {
		// The keys under pre start with p only if one of p and pre
		// starts with the other.
		if !strings.HasPrefix(pre, p) && !strings.HasPrefix(p, pre) {
			continue
		}
		for t, v := range inner {
			if k := pre + string(t[:]); strings.HasPrefix(k, p) && k >= from {
				fn(k, v)
			}
		}
	}
}
