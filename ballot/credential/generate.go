package credential

import (
	"context"
	"errors"
	"fmt"
	"io"
	"runtime"
	"sync"
)

// Generate makes n fresh codes for an election whose voters all have the
// implicit ballot style DefaultStyle and weight 1; see GenerateEntries.
func Generate(electionID string, n int, params KDFParams, rand io.Reader, workers int) ([]Code, *Roll, error) {
	return GenerateContext(context.Background(), electionID, n, params, rand, workers, nil)
}

// GenerateContext is Generate with cancellation and progress: progress, if
// not nil, is called with the number of credentials derived so far, from one
// goroutine at a time, after each derivation.
func GenerateContext(ctx context.Context, electionID string, n int, params KDFParams, rand io.Reader, workers int, progress func(done int)) ([]Code, *Roll, error) {
	if n < 1 || n > MaxRollSize {
		return nil, nil, fmt.Errorf("credential: roll size %d is out of range: want 1 to %d", n, MaxRollSize)
	}
	voters := make([]Entry, n)
	for i := range voters {
		voters[i] = Entry{Style: DefaultStyle, Weight: 1}
	}
	return GenerateEntries(ctx, electionID, params, []string{DefaultStyle}, voters, rand, workers, progress)
}

// GenerateEntries makes one fresh code per voter of an election, with
// randomness from rand (crypto/rand.Reader in production), derives their
// credentials on workers goroutines (all cores if workers < 1) and returns
// the codes, codes[i] for voters[i], with the roll of their public keys,
// each with the style and weight of its voter (the voters' Key is ignored).
// styles are the election's ballot style ids in manifest order. The roll is
// sorted by key, so a code's place in the list says nothing about its key's
// place on the roll (docs/credentials.md, §4). The codes are the voters'
// secrets: hand them out, never publish or log them. progress is as for
// GenerateContext.
func GenerateEntries(ctx context.Context, electionID string, params KDFParams, styles []string, voters []Entry, rand io.Reader, workers int, progress func(done int)) ([]Code, *Roll, error) {
	n := len(voters)
	h := Header{ElectionID: electionID, KDF: params, Count: n, Styles: styles, TotalWeight: uint64(n)}
	if err := h.Validate(); err != nil {
		return nil, nil, err
	}
	// The styles and weights are checked before the slow derivations.
	if _, _, err := checkStylesAndWeights(styles, voters, func(i int) string { return fmt.Sprintf("voter %d", i) }, "the voters' total weight"); err != nil {
		return nil, nil, err
	}
	if workers < 1 {
		workers = runtime.GOMAXPROCS(0)
	}
	workers = min(workers, n)

	// The codes are drawn in order from rand, so a given random stream gives
	// a given roll, whatever the number of workers.
	codes := make([]Code, n)
	for i := range codes {
		c, err := NewCode(rand)
		if err != nil {
			return nil, nil, err
		}
		codes[i] = c
	}

	keys := make([]byte, n*PublicKeySize)
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	jobs := make(chan int)
	results := make(chan error)
	var wg sync.WaitGroup
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range jobs {
				cred, err := Derive(codes[i], electionID, params)
				if err == nil {
					copy(keys[i*PublicKeySize:], cred.PublicKey())
				}
				select {
				case results <- err:
				case <-ctx.Done():
					return
				}
			}
		}()
	}
	go func() {
		defer close(jobs)
		for i := range n {
			select {
			case jobs <- i:
			case <-ctx.Done():
				return
			}
		}
	}()
	var err error
	for d := 1; d <= n && err == nil; d++ {
		select {
		case err = <-results:
			if err == nil && progress != nil {
				progress(d)
			}
		case <-ctx.Done():
			err = ctx.Err()
		}
	}
	cancel()
	wg.Wait()
	if err != nil {
		return nil, nil, fmt.Errorf("credential: generating credentials: %w", err)
	}

	entries := make([]Entry, n)
	for i, v := range voters {
		entries[i] = Entry{Key: keys[i*PublicKeySize : (i+1)*PublicKeySize], Style: v.Style, Weight: v.Weight}
	}
	roll, err := BuildRoll(electionID, params, styles, entries)
	if dup := (*DuplicateKeyError)(nil); errors.As(err, &dup) {
		return nil, nil, fmt.Errorf("credential: generated credentials %d and %d have the same public key: is the random source broken?", dup.First, dup.Index)
	}
	if err != nil {
		return nil, nil, err
	}
	return codes, roll, nil
}
