# shellcheck shell=bash
# shellcheck disable=SC2034 # sets globals (PINNING, CPU_MODEL, ...) for the scripts
#
# bench/lib.sh - helpers shared by bench/run.sh, bench/upstream.sh,
# bench/hub.sh, bench/accounts.sh and bench/logins.sh.  Sourced, never run:
#     source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
#
# What it holds:
#   log, note, die                 messages (note also collects into NOTES)
#   stop_pid, cleanup + traps      stopping processes; the EXIT/ERR/INT/TERM
#                                  traps are installed when this is sourced
#   ensure_tools, setup_pinning    tools (apt-get) and CPU pinning (BENCH_PIN)
#   try_make_static                `make static`, with its log kept
#   port_open, port_in_use, free_port, wait_port
#   child_of, proc_kb, cpu_busy, check_quiet
#   make_certs                     a throwaway CA and a localhost certificate
#   nginx_common                   the common head of an nginx config
#   start_proxy, stop_proxy        the proxy under `timeout` (GUARD)
#   read_wrk, latency_ms           figures from `wrk --latency` output
#   median, ratio, check, mb, machine_info, notes_md
#
# What a script must set before sourcing it:
#   BENCH_NAME    prefix of error messages ("bench", "hub bench", ...)
#   TMP           scratch directory, removed on exit
#   CLEANUP_PIDS  names of the variables holding pids to stop on exit, in
#                 the order they are stopped (e.g. (SERVER_PID MOCK_PID))
#   NOTES=()      remarks for the results (filled by note)
#   REPO          repository root (machine_info, try_make_static)
# and before using the helpers that need them:
#   GUARD, BIN (or BIN_RUN), SERVER_PID, SERVER_REAL   start_proxy/stop_proxy
# setup_pinning sets PIN_SERVER, PIN_CLIENT and PINNING; machine_info sets
# CPU_MODEL, CORES, KERNEL, DATE, NGINX_VERSION, COMMIT and, on request,
# WRK_VERSION, VG_VERSION, PY_VERSION.

log()  { printf '==> %s\n' "$*" >&2; }
note() { NOTES+=("$*"); printf '    NOTE: %s\n' "$*" >&2; }
die()  { printf '%s: error: %s\n' "$BENCH_NAME" "$*" >&2; exit 1; }

# ---------------------------------------------------------------- cleanup

stop_pid() { # pid [seconds]: TERM, wait (default 3 s), then KILL
	local pid=$1 secs=${2:-3}
	[ -n "$pid" ] || return 0
	kill -TERM "$pid" 2>/dev/null || { wait "$pid" 2>/dev/null || true; return 0; }
	for _ in $(seq $((secs * 10))); do
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.1
	done
	kill -KILL "$pid" 2>/dev/null || true
	wait "$pid" 2>/dev/null || true
}

# Stops every process named in CLEANUP_PIDS, then removes TMP.
cleanup() {
	local v
	for v in "${CLEANUP_PIDS[@]}"; do
		stop_pid "${!v:-}"
		printf -v "$v" '%s' ''
	done
	rm -rf "$TMP"
}
trap cleanup EXIT
trap 'echo "$BENCH_NAME: command failed at line $LINENO: $BASH_COMMAND" >&2' ERR
trap 'exit 130' INT
trap 'exit 143' TERM

# ------------------------------------------------------------------ tools

# Installs (apt-get, as root or with sudo) the package of each command that
# is missing, then checks that every tool after "--" is on PATH.
ensure_tools() { # command:package... -- tool...
	local missing=() cmd
	while [ $# -gt 0 ] && [ "$1" != -- ]; do
		cmd=${1%%:*}
		command -v "$cmd" >/dev/null || [ -x "/usr/sbin/$cmd" ] || missing+=("${1#*:}")
		shift
	done
	[ $# -eq 0 ] || shift
	if [ ${#missing[@]} -gt 0 ]; then
		local sudo=()
		if [ "$(id -u)" -ne 0 ]; then
			command -v sudo >/dev/null || die "need root or sudo to install: ${missing[*]}"
			sudo=(sudo)
		fi
		log "installing: ${missing[*]}"
		"${sudo[@]}" apt-get update
		"${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y "${missing[@]}"
	fi
	PATH=$PATH:/usr/sbin:/sbin
	local t
	for t in "$@"; do
		command -v "$t" >/dev/null || die "required tool not found: $t"
	done
}

# Pinning (BENCH_PIN): "split" (default) puts the servers on CPU 0 and the
# clients on CPU 1 when there are 2+ CPUs; "same" puts all on CPU 0; "none"
# leaves placement to the scheduler.  The arguments describe the split and
# same placements, and who shares the one CPU, for PINNING and the notes.
setup_pinning() { # split-text same-text [who shares one CPU]
	local mode=${BENCH_PIN:-split}
	PIN_SERVER=()
	PIN_CLIENT=()
	case $mode in
	split)
		if [ "$(nproc)" -ge 2 ]; then
			PIN_SERVER=(taskset -c 0)
			PIN_CLIENT=(taskset -c 1)
			PINNING=$1
		else
			PINNING="not pinned (1 CPU)"
			note "only one CPU: ${3:-servers and clients} share it, figures are pessimistic"
		fi ;;
	same)
		PIN_SERVER=(taskset -c 0)
		PIN_CLIENT=(taskset -c 0)
		PINNING="$2 (BENCH_PIN=same)" ;;
	none)
		PINNING="not pinned (BENCH_PIN=none)" ;;
	*) die "BENCH_PIN must be split, same or none, not '$mode'" ;;
	esac
}

# ------------------------------------------------------------------ build

# `make static`, output in logdir/make-static.log.  On success sets BIN and
# BIN_KIND; on failure shows the log's tail and returns 1.
try_make_static() { # logdir
	log "make -C $REPO static"
	if make -C "$REPO" static >"$1/make-static.log" 2>&1 &&
		[ -x "$REPO/build/static/cli-proxy-api" ]; then
		BIN=$REPO/build/static/cli-proxy-api
		BIN_KIND="build/static/cli-proxy-api (make static)"
		return 0
	fi
	tail -n 5 "$1/make-static.log" | sed 's/^/    make: /' >&2
	return 1
}

# ------------------------------------------------------------------ ports

port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

port_in_use() { # port: any TCP socket (listening, connected, TIME_WAIT) on it
	local hex
	hex=$(printf ':%04X ' "$1")
	grep -qs -- "$hex" /proc/net/tcp /proc/net/tcp6 || port_open "$1"
}

# A random port below the kernel's ephemeral range, so no client socket
# (wrk's, or anyone's) can be sitting on it; not in use, and not handed out
# before by this script (two ports picked before either server binds must
# differ).  Sets the named variable: a $(...) subshell could not remember.
declare -gA USED_PORTS=()
free_port() { # variable-name
	local lo p
	lo=$(awk '{ print $1 }' /proc/sys/net/ipv4/ip_local_port_range 2>/dev/null || echo 32768)
	[ "$lo" -gt 12000 ] || lo=32768
	for _ in $(seq 200); do
		p=$((10000 + RANDOM % (lo - 10000)))
		[ -z "${USED_PORTS[$p]:-}" ] || continue
		port_in_use "$p" && continue
		USED_PORTS[$p]=1
		printf -v "$1" '%s' "$p"
		return 0
	done
	die "no free port found"
}

wait_port() { # port pid logfile [seconds]: wait (default 10 s) for the port to accept
	local port=$1 pid=$2 logf=$3 secs=${4:-10}
	for _ in $(seq $((secs * 10))); do
		if ! kill -0 "$pid" 2>/dev/null; then
			sed 's/^/    log: /' "$logf" >&2 || true
			die "process $pid exited before port $port accepted"
		fi
		port_open "$port" && return 0
		sleep 0.1
	done
	die "port $port did not accept within $secs s (log: $logf)"
}

# -------------------------------------------------------------- processes

child_of() { # pid: its first child (the program under `timeout`)
	local c=
	for _ in $(seq 100); do
		c=$(cat "/proc/$1/task/$1/children" 2>/dev/null || true)
		[ -n "$c" ] && { echo "${c%% *}"; return 0; }
		sleep 0.02
	done
	die "process $1 started no child"
}

proc_kb() { # pid field (VmRSS, VmHWM): value in KB
	awk -v f="$2:" '$1 == f { print $2 }' "/proc/$1/status"
}

# Percent of all CPUs busy over one second, from /proc/stat (nothing of ours
# runs then): other work on the machine makes the figures noisy.
cpu_busy() {
	local a b
	a=$(head -n 1 /proc/stat); sleep 1; b=$(head -n 1 /proc/stat)
	awk -v a="$a" -v b="$b" 'BEGIN {
		n = split(a, x); split(b, y)
		for (i = 2; i <= n; i++) { d = y[i] - x[i]; t += d; if (i == 5 || i == 6) idle += d }
		printf "%.0f", (t > 0 ? 100 * (t - idle) / t : 0) }'
}

check_quiet() { # label ("the proxy runs"): notes a busy machine
	local busy
	busy=$(cpu_busy)
	[ "$busy" -le 10 ] ||
		note "before $1, $busy% of the CPU time was used by other processes: figures may be noisy"
}

# ------------------------------------------------------------------- TLS

# Throwaway CA and an EC P-256 server certificate for "localhost", in
# TMP/pki; sets CA, CERT and KEY (their paths).
make_certs() {
	local d=$TMP/pki
	mkdir -p "$d"
	(
		cd "$d"
		openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out ca.key
		openssl req -x509 -new -key ca.key -subj "/CN=cli-proxy-api bench CA" \
			-days 2 -sha256 -out ca.pem \
			-addext "basicConstraints=critical,CA:TRUE" \
			-addext "keyUsage=critical,keyCertSign,cRLSign"
		openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out server.key
		openssl req -new -key server.key -subj "/CN=localhost" -out server.csr
		printf '%s\n' "subjectAltName=DNS:localhost" "basicConstraints=CA:FALSE" \
			"keyUsage=critical,digitalSignature" "extendedKeyUsage=serverAuth" >ext.cnf
		openssl x509 -req -in server.csr -CA ca.pem -CAkey ca.key -set_serial 0x1234 \
			-days 2 -sha256 -extfile ext.cnf -out server.pem
	) >"$TMP/openssl.log" 2>&1 || { cat "$TMP/openssl.log" >&2; die "openssl failed"; }
	CA=$d/ca.pem CERT=$d/server.pem KEY=$d/server.key
}

# ------------------------------------------------------------------ nginx

# The head of an nginx config (one worker, no access log, keep-alive that
# never closes a benchmark connection), up to inside the http block; the
# caller adds the rest of the http block and closes it.
nginx_common() { # dir [worker_connections]
	local d=$1 user_line='' m temp="client_body_temp_path $1/tmp/body;"
	[ "$(id -u)" -eq 0 ] && user_line="user root;" # workers must read $d
	for m in proxy fastcgi uwsgi scgi; do
		nginx -V 2>&1 | grep -q -- "--without-http_${m}_module" ||
			temp="$temp ${m}_temp_path $d/tmp/$m;"
	done
	mkdir -p "$d/logs" "$d/tmp"
	cat <<-EOF
	worker_processes 1;
	daemon off;
	$user_line
	pid $d/nginx.pid;
	error_log $d/logs/error.log warn;
	events { worker_connections ${2:-1024}; }
	http {
	    access_log off;
	    server_tokens off;
	    sendfile on;
	    tcp_nodelay on;
	    keepalive_timeout 65;
	    keepalive_requests 100000000;
	    $temp
	EOF
}

# ------------------------------------------------------------------ proxy

# Starts BIN_RUN (default BIN) under GUARD, pinned like the servers; sets
# SERVER_PID (the `timeout`) and SERVER_REAL (the proxy itself).  A prefix
# command (e.g. valgrind ...) goes after the wait-seconds argument.
start_proxy() { # config port log [wait-seconds] [prefix command...]
	local cfg=$1 port=$2 logf=$3 secs=${4:-10}
	shift 4 2>/dev/null || shift $#
	"${PIN_SERVER[@]}" "${GUARD[@]}" "$@" "${BIN_RUN:-$BIN}" --config "$cfg" >"$logf" 2>&1 &
	SERVER_PID=$!
	SERVER_REAL=$(child_of "$SERVER_PID")
	wait_port "$port" "$SERVER_PID" "$logf" "$secs"
}

stop_proxy() { # [seconds]
	stop_pid "$SERVER_PID" "$@"
	SERVER_PID='' SERVER_REAL=''
}

# -------------------------------------------------------------------- wrk

# Figures of one `wrk --latency` run: sets W_RPS, W_P50, W_P99 (ms) and
# W_BAD (non-2xx responses + socket errors).
read_wrk() { # wrk-output-file
	W_RPS=$(awk '$1 == "Requests/sec:" { printf "%.0f", $2 }' "$1")
	W_P50=$(latency_ms 50% "$1")
	W_P99=$(latency_ms 99% "$1")
	W_BAD=$(awk '/Non-2xx or 3xx responses:/ { n += $NF }
		/Socket errors:/ { gsub(/,/, ""); n += $4 + $6 + $8 + $10 }
		END { print n + 0 }' "$1")
	[ -n "$W_RPS" ] || die "could not read Requests/sec from $1"
}

latency_ms() { # percentile file: that percentile from wrk --latency, in ms
	awk -v p="$1" '$1 == p {
		v = $2
		if (v ~ /us$/)      { sub(/us$/, "", v); v /= 1000 }
		else if (v ~ /ms$/) { sub(/ms$/, "", v) }
		else if (v ~ /m$/)  { sub(/m$/, "", v); v *= 60000 }
		else if (v ~ /s$/)  { sub(/s$/, "", v); v *= 1000 }
		printf "%.3f", v; exit }' "$2"
}

# ---------------------------------------------------------------- results

# The median of the numbers on stdin (separated by spaces or newlines).
median() { tr ' ' '\n' | grep . | sort -g | awk '{ v[NR] = $1 } END {
	print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "n/a" }'; }
check() { # value op limit -> PASS/FAIL
	awk -v v="$1" -v l="$3" -v op="$2" 'BEGIN {
		ok = (op == "<=") ? (v <= l) : (v >= l); print ok ? "PASS" : "FAIL" }'
}
mb() { awk -v k="$1" 'BEGIN { printf "%.1f", k / 1024 }'; }

# The machine and the commit; the arguments ask for more tool versions:
# wrk (WRK_VERSION), valgrind (VG_VERSION), python3 (PY_VERSION).
machine_info() { # [wrk] [valgrind] [python3]
	CPU_MODEL=$(lscpu 2>/dev/null | sed -n 's/^Model name:[[:space:]]*//p' | head -n 1)
	[ -n "$CPU_MODEL" ] || CPU_MODEL=$(sed -n 's/^model name[[:space:]]*:[[:space:]]*//p' /proc/cpuinfo | head -n 1)
	CORES=$(nproc)
	KERNEL=$(uname -r)
	DATE=$(date -u '+%Y-%m-%d %H:%M UTC')
	NGINX_VERSION=none
	if command -v nginx >/dev/null; then
		NGINX_VERSION=$(nginx -v 2>&1 | sed 's/^nginx version: //')
	fi
	local t
	for t in "$@"; do
		case $t in
		wrk) WRK_VERSION=$({ wrk -v 2>&1 || true; } | head -n 1 | awk '{ print $1 " " $2 }') ;;
		valgrind) VG_VERSION=$(valgrind --version 2>/dev/null || echo valgrind) ;;
		python3) PY_VERSION=$(python3 -V 2>&1) ;;
		*) die "machine_info: no version for '$t'" ;;
		esac
	done
	COMMIT=$(git -C "$REPO" rev-parse --short HEAD 2>/dev/null || echo "none (no commit yet)")
	if [ -n "$(git -C "$REPO" status --porcelain 2>/dev/null)" ]; then
		COMMIT="$COMMIT, with uncommitted changes"
	fi
}

# The "Notes:" section of a results file, if there are notes.
finish_run() { # the end of every bench: results written, shown, where
	write_results
	echo
	cat "$RESULTS"
	echo
	echo "(written to ${RESULTS#"$REPO"/}; raw output in ${RAW#"$REPO"/}/; took $((SECONDS - t0)) s)"
}

read_startup() { # file: "name what median min p90" lines into SU (the
	# caller's associative array): SU[name,what,median|min|p90], and
	# SU[name,status] from the "name status ..." line
	local name what med min p90
	while read -r name what med min p90; do
		if [ "$what" = status ]; then
			SU[$name,status]="$med${min:+ $min}${p90:+ $p90}"
			continue
		fi
		SU[$name,$what,median]=$med SU[$name,$what,min]=$min SU[$name,$what,p90]=$p90
	done <"$1"
}

notes_md() {
	[ ${#NOTES[@]} -gt 0 ] || return 0
	echo
	echo "Notes:"
	local n
	for n in "${NOTES[@]}"; do echo "- $n"; done
}
