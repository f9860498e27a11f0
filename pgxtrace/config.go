package pgxtrace

import (
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/multitracer"
	"github.com/jackc/pgx/v5/pgxpool"
)

// Configure installs a Tracer on the connections of a pool and returns it:
//
//	cfg, err := pgxpool.ParseConfig(dsn)
//	...
//	tracer := pgxtrace.Configure(cfg)
//	pool, err := pgxpool.NewWithConfig(ctx, cfg)
//
// It is Install on cfg.ConnConfig: a tracer already set there, such as
// pgx's tracelog, keeps running, and a Tracer already installed is
// returned as it is (opts are then ignored) so that statements are never
// counted twice. Call it before pgxpool.NewWithConfig.
func Configure(cfg *pgxpool.Config, opts ...Option) *Tracer {
	return Install(cfg.ConnConfig, opts...)
}

// Install sets a new Tracer as cfg.Tracer, for pgx.ConnectConfig, and
// returns it. A tracer already set on cfg is kept, composed with the new one
// by pgx's multitracer, the new Tracer's hooks first so that its timings
// leave out the other tracer's end hooks (a log line, say). If cfg already
// has a Tracer, alone or in a multitracer, Install returns that one and
// changes nothing; opts are then ignored.
func Install(cfg *pgx.ConnConfig, opts ...Option) *Tracer {
	if t := find(cfg.Tracer, 0); t != nil {
		return t
	}
	t := New(opts...)
	cfg.Tracer = t.Compose(cfg.Tracer)
	return t
}

// Compose returns a tracer that calls t's hooks and then other's, for
// setting as pgx.ConnConfig.Tracer by hand: t itself when other is nil,
// else a pgx multitracer that also keeps other's pgxpool acquire and
// release hooks. It does not check whether other already holds a Tracer;
// Install does.
func (t *Tracer) Compose(other pgx.QueryTracer) pgx.QueryTracer {
	if other == nil {
		return t
	}
	return multitracer.New(t, other)
}

// find returns the Tracer that tr is or holds, or nil.
func find(tr pgx.QueryTracer, depth int) *Tracer {
	switch tr := tr.(type) {
	case *Tracer:
		return tr
	case *multitracer.Tracer:
		if depth > 8 {
			return nil
		}
		for _, q := range tr.QueryTracers {
			if t := find(q, depth+1); t != nil {
				return t
			}
		}
	}
	return nil
}

// Of returns the Tracer installed on cfg by Configure or Install, or nil.
func Of(cfg *pgx.ConnConfig) *Tracer {
	if cfg == nil {
		return nil
	}
	return find(cfg.Tracer, 0)
}
