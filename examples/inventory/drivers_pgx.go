//go:build pgx

package main

import _ "github.com/jackc/pgx/v5/stdlib" // "pgx", for -db postgres://...
