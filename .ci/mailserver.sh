#!/usr/bin/env bash
# The integration tier's mail server: Postfix on 127.0.0.1 with a submission service
# (STARTTLS required before AUTH) and an implicit-TLS service, both authenticating through
# Dovecot's SASL socket (any user in the test domain, one random password), with our own
# CA and server certificate.
#
# It is a separate Postfix and Dovecot instance: config, queue, data and logs live under
# $CI_DIR and $CI_LOG_DIR, so /etc/postfix, /etc/dovecot, a system MTA and port 25 are never
# touched. Idempotent: every run stops our instance, picks fresh free ports and a fresh
# password, rewrites the configuration, starts it, smoke-checks it and only then writes the
# env file the tests read (so a failed set-up leaves no stale env file behind).
#
#   bash .ci/mailserver.sh         set up (or refresh) and start the instance
#   bash .ci/mailserver.sh stop    stop it and remove its env file (state stays for a restart)
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=.ci/lib.sh
. "$here/lib.sh"

readonly MAIL_HOSTNAME=mail.smtpcheck.test
readonly USER_DOMAIN=smtpcheck.test
readonly TEST_USER=probe@$USER_DOMAIN
readonly LISTEN_IP=127.0.0.1
# Dovecot auth-debug lines the tests count to prove one probe makes exactly one attempt:
# one per AUTH command any client sends, and one per attempt naming the user (so a test
# that signs in as a user of its own counts only its own attempts on a shared server).
readonly AUTH_MARK="client in: AUTH"
readonly USER_AUTH_MARK="({user},127.0.0.1): Performing passdb lookup"
readonly CERT_SANS="DNS:$MAIL_HOSTNAME,DNS:localhost,IP:127.0.0.1,IP:::1"

tls_dir=$CI_DIR/tls
pf_conf=$CI_DIR/postfix
pf_queue=$CI_DIR/spool
pf_data=$CI_DIR/data
dv_dir=$CI_DIR/dovecot
dv_conf=$dv_dir/dovecot.conf
dv_run=$dv_dir/run
pf_log=$CI_LOG_DIR/postfix.log
dv_log=$CI_LOG_DIR/dovecot.log
start_log=$CI_LOG_DIR/start.log

install_packages() {
    if ! packages_installed postfix; then
        # "No configuration": the package must not write /etc/postfix/main.cf or start an
        # MTA on port 25; our instance brings its own configuration.
        debconf-set-selections <<EOF
postfix postfix/main_mailer_type select No configuration
postfix postfix/mailname string $MAIL_HOSTNAME
EOF
    fi
    apt_install postfix dovecot-core openssl
}

postfix_running() {
    postfix -c "$pf_conf" status >/dev/null 2>&1
}

dovecot_pid() {
    local pid
    [[ -r $dv_run/master.pid ]] || return 1
    pid=$(<"$dv_run/master.pid")
    kill -0 "$pid" 2>/dev/null || return 1
    printf '%s\n' "$pid"
}

wait_until() {  # wait_until SECONDS DESCRIPTION COMMAND... (false, and says so, on timeout)
    local tries=$(($1 * 5)) what=$2
    shift 2
    while ((tries-- > 0)); do
        "$@" && return 0
        sleep 0.2
    done
    log "mail: timed out waiting until $what"
    return 1
}

# Run a command that starts daemons. They must not inherit our stdout/stderr (a CI runner
# reading this script's output through a pipe would wait for EOF forever) nor the set-up
# lock on fd 9 (the next set-up would wait for it forever). Its output is shown on failure.
run_daemon_cmd() {
    "$@" </dev/null >"$start_log" 2>&1 9>&- && return 0
    cat "$start_log" >&2
    return 1
}

not() { ! "$@"; }

stop_instance() {
    if [[ -f $pf_conf/main.cf ]] && postfix_running; then
        log "mail: stopping our Postfix"
        postfix -c "$pf_conf" stop >/dev/null 2>&1 || true
        wait_until 20 "our Postfix has stopped" not postfix_running || die "cannot stop our Postfix"
    fi
    if dovecot_pid >/dev/null; then
        log "mail: stopping our Dovecot"
        dovecot -c "$dv_conf" stop || true
        wait_until 20 "our Dovecot has stopped" not dovecot_pid || die "cannot stop our Dovecot"
    fi
}

certificates_current() {
    local f
    for f in ca.pem ca.key server.pem server.key sans; do
        [[ -s $tls_dir/$f ]] || return 1
    done
    [[ $(<"$tls_dir/sans") == "$CERT_SANS" ]] || return 1
    # Still valid for 30 days, and the server certificate is issued by this CA.
    openssl x509 -checkend 2592000 -noout -in "$tls_dir/ca.pem" >/dev/null || return 1
    openssl x509 -checkend 2592000 -noout -in "$tls_dir/server.pem" >/dev/null || return 1
    openssl verify -CAfile "$tls_dir/ca.pem" "$tls_dir/server.pem" >/dev/null 2>&1
}

make_certificates() {
    if certificates_current; then
        log "mail: CA and server certificate present and valid"
        return
    fi
    log "mail: generating CA and server certificate for $MAIL_HOSTNAME"
    install -d -m 0755 "$tls_dir"
    local tmp
    tmp=$(mktemp -d "$tls_dir/new.XXXXXX")
    (
        umask 077
        cd "$tmp"
        openssl req -x509 -new -noenc -newkey ec -pkeyopt ec_paramgen_curve:P-256 \
            -keyout ca.key -out ca.pem -days 3650 -subj "/O=smtpcheck CI/CN=smtpcheck CI test CA" \
            -addext "basicConstraints=critical,CA:TRUE" \
            -addext "keyUsage=critical,keyCertSign,cRLSign" \
            -addext "subjectKeyIdentifier=hash" 2>/dev/null
        openssl req -new -noenc -newkey ec -pkeyopt ec_paramgen_curve:P-256 \
            -keyout server.key -out server.csr -subj "/O=smtpcheck CI/CN=$MAIL_HOSTNAME" 2>/dev/null
        cat >server.ext <<EOF
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature
extendedKeyUsage = serverAuth
subjectAltName = $CERT_SANS
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid:always
EOF
        openssl x509 -req -in server.csr -CA ca.pem -CAkey ca.key \
            -set_serial "0x$(openssl rand -hex 16)" -days 825 -extfile server.ext \
            -out server.pem 2>/dev/null
        printf '%s\n' "$CERT_SANS" >sans
        chmod 0644 ca.pem server.pem sans
    )
    mv -f "$tmp"/{ca.pem,ca.key,server.pem,server.key,sans} "$tls_dir"/
    rm -rf "$tmp"
    openssl verify -CAfile "$tls_dir/ca.pem" "$tls_dir/server.pem" >/dev/null
}

write_dovecot() {  # write_dovecot PASSWORD
    install -d -m 0755 "$dv_dir"
    install -m 0640 -g dovecot /dev/null "$dv_conf"  # it holds the password
    cat >"$dv_conf" <<EOF
# Generated by .ci/mailserver.sh: Dovecot as Postfix's SASL backend only (no IMAP/POP3).
instance_name = smtpcheck-ci
base_dir = $dv_run
protocols = none
ssl = no
log_path = $dv_log
auth_mechanisms = plain login cram-md5
# Failures logged with the reason (Password mismatch, unknown user), and per attempt one
# "$AUTH_MARK" line and one "$USER_AUTH_MARK" line; never the password itself.
auth_verbose = yes
auth_verbose_passwords = no
auth_debug = yes
auth_debug_passwords = no
# Every user in $USER_DOMAIN has the one test password (stored plain so CRAM-MD5 works),
# so each test can sign in under a name of its own; other domains are unknown users.
passdb {
  driver = static
  args = password=$1
  username_filter = *@$USER_DOMAIN
}
userdb {
  driver = static
  args = uid=65534 gid=65534 home=/nonexistent
}
# Dovecot's auth penalty (anvil) delays every AUTH from an IP after a failure, up to 15 s,
# which exceeds Postfix's SASL timeout and turns later wrong-password probes into 454s. All
# tests come from 127.0.0.1, so it is switched off: its anvil socket is moved to a side
# directory, auth finds nothing at the usual path and runs without penalties.
# auth_failure_delay (2 s before each failure reply) stays, as on real servers.
service anvil {
  unix_listener anvil-auth-penalty {
    path = penalty-disabled/anvil-auth-penalty
  }
}
service auth {
  unix_listener $pf_queue/private/auth {
    mode = 0660
    user = postfix
    group = postfix
  }
}
EOF
}

write_postfix() {  # write_postfix SUBMISSION_PORT SMTPS_PORT
    install -d -m 0755 "$pf_conf" "$pf_data"
    install -d -m 0755 -o root "$pf_queue"
    chown postfix "$pf_data"
    cat >"$pf_conf/main.cf" <<EOF
# Generated by .ci/mailserver.sh: a loopback-only submission server that accepts AUTH and
# delivers nothing.
compatibility_level = 3.6
queue_directory = $pf_queue
data_directory = $pf_data
myhostname = $MAIL_HOSTNAME
mydomain = smtpcheck.test
myorigin = \$myhostname
mydestination =
relay_domains =
relayhost =
mynetworks = 127.0.0.0/8
inet_interfaces = $LISTEN_IP
inet_protocols = ipv4
alias_maps =
alias_database =
local_recipient_maps =
local_transport = error:5.7.1 this test server delivers no mail
default_transport = error:5.7.1 this test server delivers no mail
biff = no
maillog_file = $pf_log
smtpd_banner = \$myhostname ESMTP
smtpd_tls_chain_files = $tls_dir/server.key, $tls_dir/server.pem
smtpd_tls_security_level = may
smtpd_tls_auth_only = yes
smtpd_tls_loglevel = 1
smtpd_sasl_type = dovecot
smtpd_sasl_path = private/auth
smtpd_sasl_auth_enable = no
smtpd_relay_restrictions = permit_sasl_authenticated, reject
smtpd_recipient_restrictions = reject
EOF
    # Only internal services plus our two listeners: no port 25, no local delivery, no
    # chroot (nothing to copy into the jail).
    cat >"$pf_conf/master.cf" <<EOF
# Generated by .ci/mailserver.sh.
# service type  private unpriv  chroot  wakeup  maxproc command
$LISTEN_IP:$1 inet n    -       n       -       -       smtpd
  -o syslog_name=postfix/submission
  -o smtpd_tls_security_level=encrypt
  -o smtpd_sasl_auth_enable=yes
$LISTEN_IP:$2 inet n    -       n       -       -       smtpd
  -o syslog_name=postfix/smtps
  -o smtpd_tls_wrappermode=yes
  -o smtpd_sasl_auth_enable=yes
pickup    unix  n       -       n       60      1       pickup
cleanup   unix  n       -       n       -       0       cleanup
qmgr      unix  n       -       n       300     1       qmgr
tlsmgr    unix  -       -       n       1000?   1       tlsmgr
rewrite   unix  -       -       n       -       -       trivial-rewrite
bounce    unix  -       -       n       -       0       bounce
defer     unix  -       -       n       -       0       bounce
trace     unix  -       -       n       -       0       bounce
verify    unix  -       -       n       -       1       verify
flush     unix  n       -       n       1000?   0       flush
proxymap  unix  -       -       n       -       -       proxymap
proxywrite unix -       -       n       -       1       proxymap
smtp      unix  -       -       n       -       -       smtp
relay     unix  -       -       n       -       -       smtp
showq     unix  n       -       n       -       -       showq
error     unix  -       -       n       -       -       error
retry     unix  -       -       n       -       -       error
discard   unix  -       -       n       -       -       discard
anvil     unix  -       -       n       -       1       anvil
scache    unix  -       -       n       -       1       scache
postlog   unix-dgram n  -       n       -       1       postlogd
EOF
}

start_instance() {  # called in a condition, where `set -e` does not apply: check each step
    install -d -m 0755 "$CI_LOG_DIR" || return 1
    : >"$pf_log" && : >"$dv_log" || return 1
    # Postfix first: `postfix check` creates the queue's private/ where Dovecot puts its socket.
    run_daemon_cmd postfix -c "$pf_conf" check || return 1
    log "mail: starting Dovecot (SASL only)"
    rm -rf "$dv_run" || return 1  # no stale sockets from an earlier configuration
    install -d -m 0755 "$dv_run" "$dv_run/penalty-disabled" || return 1
    run_daemon_cmd dovecot -c "$dv_conf" || return 1
    wait_until 20 "Dovecot's auth socket exists" test -S "$pf_queue/private/auth" || return 1
    log "mail: starting Postfix"
    run_daemon_cmd postfix -c "$pf_conf" start || return 1
    wait_until 20 "Postfix is running" postfix_running
}

write_env() {  # write_env FILE SUBMISSION_PORT SMTPS_PORT PASSWORD
    # KEY='value' lines: readable by `set -a; . FILE` and by the tests' parser. 0600: it
    # holds the test user's password.
    install -m 0600 /dev/null "$1"
    cat >"$1" <<EOF
SMTPCHECK_IT_HOST='$LISTEN_IP'
SMTPCHECK_IT_HOSTNAME='$MAIL_HOSTNAME'
SMTPCHECK_IT_SUBMISSION_PORT='$2'
SMTPCHECK_IT_SMTPS_PORT='$3'
SMTPCHECK_IT_CA='$tls_dir/ca.pem'
SMTPCHECK_IT_USER='$TEST_USER'
SMTPCHECK_IT_USER_DOMAIN='$USER_DOMAIN'
SMTPCHECK_IT_PASSWORD='$4'
SMTPCHECK_IT_LOG='$dv_log'
SMTPCHECK_IT_AUTH_MARK='$AUTH_MARK'
SMTPCHECK_IT_USER_AUTH_MARK='$USER_AUTH_MARK'
SMTPCHECK_IT_POSTFIX_LOG='$pf_log'
EOF
}

main() {
    require_root
    install -d -m 0755 "$CI_DIR"
    # One set-up at a time on a machine (two at once would stop each other's servers).
    exec 9>"$CI_DIR/setup.lock"
    flock -w 600 9 || die "another set-up still holds $CI_DIR/setup.lock"
    install_packages
    rm -f "$CI_ENV_FILE"
    stop_instance
    install -d -m 0755 "$(dirname "$CI_ENV_FILE")"
    make_certificates

    local attempt ports submission smtps password
    # Hex keeps the password free of characters that need quoting in the env file.
    password=$(openssl rand -hex 16)
    for attempt in 1 2 3; do
        ports=$(free_ports 2)
        read -r submission smtps <<<"$ports"
        log "mail: submission on $LISTEN_IP:$submission, smtps on $LISTEN_IP:$smtps"
        write_dovecot "$password"
        write_postfix "$submission" "$smtps"
        write_env "$CI_ENV_FILE.tmp" "$submission" "$smtps" "$password"
        # Ports are picked, then bound by Postfix a moment later; if another process took one
        # in between, Postfix or the smoke check fails and we go again with new ports.
        if start_instance && python3 "$here/mailcheck.py" --wait 15 "$CI_ENV_FILE.tmp"; then
            mv -f "$CI_ENV_FILE.tmp" "$CI_ENV_FILE"
            log "mail: ready; tests read $CI_ENV_FILE"
            return 0
        fi
        log "mail: set-up failed (attempt $attempt); last log lines:"
        tail -n 20 "$pf_log" "$dv_log" "$start_log" >&2 || true
        stop_instance
    done
    rm -f "$CI_ENV_FILE.tmp"
    die "the CI mail server did not come up; see $pf_log and $dv_log"
}

stop() {
    require_root
    stop_instance
    rm -f "$CI_ENV_FILE" "$CI_ENV_FILE.tmp"
    log "mail: stopped; integration tests will skip (or fail under CI) until set up again"
}

case ${1:-start} in
    start) main ;;
    stop) stop ;;
    *) die "usage: bash .ci/mailserver.sh [start|stop]" ;;
esac
