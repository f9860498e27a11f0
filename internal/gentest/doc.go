// Package gentest runs N+1 scenarios through code that generators write
// into an application's own module (ent's client for a schema of tags,
// and of users who own pets; sqlc's queries) and through a library
// function that the compiler inlines into the application's, and checks
// that reports name the application's hand-written lines, and that each
// N+1's fix in the generator's words (ent's WithPets, CreateBulk and
// tag.IDIn; sqlc's query ListAuthorsByIDs, written in query.sql as the
// fix gives it), applied, runs as many statements for 50 rows as for 5.
// The generated code is checked in, as applications check theirs in: ent/
// by "go generate ./ent" (ent v0.14.5), sqlcdb/ by "sqlc generate" in its
// folder (sqlc v1.30.0: go run
// github.com/sqlc-dev/sqlc/cmd/sqlc@v1.30.0 generate). It is a module of
// its own so that ent stays out of querytrace's dependencies, and its
// path is outside querytrace's, whose packages are never the
// application's: here the generated packages are the application's by
// module, as they are in an application, and only their header tells
// them apart.
package gentest
