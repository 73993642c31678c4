#!/usr/bin/env bash
# hamlet: set up, build, and run.
#   ./build.sh demo   install what is missing, build, run the main job (a
#                     local network of three daemons, then a USB-stick sync)
#   ./build.sh test   install what is missing, build twice (normal, and
#                     AddressSanitizer + UndefinedBehaviorSanitizer), run every
#                     test in both, then compile the optimised build bench uses
#   ./build.sh bench [ENTRIES]
#                     build optimised and print the core benchmark
#   ./build.sh bench sync [ENTRIES]
#                     ... the replication benchmark (two and three hamletd)
#   ./build.sh bench http [SECONDS]
#                     ... the HTTP/JSON API's reads/s and writes/s on
#                     loopback (wrk), beside the CLI's
#   ./build.sh bench center [N] [LATE]
#                     ... the provincial center's scale checks: a client
#                     follows 2*N changes (half synced, half over HTTP),
#                     then LATE records sync beside 200 bad requests
#   ./build.sh bench 2g [ROUNDS]
#                     ... 100 records at a time over a simulated 2G link
#                     (10 KB/s, 300 ms round trip, 5% of connections cut)
#   ./build.sh bench pg [RECORDS]
#                     ... hamlet sink postgres following a province that
#                     syncs RECORDS (100,000 unless told) from three villages
#   ./build.sh bench province [ENTRIES]
#                     ... hamletd on a province-sized store (1,000,000
#                     entries unless told: minutes to build)
#   ./build.sh bench anchors [ENTRIES [PROVINCE]]
#                     ... hamlet's bulk rate, between two daemons and into
#                     a province's store of PROVINCE entries (1,000,000
#                     unless told; 0 skips it), beside Hypercore's and
#                     PouchDB's from one run (100,000 entries unless told;
#                     needs Node.js 18+ and npm, and ../shared/anchors/)
#   ./build.sh tsan   install what is missing, build with ThreadSanitizer
#                     (build-tsan/) and run every test there; not part of
#                     `test` (several times slower), run it after changing
#                     what threads share
#   ./build.sh fuzz [SECONDS]
#                     build the fuzz targets with clang and libFuzzer
#                     (build-fuzz/) and run each for SECONDS (default 60)
#                     from its seed corpus; fails if any target crashes
set -euo pipefail
cd "$(dirname "$0")"

DEPS=(build-essential cmake pkg-config libuv1-dev libsodium-dev liblmdb-dev
      libmsgpack-dev libzstd-dev libjansson-dev libinih-dev libcsv-dev
      libsystemd-dev systemd python3 jq zstd libmicrohttpd-dev curl
      gettext locales libxlsxwriter-dev libpq-dev iproute2 libutf8proc-dev)

install_deps() {
	local missing=()
	for p in "${DEPS[@]}"; do
		dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p")
	done
	[ ${#missing[@]} -eq 0 ] && return 0
	echo "installing: ${missing[*]}"
	local sudo=""
	[ "$(id -u)" -eq 0 ] || sudo="sudo"
	$sudo apt-get update -qq
	DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${missing[@]}" >/dev/null
}

# The Vietnamese locale, so that LANG=vi_VN.UTF-8 works (Debian generates
# only the locales named in /etc/locale.gen).
ensure_locale() {
	locale -a 2>/dev/null | grep -qix 'vi_VN.utf8' && return 0
	local sudo=""
	[ "$(id -u)" -eq 0 ] || sudo="sudo"
	echo "generating the locale vi_VN.UTF-8"
	$sudo sed -i 's/^# *vi_VN.UTF-8 UTF-8/vi_VN.UTF-8 UTF-8/' /etc/locale.gen
	grep -q '^vi_VN.UTF-8 UTF-8' /etc/locale.gen ||
		echo 'vi_VN.UTF-8 UTF-8' | $sudo tee -a /etc/locale.gen >/dev/null
	$sudo locale-gen >/dev/null
}

# Run every libFuzzer target in build-fuzz/ for $1 seconds, each from a
# scratch copy of its seed corpus, and print the coverage it reached.
fuzz_run() {
	local secs=$1 failed=() scratch
	scratch=$(mktemp -d)
	for bin in build-fuzz/tests/fuzz_*; do
		local t=${bin##*/fuzz_} log
		mkdir -p "$scratch/$t"
		cp tests/fuzz/corpus/"$t"/* "$scratch/$t"/ 2>/dev/null || true
		log=$scratch/$t.log
		if "$bin" -max_total_time="$secs" -print_final_stats=1 \
			-artifact_prefix="$scratch/$t-" "$scratch/$t" >"$log" 2>&1; then
			printf '%-16s %s\n' "$t" "$(fuzz_cov "$log")"
		else
			printf '%-16s CRASHED (%s)\n' "$t" "$(fuzz_cov "$log")"
			tail -n 40 "$log" >&2
			mkdir -p build-fuzz/crashes
			cp "$scratch/$t"-* build-fuzz/crashes/ 2>/dev/null || true
			failed+=("$t")
		fi
	done
	rm -rf "$scratch"
	if [ ${#failed[@]} -gt 0 ]; then
		echo "crashed: ${failed[*]} (inputs in build-fuzz/crashes/)" >&2
		return 1
	fi
}

# "seeds cov: A -> cov: B ft: C corp: D exec/s E" from a libFuzzer log
fuzz_cov() {
	local first last
	first=$(grep -m1 -o 'INITED cov: [0-9]*' "$1" | grep -o '[0-9]*$' || true)
	last=$(grep -E '^#[0-9]+.*cov:' "$1" | tail -n 1 |
		grep -o 'cov: [0-9]* ft: [0-9]* corp: [0-9/a-zA-Z]* .*exec/s: [0-9]*' || true)
	echo "seeds cov: ${first:-?} -> ${last:-no stats}"
}

build() { # dir, extra cmake args...
	local dir=$1; shift
	# $HAMLET_VECTORS: the external test vectors, when they are not in
	# ../shared/vectors beside the clone
	cmake -S . -B "$dir" ${HAMLET_VECTORS:+-DHAMLET_VECTORS="$HAMLET_VECTORS"} "$@" >/dev/null
	cmake --build "$dir" -j"$(nproc)"
}

# run_tests DIR: its tests, $jobs at once; when one fails, the checks that
# failed are repeated at the end, where a log cut in its middle keeps them
run_tests() {
	local rc=0
	(cd "$1" && ctest --output-on-failure -j"$jobs") || rc=$?
	if [ "$rc" != 0 ]; then
		echo "== the checks that failed in $1 (from $1/Testing/Temporary/LastTest.log) =="
		awk '/^[0-9]+\/[0-9]+ Testing: / { t = $3 }
			/^daemon log .*, its last 20 lines:$/ { n = 0 }
			/^FAILED - |: FAILED in "/ { n = 9 }
			/^<end of output>/ { n = 0 }
			n > 0 { print t ": " $0; n-- }' "$1/Testing/Temporary/LastTest.log" |
			head -n 200 || true # the tests' own status is returned
		# then what their daemons logged last, after every failed check
		awk '/^[0-9]+\/[0-9]+ Testing: / { t = $3 }
			/^daemon log .*, its last 20 lines:$/ { n = 21 }
			/^<end of output>/ { n = 0 }
			n > 0 { print t ": " $0; n-- }' "$1/Testing/Temporary/LastTest.log" |
			head -n 300 || true
		return "$rc"
	fi
}

case "${1:-}" in
demo)
	install_deps
	ensure_locale
	build build -DCMAKE_BUILD_TYPE=RelWithDebInfo
	scripts/network.sh build   # three daemons syncing over loopback
	scripts/demo.sh build      # two nodes syncing by USB bundle
	;;
test | tsan)
	DEPS+=(prometheus chromium) # promtool checks /metrics in scenario_http;
	# headless chromium loads the status page in scenario_page
	DEPS+=(postgresql libpq-dev) # a private server for scenario_pg
	DEPS+=(libfaketime) # a clock moved under a running hamletd
	DEPS+=(lmdb-utils) # mdb_dump/mdb_load edit a store copy as a dishonest operator would
	DEPS+=(bc) # bench/2g.sh's sums, run by bench_smoke
	install_deps
	if [ "$1" = tsan ]; then
		ensure_locale
		jobs=$(( $(nproc) * 2 ))
		build build-tsan -DCMAKE_BUILD_TYPE=Debug -DHAMLET_TSAN=ON
		# a data race fails its test (exit code 66); the suppressions
		# say why each is no fault
		TSAN_OPTIONS="suppressions=$PWD/tests/tsan.supp second_deadlock_stack=1 ${TSAN_OPTIONS:-}" \
			run_tests build-tsan
		exit 0
	fi
	ensure_locale
	build build -DCMAKE_BUILD_TYPE=RelWithDebInfo
	# two tests a core: most of them wait on daemons (timers, the disk,
	# loopback) more than they compute; those that must not share the
	# loopback ports take turns (RESOURCE_LOCK), and none asserts time
	jobs=$(( $(nproc) * 2 ))
	run_tests build
	build build-asan -DCMAKE_BUILD_TYPE=Debug -DHAMLET_SANITIZE=ON
	ASAN_OPTIONS=detect_leaks=1 run_tests build-asan
	# the optimised build bench/ uses: -O3 inlines further, and gcc's
	# warnings (-Werror) differ with it, so it is compiled here too
	build build-release -DCMAKE_BUILD_TYPE=Release
	;;
bench)
	[ "${2:-}" = http ] && DEPS+=(wrk bc)
	[ "${2:-}" = 2g ] && DEPS+=(bc)
	[ "${2:-}" = pg ] && DEPS+=(postgresql)
	install_deps
	build build-release -DCMAKE_BUILD_TYPE=Release
	case "${2:-}" in
	sync)     build-release/bench/bench_sync build-release/daemon/hamletd "${3:-100000}" ;;
	2g)       bench/2g.sh build-release/cli/hamlet build-release/daemon/hamletd "${3:-10}" ;;
	center)   bench/center.sh build-release/cli/hamlet build-release/daemon/hamletd "${3:-5000}" "${4:-20000}" ;;
	http)     bench/http.sh build-release/cli/hamlet build-release/daemon/hamletd "${3:-5}" ;;
	pg)       bench/pg.sh build-release/cli/hamlet build-release/daemon/hamletd "${3:-100000}" ;;
	province) build-release/bench/bench_province "${3:-1000000}" build-release/daemon/hamletd ;;
	anchors)  bench/anchors.sh build-release/bench/bench_sync build-release/daemon/hamletd "${3:-100000}" "${4:-1000000}" ;;
	core)     build-release/bench/bench_core "${3:-100000}" ;;
	*)        build-release/bench/bench_core "${2:-100000}" ;;
	esac
	;;
fuzz)
	DEPS+=(clang libclang-rt-dev) # libclang-rt: libFuzzer and the sanitizers
	install_deps
	CC=clang build build-fuzz -DCMAKE_BUILD_TYPE=RelWithDebInfo -DHAMLET_FUZZ=ON
	fuzz_run "${2:-60}"
	;;
*)
	echo "usage: $0 demo|test|tsan|fuzz [SECONDS]|bench [sync|province|http|center|2g|pg|anchors] [ENTRIES|SECONDS]" >&2
	exit 2
	;;
esac
