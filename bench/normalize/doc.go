// Package normalize benchmarks querytrace's SQL normalizer against
// github.com/DataDog/go-sqllexer on the same statements. It is a module of
// its own so that the core module does not depend on go-sqllexer.
//
// BenchmarkNormalize compares a dozen hand-picked statements one by one;
// BenchmarkCorpus compares 600 statements generated from templates in the
// styles of the common ORMs and of hand-written SQL, in all four dialects,
// and reports the speed-up directly. Run them with
//
//	go test -run '^$' -bench Normalize -benchmem -count 6 | tee bench.txt
//	benchstat -col /impl bench.txt
//	go test -run '^$' -bench Corpus -count 8 | tee corpus.txt
//	benchstat corpus.txt
package normalize
