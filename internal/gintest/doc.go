// Package gintest tests querytrace's Handler under gin, the most used Go
// web framework, whose *gin.Context does not carry the request's context
// values unless the engine's ContextWithFallback is set. It is a module of
// its own so that gin is no dependency of querytrace.
package gintest
