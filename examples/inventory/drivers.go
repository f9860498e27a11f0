package main

import (
	"database/sql"
	"fmt"
	"regexp"
	"slices"
	"strings"

	"github.com/querytrace/querytrace/examples/inventory/store"
)

// The servers' drivers are built into the demo only when asked for, with
// -tags pgx (PostgreSQL), -tags mysql (MySQL and MariaDB) or both: the demo
// a newcomer runs first is SQLite's, and the two drivers would add more
// than a third to its size.

// servers names the database behind each server driver, for the error of
// a -db whose driver this build lacks.
var servers = map[string]string{"pgx": "PostgreSQL", "mysql": "MySQL or MariaDB"}

// checkDriver returns nil when the driver that dsn needs is built in, and
// otherwise an error naming the command that runs the demo with it, with
// the same arguments (args, os.Args[1:] of this run).
func checkDriver(dsn string, args []string) error {
	d := store.Driver(dsn)
	if slices.Contains(sql.Drivers(), d) {
		return nil
	}
	cmd := []string{"go", "run", "-tags", d, "./examples/inventory"}
	for _, a := range args {
		cmd = append(cmd, shellQuote(a))
	}
	return fmt.Errorf("-db names a %s database, and this build has no driver for it; run the demo with its driver built in:\n\t%s",
		servers[d], strings.Join(cmd, " "))
}

// shellWord matches the arguments a POSIX shell reads as they are.
var shellWord = regexp.MustCompile(`^[A-Za-z0-9_@%+=:,./-]+$`)

// shellQuote returns s as one word of a POSIX shell's command line.
func shellQuote(s string) string {
	if shellWord.MatchString(s) {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}
