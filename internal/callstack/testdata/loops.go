// Package loops holds the shapes of loop that TestLoopAt reads; the
// comments mark the lines it asks about.
package loops

import (
	"sync"
	"testing"
)

func use(int)           {}
func next(int) bool     { return false }
func load() []int       { return nil }
func each(func(int))    {}
func wrap(t *testing.T) {}

func callee(ids []int) {
	for _, id := range ids {
		use(id) // mark:callee-body
	}
	use(0) // mark:after-loop
}

func header() {
	for _, id := range load() { // mark:range-header
		use(id)
	}
	for i := 0; next(i); i++ { // mark:for-cond
	}
}

func goPerRow(items []int, t *testing.T) {
	var wg sync.WaitGroup
	for _, it := range items {
		wg.Add(1)
		go func(it int) { // mark:go-stmt
			defer wg.Done()
			use(it) // mark:go-body
		}(it) // mark:go-close
	}
	for _, it := range items {
		wg.Go(func() { // mark:wg-go
			use(it) // mark:wg-body
		})
	}
	for _, it := range items {
		t.Run("x", func(t *testing.T) { // mark:run
			use(it) // mark:run-body
		})
	}
	func() {
		for range items {
			use(1) // mark:lit-loop
		}
	}()
	for _, it := range items {
		func() {
			use(it) // mark:called-lit
		}() // mark:called-lit-call
	}
}

func (s *store) method(ids []int) {
	for range ids {
		each(func(id int) {
			use(id) // mark:method-lit
		})
	}
}

type store struct{}
