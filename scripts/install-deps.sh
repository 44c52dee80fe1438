#!/usr/bin/env bash
# Installs the system tools the gatehouse test suite (scripts/test.sh) runs, on Debian 12
# with Rust, and nothing else: only missing commands are installed, and `apt-get update`
# runs only when something must be installed.
#
# The table below is exactly what tests/ and scripts/test.sh run beyond a base Debian
# system and the Rust toolchain; tests/install_deps.rs checks it against the commands the
# tests start (`Command::new("…")`) and those scripts/test.sh runs. A new test that runs a
# new tool adds it here. Benchmarks (scripts/bench-*.sh, ../shared/bench) are not part of
# the suite and name their own needs (nginx, wrk, …).
set -euo pipefail

# command -> Debian package
declare -A PKG=(
    [haproxy]=haproxy # the reference implementation of the differential tests
    [curl]=curl       # tests/examples.rs runs the README's curl commands
    [openssl]=openssl # tests/support/pki.rs makes certificates; s_client is a TLS client
    [ss]=iproute2     # tests/queue_server_sockets.rs reads socket queues with `ss`
    [openssl]=openssl # tests/check_tls.rs: certificates (`openssl req`) and a TLS server
    # tests/check_services.rs checks real servers (tests/support/services.rs)
    [initdb]=postgresql-15             # PostgreSQL 15, under /usr/lib/postgresql/15/bin
    [postgres]=postgresql-15
    # tests/support/pg_cluster.rs: a primary and its streaming replica, psql as a client
    [pg_basebackup]=postgresql-client-15
    [pg_ctl]=postgresql-15
    [psql]=postgresql-client-15
    [pgbench]=postgresql-15            # tests/pgsql_failover.rs: load during a failover
    [mariadb-install-db]=mariadb-server-core # MariaDB 10.11
    [mariadbd]=mariadb-server-core
    [my_print_defaults]=mariadb-client-core # mariadb-install-db runs it; -server-core lacks it
    [redis-server]=redis-server        # Redis 7
    [redis-sentinel]=redis-sentinel    # tests/stick_redis.rs: a Sentinel names the master of a shared table
    # tests/identity_*.rs: the real OpenID Provider (npm oidc-provider, tests/oidc/) and a
    # real browser driven by npm playwright-core. Only a missing `node`/`npm` is
    # installed: the Node.js these machines carry (another packager's `nodejs`, which
    # ships npm) is used as it is; on plain Debian, npm comes from its own package
    # (installed below when `nodejs` did not bring it).
    [node]=nodejs
    [npm]=nodejs
    [chromium]=chromium
    [openssl]=openssl # tests/identity_oidc.rs makes a test CA for an https issuer
    # tests/stats_prometheus.rs lints the exporter and scrapes it with a real Prometheus
    [promtool]=prometheus
    [prometheus]=prometheus
    # tests/stats_browser.rs loads the stats page in headless Chromium through
    # chromedriver (the package depends on Debian's chromium, which it starts)
    [chromedriver]=chromium-driver
    [socat]=socat                      # tests/admin_*.rs speak to the runtime API socket
    [nginx]=nginx                      # tests/h2_server.rs: an HTTP/2 and TLS backend
    [h2load]=nghttp2-client            # tests/h2_client.rs: many HTTP/2 streams (smoke)
    [nghttpd]=nghttp2-server           # tests/h2_server_tune.rs: the SETTINGS a server sees
)

# PostgreSQL's programs live outside the PATH, in its versioned directory: only that
# one counts (another initdb on the PATH may be another version or a dangling link).
have() {
    if [ "${PKG[$1]}" = postgresql-15 ] || [ "${PKG[$1]}" = postgresql-client-15 ]; then
        [ -x "/usr/lib/postgresql/15/bin/$1" ]
        return
    fi
    command -v "$1" >/dev/null 2>&1 || [ -x "/usr/sbin/$1" ] || [ -x "/sbin/$1" ]
}

missing=()
for cmd in $(printf '%s\n' "${!PKG[@]}" | sort); do
    if ! have "$cmd"; then
        missing+=("${PKG[$cmd]}")
    fi
done

# A file no command names: nginx's stream module (tests/proxy_protocol_nginx_*.rs load
# it). Debian builds it against one nginx ABI, so it is installed together with nginx:
# apt then upgrades an older nginx to the module's version.
NGINX_STREAM=/usr/lib/nginx/modules/ngx_stream_module.so
if [ ! -e "$NGINX_STREAM" ]; then
    missing+=(nginx libnginx-mod-stream)
fi

if [ "${#missing[@]}" -eq 0 ]; then
    echo "install-deps: all test tools present"
    exit 0
fi

echo "install-deps: installing ${missing[*]}"
SUDO=()
if [ "$(id -u)" -ne 0 ]; then
    if command -v sudo >/dev/null 2>&1; then
        SUDO=(sudo)
    else
        echo "install-deps: need root or sudo to install: ${missing[*]}" >&2
        exit 1
    fi
fi
export DEBIAN_FRONTEND=noninteractive
"${SUDO[@]}" apt-get update -q
"${SUDO[@]}" env DEBIAN_FRONTEND=noninteractive \
    apt-get install -y -q --no-install-recommends "${missing[@]}"
if ! command -v npm >/dev/null 2>&1; then
    "${SUDO[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends npm
fi
