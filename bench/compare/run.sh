#!/bin/sh
# Runs the comparison benchmarks and prints tables of each wrapper's cost
# over the raw driver's (cmd/ratios).
#
#	QUERYTRACE_POSTGRES_DSN='postgres://postgres@127.0.0.1:5432/test?sslmode=disable' ./run.sh
#
# MODE picks what runs:
#   interleaved (the default): BenchmarkInterleaved, every wrapper in turn
#     a request at a time, each one's time over raw's in the same run: the
#     figures to quote.
#   sequential: BenchmarkQueryRow, Exec, Prepared, Tx5 and Rows100, one
#     wrapper after the other, with -benchmem: allocations per statement,
#     and benchstat's comparison (one column per wrapper, raw first).
#   both: the two.
#
# Without QUERYTRACE_POSTGRES_DSN only SQLite runs. BENCHTIME (default
# 20000x: statements per wrapper and run), COUNT (default 10) and OUT
# (default results.txt, the raw go test output) can be set, and
# COMPARE_WRAPPERS (see BenchmarkInterleaved); extra arguments go to go
# test (e.g. -bench 'Interleaved/QueryRow'). Times need a quiet machine.
set -eu
cd "$(dirname "$0")"

mode=${MODE:-interleaved}
benchtime=${BENCHTIME:-20000x}
count=${COUNT:-10}
out=${OUT:-results.txt}

case $mode in
interleaved) bench='^BenchmarkInterleaved$' ;;
sequential) bench='^Benchmark(QueryRow|Exec|Prepared|Tx5|Rows100)$' ;;
both) bench='^Benchmark(Interleaved|QueryRow|Exec|Prepared|Tx5|Rows100)$' ;;
*)
	echo "run.sh: MODE must be interleaved, sequential or both, not $mode" >&2
	exit 2
	;;
esac

if [ "$mode" != interleaved ] && ! command -v benchstat >/dev/null 2>&1; then
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

echo "go test -run '^\$' -bench '$bench' -benchmem -count $count -benchtime $benchtime $*" >&2
go test -run '^$' -bench "$bench" -benchmem -count "$count" -benchtime "$benchtime" "$@" | tee "$out"

if [ "$mode" != interleaved ]; then
	echo
	echo '## benchstat -col /wrapper'
	echo
	seq=$(mktemp)
	grep -v '^BenchmarkInterleaved' "$out" >"$seq" || true
	benchstat -col /wrapper "$seq"
	rm -f "$seq"
fi

echo
echo '## ratios over raw'
echo
go run ./cmd/ratios "$out"
