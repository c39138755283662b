# shellcheck shell=bash disable=SC2034  # its variables are used by the scripts sourcing it
# Helpers shared by the .ci scripts (sourced, never run on its own).

# Where the CI mail server keeps its state, and where it logs. Fixed paths so the
# integration tests find the env file without being told (SMTPCHECK_IT_ENV overrides).
CI_DIR=${SMTPCHECK_CI_DIR:-/var/lib/smtpcheck-ci}
CI_LOG_DIR=${SMTPCHECK_CI_LOG_DIR:-/var/log/smtpcheck-ci}
CI_ENV_FILE=${SMTPCHECK_IT_ENV:-$CI_DIR/env}

log() {
    printf '[ci %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2
}

die() {
    log "ERROR: $*"
    exit 1
}

require_root() {
    [[ $(id -u) -eq 0 ]] || die "run as root: it installs Debian packages and starts system daemons"
}

# True when every named Debian package is installed (not merely known or half-configured).
packages_installed() {
    local pkg
    for pkg in "$@"; do
        [[ $(dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null) == "install ok installed" ]] || return 1
    done
}

# Install the named Debian packages that are missing, non-interactively. No daemon is
# started by the package scripts (we start ours by hand with our own configuration), and
# the package lists are refreshed only when an install from the current lists fails.
apt_install() {
    local missing=() pkg
    for pkg in "$@"; do
        packages_installed "$pkg" || missing+=("$pkg")
    done
    ((${#missing[@]})) || return 0
    log "installing Debian packages: ${missing[*]}"
    (
        export DEBIAN_FRONTEND=noninteractive
        local policy=/usr/sbin/policy-rc.d
        if [[ ! -e $policy ]]; then
            # Keep invoke-rc.d from starting a distribution-configured daemon (e.g. an IMAP
            # server on 143) during the install; removed again when this subshell exits.
            printf '#!/bin/sh\nexit 101\n' >"$policy"
            chmod 0755 "$policy"
            trap 'rm -f "$policy"' EXIT
        fi
        local apt=(apt-get -y -q -o DPkg::Lock::Timeout=300 -o Dpkg::Use-Pty=0)
        if ! "${apt[@]}" install --no-install-recommends "${missing[@]}"; then
            log "install from the current package lists failed; refreshing them and retrying"
            "${apt[@]}" update
            "${apt[@]}" install --no-install-recommends "${missing[@]}"
        fi
    )
    packages_installed "${missing[@]}" || die "packages still missing after install: ${missing[*]}"
}

# Print N distinct TCP ports that are free on 127.0.0.1 right now (all held open at once so
# they differ). A later bind may still lose a race; callers verify and retry.
free_ports() {
    python3 - "$1" <<'PY'
import socket
import sys

socks = [socket.socket() for _ in range(int(sys.argv[1]))]
for sock in socks:
    sock.bind(("127.0.0.1", 0))
print(" ".join(str(sock.getsockname()[1]) for sock in socks))
for sock in socks:
    sock.close()
PY
}
