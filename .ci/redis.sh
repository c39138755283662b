#!/usr/bin/env bash
# Make sure a Redis answers on 127.0.0.1:6379 for the store tests: use the one the machine
# already runs, else start one (installing Debian's redis-server first if it is missing).
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=.ci/lib.sh
. "$here/lib.sh"

redis_ping() {
    local reply=""
    # bash's /dev/tcp: no client package needed just to ask "are you there?"
    { exec 3<>/dev/tcp/127.0.0.1/6379; } 2>/dev/null || return 1
    printf 'PING\r\n' >&3
    IFS= read -r -t 2 reply <&3 || true
    exec 3<&- 3>&-
    [[ $reply == "+PONG"* ]]
}

if redis_ping; then
    log "redis: already answering on 127.0.0.1:6379"
    exit 0
fi

require_root
apt_install redis-server
log "redis: starting redis-server on 127.0.0.1:6379 (nothing kept on disk)"
start_log=$(mktemp)
trap 'rm -f "$start_log"' EXIT
# Own stdio for the daemon: a CI runner reading our output through a pipe must see EOF.
redis-server --daemonize yes --bind 127.0.0.1 -::1 --port 6379 --save "" --appendonly no \
    </dev/null >"$start_log" 2>&1 || { cat "$start_log" >&2; die "redis-server did not start"; }

for _ in $(seq 50); do
    redis_ping && { log "redis: up"; exit 0; }
    sleep 0.2
done
die "redis-server started but does not answer PING on 127.0.0.1:6379"
