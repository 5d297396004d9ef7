#!/usr/bin/env bash
# scripts/test.sh — run every check and test duban has, on any machine with Go and Debian.
#
# It needs a Redis for the store tests. It uses the one $REDIS_URL names (and fails if that
# does not answer), else it starts a throwaway redis-server of its own on a free port
# (installing Debian's redis-server package first if the binary is missing and it runs as
# root) and stops it at the end. It never uses a server it did not start that REDIS_URL does
# not name: one answering on 127.0.0.1:6379 is somebody's own Redis, with their data in db 0.
# The tests write only under prefixes of their own (test:<random>:), and delete them.
# With CI=true a missing Redis fails the run; it never skips.
#
#   scripts/test.sh            vet, gofmt, go test -race ./..., then 10,000 inputs of each fuzz target
#   DUBAN_LONG=1 scripts/test.sh   also the long soak and load runs
#   scripts/test.sh -run TestX ./config   extra arguments go to go test
set -euo pipefail
cd "$(dirname "$0")/.."

log() { printf '== %s\n' "$*" >&2; }

# redis_answers HOST PORT: true when a Redis there answers PING (bash's /dev/tcp: no client
# needed); one that wants a password answers NOAUTH, which is an answer too.
redis_answers() {
	local reply
	{ exec 3<>"/dev/tcp/$1/$2"; } 2>/dev/null || return 1
	printf 'PING\r\n' >&3
	IFS= read -r -t 2 reply <&3 || true
	exec 3<&- 3>&-
	[[ $reply == +PONG* || $reply == -NOAUTH* ]]
}

# redacted URL: the URL without its password, for the log.
redacted() { sed -E 's#(://[^:/@]*):[^@/]*@#\1:***@#' <<<"$1"; }

ensure_redis_server_binary() {
	command -v redis-server >/dev/null && return 0
	if [[ $(id -u) == 0 ]] && command -v apt-get >/dev/null; then
		log "installing Debian's redis-server package"
		apt-get update -qq >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq redis-server >/dev/null
		# Debian's package starts a service of its own where it can; the tests use their own servers.
	fi
	command -v redis-server >/dev/null
}

started_pid=""
redis_dir=""
# cleanup stops what the script started. It must not change the exit status: an EXIT trap's
# last command's status becomes the script's.
cleanup() {
	local status=$?
	if [[ -n $started_pid ]]; then
		kill "$started_pid" 2>/dev/null || true
		wait "$started_pid" 2>/dev/null || true
	fi
	if [[ -n $redis_dir ]]; then
		rm -rf "$redis_dir"
	fi
	exit "$status"
}
trap cleanup EXIT

# The restart tests start redis-server themselves, so the binary is wanted even when a server runs.
if ! ensure_redis_server_binary; then
	if [[ ${CI:-} == true ]]; then
		log "redis-server is not installed and cannot be installed here (not root, or no apt-get); CI=true needs it"
		exit 1
	fi
	log "warning: no redis-server binary: the Redis restart tests will skip"
fi

# The workbook tests read the xlsx back with a second reader, Python's openpyxl: Debian's
# python3-openpyxl (a python3 of pyenv or a venv does not see it, so /usr/bin's is tried too).
has_openpyxl() { python3 -c 'import openpyxl' 2>/dev/null || /usr/bin/python3 -c 'import openpyxl' 2>/dev/null; }
if ! has_openpyxl && [[ $(id -u) == 0 ]] && command -v apt-get >/dev/null; then
	log "installing Debian's python3-openpyxl package"
	{ apt-get update -qq >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3-openpyxl >/dev/null; } || true
fi
if ! has_openpyxl; then
	if [[ ${CI:-} == true ]]; then
		log "python3-openpyxl is not installed and cannot be installed here (not root, or no apt-get); CI=true needs it"
		exit 1
	fi
	log "warning: no openpyxl: the workbook tests will not read it back with a second reader"
fi

# The web view's browser test drives Debian's chromium, with a CJK font so that Chinese is
# drawn as glyphs rather than boxes. With CI=true a missing browser fails the run.
ensure_chromium() {
	command -v chromium >/dev/null && fc-list :lang=zh 2>/dev/null | grep -q . && return 0
	if [[ $(id -u) == 0 ]] && command -v apt-get >/dev/null; then
		log "installing Debian's chromium and fonts-noto-cjk packages"
		apt-get update -qq >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium fonts-noto-cjk >/dev/null
	fi
	command -v chromium >/dev/null
}
if ! ensure_chromium; then
	if [[ ${CI:-} == true ]]; then
		log "chromium is not installed and cannot be installed here (not root, or no apt-get); CI=true needs it"
		exit 1
	fi
	log "warning: no chromium: the web view's browser test will skip"
fi

url=${REDIS_URL:-}
if [[ -n $url ]]; then
	# The Redis the user named, and only it: a wrong REDIS_URL is an error, not a reason to
	# write into some other server.
	hostport=${url#*://}; hostport=${hostport#*@}; hostport=${hostport%%/*}; hostport=${hostport%%\?*}
	if [[ $url == unix://* ]]; then
		[[ -S ${url#unix://} ]] || { log "REDIS_URL=$(redacted "$url") names no socket: start that Redis, or unset REDIS_URL for a throwaway one"; exit 1; }
	elif [[ $url == rediss://* ]]; then
		{ exec 3<>"/dev/tcp/${hostport%:*}/${hostport##*:}"; } 2>/dev/null ||
			{ log "REDIS_URL=$(redacted "$url") does not answer: start that Redis, or unset REDIS_URL for a throwaway one"; exit 1; }
		exec 3<&- 3>&-
	elif ! redis_answers "${hostport%:*}" "${hostport##*:}"; then
		log "REDIS_URL=$(redacted "$url") does not answer: start that Redis, or unset REDIS_URL for a throwaway one"
		exit 1
	fi
elif command -v redis-server >/dev/null; then
	redis_dir=$(mktemp -d)
	# A port nothing answers on. If another process takes it before redis-server binds it,
	# redis-server exits without logging that it is ready, and the next port is tried: the
	# server the tests get is always this one.
	for port in $(seq 16379 16479); do
		if { exec 3<>"/dev/tcp/127.0.0.1/$port"; } 2>/dev/null; then exec 3<&- 3>&-; continue; fi
		log "starting a throwaway redis-server on 127.0.0.1:$port"
		redis_log=$redis_dir/redis-$port.log
		redis-server --bind 127.0.0.1 --port "$port" --save "" --appendonly no --dir "$redis_dir" \
			--logfile "$redis_log" &
		started_pid=$!
		for _ in $(seq 100); do
			kill -0 "$started_pid" 2>/dev/null || break
			grep -q "Ready to accept connections" "$redis_log" 2>/dev/null && break
			sleep 0.1
		done
		if kill -0 "$started_pid" 2>/dev/null && grep -q "Ready to accept connections" "$redis_log" 2>/dev/null &&
			redis_answers 127.0.0.1 "$port"; then
			url="redis://127.0.0.1:$port/0"
			break
		fi
		kill "$started_pid" 2>/dev/null || true
		wait "$started_pid" 2>/dev/null || true
		started_pid=""
		grep -q "Address already in use" "$redis_log" 2>/dev/null && continue # taken meanwhile: the next port
		log "redis-server did not start:"; cat "$redis_log" >&2 2>/dev/null || true
		break
	done
fi
if [[ -z $url ]]; then
	if [[ ${CI:-} == true ]]; then log "no Redis answers and none could be started; CI=true needs one"; exit 1; fi
	log "warning: no Redis: the Redis tests will skip (CI=true would fail here)"
else
	export REDIS_URL=$url
	log "Redis for the tests: $(redacted "$REDIS_URL")"
fi

log "gofmt"
unformatted=$(gofmt -l .)
if [[ -n $unformatted ]]; then
	log "gofmt would change these files:"; echo "$unformatted" >&2; exit 1
fi

log "go vet ./..."
go vet ./...

log "go test -race ./..."
if [[ $# -eq 0 ]]; then
	go test -race -count=1 -timeout 10m ./...
	# A short run of every fuzz target (their committed corpora already ran above, as tests);
	# DUBAN_FUZZTIME=1m (or 1000000x) for longer. A failing input is kept in the package's
	# testdata/fuzz. The default is a count of inputs, not a duration: Go 1.26's fuzzing
	# coordinator can fail a run with a bare "context deadline exceeded" at the end of a
	# duration, with no failing input (golang/go#75804, fixed in Go 1.27); a count has no
	# deadline to race.
	fuzztime=${DUBAN_FUZZTIME:-10000x}
	for target in ./report:FuzzParse ./report:FuzzSplit ./config:FuzzParseDuration ./config:FuzzParseTime \
		./config:FuzzParseConfig ./config:FuzzParsePlan ./bot:FuzzCallbackData ./bot:FuzzDecodeUpdates \
		./plantable:FuzzDeadline ./plantable:FuzzDepartments; do
		log "fuzz ${target#*:} (${fuzztime})"
		if ! out=$(go test -run '^$' -fuzz "^${target#*:}\$" -fuzztime "$fuzztime" "${target%%:*}" 2>&1); then
			echo "$out" >&2; exit 1
		fi
	done
	echo "fuzz: 10 targets, ${fuzztime} each: no failure"
else
	go test -race -count=1 -timeout 10m "$@"
fi
