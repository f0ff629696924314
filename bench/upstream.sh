#!/usr/bin/env bash
#
# bench/upstream.sh - upstream-side figures for cli-proxy-api (issue 3).
#
# What it measures, all in one run on this machine, for POST
# /v1/chat/completions to an [openai-compatibility] alias:
#   1. Added latency: wrk p50/p99 and requests/s straight to a mock upstream
#      (nginx serving static files) and through the proxy to the same mock,
#      at 1 and 64 connections, for (a) a non-stream answer (~300-byte JSON)
#      and (b) a stream of 500 SSE chat.completion.chunk events + [DONE].
#   2. Requests/s of the proxy against nginx's own proxy_pass (1 worker,
#      upstream keepalive 32) to the same mock, non-stream, 1 and 64 conns:
#      both servers run side by side and are measured in alternating short
#      wrk runs (the order flips every round), so the drift of a shared VM
#      hits both alike; each round's ratio is a paired comparison, and the
#      median over the rounds is the figure.
#   3. Upstream connection reuse: requests/s and p50 at 1 connection with
#      the default keep-alive pool against upstream-keepalive-timeout = 0
#      (a new TCP, and for https a new TLS, connection per request), over
#      plain HTTP and over TLS (throwaway CA + EC P-256 cert for localhost).
#   4. Memory with 256 slow TLS streams at once: a small Python (stdlib)
#      TLS server sends 40 SSE events 0.25 s apart per request; the proxy's
#      VmRSS/VmHWM is sampled every 0.5 s; idle, peak and per-stream cost.
#   5. Allocations per streamed chunk: the dynamic build under valgrind,
#      one streaming request of 10 events, then (fresh process) one of 5000;
#      valgrind's "total heap usage" must not grow with the event count.
# Parts 1-4 measure the static musl binary (make static), part 5 the
# dynamic one (make).  Servers are pinned like bench/run.sh (BENCH_PIN).
#
# Traffic goes only to 127.0.0.1 (and "localhost", which the proxy resolves
# to 127.0.0.1 first).  Every load is bounded (wrk -d, client timeouts), and
# every server runs under `timeout` as a guard, so nothing outlives the run
# even if this script is killed hard.
#
# Usage: bench/upstream.sh
# Environment (all optional):
#   BENCH_DURATION=10s   length of each wrk run of parts 1 and 3 (10 runs)
#   BENCH_AB_ROUNDS=11   part 2: rounds per connection count
#   BENCH_AB_DURATION=2s part 2: length of each of its wrk runs (4 per
#                        round; the whole script takes about 5 minutes with
#                        the defaults)
#   BENCH_BIN=PATH       static binary for parts 1-4 instead of `make static`
#   BENCH_DYN_BIN=PATH   dynamic binary for part 5 instead of `make`
#   BENCH_REPO=DIR       repository root (default: the parent of bench/)
#   BENCH_PIN=split      split: servers on CPU 0, clients on CPU 1; same: all
#                        on CPU 0; none: no taskset
#   BENCH_STREAMS=256    concurrent slow streams in part 4
#
# Results: printed at the end and written to build/bench/upstream.md; raw
# wrk output, configs and logs are kept in build/bench/upstream/.

set -Eeuo pipefail

REPO=$(cd "${BENCH_REPO:-$(dirname "${BASH_SOURCE[0]}")/..}" && pwd)
DURATION=${BENCH_DURATION:-10s}
AB_ROUNDS=${BENCH_AB_ROUNDS:-11}
AB_DURATION=${BENCH_AB_DURATION:-2s}
NSTREAMS=${BENCH_STREAMS:-256}
OUT_DIR=$REPO/build/bench
RAW=$OUT_DIR/upstream
RESULTS=$OUT_DIR/upstream.md
TMP=$(mktemp -d "${TMPDIR:-/tmp}/cpa-upbench.XXXXXX")
GUARD=(timeout -k 5 900)  # no server lives longer than 15 minutes
SLOW_EVENTS=40            # part 4: events per slow stream
SLOW_GAP=0.25             # part 4: seconds between them
RSS_TARGET_KB=$((24 * 1024))

MOCK_PID=      # nginx mock upstream (plain + TLS ports)
NGXP_PID=      # nginx proxy_pass
SERVER_PID=    # proxy, as started (the `timeout` guard around it)
SERVER_REAL=   # the proxy's own pid (for /proc/PID/status)
SLOW_PID=      # python slow TLS server
CLIENT_PID=    # python stream clients
NOTES=()
declare -A R=()   # wrk figures: R[<run>,rps|p50|p99|bad]

BENCH_NAME="upstream bench"
CLEANUP_PIDS=(CLIENT_PID SERVER_PID SLOW_PID NGXP_PID MOCK_PID)
# log, note, die, cleanup, ports, pinning, start_proxy, wrk figures, ...
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

# nginx must have the modules the mock and the proxy_pass baseline use.
check_nginx_modules() {
	nginx -V 2>&1 | grep -q -- '--with-http_ssl_module' ||
		die "this nginx has no ssl module (need nginx-light or fuller)"
	! nginx -V 2>&1 | grep -q -- '--without-http_proxy_module' ||
		die "this nginx has no proxy module"
}

# ------------------------------------------------------------------ build

build_binaries() {
	if [ -n "${BENCH_BIN:-}" ]; then
		[ -x "$BENCH_BIN" ] || die "BENCH_BIN=$BENCH_BIN is not executable"
		BIN=$BENCH_BIN
		BIN_KIND="$BENCH_BIN (BENCH_BIN)"
		note "parts 1-4 measured BENCH_BIN=$BENCH_BIN, not a fresh build"
	elif ! try_make_static "$RAW"; then
		note "'make static' failed (log: build/bench/upstream/make-static.log): parts 1-4 FELL BACK to the dynamic build/cli-proxy-api"
		BIN=
	fi
	if [ -n "${BENCH_DYN_BIN:-}" ]; then
		[ -x "$BENCH_DYN_BIN" ] || die "BENCH_DYN_BIN=$BENCH_DYN_BIN is not executable"
		DYN_BIN=$BENCH_DYN_BIN
		note "part 5 measured BENCH_DYN_BIN=$BENCH_DYN_BIN, not a fresh build"
	else
		log "make -C $REPO"
		if ! make -C "$REPO" >"$RAW/make.log" 2>&1 || [ ! -x "$REPO/build/cli-proxy-api" ]; then
			tail -n 20 "$RAW/make.log" >&2
			die "'make' failed (log: build/bench/upstream/make.log)"
		fi
		DYN_BIN=$REPO/build/cli-proxy-api
	fi
	if [ -z "$BIN" ]; then
		BIN=$DYN_BIN
		BIN_KIND="build/cli-proxy-api (plain make, fallback)"
	fi
}

# ---------------------------------------------------------------- helpers

minus() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%+.3f", a - b }'; }

# ---------------------------------------------------------------- fixtures

# Request bodies (one wrk Lua script per alias and mode) and the mock's
# answers: a ~300-byte chat.completion and SSE streams of 10, 500 and 5000
# chat.completion.chunk events followed by [DONE].
make_fixtures() {
	local h=$TMP/html n
	mkdir -p "$h/plain/v1/chat" "$h/stream/v1/chat" "$h/s10/v1/chat" "$h/s5000/v1/chat"
	printf '%s' '{"id":"chatcmpl-bench0001","object":"chat.completion","created":1764000000,"model":"vendor/model-a","system_fingerprint":"fp_bench","choices":[{"index":0,"message":{"role":"assistant","content":"Hello! This is the fixed answer of the benchmark mock upstream."},"logprobs":null,"finish_reason":"stop"}],"usage":{"prompt_tokens":9,"completion_tokens":14,"total_tokens":23}}' \
		>"$h/plain/v1/chat/completions"
	PLAIN_BYTES=$(stat -c %s "$h/plain/v1/chat/completions")
	for n in 10 500 5000; do
		awk -v n="$n" 'BEGIN {
			for (i = 0; i < n; i++)
				printf "data: {\"id\":\"chatcmpl-bench0001\",\"object\":\"chat.completion.chunk\",\"created\":1764000000,\"model\":\"vendor/model-a\",\"choices\":[{\"index\":0,\"delta\":{\"content\":\"tok%d \"},\"finish_reason\":null}]}\n\n", i
			printf "data: [DONE]\n\n" }' >"$TMP/stream-$n"
	done
	mv "$TMP/stream-10" "$h/s10/v1/chat/completions"
	mv "$TMP/stream-500" "$h/stream/v1/chat/completions"
	mv "$TMP/stream-5000" "$h/s5000/v1/chat/completions"
	STREAM_BYTES=$(stat -c %s "$h/stream/v1/chat/completions")
	local alias st
	for alias in plain stream tls-plain tls-full; do
		st=false; [ "$alias" = stream ] && st=true
		cat >"$TMP/$alias.lua" <<-EOF
		wrk.method = "POST"
		wrk.body = '{"model":"$alias","messages":[{"role":"user","content":"hi"}],"stream":$st}'
		wrk.headers["Content-Type"] = "application/json"
		EOF
	done
}

# ------------------------------------------------------------------ nginx

# The mock upstream: static files answered to POST.  nginx's static module
# refuses POST with 405; "error_page 405 =200 \$uri" turns that into an
# internal GET of the same file with status 200.  The first path element
# picks the answer: /plain/v1, /stream/v1 (500 events), /s10/v1, /s5000/v1.
# One server block of the mock: listen lines, then the answers' locations.
mock_server() { # listen-lines...
	local loc l
	echo "    server {"
	for l in "$@"; do echo "        $l"; done
	cat <<-EOF
	        ssl_certificate $CERT;
	        ssl_certificate_key $KEY;
	        root $TMP/html;
	        add_header Last-Modified "";
	        location = /plain/v1/chat/completions {
	            default_type application/json;
	            error_page 405 =200 \$uri;
	        }
	EOF
	for loc in stream s10 s5000; do
		cat <<-EOF
		        location = /$loc/v1/chat/completions {
		            default_type text/event-stream;
		            error_page 405 =200 \$uri;
		        }
		EOF
	done
	echo "    }"
}

start_mock() {
	local d=$TMP/mock
	free_port MOCK_PORT
	free_port MOCK_TLS_PORT
	free_port MOCK_TLS_NOCACHE_PORT
	{
		nginx_common "$d" 4096
		echo "    etag off;"
		echo "    max_ranges 0;"
		# TLS sessions kept (resumable) on one port, not on the other
		mock_server "listen 127.0.0.1:$MOCK_PORT;" \
			"listen 127.0.0.1:$MOCK_TLS_PORT ssl;" \
			"ssl_session_cache shared:mock:1m;"
		mock_server "listen 127.0.0.1:$MOCK_TLS_NOCACHE_PORT ssl;" \
			"ssl_session_cache off;" "ssl_session_tickets off;"
		echo "}"
	} >"$d.conf"
	cp "$d.conf" "$RAW/nginx-mock.conf"
	"${PIN_SERVER[@]}" "${GUARD[@]}" nginx -p "$d/" -c "$d.conf" -e "$d/logs/error.log" \
		>"$RAW/nginx-mock.log" 2>&1 &
	MOCK_PID=$!
	wait_port "$MOCK_PORT" "$MOCK_PID" "$RAW/nginx-mock.log"
	wait_port "$MOCK_TLS_PORT" "$MOCK_PID" "$RAW/nginx-mock.log"
	wait_port "$MOCK_TLS_NOCACHE_PORT" "$MOCK_PID" "$RAW/nginx-mock.log"
}

# nginx as a reverse proxy to the mock: the well-known baseline.
start_nginx_proxy() {
	local d=$TMP/ngxproxy
	free_port NGXP_PORT
	{
		nginx_common "$d" 4096
		cat <<-EOF
		    upstream mock {
		        server 127.0.0.1:$MOCK_PORT;
		        keepalive 32;
		    }
		    server {
		        listen 127.0.0.1:$NGXP_PORT;
		        location / {
		            proxy_pass http://mock;
		            proxy_http_version 1.1;
		            proxy_set_header Connection "";
		        }
		    }
		}
		EOF
	} >"$d.conf"
	cp "$d.conf" "$RAW/nginx-proxy.conf"
	"${PIN_SERVER[@]}" "${GUARD[@]}" nginx -p "$d/" -c "$d.conf" -e "$d/logs/error.log" \
		>"$RAW/nginx-proxy.log" 2>&1 &
	NGXP_PID=$!
	wait_port "$NGXP_PORT" "$NGXP_PID" "$RAW/nginx-proxy.log"
}

# ------------------------------------------------------------------- proxy

provider() { # name base-url upstream-model alias
	printf '\n[openai-compatibility]\nname = %s\nbase-url = %s\napi-keys = sk-bench-%s\nmodel = %s = %s\n' \
		"$1" "$2" "$1" "$3" "$4"
}

# Config for parts 1-3: one provider per mock answer.  Extra top-level
# lines (e.g. upstream-keepalive-timeout = 0) come as arguments.
write_proxy_config() { # file port [extra lines...]
	local f=$1 port=$2
	shift 2
	{
		printf 'port = %s\nhost = 127.0.0.1\naccess-log = false\nca-file = %s\n' "$port" "$CA"
		for l in "$@"; do printf '%s\n' "$l"; done
		provider mock-plain "http://127.0.0.1:$MOCK_PORT/plain/v1" vendor/model-a plain
		provider mock-stream "http://127.0.0.1:$MOCK_PORT/stream/v1" vendor/model-a stream
		provider mock-tls "https://localhost:$MOCK_TLS_PORT/plain/v1" vendor/model-a tls-plain
		provider mock-tls-full "https://localhost:$MOCK_TLS_NOCACHE_PORT/plain/v1" vendor/model-a tls-full
	} >"$f"
}

post() { # port path alias stream(true|false) outfile: prints the status
	curl -s -o "$5" -w '%{http_code}' --max-time 60 \
		-H 'Content-Type: application/json' \
		--data "{\"model\":\"$3\",\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}],\"stream\":$4}" \
		"http://127.0.0.1:$1$2" || true
}

count_events() { grep -c '^data: {' "$1" || true; }
has_done() { grep -q '^data: \[DONE\]' "$1" && echo yes || echo no; }

# One request of each kind through the proxy, checked against the mock's
# files, before anything is measured.
probe_proxy() { # port label
	local port=$1 st f=$TMP/probe
	st=$(post "$port" /v1/chat/completions plain false "$f")
	[ "$st" = 200 ] || { cat "$f" >&2 || true; die "$2: non-stream request answered '$st', not 200 (proxy log: build/bench/upstream/)"; }
	cmp -s "$f" "$TMP/html/plain/v1/chat/completions" ||
		note "$2: the proxy's non-stream body differs from the mock's ($(stat -c %s "$f") vs $PLAIN_BYTES bytes)"
	st=$(post "$port" /v1/chat/completions stream true "$f")
	[ "$st" = 200 ] || die "$2: stream request answered '$st', not 200"
	if [ "$(count_events "$f")" != 500 ] || [ "$(has_done "$f")" != yes ]; then
		die "$2: stream through the proxy had $(count_events "$f") events (want 500) and [DONE]: $(has_done "$f")"
	fi
	st=$(post "$port" /v1/chat/completions tls-plain false "$f")
	[ "$st" = 200 ] || { cat "$f" >&2 || true; die "$2: TLS upstream request answered '$st', not 200"; }
}

# -------------------------------------------------------------------- wrk

# run_wrk key url script threads conns [duration]: R[key,rps|p50|p99|bad]
run_wrk() {
	local key=$1 url=$2 script=$3 t=$4 c=$5 d=${6:-$DURATION} out=$RAW/wrk-$1.txt
	log "wrk $key: -t$t -c$c -d$d $url"
	"${PIN_CLIENT[@]}" wrk -t"$t" -c"$c" -d"$d" --latency -s "$script" "$url" \
		>"$out" 2>&1 || die "wrk failed (see $out)"
	read_wrk "$out"
	R[$key,rps]=$W_RPS R[$key,p50]=$W_P50 R[$key,p99]=$W_P99 R[$key,bad]=$W_BAD
	[ "$W_BAD" -eq 0 ] ||
		note "wrk $key: $W_BAD non-2xx responses or socket errors (see build/bench/upstream/wrk-$key.txt)"
}

warm() { # url script
	"${PIN_CLIENT[@]}" wrk -t1 -c8 -d1s -s "$2" "$1" >/dev/null 2>&1 || true
}

# ------------------------------------------------------------ parts 1 - 3

bench_direct() {
	log "part 1: direct to the nginx mock"
	local base=http://127.0.0.1:$MOCK_PORT st
	st=$(post "$MOCK_PORT" /plain/v1/chat/completions plain false "$TMP/d")
	[ "$st" = 200 ] || die "the nginx mock answered POST with '$st' (see $TMP/mock/logs/error.log)"
	check_quiet "the direct runs"
	warm "$base/plain/v1/chat/completions" "$TMP/plain.lua"
	run_wrk direct-plain-c1 "$base/plain/v1/chat/completions" "$TMP/plain.lua" 1 1
	run_wrk direct-plain-c64 "$base/plain/v1/chat/completions" "$TMP/plain.lua" 2 64
	run_wrk direct-stream-c1 "$base/stream/v1/chat/completions" "$TMP/stream.lua" 1 1
	run_wrk direct-stream-c64 "$base/stream/v1/chat/completions" "$TMP/stream.lua" 2 64
}

bench_proxy_pooled() {
	log "parts 1-3: proxy with the default upstream pool"
	local cfg=$TMP/proxy-pool.ini url
	free_port PROXY_PORT
	write_proxy_config "$cfg" "$PROXY_PORT"
	cp "$cfg" "$RAW/proxy-pool.ini"
	start_proxy "$cfg" "$PROXY_PORT" "$RAW/proxy-pool.log"
	probe_proxy "$PROXY_PORT" "proxy (pooled)"
	url=http://127.0.0.1:$PROXY_PORT/v1/chat/completions
	check_quiet "the proxy runs"
	warm "$url" "$TMP/plain.lua"
	run_wrk proxy-plain-c1 "$url" "$TMP/plain.lua" 1 1
	run_wrk proxy-plain-c64 "$url" "$TMP/plain.lua" 2 64
	run_wrk proxy-stream-c1 "$url" "$TMP/stream.lua" 1 1
	run_wrk proxy-stream-c64 "$url" "$TMP/stream.lua" 2 64
	warm "$url" "$TMP/tls-plain.lua"
	run_wrk pool-tls-c1 "$url" "$TMP/tls-plain.lua" 1 1
	POOL_RSS=$(proc_kb "$SERVER_REAL" VmRSS)
	POOL_HWM=$(proc_kb "$SERVER_REAL" VmHWM)
	stop_proxy
}

declare -A AB_PID=() AB_URL=()
CLK_TCK=$(getconf CLK_TCK)

cpu_ticks() { # pid: user + system CPU time so far, in clock ticks
	awk '{ sub(/^.*\) /, ""); print $12 + $13 }' "/proc/$1/stat"
}

# One wrk run of part 2, with the server's CPU time per request (us).
ab_run() { # who conns threads round
	local key=ab-$1-c$2-r$4 c0 c1 n
	c0=$(cpu_ticks "${AB_PID[$1]}")
	run_wrk "$key" "${AB_URL[$1]}" "$TMP/plain.lua" "$3" "$2" "$AB_DURATION"
	c1=$(cpu_ticks "${AB_PID[$1]}")
	n=$(awk '$2 == "requests" && $3 == "in" { print $1 }' "$RAW/wrk-$key.txt")
	R[$key,cpu]=$(awk -v d="$((c1 - c0))" -v n="${n:-0}" -v hz="$CLK_TCK" \
		'BEGIN { if (n > 0) printf "%.1f", d * 1e6 / hz / n; else print "n/a" }')
}

# Part 2: the proxy (default pool) and nginx proxy_pass both running, one
# wrk run each per round, in alternating order.  R[ab-<who>-c<n>-r<i>,*].
bench_ab() {
	log "part 2: proxy vs nginx proxy_pass, $AB_ROUNDS alternating rounds of $AB_DURATION per connection count"
	local cfg=$TMP/proxy-ab.ini purl nurl c t i
	free_port PROXY_PORT
	write_proxy_config "$cfg" "$PROXY_PORT"
	cp "$cfg" "$RAW/proxy-ab.ini"
	start_proxy "$cfg" "$PROXY_PORT" "$RAW/proxy-ab.log"
	probe_proxy "$PROXY_PORT" "proxy (part 2)"
	start_nginx_proxy
	[ "$(post "$NGXP_PORT" /plain/v1/chat/completions plain false "$TMP/n")" = 200 ] ||
		die "nginx proxy_pass did not answer 200 (see $TMP/ngxproxy/logs/error.log)"
	purl=http://127.0.0.1:$PROXY_PORT/v1/chat/completions
	nurl=http://127.0.0.1:$NGXP_PORT/plain/v1/chat/completions
	# CPU time is read from the processes that do the work: the proxy,
	# and nginx's worker (the child of its master).
	AB_PID[proxy]=$SERVER_REAL AB_URL[proxy]=$purl
	AB_PID[ngx]=$(child_of "$(child_of "$NGXP_PID")") AB_URL[ngx]=$nurl
	check_quiet "the proxy vs nginx rounds"
	warm "$purl" "$TMP/plain.lua"
	warm "$nurl" "$TMP/plain.lua"
	for c in 1 64; do
		t=1; [ "$c" = 1 ] || t=2
		for ((i = 1; i <= AB_ROUNDS; i++)); do
			if ((i % 2)); then
				ab_run proxy "$c" "$t" "$i"; ab_run ngx "$c" "$t" "$i"
			else
				ab_run ngx "$c" "$t" "$i"; ab_run proxy "$c" "$t" "$i"
			fi
		done
	done
	stop_pid "$NGXP_PID"; NGXP_PID=
	stop_proxy
}

bench_proxy_noreuse() {
	log "part 3: proxy with upstream-keepalive-timeout = 0 (no reuse)"
	local cfg=$TMP/proxy-noreuse.ini url
	free_port PROXY_PORT
	write_proxy_config "$cfg" "$PROXY_PORT" "upstream-keepalive-timeout = 0"
	cp "$cfg" "$RAW/proxy-noreuse.ini"
	start_proxy "$cfg" "$PROXY_PORT" "$RAW/proxy-noreuse.log"
	probe_proxy "$PROXY_PORT" "proxy (no reuse)"
	url=http://127.0.0.1:$PROXY_PORT/v1/chat/completions
	check_quiet "the no-reuse runs"
	warm "$url" "$TMP/plain.lua"
	run_wrk noreuse-plain-c1 "$url" "$TMP/plain.lua" 1 1
	warm "$url" "$TMP/tls-plain.lua"
	run_wrk noreuse-tls-c1 "$url" "$TMP/tls-plain.lua" 1 1
	warm "$url" "$TMP/tls-full.lua"
	run_wrk noreuse-tlsfull-c1 "$url" "$TMP/tls-full.lua" 1 1
	stop_proxy
	# How many upstream connections the mock saw is not logged (access_log
	# off); the proxy's pool state shows in its log at debug level only.
}

# ------------------------------------------------------------------ part 4

write_slow_py() {
	cat >"$TMP/slow.py" <<-'PYEOF'
	# Slow SSE upstream over TLS, and the concurrent stream clients (stdlib).
	#   slow.py server PORT CERT KEY EVENTS GAP LIFETIME
	#   slow.py client PORT N ALIAS EVENTS TIMEOUT
	import asyncio, json, ssl, sys, time

	def event(i):
	    return ('data: {"id":"chatcmpl-slow","object":"chat.completion.chunk",'
	            '"created":1764000000,"model":"vendor/model-slow","choices":[{"index":0,'
	            '"delta":{"content":"tok%d "},"finish_reason":null}]}\n\n' % i).encode()

	async def handle(reader, writer, events, gap):
	    try:
	        while True:
	            head = await reader.readuntil(b"\r\n\r\n")
	            length, chunked = 0, False
	            for line in head.split(b"\r\n")[1:]:
	                k, _, v = line.partition(b":")
	                k = k.strip().lower()
	                if k == b"content-length":
	                    length = int(v)
	                elif k == b"transfer-encoding" and b"chunked" in v.lower():
	                    chunked = True
	            if chunked:
	                while True:
	                    size = int((await reader.readuntil(b"\r\n")).split(b";")[0], 16)
	                    await reader.readexactly(size + 2)
	                    if size == 0:
	                        break
	            elif length:
	                await reader.readexactly(length)
	            writer.write(b"HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\n"
	                         b"Cache-Control: no-cache\r\nTransfer-Encoding: chunked\r\n\r\n")
	            for i in range(events):
	                if i:
	                    await asyncio.sleep(gap)
	                ev = event(i)
	                writer.write(b"%x\r\n%s\r\n" % (len(ev), ev))
	                await writer.drain()
	            done = b"data: [DONE]\n\n"
	            writer.write(b"%x\r\n%s\r\n0\r\n\r\n" % (len(done), done))
	            await writer.drain()
	    except (asyncio.IncompleteReadError, asyncio.LimitOverrunError,
	            ConnectionError, ssl.SSLError, OSError, ValueError):
	        pass
	    finally:
	        writer.close()

	async def server(port, cert, key, events, gap, lifetime):
	    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
	    ctx.load_cert_chain(cert, key)
	    srv = await asyncio.start_server(
	        lambda r, w: handle(r, w, events, gap), "127.0.0.1", port,
	        ssl=ctx, backlog=1024)
	    async with srv:
	        try:
	            await asyncio.wait_for(srv.serve_forever(), lifetime)
	        except asyncio.TimeoutError:
	            pass

	def dechunk(b):
	    out, i = bytearray(), 0
	    while True:
	        j = b.index(b"\r\n", i)
	        size = int(b[i:j].split(b";")[0], 16)
	        if size == 0:
	            return bytes(out)
	        out += b[j + 2:j + 2 + size]
	        i = j + 2 + size + 2

	async def one(port, alias):
	    r, w = await asyncio.open_connection("127.0.0.1", port)
	    body = json.dumps({"model": alias, "stream": True,
	                       "messages": [{"role": "user", "content": "hi"}]}).encode()
	    w.write(b"POST /v1/chat/completions HTTP/1.1\r\nHost: 127.0.0.1:%d\r\n"
	            b"Content-Type: application/json\r\nContent-Length: %d\r\n"
	            b"Connection: close\r\n\r\n%s" % (port, len(body), body))
	    await w.drain()
	    data = await r.read()
	    w.close()
	    head, _, rest = data.partition(b"\r\n\r\n")
	    status = head.split(b" ", 2)[1].decode() if head else "none"
	    if b"transfer-encoding: chunked" in head.lower():
	        rest = dechunk(rest)
	    lines = rest.split(b"\n")
	    return (status, sum(1 for l in lines if l.startswith(b"data: {")),
	            any(l.startswith(b"data: [DONE]") for l in lines))

	async def client(port, n, alias, events, timeout):
	    t0 = time.monotonic()
	    async def guarded(i):
	        try:
	            return await asyncio.wait_for(one(port, alias), timeout)
	        except Exception as e:
	            return ("error: %s" % (type(e).__name__ + " " + str(e))[:80], 0, False)
	    res = await asyncio.gather(*(guarded(i) for i in range(n)))
	    ok = sum(1 for s, ev, d in res if s == "200" and ev == events and d)
	    bad = [r for r in res if not (r[0] == "200" and r[1] == events and r[2])]
	    print(json.dumps({"clients": n, "complete": ok,
	                      "seconds": round(time.monotonic() - t0, 2),
	                      "first_failures": [list(x) for x in bad[:5]]}))

	if __name__ == "__main__":
	    a = sys.argv
	    if a[1] == "server":
	        asyncio.run(server(int(a[2]), a[3], a[4], int(a[5]), float(a[6]), float(a[7])))
	    else:
	        asyncio.run(client(int(a[2]), int(a[3]), a[4], int(a[5]), float(a[6])))
	PYEOF
}

bench_slow_streams() {
	log "part 4: $NSTREAMS concurrent slow TLS streams ($SLOW_EVENTS events, ${SLOW_GAP}s apart)"
	local cfg=$TMP/proxy-slow.ini port rss hwm peak=0 samples=0 maxconn
	write_slow_py
	free_port SLOW_PORT
	"${PIN_SERVER[@]}" "${GUARD[@]}" python3 "$TMP/slow.py" server "$SLOW_PORT" "$CERT" "$KEY" \
		"$SLOW_EVENTS" "$SLOW_GAP" 300 >"$RAW/slow-server.log" 2>&1 &
	SLOW_PID=$!
	wait_port "$SLOW_PORT" "$SLOW_PID" "$RAW/slow-server.log"
	free_port port
	maxconn=256
	[ "$NSTREAMS" -le 256 ] || maxconn=$NSTREAMS
	{
		printf 'port = %s\nhost = 127.0.0.1\naccess-log = false\nca-file = %s\n' "$port" "$CA"
		[ "$maxconn" = 256 ] || printf 'max-connections = %s\n' "$maxconn"
		provider slow "https://localhost:$SLOW_PORT/v1" vendor/model-slow slow
	} >"$cfg"
	cp "$cfg" "$RAW/proxy-slow.ini"
	start_proxy "$cfg" "$port" "$RAW/proxy-slow.log"
	sleep 1
	SLOW_IDLE=$(proc_kb "$SERVER_REAL" VmRSS)
	"${PIN_CLIENT[@]}" timeout 120 python3 "$TMP/slow.py" client "$port" "$NSTREAMS" slow \
		"$SLOW_EVENTS" 60 >"$RAW/slow-client.json" 2>"$RAW/slow-client.log" &
	CLIENT_PID=$!
	: >"$RAW/slow-rss.tsv"
	while kill -0 "$CLIENT_PID" 2>/dev/null; do
		rss=$(proc_kb "$SERVER_REAL" VmRSS) hwm=$(proc_kb "$SERVER_REAL" VmHWM)
		printf '%s\t%s\t%s\n' "$(date +%s.%N | cut -c1-14)" "$rss" "$hwm" >>"$RAW/slow-rss.tsv"
		[ "$rss" -le "$peak" ] || peak=$rss
		[ "$hwm" -le "$peak" ] || peak=$hwm
		samples=$((samples + 1))
		sleep 0.5
	done
	wait "$CLIENT_PID" || note "the slow-stream client exited with status $? (see build/bench/upstream/slow-client.log)"
	CLIENT_PID=
	hwm=$(proc_kb "$SERVER_REAL" VmHWM)
	[ "$hwm" -le "$peak" ] || peak=$hwm
	SLOW_AFTER=$(proc_kb "$SERVER_REAL" VmRSS)
	SLOW_PEAK=$peak SLOW_SAMPLES=$samples
	SLOW_PER=$(awk -v p="$peak" -v i="$SLOW_IDLE" -v n="$NSTREAMS" 'BEGIN { printf "%.1f", (p - i) / n }')
	SLOW_DONE=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["complete"])' "$RAW/slow-client.json" 2>/dev/null || echo 0)
	SLOW_SECS=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["seconds"])' "$RAW/slow-client.json" 2>/dev/null || echo '?')
	[ "$SLOW_DONE" = "$NSTREAMS" ] ||
		note "only $SLOW_DONE of $NSTREAMS slow streams arrived whole ($SLOW_EVENTS events + [DONE]): $(cat "$RAW/slow-client.json" 2>/dev/null)"
	stop_proxy
	stop_pid "$SLOW_PID"; SLOW_PID=
}

# ------------------------------------------------------------------ part 5

valgrind_run() { # events: sets VG[events,allocs|frees|bytes|got]
	local n=$1 cfg=$TMP/proxy-vg.ini port vlog=$RAW/valgrind-$1.log f=$TMP/vg-out st
	free_port port
	{
		printf 'port = %s\nhost = 127.0.0.1\naccess-log = false\nmax-connections = 8\n' "$port"
		provider "mock-s$n" "http://127.0.0.1:$MOCK_PORT/s$n/v1" vendor/model-a "s$n"
	} >"$cfg"
	cp "$cfg" "$RAW/proxy-valgrind-$n.ini"
	log "part 5: valgrind, one stream of $n events"
	BIN_RUN=$DYN_BIN start_proxy "$cfg" "$port" "$RAW/proxy-valgrind-$n.out" 60 \
		valgrind --tool=memcheck --trace-children=no --log-file="$vlog"
	st=$(post "$port" /v1/chat/completions "s$n" true "$f")
	VG[$n,got]="$st, $(count_events "$f") events, [DONE]: $(has_done "$f")"
	if [ "$st" != 200 ] || [ "$(count_events "$f")" != "$n" ] || [ "$(has_done "$f")" != yes ]; then
		note "valgrind run with $n events: the client got ${VG[$n,got]}"
	fi
	stop_proxy 30
	local line
	line=$(grep 'total heap usage:' "$vlog" | tail -n 1 || true)
	[ -n "$line" ] || die "no 'total heap usage' line in $vlog"
	VG[$n,allocs]=$(sed -E 's/.*usage: ([0-9,]+) allocs.*/\1/' <<<"$line" | tr -d ,)
	VG[$n,frees]=$(sed -E 's/.* ([0-9,]+) frees.*/\1/' <<<"$line" | tr -d ,)
	VG[$n,bytes]=$(sed -E 's/.* ([0-9,]+) bytes allocated.*/\1/' <<<"$line" | tr -d ,)
	VG[$n,errors]=$(sed -nE 's/.*ERROR SUMMARY: ([0-9,]+) errors.*/\1/p' "$vlog" | tail -n 1 | tr -d ,)
	[ "${VG[$n,errors]:-0}" = 0 ] ||
		note "valgrind reported ${VG[$n,errors]} errors with $n events (see build/bench/upstream/valgrind-$n.log)"
}

bench_valgrind() {
	declare -gA VG=()
	valgrind_run 10
	valgrind_run 5000
}

# ---------------------------------------------------------------- results

lat_row() { # label case conns
	local d=direct-$2-c$3 p=proxy-$2-c$3
	echo "| $1 | $3 | ${R[$d,p50]} | ${R[$p,p50]} | $(minus "${R[$p,p50]}" "${R[$d,p50]}") | ${R[$d,p99]} | ${R[$p,p99]} | $(minus "${R[$p,p99]}" "${R[$d,p99]}") | ${R[$d,rps]} | ${R[$p,rps]} | $(ratio "${R[$p,rps]}" "${R[$d,rps]}") |"
}

median() { tr ' ' '\n' | grep . | sort -g | awk '{ v[NR] = $1 } END {
	print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }

# One row of part 2: medians over the rounds, each round's ratio, and how
# many rounds the proxy won.  Sets AB_MEDIAN[conns].
declare -A AB_MEDIAN=()
ab_row() { # conns
	local c=$1 i pr=() nr=() rr=() p50p=() p50n=() cp=() cn=() won=0 r
	for ((i = 1; i <= AB_ROUNDS; i++)); do
		pr+=("${R[ab-proxy-c$c-r$i,rps]}")
		nr+=("${R[ab-ngx-c$c-r$i,rps]}")
		cp+=("${R[ab-proxy-c$c-r$i,cpu]}")
		cn+=("${R[ab-ngx-c$c-r$i,cpu]}")
		p50p+=("${R[ab-proxy-c$c-r$i,p50]}")
		p50n+=("${R[ab-ngx-c$c-r$i,p50]}")
		r=$(ratio "${R[ab-proxy-c$c-r$i,rps]}" "${R[ab-ngx-c$c-r$i,rps]}")
		rr+=("$r")
		awk -v r="$r" 'BEGIN { exit !(r >= 1) }' && won=$((won + 1))
	done
	AB_MEDIAN[$c]=$(echo "${rr[*]}" | median)
	echo "| $c | $(echo "${pr[*]}" | median) | $(echo "${nr[*]}" | median) | ${rr[*]} | **${AB_MEDIAN[$c]}** | $won / $AB_ROUNDS | $(echo "${p50p[*]}" | median) | $(echo "${p50n[*]}" | median) | $(echo "${cp[*]}" | median) | $(echo "${cn[*]}" | median) |"
}

reuse_row() { # label pooled-key noreuse-key
	echo "| $1 | ${R[$2,rps]} | ${R[$3,rps]} | $(ratio "${R[$2,rps]}" "${R[$3,rps]}") | ${R[$2,p50]} | ${R[$3,p50]} | $(minus "${R[$3,p50]}" "${R[$2,p50]}") |"
}

write_results() {
	local rss_check d_allocs growth
	rss_check=$(check "$SLOW_PEAK" "<=" "$RSS_TARGET_KB")
	d_allocs=$((VG[5000,allocs] - VG[10,allocs]))
	growth=$(awk -v d="$d_allocs" 'BEGIN { printf "%.3f", d / 4990 }')
	{
		echo "## Upstream results ($DATE)"
		echo
		echo "Parts 1-4: $BIN_KIND; part 5: ${DYN_BIN#"$REPO"/} under valgrind; commit: $COMMIT"
		echo
		echo "### 1. Latency added by the proxy (wrk, POST /v1/chat/completions, ms)"
		echo
		echo "Direct = wrk to the nginx mock; proxy = wrk to cli-proxy-api, which forwards to the same mock over plain HTTP."
		echo "Non-stream answer: $PLAIN_BYTES B of JSON; stream: 500 chunk events + [DONE], $STREAM_BYTES B."
		echo
		echo "| case | conns | direct p50 | proxy p50 | added p50 | direct p99 | proxy p99 | added p99 | direct req/s | proxy req/s | proxy/direct |"
		echo "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"
		lat_row "non-stream" plain 1
		lat_row "non-stream" plain 64
		lat_row "stream, 500 events" stream 1
		lat_row "stream, 500 events" stream 64
		echo
		echo "### 2. Requests/s against nginx proxy_pass (non-stream, same mock)"
		echo
		echo "Both servers running side by side; $AB_ROUNDS rounds per connection count, each one wrk run of $AB_DURATION against each, the order flipping every round. Ratio = proxy req/s / nginx req/s of the same round."
		echo
		echo "CPU us/req = the server process's user + system time during its wrk run (from /proc, nginx's worker), divided by the requests wrk completed: the cost of forwarding one request, less noisy than req/s."
		echo
		echo "| conns | proxy req/s (median) | nginx req/s (median) | ratio per round | median ratio | rounds proxy >= nginx | proxy p50 ms (median) | nginx p50 ms (median) | proxy CPU us/req (median) | nginx CPU us/req (median) |"
		echo "| ---: | ---: | ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: |"
		ab_row 1
		ab_row 64
		echo
		echo "Target: median ratio >= 1 at 1 connection: $(check "${AB_MEDIAN[1]}" ">=" 1); at 64: $(check "${AB_MEDIAN[64]}" ">=" 1)."
		echo
		echo "### 3. Upstream connection reuse (non-stream, 1 connection)"
		echo
		echo "Pooled = default config; no reuse = \`upstream-keepalive-timeout = 0\` (new TCP, and for https new TLS, connection per request). The TLS mock keeps sessions on one port (\`ssl_session_cache\`): there each new connection resumes the session of the one before (abbreviated handshake); on the other port it keeps none: a full handshake (ECDHE and the certificate chain) every time."
		echo
		echo "| upstream | pooled req/s | no reuse req/s | pooled/no reuse | pooled p50 ms | no reuse p50 ms | p50 saved ms |"
		echo "| --- | ---: | ---: | ---: | ---: | ---: | ---: |"
		reuse_row "http://127.0.0.1 (nginx)" proxy-plain-c1 noreuse-plain-c1
		reuse_row "https://localhost, session resumed (nginx, TLS 1.2 via BearSSL, EC P-256)" pool-tls-c1 noreuse-tls-c1
		reuse_row "https://localhost, full handshake every time (no session cache)" pool-tls-c1 noreuse-tlsfull-c1
		echo
		echo "Proxy RSS after parts 1-3 (pooled process): VmRSS $POOL_RSS KB, VmHWM $POOL_HWM KB."
		echo
		echo "### 4. Memory with $NSTREAMS concurrent slow TLS streams"
		echo
		echo "Python TLS upstream, $SLOW_EVENTS events ${SLOW_GAP} s apart per stream; VmRSS/VmHWM sampled every 0.5 s ($SLOW_SAMPLES samples)."
		echo
		echo "| idle RSS | peak RSS (max VmRSS, VmHWM) | RSS after | per stream ((peak - idle) / $NSTREAMS) | streams complete | wall time | target |"
		echo "| ---: | ---: | ---: | ---: | ---: | ---: | --- |"
		echo "| $SLOW_IDLE KB | $SLOW_PEAK KB ($(mb "$SLOW_PEAK") MB) | $SLOW_AFTER KB | $SLOW_PER KB | $SLOW_DONE / $NSTREAMS | $SLOW_SECS s | peak <= 24 MB: $rss_check |"
		echo
		echo "### 5. Heap allocations vs streamed events (valgrind memcheck, one streaming request per process)"
		echo
		echo "| upstream events | client got | total allocs | frees | bytes allocated |"
		echo "| ---: | --- | ---: | ---: | ---: |"
		echo "| 10 | ${VG[10,got]} | ${VG[10,allocs]} | ${VG[10,frees]} | ${VG[10,bytes]} |"
		echo "| 5000 | ${VG[5000,got]} | ${VG[5000,allocs]} | ${VG[5000,frees]} | ${VG[5000,bytes]} |"
		echo
		echo "Difference: $d_allocs allocations for 4990 more events ($growth per event)."
		echo
		echo "Machine: $CPU_MODEL; $CORES CPUs; kernel $KERNEL; $PINNING."
		echo "Tools: $NGINX_VERSION (1 worker each, mock and proxy_pass), $WRK_VERSION, each wrk run $DURATION (part 2: $AB_DURATION); $VG_VERSION; $PY_VERSION."
		notes_md
	} >"$RESULTS"
}

# ------------------------------------------------------------------- main

main() {
	local t0=$SECONDS
	mkdir -p "$OUT_DIR" "$RAW"
	rm -f "$RAW"/* "$RESULTS"
	ensure_tools wrk:wrk nginx:nginx-light musl-gcc:musl-tools valgrind:valgrind \
		openssl:openssl python3:python3 curl:curl \
		-- wrk nginx valgrind openssl python3 curl taskset timeout
	check_nginx_modules
	setup_pinning "servers (proxy, both nginx, python server) on CPU 0, clients (wrk, python client) on CPU 1" \
		"servers and clients all on CPU 0"
	machine_info wrk valgrind python3
	build_binaries
	BIN_RUN=$BIN
	log "parts 1-4 measure $BIN ($BIN_KIND); part 5 $DYN_BIN"
	make_fixtures
	make_certs
	start_mock
	bench_direct
	bench_proxy_pooled
	bench_ab
	bench_proxy_noreuse
	bench_slow_streams
	bench_valgrind
	stop_pid "$MOCK_PID"; MOCK_PID=
	finish_run
}

main "$@"
