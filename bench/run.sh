#!/usr/bin/env bash
#
# bench/run.sh - size, memory and throughput figures for cli-proxy-api.
#
# What it measures, all in one run on this machine:
#   1. Size of the fully static musl binary (build/static/cli-proxy-api from
#      `make static`), on a stripped copy.  The program is meant for small
#      routers, where flash is counted in kilobytes.
#   2. Resident memory: VmRSS of an idle server (config holding only port and
#      host) one second after its port accepts, and VmRSS / VmHWM (peak) of the
#      benchmarked server after the load tests.  RAM is the other scarce thing
#      on the target devices.
#   3. Requests/s and latency p50/p99 of `GET /v1/models` with wrk, at one
#      connection (-t1 -c1) and at 64 connections (-t2 -c64).  /v1/models is
#      answered by the proxy itself (no upstream), so it shows the cost of the
#      event loop, HTTP parsing and response writing alone.
#   4. The same wrk runs against nginx (one worker, access log off, keep-alive)
#      serving a static file of the same size as the proxy's answer: a well
#      known, fast baseline on the same machine, so the ratio proxy/nginx
#      means something across machines where absolute numbers do not.
#   5. Start-up time: from exec to the first TCP connect that succeeds and to
#      the first answer to GET /v1/models, median of BENCH_STARTUP_RUNS
#      starts of the proxy (idle config, so the system CA bundle is loaded
#      as always) and, interleaved with them, of the nginx of part 4 (same
#      config, master + one worker) as the baseline.
# Server and nginx run pinned on CPU 0, wrk on CPU 1 (when there are 2+ CPUs),
# so the client does not steal the server's CPU (BENCH_PIN changes that).
#
# Traffic goes only to 127.0.0.1; every load run is bounded by wrk -d.
#
# Usage: bench/run.sh            (or `make bench`)
# Environment (all optional):
#   BENCH_DURATION=10s   length of each wrk run
#   BENCH_BIN=PATH       measure this binary instead of building one
#   BENCH_REPO=DIR       repository root (default: the parent of bench/)
#   BENCH_PIN=split      split: server CPU 0, wrk CPU 1; same: all on CPU 0;
#                        none: no taskset
#   BENCH_STARTUP_RUNS=50  starts of each server timed in part 5
#
# Results: printed at the end and written to build/bench/results.md; raw wrk
# output and logs are kept next to it in build/bench/.

set -Eeuo pipefail

REPO=$(cd "${BENCH_REPO:-$(dirname "${BASH_SOURCE[0]}")/..}" && pwd)
DURATION=${BENCH_DURATION:-10s}
STARTUP_RUNS=${BENCH_STARTUP_RUNS:-50}
OUT_DIR=$REPO/build/bench
RESULTS=$OUT_DIR/results.md
TMP=$(mktemp -d "${TMPDIR:-/tmp}/cpa-bench.XXXXXX")
SERVER_PID=
NGINX_PID=
AUTH_KEY=         # set when the proxy turns out to require a client API key
NOTES=()          # remarks that end up under the results table
declare -A R=()   # wrk figures: R[proxy,rps,1], R[nginx,p99,64], ...

BENCH_NAME=bench
CLEANUP_PIDS=(SERVER_PID NGINX_PID)
# log, note, die, cleanup, ports, pinning, wrk figures, ...
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

# ------------------------------------------------------------------ build

# Sets BIN to the binary to measure and BIN_KIND to a description of it.
build_binary() {
	if [ -n "${BENCH_BIN:-}" ]; then
		[ -x "$BENCH_BIN" ] || die "BENCH_BIN=$BENCH_BIN is not executable"
		BIN=$BENCH_BIN
		BIN_KIND="given by BENCH_BIN"
		note "measured BENCH_BIN=$BENCH_BIN, not a fresh build"
		return
	fi
	try_make_static "$OUT_DIR" && return
	note "'make static' failed or made no build/static/cli-proxy-api (log: build/bench/make-static.log); FALLING BACK to build/cli-proxy-api from plain 'make'"
	log "make -C $REPO"
	if ! make -C "$REPO" >"$OUT_DIR/make.log" 2>&1 ||
		[ ! -x "$REPO/build/cli-proxy-api" ]; then
		tail -n 20 "$OUT_DIR/make.log" >&2
		die "no binary to measure: both 'make static' and 'make' failed"
	fi
	BIN=$REPO/build/cli-proxy-api
	BIN_KIND="build/cli-proxy-api (plain make, fallback)"
}

is_static() { # binary: no program interpreter means no dynamic loader
	if readelf -l "$1" 2>/dev/null | grep -q 'INTERP'; then
		echo no
	else
		echo yes
	fi
}

measure_size() {
	log "binary size"
	cp "$BIN" "$TMP/cli-proxy-api.stripped"
	strip "$TMP/cli-proxy-api.stripped"
	SIZE_RAW=$(stat -c %s "$BIN")
	SIZE_STRIPPED=$(stat -c %s "$TMP/cli-proxy-api.stripped")
	BIN_STATIC=$(is_static "$BIN")
	if [ "$BIN_STATIC" != yes ]; then
		note "the measured binary is dynamically linked: its size is not the static figure the target is about"
	fi
}

# ---------------------------------------------------------------- helpers

# One GET with Connection: close, raw response into file.  Sets HTTP_STATUS,
# HTTP_BODY_BYTES, HTTP_HEADERS (header count, without the status line) and
# writes the body to file.body.
http_get() { # port path outfile
	local port=$1 path=$2 out=$3 extra='' rc=0
	[ -n "$AUTH_KEY" ] && extra="Authorization: Bearer $AUTH_KEY\r\n"
	# shellcheck disable=SC2016 # expanded by the inner bash
	timeout 5 bash -c '
		exec 3<>"/dev/tcp/127.0.0.1/$1" || exit 1
		printf "GET %s HTTP/1.1\r\nHost: 127.0.0.1:%s\r\nUser-Agent: bench\r\nAccept: */*\r\n${3}Connection: close\r\n\r\n" "$2" "$1" >&3
		cat <&3' _ "$port" "$path" "$extra" >"$out" || rc=$?
	case $rc in
	0) ;;
	124) note "port $port did not close the connection after 'Connection: close' (read stopped after 5 s)" ;;
	*) die "GET $path on port $port failed" ;;
	esac
	local head_bytes
	head_bytes=$(LC_ALL=C awk '{ n += length($0) + 1 } /^\r?$/ { print n; exit }' "$out")
	[ -n "$head_bytes" ] || die "no complete response head from port $port (see $out)"
	HTTP_STATUS=$(head -n 1 "$out" | awk '{ print $2 }')
	HTTP_HEADERS=$(head -c "$head_bytes" "$out" | LC_ALL=C awk 'NR > 1 && !/^\r?$/' | wc -l)
	tail -c +"$((head_bytes + 1))" "$out" >"$out.body"
	HTTP_BODY_BYTES=$(stat -c %s "$out.body")
	if head -c "$head_bytes" "$out" | grep -qi '^transfer-encoding:.*chunked'; then
		note "response on port $port is chunked: body size includes chunk framing"
	fi
}

# ------------------------------------------------------------------- proxy

write_idle_config() { # file port
	printf 'port = %s\nhost = 127.0.0.1\n' "$2" >"$1"
}

write_bench_config() { # file port
	{
		# nginx runs with access_log off; the proxy does the same.
		printf 'port = %s\nhost = 127.0.0.1\naccess-log = false\n' "$2"
		[ -n "$AUTH_KEY" ] && printf 'api-keys = %s\n' "$AUTH_KEY"
		cat <<-'EOF'
		generative-language-api-key = AIza-bench-key

		[openai-compatibility]
		name = bench
		base-url = http://127.0.0.1:9/v1
		api-keys = sk-bench
		model = vendor/model-a = model-a
		model = vendor/model-b = model-b
		EOF
	} >"$1"
}

start_server() { # config port logfile
	"${PIN_SERVER[@]}" "$BIN" --config "$1" >"$3" 2>&1 &
	SERVER_PID=$!
	wait_port "$2" "$SERVER_PID" "$3"
}

stop_server() { stop_pid "$SERVER_PID"; SERVER_PID=; }

# Keep a server log in build/bench, cut to its first and last lines: with one
# line per request, a full log of the load tests runs to ~100 MB.
keep_log() { # src dst
	local n
	n=$(wc -l <"$1")
	if [ "$n" -le 60 ]; then
		cp "$1" "$2"
	else
		{ head -n 20 "$1"; echo "[... $((n - 40)) lines left out ...]"; tail -n 20 "$1"; } >"$2"
	fi
	LOG_LINES=$n
}

measure_idle_rss() {
	log "idle RSS (config: port and host only)"
	local port cfg
	free_port port
	cfg=$TMP/idle.ini
	write_idle_config "$cfg" "$port"
	start_server "$cfg" "$port" "$TMP/server-idle.log"
	sleep 1
	RSS_IDLE=$(proc_kb "$SERVER_PID" VmRSS)
	stop_server
	keep_log "$TMP/server-idle.log" "$OUT_DIR/server-idle.log"
}

# Starts the benchmark server and checks GET /v1/models answers 200.  If it
# answers 401/403 (client auth required), restarts it with a client key and
# sends that key from then on.
start_bench_server() {
	local cfg=$TMP/bench.ini
	free_port PROXY_PORT
	write_bench_config "$cfg" "$PROXY_PORT"
	start_server "$cfg" "$PROXY_PORT" "$TMP/server-bench.log"
	http_get "$PROXY_PORT" /v1/models "$OUT_DIR/proxy-models.http"
	if [ "$HTTP_STATUS" = 401 ] || [ "$HTTP_STATUS" = 403 ]; then
		stop_server
		AUTH_KEY=bench-client-key
		note "/v1/models answered $HTTP_STATUS without a client key: added 'api-keys = $AUTH_KEY' to the config, wrk sends 'Authorization: Bearer $AUTH_KEY' (to nginx too)"
		write_bench_config "$cfg" "$PROXY_PORT"
		start_server "$cfg" "$PROXY_PORT" "$TMP/server-bench.log"
		http_get "$PROXY_PORT" /v1/models "$OUT_DIR/proxy-models.http"
	fi
	[ "$HTTP_STATUS" = 200 ] ||
		die "GET /v1/models answered '$HTTP_STATUS', not 200 (see build/bench/proxy-models.http)"
	cp "$cfg" "$OUT_DIR/bench-config.ini"
	BODY_BYTES=$HTTP_BODY_BYTES
	PROXY_HEADERS=$HTTP_HEADERS
	cp "$OUT_DIR/proxy-models.http.body" "$TMP/models.json"
}

# -------------------------------------------------------------------- wrk

# Runs wrk and sets W_RPS, W_P50, W_P99 (ms), W_BAD (non-2xx + socket errors).
run_wrk() { # name port threads conns
	local name=$1 port=$2 t=$3 c=$4 out=$OUT_DIR/wrk-$1.txt hdr=()
	[ -n "$AUTH_KEY" ] && hdr=(-H "Authorization: Bearer $AUTH_KEY")
	log "wrk $name: -t$t -c$c -d$DURATION"
	"${PIN_CLIENT[@]}" wrk -t"$t" -c"$c" -d"$DURATION" --latency "${hdr[@]}" \
		"http://127.0.0.1:$port/v1/models" >"$out" 2>&1 ||
		die "wrk failed (see $out)"
	read_wrk "$out"
	if [ "$W_BAD" -gt 0 ]; then
		note "wrk $name: $W_BAD non-2xx responses or socket errors (see build/bench/wrk-$name.txt)"
	fi
}

# Both wrk runs against one port; results into R[<name>,{rps,p50,p99},{1,64}].
load_tests() { # name port
	local p=$1 port=$2 hdr=()
	[ -n "$AUTH_KEY" ] && hdr=(-H "Authorization: Bearer $AUTH_KEY")
	# 1 s warm-up, so first-touch page faults and cold caches stay out of run 1
	"${PIN_CLIENT[@]}" wrk -t1 -c8 -d1s "${hdr[@]}" \
		"http://127.0.0.1:$port/v1/models" >/dev/null 2>&1 || true
	run_wrk "$p-c1" "$port" 1 1
	R[$p,rps,1]=$W_RPS R[$p,p50,1]=$W_P50 R[$p,p99,1]=$W_P99
	run_wrk "$p-c64" "$port" 2 64
	R[$p,rps,64]=$W_RPS R[$p,p50,64]=$W_P50 R[$p,p99,64]=$W_P99
}

bench_proxy() {
	log "proxy: /v1/models throughput"
	start_bench_server
	log "proxy /v1/models body: $BODY_BYTES bytes, $PROXY_HEADERS headers"
	RSS_BEFORE=$(proc_kb "$SERVER_PID" VmRSS)
	check_quiet "the proxy runs"
	load_tests proxy "$PROXY_PORT"
	RSS_AFTER=$(proc_kb "$SERVER_PID" VmRSS)
	HWM_AFTER=$(proc_kb "$SERVER_PID" VmHWM)
	# The kernel updates VmHWM lazily (on unmap/exit), so it can lag the
	# current VmRSS; the peak is at least what is resident now.
	[ "$HWM_AFTER" -ge "$RSS_AFTER" ] || HWM_AFTER=$RSS_AFTER
	stop_server
	keep_log "$TMP/server-bench.log" "$OUT_DIR/server-bench.log"
	if [ "$LOG_LINES" -gt 1000 ]; then
		note "the proxy wrote $LOG_LINES log lines (about one per request) to its log during the load tests; nginx ran with access_log off"
	fi
}

# ------------------------------------------------------------------ nginx

write_nginx_conf() { # dir port
	local d=$1 port=$2
	{
		echo "# generated by bench/run.sh: nginx as a static-file baseline"
		nginx_common "$d"
		cat <<-EOF
		    etag off;                       # with these two, the answer has about the
		    max_ranges 0;                   # same headers as the proxy's
		    default_type application/json;
		    server {
		        listen 127.0.0.1:$port;
		        root $d/html;
		        add_header Last-Modified "";
		    }
		}
		EOF
	} >"$d/nginx.conf"
}

bench_nginx() {
	log "nginx: static file of $BODY_BYTES bytes"
	local d=$TMP/nginx
	mkdir -p "$d/html/v1" "$d/logs" "$d/tmp"
	cp "$TMP/models.json" "$d/html/v1/models" # same bytes as the proxy's body
	free_port NGINX_PORT
	write_nginx_conf "$d" "$NGINX_PORT"
	cp "$d/nginx.conf" "$OUT_DIR/nginx.conf"
	"${PIN_SERVER[@]}" nginx -p "$d/" -c "$d/nginx.conf" -e "$d/logs/error.log" \
		>"$OUT_DIR/nginx.log" 2>&1 &
	NGINX_PID=$!
	wait_port "$NGINX_PORT" "$NGINX_PID" "$OUT_DIR/nginx.log"
	http_get "$NGINX_PORT" /v1/models "$OUT_DIR/nginx-models.http"
	[ "$HTTP_STATUS" = 200 ] || die "nginx answered '$HTTP_STATUS' (see $d/logs/error.log)"
	[ "$HTTP_BODY_BYTES" = "$BODY_BYTES" ] ||
		die "nginx body is $HTTP_BODY_BYTES bytes, proxy's is $BODY_BYTES"
	NGINX_HEADERS=$HTTP_HEADERS
	check_quiet "the nginx runs"
	load_tests nginx "$NGINX_PORT"
	stop_pid "$NGINX_PID"; NGINX_PID=
}

# --------------------------------------------------------------- start-up

# Times STARTUP_RUNS starts of the proxy and of nginx, interleaved (one
# warm-up start of each first, not counted), with a Python client: clock
# read, the server spawned with subprocess.Popen (it returns once the exec
# succeeded; the server inherits CPU 0, then the client moves to CPU 1),
# then connect() to its port retried at once on ECONNREFUSED until it
# succeeds, then GET /v1/models and read up to the end of the status line;
# the server is stopped (SIGTERM) before the next start.  Raw times go to
# build/bench/startup.txt.  Sets SU[<proxy|nginx>,<connect|answer>,
# <median|min|p90>] (ms) and SU[<proxy|nginx>,status] (status lines seen).
declare -A SU=()
measure_startup() {
	log "start-up: $STARTUP_RUNS starts each of the proxy and nginx"
	local cfg=$TMP/startup.ini port d=$TMP/nginx cpus_srv='' cpus_cli=''
	free_port port
	write_idle_config "$cfg" "$port"
	if [ ${#PIN_SERVER[@]} -gt 0 ]; then
		cpus_srv=${PIN_SERVER[2]} cpus_cli=${PIN_CLIENT[2]}
	fi
	# the nginx of bench_nginx: its config, file and port, stopped by now
	python3 - "$STARTUP_RUNS" "$cpus_srv" "$cpus_cli" "$OUT_DIR/startup.txt" \
		proxy "$port" "$BIN" --config "$cfg" -- \
		nginx "$NGINX_PORT" nginx -p "$d/" -c "$d/nginx.conf" -e "$d/logs/error.log" -- \
		<<-'EOF' >"$TMP/startup.out" || die "start-up measurement failed (see $OUT_DIR/startup.txt)"
	import os, socket, statistics, subprocess, sys, time
	runs, cpu_srv, cpu_cli, raw = int(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4]
	servers, args = [], sys.argv[5:]
	while args:
	    end = args.index("--")
	    servers.append((args[0], int(args[1]), args[2:end]))
	    args = args[end + 1:]

	def start(name, port, argv, log):
	    if cpu_srv:
	        os.sched_setaffinity(0, {int(cpu_srv)})
	    t0 = time.perf_counter_ns()
	    p = subprocess.Popen(argv, stdin=subprocess.DEVNULL,
	                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
	    if cpu_cli:
	        os.sched_setaffinity(0, {int(cpu_cli)})
	    try:
	        while True:
	            s = socket.socket()
	            try:
	                s.connect(("127.0.0.1", port))
	                break
	            except ConnectionRefusedError:
	                s.close()
	            if p.poll() is not None:
	                sys.exit(f"{name} exited before it accepted")
	            if time.perf_counter_ns() - t0 > 10e9:
	                sys.exit(f"{name}: port {port} did not accept within 10 s")
	        t_conn = time.perf_counter_ns()
	        s.sendall(b"GET /v1/models HTTP/1.1\r\nHost: 127.0.0.1\r\n"
	                  b"Connection: close\r\n\r\n")
	        head = b""
	        while b"\r\n" not in head:
	            b = s.recv(4096)
	            if not b:
	                sys.exit(f"{name} closed without an answer")
	            head += b
	        t_ans = time.perf_counter_ns()
	        s.close()
	    finally:
	        p.terminate()
	        try:
	            p.wait(5)
	        except subprocess.TimeoutExpired:
	            p.kill()
	            p.wait()
	    status = head.split(b"\r\n")[0].decode("latin-1")
	    log.write(f"{name} {(t_conn - t0) / 1e6:.3f} {(t_ans - t0) / 1e6:.3f} {status}\n")
	    return (t_conn - t0) / 1e6, (t_ans - t0) / 1e6, status

	got = {name: ([], [], set()) for name, _, _ in servers}
	with open(raw, "w") as log:
	    log.write("# server, ms exec -> connect, ms exec -> status line, status line\n")
	    for name, port, argv in servers:  # warm-up: page cache, first exec
	        start(name, port, argv, log)
	    for _ in range(runs):
	        for name, port, argv in servers:
	            c, a, st = start(name, port, argv, log)
	            got[name][0].append(c)
	            got[name][1].append(a)
	            got[name][2].add(st)
	for name, (c, a, st) in got.items():
	    for what, v in (("connect", c), ("answer", a)):
	        v = sorted(v)
	        print(f"{name} {what} {statistics.median(v):.2f} {v[0]:.2f} "
	              f"{v[int(0.9 * (len(v) - 1))]:.2f}")
	    print(f"{name} status {' | '.join(sorted(st))}")
	EOF
	read_startup "$TMP/startup.out"
	case ${SU[proxy,status]} in
	*' 200 '*) ;;
	*) note "start-up: the proxy answered '${SU[proxy,status]}' to GET /v1/models (timed all the same)" ;;
	esac
}

startup_row() { # label connect|answer
	local px=${SU[proxy,$2,median]} ng=${SU[nginx,$2,median]} target=''
	[ "$2" = answer ] && target="<= 5 ms (issue 9): $(check "$px" "<=" 5)"
	echo "| $1 | $px (min ${SU[proxy,$2,min]}, p90 ${SU[proxy,$2,p90]}) | $ng (min ${SU[nginx,$2,min]}, p90 ${SU[nginx,$2,p90]}) | $(ratio "$px" "$ng") | $target |"
}

# ---------------------------------------------------------------- results

wrk_row() { # label figure conns: one table row, proxy vs nginx
	local px=${R[proxy,$2,$3]} ng=${R[nginx,$2,$3]} r target=''
	r=$(ratio "$px" "$ng")
	[ "$2" = rps ] && target=">= 0.80: $(check "$r" ">=" 0.8)"
	echo "| $1 | $px | $ng | $r | $target |"
}

write_results() {
	local kb size_check rss_check
	kb=$(awk -v b="$SIZE_STRIPPED" 'BEGIN { printf "%.1f", b / 1024 }')
	size_check=$(check "$SIZE_STRIPPED" "<=" $((400 * 1024)))
	rss_check=$(check "$RSS_IDLE" "<=" 1024)
	if [ "$BIN_STATIC" != yes ]; then
		size_check="$size_check (dynamic binary, not the target's)"
		rss_check="$rss_check (dynamic binary, not the target's)"
	fi
	{
		echo "## Results ($DATE)"
		echo
		echo "Binary measured: $BIN_KIND; static: $BIN_STATIC; commit: $COMMIT"
		echo
		echo "| figure | cli-proxy-api | nginx | proxy/nginx | target |"
		echo "| --- | ---: | ---: | ---: | --- |"
		echo "| stripped binary size | $SIZE_STRIPPED B ($kb KB) | | | <= 400 KB: $size_check |"
		echo "| unstripped binary size | $SIZE_RAW B | | | |"
		echo "| idle RSS (port + host config) | $RSS_IDLE KB | | | <= 1024 KB: $rss_check |"
		echo "| RSS before load (bench config) | $RSS_BEFORE KB | | | |"
		echo "| RSS after load (VmRSS) | $RSS_AFTER KB | | | |"
		echo "| peak RSS after load (max of VmHWM, VmRSS) | $HWM_AFTER KB | | | |"
		echo "| /v1/models body / header lines | $BODY_BYTES B / $PROXY_HEADERS | $BODY_BYTES B / $NGINX_HEADERS | | |"
		wrk_row "req/s, 1 conn (-t1 -c1)" rps 1
		wrk_row "p50 ms, 1 conn" p50 1
		wrk_row "p99 ms, 1 conn" p99 1
		wrk_row "req/s, 64 conns (-t2 -c64)" rps 64
		wrk_row "p50 ms, 64 conns" p50 64
		wrk_row "p99 ms, 64 conns" p99 64
		startup_row "start-up ms, exec -> port accepts (median of $STARTUP_RUNS)" connect
		startup_row "start-up ms, exec -> first answer (median of $STARTUP_RUNS)" answer
		echo
		echo "Machine: $CPU_MODEL; $CORES CPUs; kernel $KERNEL; $PINNING."
		echo "Tools: $NGINX_VERSION (1 worker), $WRK_VERSION, each run $DURATION."
		notes_md
	} >"$RESULTS"
}

# ------------------------------------------------------------------- main

main() {
	mkdir -p "$OUT_DIR"
	rm -f "$OUT_DIR"/wrk-*.txt "$OUT_DIR"/server-*.log "$RESULTS"
	ensure_tools wrk:wrk nginx:nginx-light musl-gcc:musl-tools python3:python3 \
		-- wrk nginx strip readelf taskset timeout python3
	setup_pinning "server/nginx on CPU 0, wrk on CPU 1" \
		"server/nginx and wrk all on CPU 0" "server and wrk"
	machine_info wrk
	build_binary
	log "measuring $BIN ($BIN_KIND)"
	measure_size
	measure_idle_rss
	bench_proxy
	bench_nginx
	measure_startup
	write_results
	echo
	cat "$RESULTS"
	echo
	echo "(written to ${RESULTS#"$REPO"/}; raw wrk output in ${OUT_DIR#"$REPO"/}/)"
}

main "$@"
