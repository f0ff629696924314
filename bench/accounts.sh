#!/usr/bin/env bash
# shellcheck disable=SC2119 # stop_proxy (bench/lib.sh) has an optional argument
#
# bench/accounts.sh - figures for the auth-dir accounts (issue 10).
#
# What it measures, all in one run on this machine:
#   1. Latency an OAuth account adds: p50/p90/p99 of POST
#      /v1/chat/completions from an OpenAI chat client, one connection
#      (wrk -t1 -c1 --latency), through the proxy to
#        - a Codex account: Responses upstream, always asked for a stream;
#          a non-stream client gets the stream folded into one answer;
#        - a Gemini CLI account: the Code Assist envelope,
#          /v1internal:generateContent or :streamGenerateContent?alt=sse;
#      stream and not, beside the same upstream request (the bytes the
#      proxy sent, token and all) sent straight to the mock.  The mock is
#      nginx serving the answers of the Python mocks of tests/integ
#      (MockCodex, MockCodeAssist), recorded at the start of the run by
#      bench/acctool.py, which also checks every answer through the proxy.
#      Over plain HTTP, then over TLS (throwaway CA, the upstream
#      connection pooled as usual).  BENCH_ROUNDS rounds of the seven runs
#      of a transport (three direct, four through the proxy, the order
#      reversed every other round): each figure is the median over the
#      rounds, the ratio the median of each round's proxy/direct p50, so
#      the drift of a shared machine hits both sides alike.  One more wrk
#      run goes straight to the Python MockCodex, to show why it is not
#      the baseline.
#   2. Memory per account: VmRSS, VmHWM and RssAnon of the idle server one
#      second after its port accepts, with 0, 100 and 1000 accounts in
#      auth-dir (the five kinds in turn, tokens of realistic sizes), and
#      with 1000 accounts of each kind alone; median of BENCH_MEM_ROUNDS
#      starts of each, interleaved.  Per account = (RSS_N - RSS_0) / N.
#   3. Start-up with 1000 accounts against none: exec -> port accepts and
#      exec -> first answer to GET /v1/models, median of
#      BENCH_STARTUP_RUNS interleaved starts of each.
# Every token in the files is valid for 30 days, longer than any kind's
# refresh lead, so no refresh starts; every [endpoints] URL (the token
# endpoints included) points at the nginx mock, which logs any token
# request: the results say how many arrived (want 0).
#
# Servers (proxy, nginx, the Python mock) run on CPU 0, clients on CPU 1
# (BENCH_PIN, as in bench/run.sh).  Traffic goes only to 127.0.0.1 (and
# "localhost", which the proxy resolves to 127.0.0.1 first); every server
# runs under `timeout`, every load is bounded by wrk -d.
#
# Usage: bench/accounts.sh      (about 2 1/2 minutes with the defaults)
# Environment (all optional):
#   BENCH_DURATION=2s      length of each wrk run of part 1 (43 runs with
#                          the defaults; the first of each target after a
#                          1-second warm-up)
#   BENCH_ROUNDS=3         part 1: rounds of each transport
#   BENCH_BIN=PATH         proxy binary instead of `make static`
#   BENCH_REPO=DIR         repository root (default: the parent of bench/)
#   BENCH_PIN=split        split | same | none, as for bench/run.sh
#   BENCH_PIECES=50        deltas of each answer (stream events)
#   BENCH_TEXT=1500        bytes of the prompt, echoed back as the answer
#   BENCH_TLS=1            0: no TLS rows in part 1
#   BENCH_MEM_ROUNDS=3     starts of each auth-dir in part 2
#   BENCH_STARTUP_RUNS=20  starts of each auth-dir in part 3
#
# Results: printed at the end and written to build/bench/accounts.md; raw
# wrk output, configs, records and logs in build/bench/accounts/.

set -Eeuo pipefail

REPO=$(cd "${BENCH_REPO:-$(dirname "${BASH_SOURCE[0]}")/..}" && pwd)
DURATION=${BENCH_DURATION:-2s}
ROUNDS=${BENCH_ROUNDS:-3}
PIECES=${BENCH_PIECES:-50}
TEXT_BYTES=${BENCH_TEXT:-1500}
DO_TLS=${BENCH_TLS:-1}
MEM_ROUNDS=${BENCH_MEM_ROUNDS:-3}
STARTUP_RUNS=${BENCH_STARTUP_RUNS:-20}
OUT_DIR=$REPO/build/bench
RAW=$OUT_DIR/accounts
RESULTS=$OUT_DIR/accounts.md
TMP=$(mktemp -d "${TMPDIR:-/tmp}/cpa-acctbench.XXXXXX")
REC=$TMP/rec              # acctool.py record's output (nginx's root is REC/html)
TOOL=$REPO/bench/acctool.py
GUARD=(timeout -k 5 600)  # no server lives longer than 10 minutes
PER_ACCT_TARGET=4096      # bytes of RSS per account (issue 10)
KINDS=(codex gemini claude qwen antigravity)

MOCK_PID=      # nginx mock (plain + TLS ports)
PYMOCK_PID=    # Python MockCodex, for its one comparison run
SERVER_PID=    # proxy, as started (the `timeout` guard around it)
SERVER_REAL=   # the proxy itself
NOTES=()
declare -A R=()   # wrk figures: R[<run>,rps|p50|p90|p99|bad|cpu]
declare -A M=()   # memory: M[<dir>,rss|hwm|anon|loaded|models]
declare -A SU=()  # start-up: SU[<dir>,<connect|answer>,<median|min|p90>]

BENCH_NAME="accounts bench"
CLEANUP_PIDS=(SERVER_PID PYMOCK_PID MOCK_PID)
# log, note, die, cleanup, ports, pinning, start_proxy, make_certs, ...
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

# ------------------------------------------------------------------ build

build_binary() {
	if [ -n "${BENCH_BIN:-}" ]; then
		[ -x "$BENCH_BIN" ] || die "BENCH_BIN=$BENCH_BIN is not executable"
		BIN=$BENCH_BIN
		BIN_KIND="$BENCH_BIN (BENCH_BIN)"
		note "measured BENCH_BIN=$BENCH_BIN, not a fresh build"
	elif ! try_make_static "$RAW"; then
		note "'make static' failed (log: build/bench/accounts/make-static.log): FELL BACK to the dynamic build/cli-proxy-api"
		log "make -C $REPO"
		if ! make -C "$REPO" >"$RAW/make.log" 2>&1 || [ ! -x "$REPO/build/cli-proxy-api" ]; then
			tail -n 20 "$RAW/make.log" >&2
			die "'make' failed (log: build/bench/accounts/make.log)"
		fi
		BIN=$REPO/build/cli-proxy-api
		BIN_KIND="build/cli-proxy-api (plain make, fallback)"
	fi
}

# ---------------------------------------------------------------- helpers

jget() { # file key [key2]: a value of record.json (a case's field with key2)
	python3 -c 'import json, sys
v = json.load(open(sys.argv[1]))
for k in sys.argv[2:]:
    v = v[k]
print(v)' "$@"
}

minus() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%+.3f", a - b }'; }

CLK_TCK=$(getconf CLK_TCK)
cpu_ticks() { awk '{ sub(/^.*\) /, ""); print $12 + $13 }' "/proc/$1/stat"; }

# The [endpoints] section: every upstream and login URL on the nginx mock
# (base: its http:// or https:// root), the token endpoints under /tok/,
# which answer 503 and are logged.
endpoints() { # base
	local b=$1 k
	printf '\n[endpoints]\ncodex = %s/cx\ngemini-cli = %s/ca\n' "$b" "$b"
	for k in generative-language claude qwen antigravity antigravity-fallback \
		google-auth google-userinfo google-cloud-resource-manager claude-auth; do
		printf '%s = %s/none/%s\n' "$k" "$b" "$k"
	done
	for k in google-token openai-auth claude-token qwen-auth; do
		printf '%s = %s/tok/%s\n' "$k" "$b" "$k"
	done
}

proxy_config() { # file port auth-dir [endpoint-base [extra lines...]]
	local f=$1 port=$2 dir=$3 base=${4:-http://127.0.0.1:$MOCK_PORT}
	shift 4 2>/dev/null || shift $#
	{
		printf 'port = %s\nhost = 127.0.0.1\naccess-log = false\nauth-dir = %s\n' "$port" "$dir"
		for l in "$@"; do printf '%s\n' "$l"; done
		endpoints "$base"
	} >"$f"
}

token_requests() { # requests the mock's token endpoints got so far
	if [ -f "$TMP/mock/logs/token.log" ]; then wc -l <"$TMP/mock/logs/token.log"; else echo 0; fi
}

# ------------------------------------------------------------------ nginx

# The recorded answers as static files; POST is turned into a GET of the
# file ("error_page 405 =200 $uri", as in bench/upstream.sh); the query
# (?alt=sse) is not part of the file name.  /tok/ answers 503 and is the
# only location that logs.
start_mock() {
	local d=$TMP/mock
	free_port MOCK_PORT
	free_port MOCK_TLS_PORT
	{
		nginx_common "$d"
		cat <<-EOF
		    etag off;
		    max_ranges 0;
		    server {
		        listen 127.0.0.1:$MOCK_PORT;
		        listen 127.0.0.1:$MOCK_TLS_PORT ssl;
		        ssl_certificate $CERT;
		        ssl_certificate_key $KEY;
		        ssl_session_cache shared:mock:1m;
		        root $REC/html;
		        add_header Last-Modified "";
		        location /cx/ {
		            default_type text/event-stream;
		            error_page 405 =200 \$uri;
		        }
		        location = /ca/v1internal:generateContent {
		            default_type application/json;
		            error_page 405 =200 \$uri;
		        }
		        location = /ca/v1internal:streamGenerateContent {
		            default_type text/event-stream;
		            error_page 405 =200 \$uri;
		        }
		        location /tok/ {
		            access_log $d/logs/token.log;
		            return 503;
		        }
		        location / {
		            return 404;
		        }
		    }
		}
		EOF
	} >"$d.conf"
	cp "$d.conf" "$RAW/nginx-mock.conf"
	"${PIN_SERVER[@]}" "${GUARD[@]}" nginx -p "$d/" -c "$d.conf" -e "$d/logs/error.log" \
		>"$RAW/nginx-mock.log" 2>&1 &
	MOCK_PID=$!
	wait_port "$MOCK_PORT" "$MOCK_PID" "$RAW/nginx-mock.log"
	wait_port "$MOCK_TLS_PORT" "$MOCK_PID" "$RAW/nginx-mock.log"
}

# ------------------------------------------------------------------ part 1

CASES=(cx-ns cx-s ca-ns ca-s)
declare -A CASE_LABEL=([cx-ns]="Codex, non-stream client (stream folded)"
	[cx-s]="Codex, stream" [ca-ns]="Gemini CLI, non-stream" [ca-s]="Gemini CLI, stream")
# The direct run each case is compared with: a Codex upstream call is a
# stream whatever the client asked, so both Codex cases share one.
declare -A DIRECT_OF=([cx-ns]=cx [cx-s]=cx [ca-ns]=ca-ns [ca-s]=ca-s)
declare -A DIRECT_LUA=([cx]=cx-s [ca-ns]=ca-ns [ca-s]=ca-s)

record() {
	log "part 1: recording the Python mocks' answers (MockCodex, MockCodeAssist; $PIECES deltas, $TEXT_BYTES-byte text)"
	timeout 120 python3 "$TOOL" record "$REC" "$BIN" "$PIECES" "$TEXT_BYTES" \
		>"$RAW/record.out" 2>"$RAW/record.err" ||
		{ cat "$RAW/record.err" >&2; die "recording failed (see build/bench/accounts/record.err)"; }
	cp "$REC/record.json" "$REC/rec.ini" "$REC/rec-proxy.log" "$RAW/"
	local n
	n=$(jget "$REC/record.json" token_requests)
	[ "$n" = 0 ] || note "recording: the Python token server got $n requests (want 0)"
}

# run_wrk key url script [pid]: one wrk run, after a 1 s warm-up when WARM
# is 1; R[key,rps|p50|p90|p99|bad], and with a pid R[key,cpu], that
# process's CPU us per request over the run.
WARM=1
run_wrk() {
	local key=$1 url=$2 script=$3 pid=${4:-} out=$RAW/wrk-$1.txt c0=0 c1 n
	log "wrk $key: -t1 -c1 -d$DURATION $url"
	[ "$WARM" != 1 ] ||
		"${PIN_CLIENT[@]}" wrk -t1 -c1 -d1s -s "$script" "$url" >/dev/null 2>&1 || true
	[ -z "$pid" ] || c0=$(cpu_ticks "$pid")
	"${PIN_CLIENT[@]}" wrk -t1 -c1 -d"$DURATION" --latency -s "$script" "$url" \
		>"$out" 2>&1 || die "wrk failed (see $out)"
	read_wrk "$out"
	R[$key,rps]=$W_RPS R[$key,p50]=$W_P50 R[$key,p99]=$W_P99 R[$key,bad]=$W_BAD
	R[$key,p90]=$(latency_ms 90% "$out")
	if [ -n "$pid" ]; then
		c1=$(cpu_ticks "$pid")
		n=$(awk '$2 == "requests" && $3 == "in" { print $1 }' "$out")
		R[$key,cpu]=$(awk -v d="$((c1 - c0))" -v n="${n:-0}" -v hz="$CLK_TCK" \
			'BEGIN { if (n > 0) printf "%.1f", d * 1e6 / hz / n; else print "n/a" }')
	fi
	[ "$W_BAD" -eq 0 ] ||
		note "wrk $key: $W_BAD non-2xx responses or socket errors (see build/bench/accounts/wrk-$key.txt)"
}

mock_path() { jget "$REC/record.json" cases "${DIRECT_LUA[$1]}" mock_path; }

# One client request of a case through the proxy, its answer checked.
probe() { # port case
	local f=$TMP/probe-$2 st
	st=$(curl -s -o "$f" -w '%{http_code}' --max-time 30 -H 'Content-Type: application/json' \
		--data-binary "@$REC/body-$2.json" "http://127.0.0.1:$1/v1/chat/completions" || true)
	[ "$st" = 200 ] || { head -c 400 "$f" >&2 || true; die "$2: the proxy answered '$st', not 200"; }
	python3 "$TOOL" check "$2" "$f" "$REC/record.json" || die "$2: the proxy's answer is not the mock's"
}

# The median over the rounds of each figure of the runs named base-r<i>
# into R[base,figure]; for a proxy run also each round's p50 ratio to its
# direct run (R[base,ratios]) and their median (R[base,ratio]).
aggregate() { # base [direct-base]
	local b=$1 d=${2:-} f i v r
	for f in rps p50 p90 p99 cpu; do
		v=
		for ((i = 1; i <= ROUNDS; i++)); do v+=" ${R[$b-r$i,$f]:-}"; done
		[ -n "${v// /}" ] || continue
		R[$b,$f]=$(echo "$v" | median | awk -v f="$f" '{
			printf (f == "rps") ? "%.0f" : (f == "cpu") ? "%.1f" : "%.3f", $1 }')
	done
	[ -n "$d" ] || return 0
	v=
	for ((i = 1; i <= ROUNDS; i++)); do
		r=$(ratio "${R[$b-r$i,p50]}" "${R[$d-r$i,p50]}")
		v+=" $r"
	done
	R[$b,ratios]=${v# }
	R[$b,ratio]=$(echo "$v" | median | awk '{ printf "%.2f", $1 }')
}

# Part 1 over one transport: the proxy on one Codex and one Gemini CLI
# account, and ROUNDS rounds of the seven runs (three straight to the
# mock, four through the proxy), the order reversed every other round so
# that a drift of the machine hits both sides alike.
bench_transport() { # plain|tls
	local t=$1 cfg=$TMP/proxy-$1.ini port c i run runs=() order
	local base=http://127.0.0.1:$MOCK_PORT dbase=http://127.0.0.1:$MOCK_PORT extra=()
	if [ "$t" = tls ]; then
		base=https://localhost:$MOCK_TLS_PORT dbase=https://127.0.0.1:$MOCK_TLS_PORT
		extra=("ca-file = $CA")
	fi
	log "part 1 ($t): the proxy on one Codex and one Gemini CLI account, $ROUNDS rounds"
	rm -rf "$TMP/lat-auth"
	cp -r "$REC/rec-auth" "$TMP/lat-auth"
	free_port port
	proxy_config "$cfg" "$port" "$TMP/lat-auth" "$base" "${extra[@]}"
	cp "$cfg" "$RAW/proxy-latency-$t.ini"
	start_proxy "$cfg" "$port" "$RAW/proxy-latency-$t.log"
	for c in "${CASES[@]}"; do probe "$port" "$c"; done
	check_quiet "the $t runs"
	runs=(direct:cx proxy:cx-ns proxy:cx-s direct:ca-ns proxy:ca-ns direct:ca-s proxy:ca-s)
	for ((i = 1; i <= ROUNDS; i++)); do
		WARM=0
		[ "$i" != 1 ] || WARM=1
		order=("${runs[@]}")
		[ $((i % 2)) = 1 ] || mapfile -t order < <(printf '%s\n' "${runs[@]}" | tac)
		for run in "${order[@]}"; do
			c=${run#*:}
			if [ "${run%%:*}" = direct ]; then
				run_wrk "direct-$t-$c-r$i" "$dbase$(mock_path "$c")" "$REC/direct-${DIRECT_LUA[$c]}.lua"
			else
				run_wrk "proxy-$t-$c-r$i" "http://127.0.0.1:$port/v1/chat/completions" \
					"$REC/client-$c.lua" "$SERVER_REAL"
			fi
		done
	done
	WARM=1
	R[$t,rss]=$(proc_kb "$SERVER_REAL" VmRSS) R[$t,hwm]=$(proc_kb "$SERVER_REAL" VmHWM)
	stop_proxy
	for c in cx ca-ns ca-s; do aggregate "direct-$t-$c"; done
	for c in "${CASES[@]}"; do aggregate "proxy-$t-$c" "direct-$t-${DIRECT_OF[$c]}"; done
}

# The same Codex request straight to the Python MockCodex.
bench_python_mock() {
	log "part 1: straight to the Python MockCodex (comparison)"
	rm -f "$TMP/pymock.port"
	"${PIN_SERVER[@]}" "${GUARD[@]}" python3 "$TOOL" serve-codex "$TMP/pymock.port" "$PIECES" 300 \
		>"$RAW/python-mock.log" 2>&1 &
	PYMOCK_PID=$!
	for _ in $(seq 100); do [ -s "$TMP/pymock.port" ] && break; sleep 0.1; done
	[ -s "$TMP/pymock.port" ] || die "the Python mock did not start (see build/bench/accounts/python-mock.log)"
	run_wrk direct-python-cx "http://127.0.0.1:$(cat "$TMP/pymock.port")/backend-api/codex/responses" \
		"$REC/direct-cx-s.lua"
	stop_pid "$PYMOCK_PID"; PYMOCK_PID=
}

bench_latency() {
	local c
	record
	for c in "${CASES[@]}"; do # the client bodies, for probe's curl
		sed -n 's/^wrk.body = \[==\[\(.*\)\]==\]$/\1/p' "$REC/client-$c.lua" >"$REC/body-$c.json"
	done
	start_mock
	bench_transport plain
	[ "$DO_TLS" = 0 ] || bench_transport tls
	bench_python_mock
}

# ------------------------------------------------------------------ part 2

MEM_DIRS=(none mixed100 mixed1000)
declare -A DIR_N=([none]=0 [mixed100]=100 [mixed1000]=1000)
declare -A DIR_MIX=([none]=mixed [mixed100]=mixed [mixed1000]=mixed)

make_auth_dirs() {
	local k d
	for k in "${KINDS[@]}"; do
		MEM_DIRS+=("$k")
		DIR_N[$k]=1000 DIR_MIX[$k]=$k
	done
	log "part 2: writing auth-dirs (${MEM_DIRS[*]})"
	for d in "${MEM_DIRS[@]}"; do
		python3 "$TOOL" mkauth "$TMP/auth-$d" "${DIR_N[$d]}" "${DIR_MIX[$d]}" \
			"127.0.0.1:$MOCK_PORT" >"$TMP/mkauth-$d.json" ||
			die "writing the auth files of $d failed"
		M[$d,bytes]=$(jget "$TMP/mkauth-$d.json" bytes)
		M[$d,mean]=$(jget "$TMP/mkauth-$d.json" mean)
	done
	ls -l "$TMP/auth-mixed100" >"$RAW/auth-mixed100.ls"
}

mem_run() { # dir round: appends to M[dir,rss|hwm|anon]
	local d=$1 cfg=$TMP/proxy-mem.ini port logf=$RAW/proxy-mem-$1-$2.log f=$TMP/models
	free_port port
	proxy_config "$cfg" "$port" "$TMP/auth-$d"
	[ "$2" != 1 ] || cp "$cfg" "$RAW/proxy-mem-$d.ini"
	start_proxy "$cfg" "$port" "$logf"
	sleep 1
	M[$d,rss]+=" $(proc_kb "$SERVER_REAL" VmRSS)"
	M[$d,hwm]+=" $(proc_kb "$SERVER_REAL" VmHWM)"
	M[$d,anon]+=" $(proc_kb "$SERVER_REAL" RssAnon)"
	M[$d,loaded]=$(grep -c 'auth-dir: added' "$logf" || true)
	[ "$(curl -s -o "$f" -w '%{http_code}' --max-time 10 "http://127.0.0.1:$port/v1/models")" = 200 ] ||
		die "$d: GET /v1/models did not answer 200"
	M[$d,models]=$(grep -o '"id":' "$f" | wc -l || true)
	stop_proxy
	[ "${M[$d,loaded]}" = "${DIR_N[$d]}" ] ||
		note "$d: the proxy loaded ${M[$d,loaded]} of ${DIR_N[$d]} accounts (see build/bench/accounts/$(basename "$logf"))"
}

bench_memory() {
	local i d
	make_auth_dirs
	log "part 2: idle memory, $MEM_ROUNDS rounds of ${#MEM_DIRS[@]} starts"
	check_quiet "the memory runs"
	for ((i = 1; i <= MEM_ROUNDS; i++)); do
		for d in "${MEM_DIRS[@]}"; do mem_run "$d" "$i"; done
	done
	for d in "${MEM_DIRS[@]}"; do
		M[$d,rss_all]=${M[$d,rss]# } M[$d,hwm_all]=${M[$d,hwm]# }
		M[$d,rss]=$(echo "${M[$d,rss]}" | median)
		M[$d,hwm]=$(echo "${M[$d,hwm]}" | median)
		M[$d,anon]=$(echo "${M[$d,anon]}" | median)
	done
}

# ------------------------------------------------------------------ part 3

bench_startup() {
	log "part 3: start-up, $STARTUP_RUNS starts each with no account and with 1000"
	local p0 p1 c0 c1 cpus_srv='' cpus_cli='' name what med min p90
	free_port p0
	free_port p1
	c0=$TMP/startup-none.ini c1=$TMP/startup-1000.ini
	proxy_config "$c0" "$p0" "$TMP/auth-none"
	proxy_config "$c1" "$p1" "$TMP/auth-mixed1000"
	if [ ${#PIN_SERVER[@]} -gt 0 ]; then
		cpus_srv=${PIN_SERVER[2]} cpus_cli=${PIN_CLIENT[2]}
	fi
	check_quiet "the start-up runs"
	timeout 300 python3 "$TOOL" startup "$STARTUP_RUNS" "$cpus_srv" "$cpus_cli" "$RAW/startup.txt" \
		none "$p0" "$BIN" --config "$c0" -- \
		mixed1000 "$p1" "$BIN" --config "$c1" -- \
		>"$TMP/startup.out" 2>"$RAW/startup.err" ||
		{ cat "$RAW/startup.err" >&2; die "start-up measurement failed"; }
	read_startup "$TMP/startup.out"
	case ${SU[mixed1000,status]} in
	*' 200 '*) ;;
	*) note "start-up: the proxy with 1000 accounts answered '${SU[mixed1000,status]}' to GET /v1/models" ;;
	esac
}

# ---------------------------------------------------------------- results

lat_row() { # transport case
	local t=$1 c=$2 d p
	d=direct-$t-${DIRECT_OF[$2]} p=proxy-$t-$c
	echo "| ${CASE_LABEL[$c]} | $t | ${R[$d,p50]} | ${R[$p,p50]} | $(minus "${R[$p,p50]}" "${R[$d,p50]}") | **${R[$p,ratio]}** (${R[$p,ratios]// /, }) | ${R[$d,p90]} | ${R[$p,p90]} | ${R[$d,p99]} | ${R[$p,p99]} | $(minus "${R[$p,p99]}" "${R[$d,p99]}") | ${R[$d,rps]} | ${R[$p,rps]} | ${R[$p,cpu]} |"
}

size_row() { # case
	local j=$REC/record.json c=$1
	echo "| ${CASE_LABEL[$c]} | $(jget "$j" cases "$c" client_request) | $(jget "$j" cases "$c" upstream_path) | $(jget "$j" cases "$c" upstream_request) | $(jget "$j" cases "$c" upstream_answer) B $(jget "$j" cases "$c" upstream_type), $(jget "$j" cases "$c" upstream_events) data lines | $(jget "$j" cases "$c" client_answer) B $(jget "$j" cases "$c" client_type), $(jget "$j" cases "$c" client_events) chunks |"
}

per_acct() { # dir field: bytes per account over the none dir
	awk -v a="${M[$1,$2]}" -v b="${M[none,$2]}" -v n="${DIR_N[$1]}" \
		'BEGIN { if (n > 0) printf "%.0f", (a - b) * 1024 / n; else print "-" }'
}

mem_row() { # dir label
	local d=$1 per target=''
	per=$(per_acct "$d" rss)
	case $d in mixed*) target="< $PER_ACCT_TARGET B: $(check "$per" "<=" $((PER_ACCT_TARGET - 1)))" ;; esac
	[ "$d" = none ] && per='-'
	echo "| $2 | ${M[$d,loaded]} | ${M[$d,models]} | ${M[$d,bytes]} B (${M[$d,mean]} B each) | ${M[$d,rss]} KB (${M[$d,rss_all]// /, }) | ${M[$d,hwm]} KB | ${M[$d,anon]} KB | $((M[$d,rss] - M[none,rss])) KB | $per | $(per_acct "$d" hwm) | $(per_acct "$d" anon) | $target |"
}

startup_row() { # label connect|answer
	local a=${SU[none,$2,median]} b=${SU[mixed1000,$2,median]}
	echo "| $1 | $a (min ${SU[none,$2,min]}, p90 ${SU[none,$2,p90]}) | $b (min ${SU[mixed1000,$2,min]}, p90 ${SU[mixed1000,$2,p90]}) | $(minus "$b" "$a") | $(ratio "$b" "$a") |"
}

write_results() {
	local c t d
	{
		echo "## Accounts results ($DATE)"
		echo
		echo "Binary: $BIN_KIND; commit: $COMMIT"
		echo
		echo "### 1. Latency an OAuth account adds (wrk -t1 -c1, POST /v1/chat/completions, ms)"
		echo
		echo "Direct = wrk to the nginx mock with the request the proxy sends upstream; proxy = wrk to cli-proxy-api (OpenAI chat client), which sends it to the same mock. Answers recorded from the Python mocks: $TEXT_BYTES-byte text in $PIECES deltas."
		echo "$ROUNDS rounds of $DURATION wrk runs, direct and proxy alternating (order reversed every other round); figures are medians over the rounds; proxy/direct p50 is the median of each round's ratio (the rounds' ratios in brackets). CPU us/req: the proxy's user + system time over its run, per request."
		echo
		echo "| account, client | upstream | direct p50 | proxy p50 | added p50 | proxy/direct p50 | direct p90 | proxy p90 | direct p99 | proxy p99 | added p99 | direct req/s | proxy req/s | proxy CPU us/req |"
		echo "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"
		for t in plain tls; do
			[ "$t" = plain ] || [ "$DO_TLS" != 0 ] || continue
			for c in "${CASES[@]}"; do lat_row "$t" "$c"; done
		done
		echo
		echo "The Python MockCodex, same request straight to it: p50 ${R[direct-python-cx,p50]} ms, p99 ${R[direct-python-cx,p99]} ms, ${R[direct-python-cx,rps]} req/s ($(ratio "${R[direct-python-cx,p50]}" "${R[direct-plain-cx,p50]}") x nginx's p50 for the same answer)."
		echo
		echo "Sizes (bytes):"
		echo
		echo "| case | client request | upstream call | upstream request | upstream answer | client answer |"
		echo "| --- | ---: | --- | ---: | --- | --- |"
		for c in "${CASES[@]}"; do size_row "$c"; done
		echo
		echo "Proxy RSS after the plain runs: VmRSS ${R[plain,rss]} KB, VmHWM ${R[plain,hwm]} KB$([ "$DO_TLS" = 0 ] || echo "; after the TLS runs: VmRSS ${R[tls,rss]} KB, VmHWM ${R[tls,hwm]} KB")."
		echo
		echo "### 2. Idle memory per account"
		echo
		echo "The server started on an auth-dir of N files (mixed: codex, gemini, claude, qwen, antigravity in turn), read 1 s after its port accepts; median of $MEM_ROUNDS starts (all VmRSS readings in brackets). Per account = (figure_N - figure_none) / N, in bytes."
		echo "Token sizes: Codex access token a ~1.9 KB JWT, id_token ~1.5 KB, refresh ~90 B; Claude 108 B each; Google (Gemini CLI, Antigravity) ya29 217 B, refresh 103 B; Qwen 86 B each."
		echo
		echo "| auth-dir | accounts loaded | models listed | files | VmRSS | VmHWM | RssAnon | VmRSS - none | per account (VmRSS) | per account (VmHWM) | per account (RssAnon) | target |"
		echo "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |"
		mem_row none "none"
		mem_row mixed100 "100 mixed"
		mem_row mixed1000 "1000 mixed"
		for d in "${KINDS[@]}"; do mem_row "$d" "1000 $d"; done
		echo
		echo "### 3. Start-up with 1000 accounts (ms, median of $STARTUP_RUNS)"
		echo
		echo "| interval | no account | 1000 mixed accounts | added | ratio |"
		echo "| --- | ---: | ---: | ---: | ---: |"
		startup_row "exec -> port accepts" connect
		startup_row "exec -> first answer (GET /v1/models)" answer
		echo
		echo "Token endpoint requests the mock received during the whole run: $(token_requests) (want 0: no token expires within 30 days)."
		echo
		echo "Machine: $CPU_MODEL; $CORES CPUs; kernel $KERNEL; $PINNING."
		echo "Tools: $NGINX_VERSION (1 worker), $WRK_VERSION; $PY_VERSION."
		notes_md
	} >"$RESULTS"
}

# ------------------------------------------------------------------- main

main() {
	local t0=$SECONDS n
	mkdir -p "$OUT_DIR" "$RAW"
	rm -f "$RAW"/* "$RESULTS"
	ensure_tools wrk:wrk nginx:nginx-light musl-gcc:musl-tools openssl:openssl \
		python3:python3 curl:curl -- wrk nginx openssl python3 curl taskset timeout
	nginx -V 2>&1 | grep -q -- '--with-http_ssl_module' ||
		die "this nginx has no ssl module (need nginx-light or fuller)"
	setup_pinning "servers (proxy, nginx, Python mock) on CPU 0, clients (wrk, start-up client) on CPU 1" \
		"servers and clients all on CPU 0"
	machine_info wrk python3
	build_binary
	log "measuring $BIN ($BIN_KIND)"
	make_certs
	bench_latency
	bench_memory
	bench_startup
	n=$(token_requests)
	if [ "$n" != 0 ]; then
		cp "$TMP/mock/logs/token.log" "$RAW/token-requests.log"
		note "the mock's token endpoints got $n requests (want 0; see build/bench/accounts/token-requests.log)"
	fi
	stop_pid "$MOCK_PID"; MOCK_PID=
	finish_run
}

main "$@"
