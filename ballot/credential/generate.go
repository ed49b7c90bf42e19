package credential

import (
	"context"
	"errors"
	"fmt"
	"io"
	"runtime"
	"sync"
)

// Generate makes n fresh codes for an election, with randomness from rand
// (crypto/rand.Reader in production), derives their credentials on workers
// goroutines (all cores if workers < 1) and returns the codes, in the order
// they were drawn, with the roll of their public keys. The roll is sorted by
// key, so a code's place in the list says nothing about its key's place on
// the roll (docs/credentials.md, §4). The codes are the voters' secrets: hand
// them out, never publish or log them.
func Generate(electionID string, n int, params KDFParams, rand io.Reader, workers int) ([]Code, *Roll, error) {
	return GenerateContext(context.Background(), electionID, n, params, rand, workers, nil)
}

// GenerateContext is Generate with cancellation and progress: progress, if
// not nil, is called with the number of credentials derived so far, from one
// goroutine at a time, after each derivation.
func GenerateContext(ctx context.Context, electionID string, n int, params KDFParams, rand io.Reader, workers int, progress func(done int)) ([]Code, *Roll, error) {
	h := Header{ElectionID: electionID, KDF: params, Count: n}
	if err := h.Validate(); err != nil {
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

	sorted, err := sortKeys(keys)
	if dup := (*DuplicateKeyError)(nil); errors.As(err, &dup) {
		return nil, nil, fmt.Errorf("credential: generated credentials %d and %d have the same public key: is the random source broken?", dup.First, dup.Index)
	}
	if err != nil {
		return nil, nil, err
	}
	roll, err := newRoll(h, sorted)
	if err != nil {
		return nil, nil, err
	}
	return codes, roll, nil
}
