package normalize

import (
	"strings"
	"testing"
	"time"

	sqllexer "github.com/DataDog/go-sqllexer"
	"github.com/querytrace/querytrace"
)

// A query is one input, read as the same dialect by both normalizers.
type query struct {
	name string
	d    querytrace.Dialect
	text string
}

var queries = []query{
	{"gorm-first", querytrace.DialectMySQL, "SELECT * FROM `users` WHERE `users`.`id` = 42 AND `users`.`deleted_at` IS NULL ORDER BY `users`.`id` LIMIT 1"},
	{"gorm-preload", querytrace.DialectPostgres, `SELECT * FROM "orders" WHERE "orders"."user_id" IN (1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16) AND "orders"."deleted_at" IS NULL`},
	{"rails-marginalia", querytrace.DialectPostgres, `SELECT "posts".* FROM "posts" WHERE "posts"."author_id" = $1 AND "posts"."state" IN ('draft', 'published') ORDER BY "posts"."created_at" DESC LIMIT $2 /*application:Blog,controller:posts,action:index*/`},
	{"django", querytrace.DialectPostgres, `SELECT "polls_question"."id", "polls_question"."question_text", "polls_question"."pub_date" FROM "polls_question" WHERE "polls_question"."pub_date" <= '2024-05-01T10:00:00+00:00'::timestamptz ORDER BY "polls_question"."pub_date" DESC LIMIT 5`},
	{"ent-join", querytrace.DialectPostgres, `SELECT "t1"."id", "t1"."name" FROM "groups" AS "t1" JOIN (SELECT "user_groups"."group_id" FROM "user_groups" JOIN "users" AS "t1" ON "user_groups"."user_id" = "t1"."id" WHERE "t1"."id" = $1) AS "t2" ON "t1"."id" = "t2"."group_id" WHERE "t1"."active" = true`},
	{"sqlc-update", querytrace.DialectPostgres, "-- name: UpdateAuthor :exec\nUPDATE authors SET name = $2, bio = $3, updated_at = now() WHERE id = $1 RETURNING id, name, bio"},
	{"pg-casts-any", querytrace.DialectPostgres, `SELECT id, payload::jsonb ->> 'kind' AS kind FROM events WHERE created_at > $1::timestamptz AND tags && ARRAY['a','b']::text[] AND id = ANY($2::bigint[])`},
	{"pg-dollar", querytrace.DialectPostgres, "DO $body$ BEGIN PERFORM pg_sleep(0.1); RAISE NOTICE 'done'; END $body$"},
	{"mysql-strings", querytrace.DialectMySQL, `SELECT id FROM accounts WHERE email = "alice@example.com" AND name LIKE 'O\'Brien%' AND status <> 'closed' AND balance > -10.5`},
	{"sqlite-upsert", querytrace.DialectSQLite, `INSERT INTO kv (k, v, updated) VALUES ('session:42', x'DEADBEEF', 1714550400) ON CONFLICT (k) DO UPDATE SET v = excluded.v, updated = excluded.updated`},
	{"n-plus-one", querytrace.DialectPostgres, "SELECT count(*) FROM items WHERE entry_id = 17 AND user_id IS NULL"},
	{"insert-100-rows", querytrace.DialectMySQL, insertRows(100)},
}

func insertRows(n int) string {
	var b strings.Builder
	b.WriteString("INSERT INTO `line_items` (`order_id`, `sku`, `qty`, `price`, `note`) VALUES ")
	for i := range n {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString("(1234, 'SKU-00042', 3, 19.99, NULL)")
	}
	return b.String()
}

// dbms maps a dialect to go-sqllexer's name for it; it has none for SQLite.
func dbms(d querytrace.Dialect) sqllexer.DBMSType {
	switch d {
	case querytrace.DialectPostgres:
		return sqllexer.DBMSPostgres
	case querytrace.DialectMySQL:
		return sqllexer.DBMSMySQL
	}
	return ""
}

// BenchmarkNormalize compares the cold path of both normalizers: every call
// normalizes from scratch. For go-sqllexer that is ObfuscateAndNormalize,
// which, like querytrace, replaces literals and rewrites the statement in
// one pass; table collection and other metadata are turned off.
func BenchmarkNormalize(b *testing.B) {
	obf, norm := sqllexerNormalizers()
	for _, q := range queries {
		b.Run("q="+q.name+"/impl=sqllexer", func(b *testing.B) {
			b.SetBytes(int64(len(q.text)))
			dbms := sqllexer.WithDBMS(dbms(q.d))
			for b.Loop() {
				if _, _, err := sqllexer.ObfuscateAndNormalize(q.text, obf, norm, dbms); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run("q="+q.name+"/impl=querytrace", func(b *testing.B) {
			b.SetBytes(int64(len(q.text)))
			for b.Loop() {
				querytrace.NormalizeDialect(q.text, q.d)
			}
		})
	}
}

// TestOutputs prints both normalizers' shapes with -v, to eyeball that the
// two do comparable work.
func TestOutputs(t *testing.T) {
	obf := sqllexer.NewObfuscator(sqllexer.WithReplaceDigits(true))
	norm := sqllexer.NewNormalizer(sqllexer.WithCollectTables(false), sqllexer.WithKeepIdentifierQuotation(true))
	for _, q := range queries {
		theirs, _, err := sqllexer.ObfuscateAndNormalize(q.text, obf, norm, sqllexer.WithDBMS(dbms(q.d)))
		if err != nil {
			t.Fatal(err)
		}
		ours := querytrace.NormalizeDialect(q.text, q.d)
		if strings.Contains(ours, "'") {
			t.Errorf("%s: literal left in %q", q.name, ours)
		}
		t.Logf("%s\n  sqllexer:   %.200s\n  querytrace: %.200s", q.name, theirs, ours)
	}
}

// corpusSize is how many statements BenchmarkCorpus normalizes: enough
// variety that no one statement's quirks decide the ratio.
const corpusSize = 600

// corpora are the generated corpora BenchmarkCorpus compares the
// normalizers on: templates (corpus) and orm (ormCorpus).
func corpora() []struct {
	name string
	qs   []query
} {
	return []struct {
		name string
		qs   []query
	}{
		{"templates", corpus(corpusSize)},
		{"orm", ormCorpus(corpusSize)},
	}
}

// sqllexerNormalizers returns go-sqllexer's obfuscator and normalizer set
// up to do what querytrace's normalizer does: literals replaced, the
// statement rewritten, no metadata collected.
func sqllexerNormalizers() (*sqllexer.Obfuscator, *sqllexer.Normalizer) {
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
	return obf, norm
}

// BenchmarkCorpus compares the cold paths on each corpus of corpusSize
// varied statements (see corpora), every one new to both normalizers.
// Each iteration normalizes the whole corpus with both, in alternating
// order, so that a slow spell of a shared machine hits both alike; it
// reports each one's mean time per statement and the speed-up,
// go-sqllexer's time over querytrace's.
func BenchmarkCorpus(b *testing.B) {
	for _, c := range corpora() {
		b.Run("corpus="+c.name, func(b *testing.B) { benchCorpus(b, c.qs) })
	}
}

func benchCorpus(b *testing.B, qs []query) {
	obf, norm := sqllexerNormalizers()
	theirs := func() {
		for _, q := range qs {
			sqllexer.ObfuscateAndNormalize(q.text, obf, norm, sqllexer.WithDBMS(dbms(q.d)))
		}
	}
	ours := func() {
		for _, q := range qs {
			querytrace.NormalizeDialect(q.text, q.d)
		}
	}
	var theirTime, ourTime time.Duration
	timed := func(f func(), total *time.Duration) {
		t0 := time.Now()
		f()
		*total += time.Since(t0)
	}
	for i := 0; b.Loop(); i++ {
		if i%2 == 0 {
			timed(theirs, &theirTime)
			timed(ours, &ourTime)
		} else {
			timed(ours, &ourTime)
			timed(theirs, &theirTime)
		}
	}
	per := float64(b.N) * float64(len(qs))
	b.ReportMetric(float64(theirTime.Nanoseconds())/per, "sqllexer-ns/stmt")
	b.ReportMetric(float64(ourTime.Nanoseconds())/per, "querytrace-ns/stmt")
	b.ReportMetric(float64(theirTime)/float64(ourTime), "speedup")
}

// BenchmarkCorpusEach normalizes each corpus with one normalizer at a
// time, an op being the whole corpus: for counting instructions (the
// speed-up is their ratio), which needs no quiet machine:
//
//	go test -c -o n.test && for impl in sqllexer querytrace; do
//		valgrind --tool=callgrind --callgrind-out-file=/dev/null ./n.test \
//			-test.run '^$' -test.bench "CorpusEach/corpus=orm/impl=$impl" -test.benchtime 20x
//	done
//
// (with GOMAXPROCS=1 GODEBUG=asyncpreemptoff=1, which valgrind needs);
// the difference between two -test.benchtime counts, over their
// difference, is the instructions a corpus takes.
func BenchmarkCorpusEach(b *testing.B) {
	for _, c := range corpora() {
		b.Run("corpus="+c.name+"/impl=sqllexer", func(b *testing.B) {
			obf, norm := sqllexerNormalizers()
			for b.Loop() {
				for _, q := range c.qs {
					sqllexer.ObfuscateAndNormalize(q.text, obf, norm, sqllexer.WithDBMS(dbms(q.d)))
				}
			}
		})
		b.Run("corpus="+c.name+"/impl=querytrace", func(b *testing.B) {
			for b.Loop() {
				for _, q := range c.qs {
					querytrace.NormalizeDialect(q.text, q.d)
				}
			}
		})
	}
}

// TestCorpus checks the generated corpora: every text unique, varied
// shapes, and no literal left in querytrace's shapes.
func TestCorpus(t *testing.T) {
	for _, c := range corpora() {
		texts, shapes := map[string]bool{}, map[string]bool{}
		for _, q := range c.qs {
			s := querytrace.NormalizeDialect(q.text, q.d)
			if strings.ContainsAny(s, "'") || strings.Contains(s, "alice") || strings.Contains(s, "traceparent") || strings.Contains(s, "@example.com") {
				t.Errorf("%s/%s: literal left in %q", c.name, q.name, s)
			}
			texts[q.text] = true
			shapes[s] = true
		}
		if c.name == "orm" && len(texts) != len(c.qs) {
			t.Errorf("%s: %d statements, %d texts: some repeat", c.name, len(c.qs), len(texts))
		}
		if len(shapes) < len(c.qs)/5 {
			t.Errorf("%s: %d statements, only %d shapes", c.name, len(c.qs), len(shapes))
		}
		t.Logf("%s: %d statements, %d shapes; e.g.\n%s\n%s", c.name, len(c.qs), len(shapes), c.qs[0].text, c.qs[len(c.qs)/2].text)
	}
}
