//go:build mysql

package main

import _ "github.com/go-sql-driver/mysql" // "mysql", for -db user:password@tcp(host:port)/name
