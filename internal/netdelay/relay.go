// Package netdelay puts a delay on TCP connections: a Relay listens on a
// port and forwards every connection it accepts to a target, holding every
// byte back by a fixed delay in each direction. The benchmarks use it to
// stand the links between a local cluster's nodes in for links between
// distant organisations, where the kernel has no netem qdisc to do so.
//
// A relay delays without slowing: each direction has a reader that stamps
// every chunk it reads with the time it is due and queues it at once, and a
// writer that sleeps until the head of the queue is due and writes it, so
// order is kept and throughput is the link's own up to BufferBytes per
// delay. A full queue stops the reader, and with it the sender, as a full
// TCP window would.
package netdelay

import (
	"errors"
	"fmt"
	"io"
	"net"
	"sync"
	"time"
)

// BufferBytes bounds the bytes a relay holds in one direction of one
// connection: at a delay D the link carries at most BufferBytes per D
// (160 MiB/s at 50 ms).
const BufferBytes = 8 << 20

// readSize is the most a reader takes from a connection at once.
const readSize = 64 << 10

// dialTimeout bounds the dial of the target for each accepted connection.
const dialTimeout = 5 * time.Second

// Relay forwards the connections it accepts to its target with a delay.
type Relay struct {
	ln     net.Listener
	target string
	delay  time.Duration

	mu     sync.Mutex
	conns  map[net.Conn]struct{}
	pairs  int // connections relayed now, each to the target
	closed bool
	wg     sync.WaitGroup
}

// Listen starts a relay on addr (host:port; port 0 picks a free one) that
// forwards each connection to target, delaying every byte by delay each way.
func Listen(addr, target string, delay time.Duration) (*Relay, error) {
	if delay < 0 {
		return nil, fmt.Errorf("netdelay: negative delay %v", delay)
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("netdelay: %w", err)
	}
	r := &Relay{ln: ln, target: target, delay: delay, conns: map[net.Conn]struct{}{}}
	r.wg.Add(1)
	go r.accept()
	return r, nil
}

// Addr is the host:port the relay listens on.
func (r *Relay) Addr() string { return r.ln.Addr().String() }

// Target is the host:port the relay forwards to.
func (r *Relay) Target() string { return r.target }

// Open is the number of connections the relay carries to its target now.
func (r *Relay) Open() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.pairs
}

// Close stops accepting, closes every connection the relay carries and
// waits until all of its goroutines have returned.
func (r *Relay) Close() error {
	r.mu.Lock()
	r.closed = true
	for c := range r.conns {
		c.Close()
	}
	r.mu.Unlock()
	err := r.ln.Close()
	r.wg.Wait()
	return err
}

// track registers c so that Close closes it; it reports false (and closes
// c) once the relay is closed.
func (r *Relay) track(c net.Conn) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.closed {
		c.Close()
		return false
	}
	r.conns[c] = struct{}{}
	return true
}

func (r *Relay) untrack(cs ...net.Conn) {
	r.mu.Lock()
	for _, c := range cs {
		delete(r.conns, c)
		c.Close()
	}
	r.mu.Unlock()
}

func (r *Relay) accept() {
	defer r.wg.Done()
	for {
		c, err := r.ln.Accept()
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				return
			}
			// A transient error (too many open files): try again shortly.
			time.Sleep(10 * time.Millisecond)
			continue
		}
		if !r.track(c) {
			return
		}
		r.wg.Add(1)
		go r.serve(c)
	}
}

// serve connects c to the target and relays both ways until both
// directions have ended.
func (r *Relay) serve(c net.Conn) {
	defer r.wg.Done()
	t, err := net.DialTimeout("tcp", r.target, dialTimeout)
	if err != nil {
		// The peer sees its connection closed, as it would see the
		// target's refusal.
		r.untrack(c)
		return
	}
	if !r.track(t) {
		r.untrack(c)
		return
	}
	r.mu.Lock()
	r.pairs++
	r.mu.Unlock()
	defer func() {
		r.mu.Lock()
		r.pairs--
		r.mu.Unlock()
	}()
	abort := func() { r.untrack(c, t) }
	var both sync.WaitGroup
	both.Add(2)
	go func() { defer both.Done(); relay(c, t, r.delay, abort) }()
	go func() { defer both.Done(); relay(t, c, r.delay, abort) }()
	both.Wait()
	r.untrack(c, t)
}

// chunk is what a reader read, due to be written at due; a chunk with
// eof set stands for the end of the stream.
type chunk struct {
	due  time.Time
	data []byte
	eof  bool
}

// queue is one direction's chunks in flight, bounded to BufferBytes.
type queue struct {
	mu     sync.Mutex
	cond   *sync.Cond
	chunks []chunk
	bytes  int
	done   bool // the writer has stopped: the reader stops too
}

// relay copies src to dst, each chunk delay after it was read. At the end
// of src it half-closes dst, delay later; on any error it calls abort,
// which closes both connections of the pair.
func relay(src, dst net.Conn, delay time.Duration, abort func()) {
	q := &queue{}
	q.cond = sync.NewCond(&q.mu)
	writerDone := make(chan struct{})
	go func() {
		defer close(writerDone)
		if !q.write(dst) {
			abort()
		}
	}()
	buf := make([]byte, readSize)
	for {
		n, err := src.Read(buf)
		now := time.Now()
		if n > 0 {
			data := make([]byte, n)
			copy(data, buf[:n])
			if !q.push(chunk{due: now.Add(delay), data: data}) {
				break
			}
		}
		if err == io.EOF {
			q.push(chunk{due: now.Add(delay), eof: true})
			break
		}
		if err != nil {
			abort()
			q.stop()
			break
		}
	}
	<-writerDone
}

// push queues ch, waiting while the queue holds BufferBytes or more; it
// reports false once the writer has stopped.
func (q *queue) push(ch chunk) bool {
	q.mu.Lock()
	defer q.mu.Unlock()
	for q.bytes >= BufferBytes && !q.done {
		q.cond.Wait()
	}
	if q.done {
		return false
	}
	q.chunks = append(q.chunks, ch)
	q.bytes += len(ch.data)
	q.cond.Broadcast()
	return true
}

// stop ends the queue: the writer returns and push refuses.
func (q *queue) stop() {
	q.mu.Lock()
	q.done = true
	q.cond.Broadcast()
	q.mu.Unlock()
}

// pop waits for the head of the queue and removes it; false once stopped.
func (q *queue) pop() (chunk, bool) {
	q.mu.Lock()
	defer q.mu.Unlock()
	for len(q.chunks) == 0 && !q.done {
		q.cond.Wait()
	}
	if q.done {
		return chunk{}, false
	}
	ch := q.chunks[0]
	q.chunks[0] = chunk{}
	q.chunks = q.chunks[1:]
	return ch, true
}

// release gives back n bytes of the bound once they are written.
func (q *queue) release(n int) {
	q.mu.Lock()
	q.bytes -= n
	q.cond.Broadcast()
	q.mu.Unlock()
}

// write writes the queue's chunks to dst as each comes due, until the end
// of the stream (true, dst half-closed) or an error or stop (false).
func (q *queue) write(dst net.Conn) bool {
	defer q.stop()
	for {
		ch, ok := q.pop()
		if !ok {
			return false
		}
		if d := time.Until(ch.due); d > 0 {
			time.Sleep(d)
		}
		if ch.eof {
			if cw, ok := dst.(interface{ CloseWrite() error }); ok {
				return cw.CloseWrite() == nil
			}
			return false
		}
		if _, err := dst.Write(ch.data); err != nil {
			return false
		}
		q.release(len(ch.data))
	}
}
