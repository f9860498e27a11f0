//go:build !amd64

package clock

// ticks is never called where invariantTSC is false.
func ticks() uint64 { return 0 }

// invariantTSC reports false: other platforms read the monotonic clock.
func invariantTSC() bool { return false }
