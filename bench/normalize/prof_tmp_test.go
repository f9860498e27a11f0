package normalize

import (
	"testing"

	sqllexer "github.com/DataDog/go-sqllexer"
	"github.com/querytrace/querytrace"
)

func BenchmarkOursOnly(b *testing.B) {
	qs := corpus(corpusSize)
	for b.Loop() {
		for _, q := range qs {
			querytrace.NormalizeDialect(q.text, q.d)
		}
	}
}

func BenchmarkTheirsOnly(b *testing.B) {
	qs := corpus(corpusSize)
	obf := sqllexer.NewObfuscator(
		sqllexer.WithReplaceDigits(true),
		sqllexer.WithReplaceBoolean(true),
		sqllexer.WithReplaceNull(true),
		sqllexer.WithReplacePositionalParameter(true),
		sqllexer.WithReplaceBindParameter(true),
		sqllexer.WithDollarQuotedFunc(false),
	)
	norm := sqllexer.NewNormalizer(
		sqllexer.WithCollectTables(false),
		sqllexer.WithCollectCommands(false),
		sqllexer.WithCollectComments(false),
		sqllexer.WithCollectProcedures(false),
		sqllexer.WithKeepIdentifierQuotation(true),
	)
	for b.Loop() {
		for _, q := range qs {
			sqllexer.ObfuscateAndNormalize(q.text, obf, norm, sqllexer.WithDBMS(dbms(q.d)))
		}
	}
}
