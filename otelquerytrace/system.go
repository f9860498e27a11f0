package otelquerytrace

import (
	"context"
	"database/sql"
	"strings"
)

// MySQLSystemName asks the MySQL-protocol server behind db which database
// it is, with one SELECT VERSION(), and returns its db.system.name:
// "mariadb" for MariaDB, whose version says so, and "mysql" otherwise. Ask
// once, when the application starts, and give the name to the Bridge with
// WithDialectSystemName(querytrace.DialectMySQL, name): statements carry
// only their dialect, which is MySQL's for both.
func MySQLSystemName(ctx context.Context, db *sql.DB) (string, error) {
	var version string
	if err := db.QueryRowContext(ctx, "SELECT VERSION()").Scan(&version); err != nil {
		return "", err
	}
	if strings.Contains(strings.ToLower(version), "mariadb") {
		return "mariadb", nil
	}
	return "mysql", nil
}
