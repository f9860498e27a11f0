// Package gentest runs N+1 scenarios through code that generators write
// into an application's own module (ent's client for a one-table schema,
// sqlc's queries) and through a library function that the compiler
// inlines into the application's, and checks that reports name the
// application's hand-written lines. The generated code is checked in, as
// applications check theirs in: ent/ by "go generate ./ent", sqlcdb/ by
// "sqlc generate" in its folder. It is a module of its own so that ent
// stays out of querytrace's dependencies, and its path is outside
// querytrace's, whose packages are never the application's: here the
// generated packages are the application's by module, as they are in an
// application, and only their header tells them apart.
package gentest
