#!/bin/sh
# Runs the comparison benchmarks and prints benchstat's comparison (one
# column per wrapper, raw first as the base) and markdown tables of the
# ratios over raw (cmd/ratios).
#
#	QUERYTRACE_POSTGRES_DSN='postgres://postgres@127.0.0.1:5432/test?sslmode=disable' ./run.sh
#
# Without QUERYTRACE_POSTGRES_DSN only SQLite runs. BENCHTIME (default
# 20000x: statements per run), COUNT (default 6) and OUT (default
# results.txt, the raw go test output) can be set; extra arguments go to
# go test (e.g. -bench QueryRow).
set -eu
cd "$(dirname "$0")"

benchtime=${BENCHTIME:-20000x}
count=${COUNT:-6}
out=${OUT:-results.txt}

if ! command -v benchstat >/dev/null 2>&1; then
	gobin=$(go env GOBIN)
	[ -n "$gobin" ] || gobin=$(go env GOPATH)/bin
	PATH=$gobin:$PATH
	if ! command -v benchstat >/dev/null 2>&1; then
		echo "installing benchstat" >&2
		go install golang.org/x/perf/cmd/benchstat@latest
	fi
fi

if [ -z "${QUERYTRACE_POSTGRES_DSN:-}" ]; then
	echo "QUERYTRACE_POSTGRES_DSN is not set: PostgreSQL is skipped" >&2
fi

echo "go test -run '^\$' -bench . -benchmem -count $count -benchtime $benchtime $*" >&2
go test -run '^$' -bench . -benchmem -count "$count" -benchtime "$benchtime" "$@" | tee "$out"

echo
echo '## benchstat -col /wrapper'
echo
benchstat -col /wrapper "$out"

echo
echo '## ratios over raw'
echo
go run ./cmd/ratios "$out"
