#!/usr/bin/env bash
# shellcheck disable=SC2119 # stop_proxy (bench/lib.sh) has an optional argument
#
# bench/logins.sh - what the logins and the management API (issue 11)
# cost: src/mgmt.c, src/login.c, src/cbsrv.c, src/bcrypt.c.
#
# What it measures, all in one run on this machine:
#   1. Idle memory: VmRSS, VmHWM and RssAnon one second after the port
#      accepts, median of BENCH_MEM_ROUNDS interleaved starts of each of
#        - management off (no [remote-management]): the baseline;
#        - management on: a plain `[remote-management] secret-key`, hashed
#          in place at start (a fresh copy of the config each start);
#        - the same, after one management Codex login completed end to end
#          (codex-auth-url, the mock's consent, POST oauth-callback with the
#          redirect address, get-auth-status until ok, gpt-5 listed by
#          /v1/models): read one second after the account is listed;
#        - the binary of BENCH_BASE (b6bae15, the commit before issue 11's
#          work) with the same config, management off (for context).
#      Every config has the same auth-dir (empty at start), ca-file and
#      [endpoints] (the login mocks of tests/integ: mocks_login.MockLogin,
#      mocks_oauth.MockCodex, over TLS with a throwaway CA), so only the
#      [remote-management] section differs.  Ratios against management off.
#   2. The management key (cost 10, as a plain key is hashed): on
#      BENCH_KEY_STARTS fresh servers, over one keep-alive connection,
#      BENCH_KEY_REPS GET /v1/models (the baseline), then the first request
#      with the key (the server checks it by bcrypt, a few rounds per loop
#      turn), then BENCH_KEY_REPS more with the key (accepted: cached).
#      Medians over the starts; the server's CPU time of the first one from
#      /proc/PID/schedstat.
#   3. The loop while a key is checked: on BENCH_LOOP_STARTS fresh servers
#      whose secret-key is the cost-12 test vector's hash, one connection
#      sends GET /v1/models one after the other while another connection's
#      first request with the key is checked, until that answer arrives;
#      then as many requests again with no check running (idle).  p50, p99
#      and max of each side, and the check's own duration (wall and the
#      server's CPU time); medians over the starts.
#   4. The binary: `make static`'s stripped size now and at BENCH_BASE,
#      built in a git worktree in the temporary directory (build/third_party
#      copied in, so nothing is fetched again).
#
# The Python side is bench/logintool.py (standard library, plus the mocks and
# the test CA of tests/integ).  A management Codex login listens on the fixed
# callback port 1455 while it waits, so the measurements (parts 1-3) run in a
# network namespace of their own (`unshare -n`, loopback brought up): nothing
# there can collide with another program's ports.  Without one (not root, no
# unshare, or BENCH_NETNS=0) parts 1-3 run on this machine's loopback, and the
# login state is measured only with BENCH_NETNS=0 and port 1455 free.
#
# Servers (the proxy) run on CPU 0, clients (logintool.py: the mocks and the
# timed requests) on CPU 1 (BENCH_PIN, as in bench/run.sh).  Every server runs
# under `timeout`.
#
# Usage: bench/logins.sh      (about a minute, half of it the two builds)
# Environment (all optional):
#   BENCH_MEM_ROUNDS=3     part 1: starts of each state
#   BENCH_KEY_STARTS=7     part 2: fresh servers
#   BENCH_KEY_REPS=200     part 2: timed requests of each kind per server
#   BENCH_LOOP_STARTS=5    part 3: fresh servers
#   BENCH_BASE=b6bae15     the commit before issue 11's work (parts 1, 4)
#   BENCH_BASE_BIN=PATH    its static binary, instead of building it
#   BENCH_BIN=PATH         proxy binary instead of `make static`
#   BENCH_REPO=DIR         repository root (default: the parent of bench/)
#   BENCH_PIN=split        split | same | none, as for bench/run.sh
#   BENCH_NETNS=1          0: no network namespace (see above)
#
# Results: printed at the end and written to build/bench/logins.md; configs,
# logs and every sample (samples.jsonl) in build/bench/logins/.

set -Eeuo pipefail

REPO=$(cd "${BENCH_REPO:-$(dirname "${BASH_SOURCE[0]}")/..}" && pwd)
SELF=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/$(basename "${BASH_SOURCE[0]}")
MEM_ROUNDS=${BENCH_MEM_ROUNDS:-3}
KEY_STARTS=${BENCH_KEY_STARTS:-7}
KEY_REPS=${BENCH_KEY_REPS:-200}
LOOP_STARTS=${BENCH_LOOP_STARTS:-5}
BASE_REV=${BENCH_BASE:-b6bae15}
NETNS=${BENCH_NETNS:-1}
OUT_DIR=$REPO/build/bench
RAW=$OUT_DIR/logins
RESULTS=$OUT_DIR/logins.md
TOOL=$REPO/bench/logintool.py
GUARD=(timeout -k 5 600)  # no server lives longer than 10 minutes
KEY10=Bench-management-key-10
# The cost-12 vector of tests/unit/test_bcrypt.c (the key and its $2y$ hash).
KEY12='Pr0xy-management-key!'
# shellcheck disable=SC2016 # bcrypt hashes, not expansions
HASH10_PREFIX='$2a$10$'   # how a plain key is hashed in place (cost 10)
# shellcheck disable=SC2016
HASH12='$2y$12$uFdtXLmDC64WfWE1JsRsluzXcKhk3ccuu6J9t9JKiPRQjF3QtvAV2'
STATES=(base off on login)
declare -A STATE_LABEL=([base]="$BASE_REV (before issue 11), no management"
	[off]="management off" [on]="management on (plain secret-key, hashed at start)"
	[login]="management on, after one management Codex login (account added)")

# This script runs twice: first as the "outer" phase (tools, builds, sizes,
# results), which then runs itself again as the "inner" phase (parts 1-3) in
# the network namespace.  The inner phase hands its figures back through
# OUTER_TMP/inner.vars.
PHASE=${LOGINS_PHASE:-outer}
if [ "$PHASE" = inner ]; then
	OUTER_TMP=$LOGINS_OUTER_TMP
	TMP=$(mktemp -d "$OUTER_TMP/inner.XXXXXX")
	CLEANUP_PIDS=(SERVER_PID MOCK_PID)
else
	TMP=$(mktemp -d "${TMPDIR:-/tmp}/cpa-loginbench.XXXXXX")
	CLEANUP_PIDS=(INNER_PID)
fi
SERVER_PID=    # proxy, as started (the `timeout` guard around it)
SERVER_REAL=   # the proxy itself
MOCK_PID=      # logintool.py mocks
INNER_PID=     # the inner phase
WORKTREE=      # BENCH_BASE's worktree, while it exists
NOTES=()
declare -A M=()   # memory: M[<state>,rss|hwm|anon] (readings), M[<state>,<f>_med]
declare -A K=()   # key: K[first|cpu|cached|models] (one value per start)
declare -A L=()   # loop: L[check|cpu|n|dp50|dp99|dmax|ip50|ip99|imax]
declare -A LG=()  # login times: LG[url|status|listed] (one per login)
declare -A S=()   # sizes: S[now|base,stripped|raw]

BENCH_NAME="logins bench"
# log, note, die, cleanup, ports, pinning, start_proxy, median, ...
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

# lib.sh's cleanup, then the worktree's record in the repository.
eval "lib_$(declare -f cleanup)"
cleanup() {
	lib_cleanup
	[ -z "$WORKTREE" ] || git -C "$REPO" worktree prune 2>/dev/null || true
}

# ------------------------------------------------------------------ build

build_binary() {
	if [ -n "${BENCH_BIN:-}" ]; then
		[ -x "$BENCH_BIN" ] || die "BENCH_BIN=$BENCH_BIN is not executable"
		BIN=$BENCH_BIN
		BIN_KIND="$BENCH_BIN (BENCH_BIN)"
		note "measured BENCH_BIN=$BENCH_BIN, not a fresh build"
	elif ! try_make_static "$RAW"; then
		note "'make static' failed (log: build/bench/logins/make-static.log): FELL BACK to the dynamic build/cli-proxy-api; its size is not comparable with $BASE_REV's static one"
		log "make -C $REPO"
		if ! make -C "$REPO" >"$RAW/make.log" 2>&1 || [ ! -x "$REPO/build/cli-proxy-api" ]; then
			tail -n 20 "$RAW/make.log" >&2
			die "'make' failed (log: build/bench/logins/make.log)"
		fi
		BIN=$REPO/build/cli-proxy-api
		BIN_KIND="build/cli-proxy-api (plain make, fallback)"
	fi
}

# BENCH_BASE's `make static` in a worktree under TMP; sets BASE_BIN (a
# copy in TMP), or leaves it empty with a note.
build_base() {
	BASE_BIN=
	if [ -n "${BENCH_BASE_BIN:-}" ]; then
		[ -x "$BENCH_BASE_BIN" ] || die "BENCH_BASE_BIN=$BENCH_BASE_BIN is not executable"
		BASE_BIN=$BENCH_BASE_BIN
		note "$BASE_REV's binary: BENCH_BASE_BIN=$BENCH_BASE_BIN, not built here"
		return 0
	fi
	local wt=$TMP/base
	log "make static at $BASE_REV (git worktree in $wt)"
	if ! git -C "$REPO" worktree add --detach "$wt" "$BASE_REV" >"$RAW/worktree.log" 2>&1; then
		note "no worktree of $BASE_REV (see build/bench/logins/worktree.log): no baseline binary"
		return 0
	fi
	WORKTREE=$wt
	mkdir -p "$wt/build"
	[ ! -d "$REPO/build/third_party" ] || cp -a "$REPO/build/third_party" "$wt/build/"
	if make -C "$wt" static >"$RAW/make-static-base.log" 2>&1 &&
		[ -x "$wt/build/static/cli-proxy-api" ]; then
		cp "$wt/build/static/cli-proxy-api" "$TMP/cli-proxy-api.base"
		BASE_BIN=$TMP/cli-proxy-api.base
	else
		tail -n 5 "$RAW/make-static-base.log" | sed 's/^/    make: /' >&2
		note "'make static' at $BASE_REV failed (build/bench/logins/make-static-base.log): no baseline binary"
	fi
	git -C "$REPO" worktree remove --force "$wt" >>"$RAW/worktree.log" 2>&1 || true
	WORKTREE=
}

# Part 4: S[now|base,stripped|raw], from stripped copies.
sizes() {
	local k b
	for k in now base; do
		b=$BIN
		[ "$k" = now ] || b=$BASE_BIN
		[ -n "$b" ] || continue
		cp "$b" "$TMP/size-$k"
		strip "$TMP/size-$k"
		S[$k,raw]=$(stat -c %s "$b")
		S[$k,stripped]=$(stat -c %s "$TMP/size-$k")
	done
}

# --------------------------------------------------------------- helpers

# Writes a proxy config: port, host, no access log, an auth-dir, and with a
# key a [remote-management] section; with a mocks dir its CA and
# [endpoints] (less the keys BENCH_BASE's binary does not know, for base).
proxy_config() { # file port auth-dir key|"" mocks-dir|"" [base]
	local f=$1
	{
		printf 'port = %s\nhost = 127.0.0.1\naccess-log = false\nauth-dir = %s\n' "$2" "$3"
		[ -z "$5" ] || printf 'ca-file = %s\n' "$(cat "$5/ca")"
		[ -z "$4" ] || printf '\n[remote-management]\nsecret-key = %s\n' "$4"
		if [ -n "$5" ]; then
			echo
			if [ "${6:-}" = base ]; then
				grep -v '^google-service-usage ' "$5/endpoints.ini"
			else
				cat "$5/endpoints.ini"
			fi
		fi
	} >"$f"
}

secret_line() { sed -n 's/^secret-key = //p' "$1"; }

# ------------------------------------------------------------------ part 1

start_mocks() {
	local d=$TMP/mocks
	mkdir -p "$d"
	"${PIN_CLIENT[@]}" "${GUARD[@]}" python3 "$TOOL" mocks "$d" 580 >"$RAW/mocks.log" 2>&1 &
	MOCK_PID=$!
	for _ in $(seq 200); do
		[ -s "$d/endpoints.ini" ] && return 0
		kill -0 "$MOCK_PID" 2>/dev/null || break
		sleep 0.1
	done
	cat "$RAW/mocks.log" >&2
	die "the login mocks did not start (see build/bench/logins/mocks.log)"
}

LOGINS=0
# One management Codex login on the proxy at port, through the mocks
# process; its times into LG.
do_login() { # port auth-dir
	local d=$TMP/mocks n fin
	LOGINS=$((LOGINS + 1))
	n=$LOGINS
	fin=$d/done-$n
	printf '%s %s bench%d@example.com\n' "$1" "$KEY10" "$n" >"$d/go-$n.tmp"
	mv "$d/go-$n.tmp" "$d/go-$n"
	for _ in $(seq 600); do
		[ -s "$fin" ] && break
		kill -0 "$MOCK_PID" 2>/dev/null || die "the login mocks exited (see build/bench/logins/mocks.log)"
		sleep 0.05
	done
	[ -s "$fin" ] || die "management login $n did not end within 30 s"
	cp "$fin" "$RAW/login-$n.json"
	python3 -c 'import json, sys
r = json.load(open(sys.argv[1]))
if not r.get("ok"):
    sys.exit("management login: %s" % r.get("error"))
print("%.1f %.1f %.1f" % (r["auth_url_ms"], r["status_ok_ms"], r["listed_ms"]))' "$fin" \
		>"$TMP/login.out" || die "management login $n failed (build/bench/logins/login-$n.json)"
	local u s l
	read -r u s l <"$TMP/login.out"
	LG[url]+=" $u" LG[status]+=" $s" LG[listed]+=" $l"
	[ "$(find "$2" -name 'codex-*.json' | wc -l)" = 1 ] ||
		die "management login $n: no codex-*.json in auth-dir ($(ls "$2"))"
}

mem_run() { # state round
	local st=$1 cfg=$TMP/mem-$1.ini port auth=$TMP/auth-$1 logf=$RAW/proxy-mem-$1-$2.log key=
	local base='' f
	free_port port
	rm -rf "$auth"
	mkdir -p "$auth"
	case $st in on | login) key=$KEY10 ;; base) base=base ;; esac
	proxy_config "$cfg" "$port" "$auth" "$key" "$TMP/mocks" "$base"
	[ "$2" != 1 ] || cp "$cfg" "$RAW/proxy-mem-$st.ini"
	if [ "$st" = base ]; then
		BIN_RUN=$BASE_BIN start_proxy "$cfg" "$port" "$logf"
	else
		start_proxy "$cfg" "$port" "$logf"
	fi
	if [ -n "$key" ]; then
		case $(secret_line "$cfg") in
		"$HASH10_PREFIX"*) ;;
		*) die "$st: the plain secret-key was not hashed at start (see $logf)" ;;
		esac
	fi
	[ "$st" != login ] || do_login "$port" "$auth"
	sleep 1
	for f in VmRSS VmHWM RssAnon; do M[$st,$f]+=" $(proc_kb "$SERVER_REAL" "$f")"; done
	stop_proxy
}

bench_memory() {
	local i st f states=()
	for st in "${STATES[@]}"; do
		case $st in
		base) [ -n "$BASE_BIN" ] || continue ;;
		login)
			if [ "$DO_LOGIN" != 1 ]; then
				note "part 1: the state after a management login was not measured ($LOGIN_WHY)"
				continue
			fi ;;
		esac
		states+=("$st")
	done
	MEM_STATES="${states[*]}"
	start_mocks
	log "part 1: idle memory, $MEM_ROUNDS rounds of ${#states[@]} starts (${states[*]})"
	check_quiet "the memory runs"
	for ((i = 1; i <= MEM_ROUNDS; i++)); do
		for st in "${states[@]}"; do mem_run "$st" "$i"; done
	done
	for st in "${states[@]}"; do
		for f in VmRSS VmHWM RssAnon; do
			M[$st,$f]=${M[$st,$f]# }
			M[$st,${f}_med]=$(echo "${M[$st,$f]}" | median)
		done
	done
	stop_pid "$MOCK_PID"; MOCK_PID=
}

# ------------------------------------------------------------------ part 2

bench_key() {
	local i cfg=$TMP/key10.ini port first cpu cached models status secret=$KEY10
	log "part 2: the management key (cost 10), $KEY_STARTS fresh servers"
	check_quiet "the key runs"
	for ((i = 1; i <= KEY_STARTS; i++)); do
		free_port port
		proxy_config "$cfg" "$port" "$TMP/auth-key" "$secret" ""
		mkdir -p "$TMP/auth-key"
		start_proxy "$cfg" "$port" "$RAW/proxy-key-$i.log"
		secret=$(secret_line "$cfg") # hashed at the first start, kept after
		[ "$i" != 1 ] || cp "$cfg" "$RAW/proxy-key.ini"
		"${PIN_CLIENT[@]}" timeout 120 env LOGINTOOL_RAW="$RAW/samples.jsonl" \
			python3 "$TOOL" keytime "$port" "$KEY10" "$KEY_REPS" "$SERVER_REAL" \
			>"$TMP/key.out" 2>"$RAW/keytime-$i.err" ||
			{ cat "$RAW/keytime-$i.err" >&2; die "part 2: keytime failed"; }
		stop_proxy
		read -r first cpu cached models status <"$TMP/key.out"
		K[first]+=" $first" K[cpu]+=" $cpu" K[cached]+=" $cached" K[models]+=" $models"
	done
	case $secret in "$HASH10_PREFIX"*) ;; *) die "part 2: the key was not hashed at cost 10 ($secret)" ;; esac
}

# ------------------------------------------------------------------ part 3

bench_loop() {
	local i cfg=$TMP/key12.ini port v k
	local keys=(check cpu n dp50 dp99 dmax ip50 ip99 imax)
	log "part 3: the loop during a cost-12 key check, $LOOP_STARTS fresh servers"
	check_quiet "the loop runs"
	mkdir -p "$TMP/auth-key"
	for ((i = 1; i <= LOOP_STARTS; i++)); do
		free_port port
		proxy_config "$cfg" "$port" "$TMP/auth-key" "$HASH12" ""
		[ "$i" != 1 ] || cp "$cfg" "$RAW/proxy-loop.ini"
		start_proxy "$cfg" "$port" "$RAW/proxy-loop-$i.log"
		"${PIN_CLIENT[@]}" timeout 120 env LOGINTOOL_RAW="$RAW/samples.jsonl" \
			python3 "$TOOL" loopcheck "$port" "$KEY12" "$SERVER_REAL" \
			>"$TMP/loop.out" 2>"$RAW/loopcheck-$i.err" ||
			{ cat "$RAW/loopcheck-$i.err" >&2; die "part 3: loopcheck failed"; }
		stop_proxy
		read -r -a v <"$TMP/loop.out"
		for k in "${!keys[@]}"; do L[${keys[$k]}]+=" ${v[$k]}"; done
	done
}

# ------------------------------------------------------------------ inner

inner_main() {
	mkdir -p "$TMP"
	setup_pinning "proxy on CPU 0, clients (logintool.py: mocks, timed requests) on CPU 1" \
		"proxy and clients all on CPU 0"
	DO_LOGIN=1 LOGIN_WHY=
	if [ "$LOGINS_NETNS" != 1 ]; then
		if [ "$NETNS" != 0 ]; then
			DO_LOGIN=0 LOGIN_WHY="no network namespace, and a management Codex login listens on port 1455; BENCH_NETNS=0 measures it on this machine's loopback"
		elif port_in_use 1455; then
			DO_LOGIN=0 LOGIN_WHY="port 1455 is in use on this machine"
		fi
	fi
	bench_memory
	bench_key
	bench_loop
	declare -p M K L LG PINNING MEM_STATES NOTES | sed 's/^declare /declare -g /' \
		>"$OUTER_TMP/inner.vars"
}

# --------------------------------------------------------------- results

list() { echo "$1" | tr -s ' ' | sed 's/^ //; s/ $//; s/ /, /g'; }
range() { echo "$1" | tr ' ' '\n' | grep . | sort -g | sed -n '1p;$p' | uniq | paste -sd- -; }
fmt() { awk -v v="$1" -v f="$2" 'BEGIN { printf f, v }'; }
med() { echo "$1" | median; }

mem_row() { # state
	local s=$1 f r=''
	for f in VmRSS VmHWM RssAnon; do r+=" ${M[$s,${f}_med]} KB |"; done
	for f in VmRSS VmHWM RssAnon; do r+=" $(ratio "${M[$s,${f}_med]}" "${M[off,${f}_med]}") |"; done
	echo "| ${STATE_LABEL[$s]} |$r $((M[$s,VmRSS_med] - M[off,VmRSS_med])) KB | $(list "${M[$s,VmRSS]}") |"
}

write_results() {
	local st models first cached cpu
	models=$(med "${K[models]}") first=$(med "${K[first]}") cached=$(med "${K[cached]}")
	cpu=$(med "${K[cpu]}")
	{
		echo "## Logins and management results ($DATE)"
		echo
		echo "Binary: $BIN_KIND; commit: $COMMIT; baseline: $BASE_REV ($(
			[ -n "$BASE_BIN" ] && echo "make static in a worktree" || echo "not available"))"
		echo "Network namespace of its own for parts 1-3: $([ "$LOGINS_NETNS" = 1 ] && echo yes || echo no)."
		echo
		echo "### 1. Idle memory (KB; 1 s after the port accepts, or after the login; median of $MEM_ROUNDS starts)"
		echo
		echo "Same config in every row (auth-dir empty at start, ca-file, [endpoints] on the login mocks) but for [remote-management]; ratios against management off."
		echo
		echo "| state | VmRSS | VmHWM | RssAnon | VmRSS / off | VmHWM / off | RssAnon / off | VmRSS - off | VmRSS of each start |"
		echo "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |"
		for st in $MEM_STATES; do mem_row "$st"; done
		if [ -n "${LG[status]:-}" ]; then
			echo
			echo "The management Codex login, from the first request (codex-auth-url, which waits for the cost-10 key check) to get-auth-status \"ok\": median $(med "${LG[status]}") ms ($(list "${LG[status]}")); codex-auth-url alone $(med "${LG[url]}") ms; gpt-5 listed by /v1/models at $(med "${LG[listed]}") ms."
		fi
		echo
		echo "### 2. The management key (cost 10), ms; median over $KEY_STARTS fresh servers"
		echo
		echo "One keep-alive connection per server: $KEY_REPS GET /v1/models, the first request with the key (GET /v0/management/get-auth-status), $KEY_REPS more with it. Client: Python, raw socket; its own time is in every figure."
		echo
		echo "| request | median ms | range over servers | / GET /v1/models |"
		echo "| --- | ---: | --- | ---: |"
		echo "| GET /v1/models (baseline; median of $KEY_REPS per server) | $(fmt "$models" %.3f) | $(range "${K[models]}") | 1.00 |"
		echo "| first request with the key (bcrypt check) | $(fmt "$first" %.1f) | $(range "${K[first]}") | $(ratio "$first" "$models") |"
		echo "| the same, server CPU time (schedstat) | $(fmt "$cpu" %.1f) | $(range "${K[cpu]}") | $(ratio "$cpu" "$models") |"
		echo "| request with the key accepted (cached; median of $KEY_REPS per server) | $(fmt "$cached" %.3f) | $(range "${K[cached]}") | $(ratio "$cached" "$models") |"
		echo
		echo "### 3. The loop while a cost-12 key is checked: sequential GET /v1/models on one keep-alive connection, ms; median over $LOOP_STARTS fresh servers"
		echo
		echo "During: from sending the key (another connection) until its answer arrives. Idle: the same number of requests right after, no check running."
		echo
		echo "| figure | idle | during the check | during / idle | during, each server |"
		echo "| --- | ---: | ---: | ---: | --- |"
		echo "| p50 | $(med "${L[ip50]}") | $(med "${L[dp50]}") | $(ratio "$(med "${L[dp50]}")" "$(med "${L[ip50]}")") | $(list "${L[dp50]}") |"
		echo "| p99 | $(med "${L[ip99]}") | $(med "${L[dp99]}") | $(ratio "$(med "${L[dp99]}")" "$(med "${L[ip99]}")") | $(list "${L[dp99]}") |"
		echo "| max | $(med "${L[imax]}") | $(med "${L[dmax]}") | $(ratio "$(med "${L[dmax]}")" "$(med "${L[imax]}")") | $(list "${L[dmax]}") |"
		echo "| requests sampled | $(med "${L[n]}") | $(med "${L[n]}") | | $(list "${L[n]}") |"
		echo
		echo "The check itself: $(fmt "$(med "${L[check]}")" %.1f) ms from sending the key to its answer ($(list "${L[check]}")), $(fmt "$(med "${L[cpu]}")" %.1f) ms of server CPU time ($(list "${L[cpu]}")); wall / CPU $(ratio "$(med "${L[check]}")" "$(med "${L[cpu]}")")."
		echo
		echo "### 4. The binary (make static, stripped copy)"
		echo
		echo "| size | $BASE_REV (before issue 11) | now | now / before | added |"
		echo "| --- | ---: | ---: | ---: | ---: |"
		if [ -n "${S[base,stripped]:-}" ]; then
			echo "| stripped | ${S[base,stripped]} B | ${S[now,stripped]} B | $(ratio "${S[now,stripped]}" "${S[base,stripped]}") | $((S[now,stripped] - S[base,stripped])) B |"
			echo "| unstripped | ${S[base,raw]} B | ${S[now,raw]} B | $(ratio "${S[now,raw]}" "${S[base,raw]}") | $((S[now,raw] - S[base,raw])) B |"
		else
			echo "| stripped | n/a | ${S[now,stripped]} B | | |"
		fi
		echo
		echo "Machine: $CPU_MODEL; $CORES CPUs; kernel $KERNEL; $PINNING."
		echo "Tools: $PY_VERSION."
		notes_md
	} >"$RESULTS"
}

# ------------------------------------------------------------------- main

run_inner() {
	local ns=0
	export LOGINS_PHASE=inner LOGINS_OUTER_TMP=$TMP LOGINS_BIN=$BIN LOGINS_BASE_BIN=$BASE_BIN
	if [ "$NETNS" != 0 ] && [ "$(id -u)" -eq 0 ] && unshare -n true 2>/dev/null; then
		ns=1
	elif [ "$NETNS" != 0 ]; then
		note "no network namespace (needs root and unshare): parts 1-3 ran on this machine's loopback"
	fi
	export LOGINS_NETNS=$ns
	if [ "$ns" = 1 ]; then
		log "parts 1-3 in a network namespace of their own (unshare -n)"
		timeout -k 5 900 unshare -n -- bash -c 'ip link set lo up && exec "$@"' netns bash "$SELF" &
	else
		timeout -k 5 900 bash "$SELF" &
	fi
	INNER_PID=$!
	wait "$INNER_PID" || die "parts 1-3 failed"
	INNER_PID=
	local outer_notes=("${NOTES[@]}")
	# shellcheck disable=SC1091 # written by the inner phase
	source "$TMP/inner.vars"
	NOTES=("${outer_notes[@]}" "${NOTES[@]}")
}

main() {
	local t0=$SECONDS
	mkdir -p "$OUT_DIR" "$RAW"
	rm -f "$RAW"/* "$RESULTS"
	local tools=(musl-gcc:musl-tools python3:python3 openssl:openssl git:git)
	[ "$NETNS" = 0 ] || tools+=(ip:iproute2)
	ensure_tools "${tools[@]}" -- python3 openssl git strip taskset timeout
	machine_info python3
	build_binary
	build_base
	sizes
	log "measuring $BIN ($BIN_KIND)"
	run_inner
	finish_run
}

if [ "$PHASE" = inner ]; then
	BIN=$LOGINS_BIN BASE_BIN=$LOGINS_BASE_BIN
	inner_main
else
	main "$@"
fi
