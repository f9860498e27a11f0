module github.com/querytrace/querytrace/internal/connecttest

go 1.26.0

replace github.com/querytrace/querytrace => ../..

require (
	connectrpc.com/connect v1.21.1
	github.com/mattn/go-sqlite3 v1.14.53
	github.com/querytrace/querytrace v0.0.0
	google.golang.org/protobuf v1.36.12
)
