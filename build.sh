#!/usr/bin/env bash
# hamlet: set up, build, and run.
#   ./build.sh demo   install what is missing, build, run the main job (a
#                     local network of three daemons, then a USB-stick sync)
#   ./build.sh test   install what is missing, build twice (normal, and
#                     AddressSanitizer + UndefinedBehaviorSanitizer), run every test
#   ./build.sh bench [ENTRIES]
#                     build optimised and print the core benchmark
#   ./build.sh bench sync [ENTRIES]
#                     ... the replication benchmark (two and three hamletd)
#   ./build.sh bench province [ENTRIES]
#                     ... hamletd on a province-sized store (1,000,000
#                     entries unless told: minutes to build)
set -euo pipefail
cd "$(dirname "$0")"

DEPS=(build-essential cmake pkg-config libuv1-dev libsodium-dev liblmdb-dev
      libmsgpack-dev libjansson-dev libinih-dev libcsv-dev libsystemd-dev
      systemd)

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

build() { # dir, extra cmake args...
	local dir=$1; shift
	cmake -S . -B "$dir" "$@" >/dev/null
	cmake --build "$dir" -j"$(nproc)"
}

case "${1:-}" in
demo)
	install_deps
	build build -DCMAKE_BUILD_TYPE=RelWithDebInfo
	scripts/network.sh build   # three daemons syncing over loopback
	scripts/demo.sh build      # two nodes syncing by USB bundle
	;;
test)
	install_deps
	build build -DCMAKE_BUILD_TYPE=RelWithDebInfo
	(cd build && ctest --output-on-failure -j2)
	build build-asan -DCMAKE_BUILD_TYPE=Debug -DHAMLET_SANITIZE=ON
	(cd build-asan && ASAN_OPTIONS=detect_leaks=1 ctest --output-on-failure -j2)
	;;
bench)
	install_deps
	build build-release -DCMAKE_BUILD_TYPE=Release
	case "${2:-}" in
	sync)     build-release/bench/bench_sync build-release/daemon/hamletd "${3:-100000}" ;;
	province) build-release/bench/bench_province "${3:-1000000}" build-release/daemon/hamletd ;;
	*)        build-release/bench/bench_core "${2:-100000}" ;;
	esac
	;;
*)
	echo "usage: $0 demo|test|bench [sync|province] [ENTRIES]" >&2
	exit 2
	;;
esac
