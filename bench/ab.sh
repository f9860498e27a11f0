#!/bin/sh
# Runs one benchmark of two builds of querytrace in one run, alternating
# between them: the build of commit REV (default HEAD^, the previous
# commit) and the build of the working tree. Each of COUNT rounds runs
# both test binaries once, which goes first alternating, so that a slow
# spell of the machine weighs on both alike. It prints benchstat's
# comparison of the two and, for bench/compare, each build's table of
# ratios over the raw driver.
#
#	bench/ab.sh                                      # bench/compare's BenchmarkInterleaved
#	PKG=. BENCH=Overhead bench/ab.sh                 # the root's BenchmarkOverhead
#	PKG=examples/inventory BENCH=FastPage bench/ab.sh
#
# PKG is the package's directory from the repository's root (default
# bench/compare); BENCH the -bench pattern (default Interleaved);
# BENCHTIME (default 20000x), COUNT (default 10), REV, and OUT, the
# directory for old.txt and new.txt (default a new temporary one). Other
# variables reach the benchmarks (QUERYTRACE_POSTGRES_DSN,
# QUERYTRACE_CLOCKSOURCE, COMPARE_WRAPPERS). A package in a module of its
# own under bench/ is a harness that uses querytrace's exported API only:
# the working tree's copy of it measures both builds, so that REV needs
# none of its changes. Other packages are measured with their own
# benchmarks at REV. Times need a quiet machine.
set -eu

root=$(git rev-parse --show-toplevel)
rev=${REV:-HEAD^}
pkg=${PKG:-bench/compare}
bench=${BENCH:-Interleaved}
benchtime=${BENCHTIME:-20000x}
count=${COUNT:-10}
out=${OUT:-$(mktemp -d)}
mkdir -p "$out"

tree=$(mktemp -d)
trap 'rm -rf "$tree"' EXIT
git -C "$root" archive "$rev" | tar -x -C "$tree"
case $pkg in
bench/*)
	if [ -f "$root/$pkg/go.mod" ]; then
		rm -rf "${tree:?}/$pkg"
		cp -R "$root/$pkg" "$tree/$pkg"
	fi
	;;
esac

echo "building $pkg at $(git -C "$root" rev-parse --short "$rev") (old) and in the working tree (new)" >&2
(cd "$tree/$pkg" && go test -c -o "$out/old.test" .)
(cd "$root/$pkg" && go test -c -o "$out/new.test" .)

: >"$out/old.txt"
: >"$out/new.txt"
run() { # run old|new DIR
	(cd "$2" && "$out/$1.test" -test.run '^$' -test.bench "$bench" -test.benchtime "$benchtime" -test.benchmem -test.count 1) >>"$out/$1.txt"
}
i=0
while [ "$i" -lt "$count" ]; do
	echo "round $((i + 1)) of $count" >&2
	if [ $((i % 2)) -eq 0 ]; then
		run old "$tree/$pkg"
		run new "$root/$pkg"
	else
		run new "$root/$pkg"
		run old "$tree/$pkg"
	fi
	i=$((i + 1))
done

echo "outputs: $out/old.txt $out/new.txt" >&2
if command -v benchstat >/dev/null 2>&1; then
	benchstat "$out/old.txt" "$out/new.txt"
else
	echo "benchstat not found (go install golang.org/x/perf/cmd/benchstat@latest)" >&2
fi
if [ "$pkg" = bench/compare ]; then
	for b in old new; do
		echo
		echo "## $b"
		echo
		(cd "$root/bench/compare" && go run ./cmd/ratios "$out/$b.txt")
	done
fi
