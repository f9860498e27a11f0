package querytracetest

import (
	"testing"

	"github.com/querytrace/querytrace/internal/faketb"
)

// The recording fake of testing.TB that the helpers' tests run them on.
type fakeTB = faketb.TB

func runFake(t *testing.T, name string, fn func(t testing.TB)) *fakeTB {
	t.Helper()
	return faketb.Run(t, name, fn)
}

func contains(t *testing.T, text string, want ...string) {
	t.Helper()
	faketb.Contains(t, text, want...)
}

// setVerbose makes the helpers format their failures as under go test -v
// (or without it) for the rest of t, whatever flags the test binary got.
func setVerbose(t *testing.T, v bool) {
	verbose = func() bool { return v }
	t.Cleanup(func() { verbose = testingVerbose })
}
