package main

import (
	"context"
	"sync"
	"sync/atomic"
	"time"
)

// load is the outcome of calls made by concurrent workers for a while.
type load struct {
	calls   int
	errors  int
	elapsed time.Duration
	lat     samples
}

// perSecond is the rate of successful calls.
func (l load) perSecond() float64 { return ratio(float64(l.calls), l.elapsed.Seconds()) }

// maxErrors stops a load early: past it the figure means nothing.
const maxErrors = 50

// runLoad runs n workers, each calling work in a loop for d, and collects
// the latencies of the calls that succeeded.
func runLoad(ctx context.Context, n int, d time.Duration, work func(ctx context.Context, worker, i int) error) load {
	var (
		wg     sync.WaitGroup
		mu     sync.Mutex
		l      load
		errs   atomic.Int64
		start  = time.Now()
		cutoff = start.Add(d)
	)
	for w := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var mine samples
			for i := 0; time.Now().Before(cutoff) && ctx.Err() == nil && errs.Load() < maxErrors; i++ {
				t := time.Now()
				if err := work(ctx, w, i); err != nil {
					errs.Add(1)
					continue
				}
				mine = append(mine, time.Since(t))
			}
			mu.Lock()
			l.lat = append(l.lat, mine...)
			mu.Unlock()
		}()
	}
	wg.Wait()
	l.elapsed, l.calls, l.errors = time.Since(start), len(l.lat), int(errs.Load())
	return l
}

// warm runs work twice in each of n concurrent workers, so that every
// connection a load needs is open before it is timed.
func warm(ctx context.Context, n int, work func(ctx context.Context, worker, i int) error) error {
	errs := make(chan error, n)
	for w := range n {
		go func() {
			var err error
			for i := range 2 {
				if err = work(ctx, w, i); err != nil {
					break
				}
			}
			errs <- err
		}()
	}
	var first error
	for range n {
		if err := <-errs; err != nil && first == nil {
			first = err
		}
	}
	return first
}

// perCall divides a CPU time over calls.
func perCall(cpu time.Duration, calls int) time.Duration {
	if calls == 0 {
		return 0
	}
	return cpu / time.Duration(calls)
}
