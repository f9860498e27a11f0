// Package ormtest runs N+1 scenarios written the way GORM, bun and sqlx
// users write them through the querytrace driver, and checks the findings:
// their fix's statement, run, and their fix in the ORM's own words,
// applied to the loop, whose code then runs as many statements for 50
// users as for 5.
// It is a module of its own so that the ORMs stay out of querytrace's
// dependencies.
package ormtest
