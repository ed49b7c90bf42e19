package web

import (
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"sort"
	"strings"
	"sync"
	"time"
)

// bucket is a token bucket: rate tokens per second up to burst.
type bucket struct {
	mu     sync.Mutex
	rate   float64
	burst  float64
	tokens float64
	last   time.Time
}

func newBucket(rate float64, burst int) *bucket {
	return &bucket{rate: rate, burst: float64(burst), tokens: float64(burst), last: time.Now()}
}

// take takes a token if there is one; otherwise it reports how long until
// there is.
func (b *bucket) take() (bool, time.Duration) {
	b.mu.Lock()
	defer b.mu.Unlock()
	now := time.Now()
	b.tokens = min(b.burst, b.tokens+now.Sub(b.last).Seconds()*b.rate)
	b.last = now
	if b.tokens >= 1 {
		b.tokens--
		return true, 0
	}
	return false, time.Duration((1 - b.tokens) / b.rate * float64(time.Second))
}

// full reports whether the bucket has refilled completely (it can be
// forgotten).
func (b *bucket) full() bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.tokens+time.Since(b.last).Seconds()*b.rate >= b.burst
}

// maxBucketKeys is the number of addresses a keyed bucket set holds before
// it forgets the full ones.
const maxBucketKeys = 10_000

// buckets is one token bucket per client address (clientKey).
type buckets struct {
	rate  float64
	burst int

	mu sync.Mutex
	m  map[string]*bucket
}

func newBuckets(rate float64, burst int) *buckets {
	return &buckets{rate: rate, burst: burst, m: map[string]*bucket{}}
}

// take takes a token of key's bucket.
func (bs *buckets) take(key string) (bool, time.Duration) {
	bs.mu.Lock()
	b := bs.m[key]
	if b == nil {
		if len(bs.m) >= maxBucketKeys {
			for k, v := range bs.m {
				if v.full() {
					delete(bs.m, k)
				}
			}
		}
		b = newBucket(bs.rate, bs.burst)
		bs.m[key] = b
	}
	bs.mu.Unlock()
	return b.take()
}

// clientKey is the identity per-address limits are kept for: an IPv4
// address (also when written as an IPv4-mapped IPv6 address), or the /64
// prefix of an IPv6 address, since one IPv6 host is usually given a whole
// /64 and could otherwise take a fresh identity for every connection.
// Behind a reverse proxy every client shares the proxy's address: raise the
// per-address limits there.
func clientKey(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		host = r.RemoteAddr
	}
	return addrKey(host)
}

// addrKey is clientKey of a textual address.
func addrKey(host string) string {
	a, err := netip.ParseAddr(host)
	if err != nil {
		return host
	}
	a = a.Unmap().WithZone("")
	if a.Is4() {
		return a.String()
	}
	p, err := a.Prefix(64)
	if err != nil {
		return a.String()
	}
	return p.String()
}

// Retry-After of a refused handshake, in whole seconds (at least 1).
func retryAfter(w http.ResponseWriter, d time.Duration) {
	w.Header().Set("Retry-After", fmt.Sprint(max(1, int((d+time.Second-1)/time.Second))))
}

// maxSummaryKeys bounds the addresses a protocol-error summary counts
// separately.
const maxSummaryKeys = 1024

// errorLog turns the protocol errors of clients (a closed connection, a
// refused handshake) into debug lines and, at info, at most one summary line
// per interval: a client that sends garbage in a loop cannot flood the log.
type errorLog struct {
	log      *slog.Logger
	interval time.Duration

	mu     sync.Mutex
	timer  *time.Timer // set while a window is open
	start  time.Time
	total  int
	kinds  map[string]int
	byAddr map[string]int
	others int // errors of addresses beyond maxSummaryKeys
}

func newErrorLog(log *slog.Logger, interval time.Duration) *errorLog {
	return &errorLog{log: log, interval: interval}
}

// note records one protocol error of kind (e.g. "close 1008") from the
// client at addr, and logs it at debug with args.
func (l *errorLog) note(kind, addr, msg string, args ...any) {
	l.log.Debug(msg, append([]any{"remote", addr, "kind", kind}, args...)...)
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.timer == nil {
		l.start = time.Now()
		l.kinds, l.byAddr, l.total, l.others = map[string]int{}, map[string]int{}, 0, 0
		l.timer = time.AfterFunc(l.interval, l.flush)
	}
	l.total++
	l.kinds[kind]++
	if _, ok := l.byAddr[addr]; ok || len(l.byAddr) < maxSummaryKeys {
		l.byAddr[addr]++
	} else {
		l.others++
	}
}

// flush logs the summary of the window and closes it.
func (l *errorLog) flush() {
	l.mu.Lock()
	if l.timer == nil {
		l.mu.Unlock()
		return
	}
	l.timer.Stop()
	l.timer = nil
	total, kinds, byAddr, others, since := l.total, l.kinds, l.byAddr, l.others, time.Since(l.start)
	l.mu.Unlock()
	ks := make([]string, 0, len(kinds))
	for k, n := range kinds {
		ks = append(ks, fmt.Sprintf("%s=%d", k, n))
	}
	sort.Strings(ks)
	top, topN := "", 0
	for a, n := range byAddr {
		if n > topN || (n == topN && a < top) {
			top, topN = a, n
		}
	}
	addrs := len(byAddr)
	if others > 0 {
		addrs = maxSummaryKeys + 1 // at least
	}
	l.log.Info("web: client protocol errors (each at debug level)", "count", total, "seconds", int(since.Round(time.Second)/time.Second),
		"kinds", strings.Join(ks, " "), "addresses", addrs, "top_address", top, "top_count", topN)
}
