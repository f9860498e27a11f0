// Package gqlgentest runs querytrace under a real gqlgen server: gqlgen
// resolves each element of a list in a goroutine of its own, and a
// dataloader batches keys into arrays. Its schema's generated code is
// checked in (graph/generated.go, from graph/schema.graphqls with
// gqlgen.yml: go run github.com/99designs/gqlgen generate). It is a module
// of its own so that gqlgen stays out of querytrace's dependencies.
package gqlgentest
