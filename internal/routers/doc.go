// Package routers tests querytrace's Handler under the common Go routers
// and frameworks (gin, chi, gorilla/mux, echo) the way the README tells a
// person to install it: the route each report is named after, and gin's
// context that hides the request's trace. It is a module of its own so
// that none of them is a dependency of querytrace.
package routers
