// Package normalize benchmarks querytrace's SQL normalizer against
// github.com/DataDog/go-sqllexer on the same statements. It is a module of
// its own so that the core module does not depend on go-sqllexer.
//
// Run it with
//
//	go test -run '^$' -bench . -benchmem -count 6 | tee bench.txt
//	benchstat -col /impl bench.txt
package normalize
