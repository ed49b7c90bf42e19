package store

import "sync"

// Gate tracks the calls in progress on a store so that Close can wait for
// them, and refuses new calls after Close. Backends embed it; the zero value
// is ready to use.
type Gate struct {
	mu     sync.Mutex
	idle   *sync.Cond // signalled when active drops to 0
	closed bool
	active int // calls in progress
}

// Begin registers a call in progress, or returns ErrClosed.
func (g *Gate) Begin() error {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.closed {
		return ErrClosed
	}
	g.active++
	return nil
}

// End ends a call registered by Begin.
func (g *Gate) End() {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.active--
	if g.active == 0 && g.idle != nil {
		g.idle.Broadcast()
	}
}

// Shut refuses new calls and waits for those in progress; it returns
// ErrClosed if the gate was already shut. It must not be called from inside a
// call (a Scan callback), which it would wait for forever.
func (g *Gate) Shut() error {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.closed {
		return ErrClosed
	}
	g.closed = true
	if g.idle == nil {
		g.idle = sync.NewCond(&g.mu)
	}
	for g.active > 0 {
		g.idle.Wait()
	}
	return nil
}
