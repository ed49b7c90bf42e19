package netdelay

import (
	"bytes"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"os"
	"runtime"
	"slices"
	"testing"
	"time"
)

// target listens on loopback and runs serve on each connection it accepts.
func target(t *testing.T, serve func(net.Conn)) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go serve(c)
		}
	}()
	return ln.Addr().String()
}

// echo writes back what it reads, then closes.
func echo(c net.Conn) {
	io.Copy(c, c)
	c.Close()
}

func startRelay(t *testing.T, to string, d time.Duration) *Relay {
	t.Helper()
	r, err := Listen("127.0.0.1:0", to, d)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.Close() })
	return r
}

func dial(t *testing.T, r *Relay) *net.TCPConn {
	t.Helper()
	c, err := net.Dial("tcp", r.Addr())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c.(*net.TCPConn)
}

// TestDelay: a ping-pong through the relay to an echo server takes two
// delays, one each way, give or take a few milliseconds.
func TestDelay(t *testing.T) {
	const d = 30 * time.Millisecond
	r := startRelay(t, target(t, echo), d)
	c := dial(t, r)
	if err := waitOpen(r, 1); err != nil {
		t.Fatal(err)
	}
	var rtts []time.Duration
	b := make([]byte, 1)
	for i := range 15 {
		start := time.Now()
		if _, err := c.Write([]byte{byte(i)}); err != nil {
			t.Fatal(err)
		}
		if _, err := io.ReadFull(c, b); err != nil {
			t.Fatal(err)
		}
		rtt := time.Since(start)
		if b[0] != byte(i) {
			t.Fatalf("ping %d came back as %d", i, b[0])
		}
		if rtt < 2*d {
			t.Errorf("ping %d came back after %v, before two delays of %v", i, rtt, d)
		}
		rtts = append(rtts, rtt)
	}
	slices.Sort(rtts)
	if oneWay := rtts[len(rtts)/2] / 2; oneWay > d+5*time.Millisecond {
		t.Errorf("median one-way delay %v, want %v (within 5 ms); round trips %v", oneWay, d, rtts)
	}
}

// TestZeroDelay: with no delay the relay only forwards.
func TestZeroDelay(t *testing.T) {
	r := startRelay(t, target(t, echo), 0)
	c := dial(t, r)
	c.Write([]byte("hello"))
	b := make([]byte, 5)
	if _, err := io.ReadFull(c, b); err != nil || string(b) != "hello" {
		t.Fatalf("read %q, %v", b, err)
	}
	c.Close()
	if err := waitOpen(r, 0); err != nil {
		t.Error(err)
	}
}

// waitOpen waits up to 5 s until r carries n connections.
func waitOpen(r *Relay, n int) error {
	for deadline := time.Now().Add(5 * time.Second); r.Open() != n; time.Sleep(5 * time.Millisecond) {
		if time.Now().After(deadline) {
			return fmt.Errorf("the relay carries %d connections, want %d", r.Open(), n)
		}
	}
	return nil
}

// TestLargeTransfer: 48 MiB sent through the relay and echoed back arrive
// whole and in order, both directions at once, at the speed of loopback
// rather than one read per delay.
func TestLargeTransfer(t *testing.T) {
	const d = 20 * time.Millisecond
	const size = 48 << 20
	r := startRelay(t, target(t, echo), d)
	c := dial(t, r)
	data := make([]byte, size)
	rng := rand.NewChaCha8([32]byte{1})
	rng.Read(data)
	start := time.Now()
	go func() {
		// Writes of varied sizes, so that the relay's chunks differ from them.
		for off := 0; off < size; {
			n := min(size-off, 1+int(data[off])*997)
			if _, err := c.Write(data[off : off+n]); err != nil {
				return
			}
			off += n
		}
		c.CloseWrite()
	}()
	got, err := io.ReadAll(c)
	if err != nil {
		t.Fatal(err)
	}
	elapsed := time.Since(start)
	if len(got) != size || sha256.Sum256(got) != sha256.Sum256(data) {
		i := 0
		for i < min(len(got), size) && got[i] == data[i] {
			i++
		}
		t.Fatalf("echoed %d bytes of %d, first difference at byte %d", len(got), size, i)
	}
	if elapsed > 10*time.Second {
		t.Errorf("48 MiB took %v through a %v relay: it does not stream", elapsed, d)
	}
	t.Logf("48 MiB echoed through a %v relay in %v", d, elapsed)
}

// TestHalfClose: each side's end of stream reaches the other a delay
// later, and what the other still sends after it arrives.
func TestHalfClose(t *testing.T) {
	const d = 30 * time.Millisecond
	type seen struct {
		at   time.Time
		data []byte
	}
	got := make(chan seen, 1)
	r := startRelay(t, target(t, func(c net.Conn) {
		b, _ := io.ReadAll(c) // until the client's end of stream
		got <- seen{time.Now(), b}
		c.Write([]byte("reply"))
		c.Close()
	}), d)
	c := dial(t, r)
	c.Write([]byte("request"))
	closedAt := time.Now()
	if err := c.CloseWrite(); err != nil {
		t.Fatal(err)
	}
	s := <-got
	if after := s.at.Sub(closedAt); string(s.data) != "request" || after < d {
		t.Errorf("the target read %q and the end of stream %v after the client closed, want %q after at least %v", s.data, after, "request", d)
	}
	start := time.Now()
	b, err := io.ReadAll(c)
	if err != nil || string(b) != "reply" {
		t.Fatalf("the client read %q, %v; want %q and the end of stream", b, err, "reply")
	}
	if e := time.Since(start); e < d-time.Millisecond {
		t.Errorf("the reply and its end of stream came after %v, before the delay %v", e, d)
	}
}

// TestTargetDown: a connection to a relay whose target refuses is closed.
func TestTargetDown(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	r := startRelay(t, addr, 10*time.Millisecond)
	c := dial(t, r)
	c.SetReadDeadline(time.Now().Add(5 * time.Second))
	if n, err := c.Read(make([]byte, 1)); n != 0 || err == nil || errors.Is(err, os.ErrDeadlineExceeded) {
		t.Errorf("read from a relay whose target is down: %d bytes, %v; want the connection closed", n, err)
	}
}

// TestBackpressure: a target that reads nothing stops the sender once the
// relay holds BufferBytes (and the sockets their buffers).
func TestBackpressure(t *testing.T) {
	hold := make(chan struct{})
	defer close(hold)
	r := startRelay(t, target(t, func(c net.Conn) { <-hold; c.Close() }), 5*time.Millisecond)
	c := dial(t, r)
	chunk := make([]byte, 1<<20)
	sent := 0
	for sent < 256<<20 {
		c.SetWriteDeadline(time.Now().Add(time.Second))
		n, err := c.Write(chunk)
		sent += n
		if errors.Is(err, os.ErrDeadlineExceeded) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
	}
	// The kernel's loopback buffers may hold some MiB on either side.
	if sent > BufferBytes+48<<20 {
		t.Errorf("the sender wrote %d MiB to a target that reads nothing: the relay does not hold it back", sent>>20)
	}
	t.Logf("the sender stopped after %d MiB", sent>>20)
}

// TestCloseNoLeak: Close ends every connection the relay carries, and
// every goroutine it started returns.
func TestCloseNoLeak(t *testing.T) {
	to := target(t, echo)
	before := runtime.NumGoroutine()
	r, err := Listen("127.0.0.1:0", to, 20*time.Millisecond)
	if err != nil {
		t.Fatal(err)
	}
	var conns []net.Conn
	for range 5 {
		c, err := net.Dial("tcp", r.Addr())
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		c.Write(bytes.Repeat([]byte("x"), 100<<10))
		conns = append(conns, c)
	}
	// One connection ends by itself before the relay closes.
	conns[0].(*net.TCPConn).CloseWrite()
	io.ReadAll(conns[0])
	time.Sleep(50 * time.Millisecond)
	if err := r.Close(); err != nil {
		t.Fatal(err)
	}
	for _, c := range conns[1:] {
		c.SetReadDeadline(time.Now().Add(5 * time.Second))
		if _, err := io.ReadAll(c); errors.Is(err, os.ErrDeadlineExceeded) {
			t.Error("a connection through the relay is still open after Close")
		}
	}
	if _, err := net.DialTimeout("tcp", r.Addr(), time.Second); err == nil {
		t.Error("the relay still accepts after Close")
	}
	// The echo server's goroutines end once their clients close.
	for _, c := range conns {
		c.Close()
	}
	deadline := time.Now().Add(5 * time.Second)
	for runtime.NumGoroutine() > before && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	if n := runtime.NumGoroutine(); n > before {
		buf := make([]byte, 1<<16)
		t.Errorf("%d goroutines after Close, %d before:\n%s", n, before, buf[:runtime.Stack(buf, true)])
	}
}

func TestListenErrors(t *testing.T) {
	if _, err := Listen("127.0.0.1:0", "127.0.0.1:1", -time.Second); err == nil {
		t.Error("a negative delay was accepted")
	}
	if _, err := Listen("127.0.0.1:99999", "127.0.0.1:1", time.Second); err == nil {
		t.Error("a bad listening address was accepted")
	}
}
