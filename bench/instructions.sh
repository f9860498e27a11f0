#!/bin/sh
# Counts the instructions one op of a benchmark takes, with valgrind's
# callgrind: the package's test binary runs the benchmark N1 and N2 times
# (-benchtime N1x, N2x) and the difference of the two totals over N2-N1 is
# the figure, so that start-up and set-up cancel out. Instruction counts
# repeat whatever else the machine is doing, which times do not.
#
#	bench/instructions.sh bench/compare 'BenchmarkQueryRow/db=sqlite/wrapper=querytrace$'
#	N1=400 N2=1600 bench/instructions.sh bench/compare 'BenchmarkTx5/db=sqlite/wrapper=raw$'
#
# The pattern should select one benchmark. The garbage collector is off
# (GOGC=off) unless GOGC is set, so that a collection falling in one run
# and not the other does not count; allocations are for -benchmem. valgrind
# runs Go with one thread and no asynchronous preemption, as it needs to,
# and without RDTSCP, which the runtime reads under lock contention and
# valgrind cannot decode (cpu.rdtscp=off: the runtime fences RDTSC
# instead); a run that fails anyway is run again, five times at most.
# Needs valgrind (Debian's package).
set -eu

if [ $# -ne 2 ]; then
	echo "usage: bench/instructions.sh PACKAGE-DIR BENCH-PATTERN" >&2
	exit 2
fi
root=$(git rev-parse --show-toplevel)
pkg=$1
pattern=$2
n1=${N1:-2000}
n2=${N2:-8000}
command -v valgrind >/dev/null 2>&1 || {
	echo "instructions.sh: valgrind not found (apt-get install valgrind)" >&2
	exit 1
}

bin=$(mktemp)
trap 'rm -f "$bin"' EXIT
(cd "$root/$pkg" && go test -c -o "$bin" .)

# count N prints the instructions of a run of N ops.
count() {
	for _ in 1 2 3 4 5; do
		if out=$(cd "$root/$pkg" && GOGC=${GOGC:-off} GOMAXPROCS=1 GODEBUG=asyncpreemptoff=1,cpu.rdtscp=off \
			valgrind --tool=callgrind --callgrind-out-file=/dev/null \
			"$bin" -test.run '^$' -test.bench "$pattern" -test.benchtime "${1}x" 2>&1) &&
			echo "$out" | grep -q '^PASS'; then
			echo "$out" | awk '/Collected :/ { print $NF }'
			return
		fi
	done
	echo "instructions.sh: the run of $1 failed five times; its last output:" >&2
	echo "$out" | grep -v '^==' | tail -20 >&2
	exit 1
}

a=$(count "$n1")
b=$(count "$n2")
echo "$pattern: $(((b - a) / (n2 - n1))) instructions/op"
