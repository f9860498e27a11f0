package querytracetest

import (
	"testing"

	"github.com/querytrace/querytrace"
	"github.com/querytrace/querytrace/examples/inventory/store"
)

func TestNoNPlusOneFailsOnTheSeedScenario(t *testing.T) {
	f := runFake(t, "TestInventory", func(t testing.TB) {
		db := openStore(t, 3)
		store.SlowInventory(NoNPlusOne(t, t.Context()), db)
	})
	msg := f.Fails(t)
	t.Logf("failure text:\n%s", msg)
	contains(t, msg,
		"querytrace: 2 N+1 patterns in 7 statements (db time ",
		"select count(*) from items where entry_id = ? and user_id is null  N+1",
		"N+1: ", "ran 3 times", "fix: ",
	)
}

func TestNoNPlusOnePasses(t *testing.T) {
	f := runFake(t, "TestFast", func(t testing.TB) {
		db := openStore(t, 3)
		store.FastInventory(NoNPlusOne(t, t.Context()), db)
	})
	f.Passes(t)

	// One entry: each statement runs once, which is no pattern.
	f = runFake(t, "TestOne", func(t testing.TB) {
		db := openStore(t, 1)
		store.SlowInventory(NoNPlusOne(t, t.Context()), db)
	})
	f.Passes(t)
}

func TestNoNPlusOneEscapeHatches(t *testing.T) {
	f := runFake(t, "TestAllowed", func(t testing.TB) {
		db := openStore(t, 3)
		ctx := NoNPlusOne(t, t.Context(), querytrace.Allow{CallSite: "store.SlowInventory", Reason: "the slow page is kept for comparison"})
		store.SlowInventory(ctx, db)
	})
	f.Passes(t)

	f = runFake(t, "TestPaused", func(t testing.TB) {
		db := openStore(t, 3)
		ctx := NoNPlusOne(t, t.Context())
		store.SlowInventory(querytrace.Pause(ctx, "the slow page is kept for comparison"), db)
	})
	f.Passes(t)

	f = runFake(t, "TestNoReason", func(t testing.TB) {
		NoNPlusOne(t, t.Context(), querytrace.Allow{Table: "items"})
	})
	contains(t, f.Fails(t), "querytracetest.NoNPlusOne: an Allow entry without a Reason")
}
