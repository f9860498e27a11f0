// Package normalize benchmarks querytrace's SQL normalizer against
// github.com/DataDog/go-sqllexer on the same statements. It is a module of
// its own so that the core module does not depend on go-sqllexer.
//
// BenchmarkNormalize compares a dozen hand-picked statements one by one.
// BenchmarkCorpus compares the cold path, every statement new, on two
// generated corpora of 600 statements each: templates, in the styles of
// the common ORMs and of hand-written SQL in all four dialects, and orm,
// statements as a dozen ORMs and query builders send them, every text
// unique; it reports the speed-up directly. BenchmarkCorpusEach runs one
// normalizer at a time over a corpus, for counting instructions (see its
// comment), which needs no quiet machine. Run them with
//
//	go test -run '^$' -bench Normalize -benchmem -count 6 | tee bench.txt
//	benchstat -col /impl bench.txt
//	go test -run '^$' -bench 'Corpus$' -count 8 | tee corpus.txt
//	benchstat corpus.txt
package normalize
