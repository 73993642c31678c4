#!/usr/bin/env bash
# The provincial center's scale checks, as tests/scenario_http.sh asserts
# them, at scale:
#   bench/center.sh HAMLET HAMLETD [N] [LATE]
# A client follows a's continuous changes feed while 2*N records arrive
# (N written on b and synced, N over HTTP) and must see every change once,
# in order, with no gap; a client resuming from seq N sees the rest; then
# 200 bad requests get their 4xx while a sync of LATE more records
# completes. Defaults: N=5000 (10,000 changes), LATE=20000. Prints the
# scenario's checks and how long it took.
set -euo pipefail
H=${1:?usage: $0 HAMLET HAMLETD [N] [LATE]}
D=${2:?usage: $0 HAMLET HAMLETD [N] [LATE]}
export HTTP_N=${3:-5000} HTTP_LATE=${4:-20000}
t0=$(date +%s)
"$(dirname "$0")/../tests/scenario_http.sh" "$H" "$D"
t1=$(date +%s)
echo "center scale check: $((2 * HTTP_N)) changes followed, $HTTP_LATE synced beside 200 bad requests: $((t1 - t0)) s"
