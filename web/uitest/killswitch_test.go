package uitest

import (
	"bytes"
	"net"
	"sync"
	"sync/atomic"
)

// killSwitch wraps a web server's listener so that a test can make the
// node die in the middle of a cast: once armed, as soon as the server has
// written a cast's acknowledgement, every connection it accepted is closed
// and the listener with them, with no websocket close message, as when the
// node's process is killed. (gorilla/websocket writes its frames to the
// hijacked connection, which is the wrapped one, and server frames are not
// masked, so the acknowledgement's JSON is seen as written.)
type killSwitch struct {
	net.Listener
	armed atomic.Bool
	fired chan struct{} // closed when the node has been killed

	mu    sync.Mutex
	conns map[net.Conn]struct{}
	dead  bool
}

func newKillSwitch(l net.Listener) *killSwitch {
	return &killSwitch{Listener: l, fired: make(chan struct{}), conns: map[net.Conn]struct{}{}}
}

// Accept implements net.Listener.
func (k *killSwitch) Accept() (net.Conn, error) {
	c, err := k.Listener.Accept()
	if err != nil {
		return nil, err
	}
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.dead {
		c.Close()
		return nil, net.ErrClosed
	}
	k.conns[c] = struct{}{}
	return &watchedConn{Conn: c, k: k}, nil
}

// kill closes the listener and every connection, once.
func (k *killSwitch) kill() {
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.dead {
		return
	}
	k.dead = true
	k.Listener.Close()
	for c := range k.conns {
		c.Close()
	}
	close(k.fired)
}

// watchedConn is one accepted connection of a killSwitch.
type watchedConn struct {
	net.Conn
	k *killSwitch
}

var ackFrame = []byte(`"type":"ack"`)

// Write implements net.Conn: it kills the node right after an armed
// switch's acknowledgement has been written.
func (c *watchedConn) Write(p []byte) (int, error) {
	n, err := c.Conn.Write(p)
	if c.k.armed.Load() && bytes.Contains(p, ackFrame) {
		c.k.kill()
	}
	return n, err
}

// Close implements net.Conn.
func (c *watchedConn) Close() error {
	c.k.mu.Lock()
	delete(c.k.conns, c.Conn)
	c.k.mu.Unlock()
	return c.Conn.Close()
}
