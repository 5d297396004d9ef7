#!/usr/bin/env bash
# scripts/test.sh — run every check and test duban has, on any machine with Go and Debian.
#
# It needs a Redis for the store tests. It uses $REDIS_URL if that answers, else a server on
# 127.0.0.1:6379 if one answers, else it starts a throwaway redis-server on a free port
# (installing Debian's redis-server package first if the binary is missing and it runs as
# root) and stops it at the end. With CI=true a missing Redis fails the run; it never skips.
#
#   scripts/test.sh            vet, gofmt, go test -race ./... (short: under 10 minutes)
#   DUBAN_LONG=1 scripts/test.sh   also the long soak and load runs
#   scripts/test.sh -run TestX ./config   extra arguments go to go test
set -euo pipefail
cd "$(dirname "$0")/.."

log() { printf '== %s\n' "$*" >&2; }

# redis_answers HOST PORT: true when a Redis there answers PING (bash's /dev/tcp: no client needed).
redis_answers() {
	local reply
	{ exec 3<>"/dev/tcp/$1/$2"; } 2>/dev/null || return 1
	printf 'PING\r\n' >&3
	IFS= read -r -t 2 reply <&3 || true
	exec 3<&- 3>&-
	[[ $reply == +PONG* ]]
}

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

url=${REDIS_URL:-}
if [[ -n $url ]]; then
	hostport=${url#*://}; hostport=${hostport#*@}; hostport=${hostport%%/*}
	if ! redis_answers "${hostport%:*}" "${hostport##*:}"; then
		log "REDIS_URL=$url does not answer"
		url=""
	fi
fi
if [[ -z $url ]] && redis_answers 127.0.0.1 6379; then
	url="redis://127.0.0.1:6379/0"
fi
if [[ -z $url ]] && command -v redis-server >/dev/null; then
	port=""
	for p in $(seq 16379 16479); do
		if ! { exec 3<>"/dev/tcp/127.0.0.1/$p"; } 2>/dev/null; then port=$p; break; fi
		exec 3<&- 3>&-
	done
	[[ -n $port ]] || { log "no free port for a throwaway redis-server"; exit 1; }
	redis_dir=$(mktemp -d)
	log "starting a throwaway redis-server on 127.0.0.1:$port"
	redis-server --bind 127.0.0.1 --port "$port" --save "" --appendonly no --dir "$redis_dir" \
		--logfile "$redis_dir/redis.log" &
	started_pid=$!
	for _ in $(seq 100); do redis_answers 127.0.0.1 "$port" && break; sleep 0.1; done
	redis_answers 127.0.0.1 "$port" || { log "redis-server did not start:"; cat "$redis_dir/redis.log" >&2; exit 1; }
	url="redis://127.0.0.1:$port/0"
fi
if [[ -z $url ]]; then
	if [[ ${CI:-} == true ]]; then log "no Redis answers and none could be started; CI=true needs one"; exit 1; fi
	log "warning: no Redis: the Redis tests will skip (CI=true would fail here)"
else
	export REDIS_URL=$url
	log "Redis for the tests: $REDIS_URL"
fi

log "gofmt"
unformatted=$(gofmt -l .)
if [[ -n $unformatted ]]; then
	log "gofmt would change these files:"; echo "$unformatted" >&2; exit 1
fi

log "go vet ./..."
go vet ./...

log "go test -race ./..."
if [[ $# -eq 0 ]]; then set -- ./...; fi
go test -race -count=1 -timeout 10m "$@"
