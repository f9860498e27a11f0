// Package ormtest runs N+1 scenarios written the way GORM, bun and sqlx
// users write them through the querytrace driver, and checks the findings.
// It is a module of its own so that the ORMs stay out of querytrace's
// dependencies.
package ormtest
