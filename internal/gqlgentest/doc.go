// Package gqlgentest runs querytrace under a real gqlgen server: gqlgen
// resolves each element of a list in a goroutine of its own, and a
// dataloader batches keys into arrays. Its schema's generated code is
// checked in (graph/generated.go and graph/models_gen.go, from
// graph/schema.graphqls with gqlgen.yml: go run
// github.com/99designs/gqlgen@v0.17.94 generate); the resolvers
// (graph/resolver.go) are written by hand. It is a module of its own so
// that gqlgen stays out of querytrace's dependencies.
package gqlgentest
