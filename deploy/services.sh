#!/usr/bin/env bash
# Local PostgreSQL, Redis and Elasticsearch for development and tests.
#
#   deploy/services.sh [start]   install what is missing, start (or reuse) all
#                                three, print shell exports on stdout:
#                                  eval "$(deploy/services.sh)"
#   deploy/services.sh stop      stop the three instances started from here
#   deploy/services.sh status    say what is running (exit 1 if anything isn't)
#   deploy/services.sh es-zip DIR   copy the Elasticsearch zip into DIR (make bundle)
#
# Everything listens on 127.0.0.1 on non-default ports so it never clashes with
# a system-wide instance, and all state (data, logs, pid files, the unpacked
# Elasticsearch) lives under $SERVICES_DIR. Only stdout carries the exports;
# every progress or error message goes to stderr.
#
# Needs root: it installs Debian packages and runs each server as its own
# unprivileged user (PostgreSQL and Elasticsearch refuse to run as root).
# No systemd / service manager is used, on purpose: the servers are plain
# processes owned by this script, tracked through pid files.
set -euo pipefail

SCRIPT_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)

SERVICES_DIR=${SERVICES_DIR:-$HOME/.cache/sanxiang-services}

PG_PORT=${PG_PORT:-55432}
PG_USER=${PG_USER:-sanxiang}
PG_PASSWORD=${PG_PASSWORD:-sanxiang}
PG_DB=${PG_DB:-sanxiang}

REDIS_PORT=${REDIS_PORT:-56379}

# Maven Central's maven-metadata.xml for the integ-test-zip lists nothing past
# 8.19.x, yet 9.x zips are there; 9.5.3 is the newest one published.
ES_VERSION=${ES_VERSION:-9.5.3}
ES_PORT=${ES_PORT:-59200}
ES_TRANSPORT_PORT=${ES_TRANSPORT_PORT:-59300}
ES_HEAP=${ES_HEAP:-1g}
ES_USER=${ES_USER:-elasticsearch-local}
ES_START_TIMEOUT=${ES_START_TIMEOUT:-120}
JVM_DIR=${JVM_DIR:-/usr/lib/jvm}
# Where an offline bundle (make bundle) keeps the zip; used instead of Maven when present.
ES_BUNDLED_ZIP=${ES_BUNDLED_ZIP:-$SCRIPT_DIR/../vendor/elasticsearch/elasticsearch-$ES_VERSION.zip}

PG_DIR=$SERVICES_DIR/postgres
REDIS_DIR=$SERVICES_DIR/redis
ES_DIR=$SERVICES_DIR/elasticsearch

log() { printf '[services] %s\n' "$*" >&2; }
die() { printf '[services] ERROR: %s\n' "$*" >&2; exit 1; }

# ---------------------------------------------------------------- helpers ---

require_root() {
    [[ $(id -u) -eq 0 ]] || die "must run as root (installs packages, switches to the postgres/redis/$ES_USER users)"
}

as_user() {
    local user=$1; shift
    runuser -u "$user" -- "$@"
}

# Only called when something is missing, so a warm start never touches apt.
APT_UPDATED=0
apt_install() {
    log "installing Debian packages: $*"
    local policy=/usr/sbin/policy-rc.d created_policy=0
    # Keep the packages' maintainer scripts from starting the system-wide
    # services on their default ports: we run our own instances.
    if [[ ! -e $policy ]]; then
        printf '#!/bin/sh\nexit 101\n' >"$policy"
        chmod 755 "$policy"
        created_policy=1
    fi
    local rc=0
    if ! DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "$@" >&2; then
        if [[ $APT_UPDATED -eq 0 ]]; then
            log "apt-get install failed; running apt-get update once and retrying"
            APT_UPDATED=1
            DEBIAN_FRONTEND=noninteractive apt-get update -q >&2 || rc=$?
            if [[ $rc -eq 0 ]]; then
                DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "$@" >&2 || rc=$?
            fi
        else
            rc=1
        fi
    fi
    [[ $created_policy -eq 1 ]] && rm -f "$policy"
    [[ $rc -eq 0 ]] || die "apt-get install $* failed"
}

# The state dir defaults to /root/.cache/..., and /root is mode 700: the
# service users need search (x) permission on every ancestor to reach their
# data dirs. Grant only o+x (no listing) and only where it is missing.
ensure_traversable() {
    local user=$1 target=$2 dir="" part
    local -a parts
    # Top-down: a directory's own check only means something once every
    # ancestor above it is reachable.
    IFS=/ read -ra parts <<<"${target#/}"
    for part in "${parts[@]}"; do
        dir=$dir/$part
        if ! as_user "$user" test -x "$dir"; then
            log "granting o+x on $dir so that $user can reach $target"
            chmod o+x "$dir"
        fi
    done
}

pid_alive() {
    local pidfile=$1 pid
    [[ -s $pidfile ]] || return 1
    pid=$(head -n1 "$pidfile")
    [[ $pid =~ ^[0-9]+$ ]] && kill -0 "$pid" 2>/dev/null
}

port_in_use() {
    # bash's /dev/tcp avoids depending on ss/netstat/nc being installed.
    (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

# Sends TERM to the pid in $pidfile and waits for it to go away (KILL after
# $timeout seconds). Only ever touches the process recorded by this script.
stop_pidfile() {
    local name=$1 pidfile=$2 timeout=${3:-30} pid i
    if ! pid_alive "$pidfile"; then
        log "$name: not running"
        rm -f "$pidfile"
        return 0
    fi
    pid=$(head -n1 "$pidfile")
    log "$name: stopping pid $pid"
    kill -TERM "$pid" 2>/dev/null || true
    for ((i = 0; i < timeout * 5; i++)); do
        kill -0 "$pid" 2>/dev/null || { rm -f "$pidfile"; log "$name: stopped"; return 0; }
        sleep 0.2
    done
    log "$name: still alive after ${timeout}s, sending KILL"
    kill -KILL "$pid" 2>/dev/null || true
    rm -f "$pidfile"
}

# ------------------------------------------------------------- PostgreSQL ---

pg_bindir() {
    # Debian keeps initdb/pg_ctl out of PATH, in a versioned directory.
    local d
    d=$(find /usr/lib/postgresql -mindepth 2 -maxdepth 2 -type d -name bin 2>/dev/null | sort -V | tail -n1)
    [[ -n $d && -x $d/pg_ctl && -x $d/initdb ]] && printf '%s\n' "$d"
}

pg_install() {
    pg_bindir >/dev/null || apt_install postgresql
    pg_bindir >/dev/null || die "postgresql installed but no /usr/lib/postgresql/*/bin/pg_ctl found"
}

pg_psql() {
    # Superuser access over our own unix socket with peer auth: no password
    # for the postgres role needs to exist anywhere.
    as_user postgres "$(pg_bindir)/psql" -X -q -v ON_ERROR_STOP=1 \
        -h "$PG_DIR" -p "$PG_PORT" -d postgres "$@"
}

pg_write_config() {
    # Rewritten on every start so that changes to these settings apply to an
    # existing data dir too; postgresql.conf only includes it.
    cat >"$PG_DIR/data/sanxiang-local.conf" <<EOF
# Generated by deploy/services.sh on every start; edits are lost.
listen_addresses = '127.0.0.1'
port = $PG_PORT
unix_socket_directories = '$PG_DIR'
max_connections = 200
# Throwaway test instance: durability is not worth the I/O.
fsync = off
synchronous_commit = off
full_page_writes = off
EOF
    chown postgres:postgres "$PG_DIR/data/sanxiang-local.conf"
}

pg_start() {
    local bin data=$PG_DIR/data
    pg_install
    bin=$(pg_bindir)
    mkdir -p "$PG_DIR"
    chown postgres:postgres "$PG_DIR"
    chmod 700 "$PG_DIR"
    ensure_traversable postgres "$PG_DIR"

    if [[ ! -s $data/PG_VERSION ]]; then
        log "postgres: initdb in $data ($(basename "$(dirname "$bin")"))"
        rm -rf "$data"
        as_user postgres "$bin/initdb" -D "$data" -U postgres --encoding=UTF8 \
            --locale=C.UTF-8 --auth-local=peer --auth-host=scram-sha-256 --no-sync >&2 \
            || die "postgres: initdb failed"
        echo "include 'sanxiang-local.conf'" >>"$data/postgresql.conf"
    fi

    if as_user postgres "$bin/pg_ctl" -D "$data" status >/dev/null 2>&1; then
        log "postgres: already running on 127.0.0.1:$PG_PORT, reusing"
    else
        port_in_use "$PG_PORT" && die "postgres: port $PG_PORT is taken by another process (not our instance in $data)"
        pg_write_config
        log "postgres: starting on 127.0.0.1:$PG_PORT"
        if ! as_user postgres "$bin/pg_ctl" -D "$data" -l "$PG_DIR/postgres.log" -w -t 60 start >/dev/null; then
            tail -n 30 "$PG_DIR/postgres.log" >&2 || true
            die "postgres: failed to start (log: $PG_DIR/postgres.log)"
        fi
    fi

    # Role and database are (re)asserted every time: cheap, and repairs a
    # half-finished first run. CREATEDB because the test suite creates a
    # database per session.
    pg_psql -v user="$PG_USER" -v pass="$PG_PASSWORD" >&2 <<'SQL' || die "postgres: could not create role $PG_USER"
SELECT format('CREATE ROLE %I LOGIN CREATEDB PASSWORD %L', :'user', :'pass')
 WHERE NOT EXISTS (SELECT FROM pg_roles WHERE rolname = :'user') \gexec
SELECT format('ALTER ROLE %I LOGIN CREATEDB PASSWORD %L', :'user', :'pass') \gexec
SQL
    pg_psql -v user="$PG_USER" -v db="$PG_DB" >&2 <<'SQL' || die "postgres: could not create database $PG_DB"
SELECT format('CREATE DATABASE %I OWNER %I', :'db', :'user')
 WHERE NOT EXISTS (SELECT FROM pg_database WHERE datname = :'db') \gexec
SQL
}

pg_stop() {
    local bin data=$PG_DIR/data
    bin=$(pg_bindir) || { log "postgres: not installed"; return 0; }
    if [[ -s $data/PG_VERSION ]] && as_user postgres "$bin/pg_ctl" -D "$data" status >/dev/null 2>&1; then
        log "postgres: stopping"
        as_user postgres "$bin/pg_ctl" -D "$data" -m fast -w -t 60 stop >&2 \
            || { log "postgres: ERROR: pg_ctl stop failed"; return 1; }
    else
        log "postgres: not running"
    fi
}

pg_status() {
    local bin
    if bin=$(pg_bindir) && [[ -s $PG_DIR/data/PG_VERSION ]] \
        && as_user postgres "$bin/pg_ctl" -D "$PG_DIR/data" status >/dev/null 2>&1; then
        echo "postgres:      running  127.0.0.1:$PG_PORT  data=$PG_DIR/data"
    else
        echo "postgres:      stopped"
        return 1
    fi
}

# ------------------------------------------------------------------ Redis ---

redis_install() {
    command -v redis-server >/dev/null && command -v redis-cli >/dev/null && return 0
    apt_install redis-server
    command -v redis-server >/dev/null || die "redis-server not found after install"
}

redis_ping() {
    [[ $(redis-cli -h 127.0.0.1 -p "$REDIS_PORT" ping 2>/dev/null) == PONG ]]
}

redis_start() {
    local conf=$REDIS_DIR/redis.conf pidfile=$REDIS_DIR/redis.pid i user=redis
    redis_install
    # The Debian package creates the redis user; fall back to root rather
    # than fail if someone installed redis another way.
    id -u "$user" >/dev/null 2>&1 || user=root
    mkdir -p "$REDIS_DIR"
    chown "$user:" "$REDIS_DIR"
    chmod 700 "$REDIS_DIR"
    [[ $user == root ]] || ensure_traversable "$user" "$REDIS_DIR"

    if pid_alive "$pidfile" && redis_ping; then
        log "redis: already running on 127.0.0.1:$REDIS_PORT, reusing"
        return 0
    fi
    port_in_use "$REDIS_PORT" && die "redis: port $REDIS_PORT is taken by another process (not our instance)"

    cat >"$conf" <<EOF
# Generated by deploy/services.sh on every start; edits are lost.
bind 127.0.0.1
protected-mode yes
port $REDIS_PORT
daemonize yes
pidfile $pidfile
logfile $REDIS_DIR/redis.log
dir $REDIS_DIR
# Cache/queue for tests only: no persistence.
save ""
appendonly no
EOF
    chown "$user:" "$conf"
    log "redis: starting on 127.0.0.1:$REDIS_PORT"
    as_user "$user" redis-server "$conf" >&2 || die "redis: redis-server failed (log: $REDIS_DIR/redis.log)"
    for ((i = 0; i < 50; i++)); do
        redis_ping && return 0
        sleep 0.2
    done
    tail -n 30 "$REDIS_DIR/redis.log" >&2 || true
    die "redis: not answering PING on port $REDIS_PORT after 10s"
}

redis_stop() {
    stop_pidfile redis "$REDIS_DIR/redis.pid" 30
}

redis_status() {
    if pid_alive "$REDIS_DIR/redis.pid" && redis_ping; then
        echo "redis:         running  127.0.0.1:$REDIS_PORT"
    else
        echo "redis:         stopped"
        return 1
    fi
}

# ---------------------------------------------------------- Elasticsearch ---

es_home() { printf '%s\n' "$ES_DIR/elasticsearch-$ES_VERSION"; }

es_min_java() {
    # ES 9 needs JDK 21+, ES 8 runs on 17+.
    if [[ ${ES_VERSION%%.*} -ge 9 ]]; then echo 21; else echo 17; fi
}

# Newest JDK under $JVM_DIR, read from each JDK's `release` file (no JVM
# start needed). The integ-test zip bundles no JDK and Debian 12 only packages
# OpenJDK 17, so ES 9 depends on a JDK 21+ being installed beside it.
find_java_home() {
    local min=$1 best="" best_major=0 dir ver major
    for dir in "$JVM_DIR"/*/; do
        [[ -d $dir ]] || continue
        dir=$(realpath "$dir")
        [[ -x $dir/bin/java && -r $dir/release ]] || continue
        ver=$(sed -n 's/^JAVA_VERSION="\(.*\)"/\1/p' "$dir/release")
        major=${ver%%.*}
        [[ $major == 1 ]] && major=$(cut -d. -f2 <<<"$ver")   # 1.8.0 -> 8
        [[ $major =~ ^[0-9]+$ ]] || continue
        if ((major >= min && major > best_major)); then
            best=$dir best_major=$major
        fi
    done
    [[ -n $best ]] && printf '%s\n' "$best"
}

# Puts elasticsearch-$ES_VERSION.zip into directory $1: the offline bundle's
# copy when the project was unpacked from one (make bundle), else through Maven.
es_zip_into() {
    local dir=$1
    if [[ -s $ES_BUNDLED_ZIP ]]; then
        log "elasticsearch: using the bundled $ES_BUNDLED_ZIP"
        cp "$ES_BUNDLED_ZIP" "$dir/" || die "elasticsearch: could not copy $ES_BUNDLED_ZIP"
        return 0
    fi
    command -v mvn >/dev/null || apt_install maven
    # Offline first: after the first download the zip sits in ~/.m2 and a
    # re-install (e.g. a wiped state dir) needs no network at all.
    local mvn_args=(-B -q -Dstyle.color=never -f "$SCRIPT_DIR/elasticsearch/pom.xml"
        dependency:copy-dependencies -Des.version="$ES_VERSION" -DoutputDirectory="$dir")
    if ! mvn -o "${mvn_args[@]}" >/dev/null 2>&1; then
        log "elasticsearch: downloading integ-test-zip $ES_VERSION from Maven Central"
        # sed: Debian's mvn emits stray ANSI resets even in batch mode.
        mvn "${mvn_args[@]}" 2>&1 | sed 's/\x1b\[[0-9;]*m//g' >&2 || die "elasticsearch: mvn could not fetch org.elasticsearch.distribution.integ-test-zip:elasticsearch:$ES_VERSION:zip"
    fi
    [[ -s $dir/elasticsearch-$ES_VERSION.zip ]] || die "elasticsearch: elasticsearch-$ES_VERSION.zip missing after mvn"
}

es_fetch() {
    local home tmp zip
    home=$(es_home)
    [[ -x $home/bin/elasticsearch ]] && return 0

    command -v unzip >/dev/null || apt_install unzip
    tmp=$(mktemp -d)
    ( es_zip_into "$tmp" ) || { rm -rf "$tmp"; exit 1; }
    zip=$tmp/elasticsearch-$ES_VERSION.zip

    log "elasticsearch: unpacking into $home"
    mkdir -p "$ES_DIR"
    rm -rf "$home.partial"
    # unzip rather than maven's unpack: it keeps the executable bits of bin/*.
    unzip -q "$zip" -d "$home.partial" || { rm -rf "$tmp"; die "elasticsearch: unzip failed"; }
    rm -rf "$tmp"
    mv "$home.partial/elasticsearch-$ES_VERSION" "$home"
    rmdir "$home.partial"
}

es_write_config() {
    local home=$1 conf=$1/config
    {
        echo "# Generated by deploy/services.sh on every start; edits are lost."
        echo "cluster.name: sanxiang-local"
        echo "node.name: local"
        echo "discovery.type: single-node"
        echo "network.host: 127.0.0.1"
        echo "http.port: $ES_PORT"
        echo "transport.port: $ES_TRANSPORT_PORT"
        echo "path.data: $ES_DIR/data-$ES_VERSION"
        echo "path.logs: $ES_DIR/logs"
        # Test machines often have little free disk; don't go read-only.
        echo "cluster.routing.allocation.disk.threshold_enabled: false"
        # Lets tests clean up with wildcard index deletes.
        echo "action.destructive_requires_name: false"
        # The setting only exists when the x-pack-security module is bundled;
        # without it ES would reject it as unknown.
        if [[ -d $home/modules/x-pack-security ]]; then
            echo "xpack.security.enabled: false"
        fi
    } >"$conf/elasticsearch.yml"
    printf -- '-Xms%s\n-Xmx%s\n' "$ES_HEAP" "$ES_HEAP" >"$conf/jvm.options.d/heap.options"
}

es_get() { curl -fsS --max-time "${2:-5}" "http://127.0.0.1:$ES_PORT$1" 2>/dev/null; }

es_log_tail() {
    local f
    for f in "$ES_DIR/logs/startup.log" "$ES_DIR/logs/sanxiang-local.log"; do
        [[ -s $f ]] || continue
        log "---- tail of $f ----"
        tail -n 40 "$f" >&2
    done
}

es_wait_ready() {
    local pidfile=$1 deadline=$((SECONDS + ES_START_TIMEOUT))
    while ((SECONDS < deadline)); do
        if es_get "/_cluster/health?wait_for_status=yellow&timeout=5s" 10 >/dev/null; then
            return 0
        fi
        # The launcher writes the pid file only once the node is up, so a
        # missing file here just means "still starting".
        if [[ -s $pidfile ]] && ! pid_alive "$pidfile"; then
            es_log_tail
            die "elasticsearch: process died during startup"
        fi
        sleep 1
    done
    es_log_tail
    die "elasticsearch: not healthy (yellow) after ${ES_START_TIMEOUT}s"
}

# The integ-test zip lacks the rest-root module, so `GET /` (and the Python
# client's ping()/info()) answers 405: ask the nodes API for the version.
es_running_version() {
    es_get '/_nodes/_local?filter_path=nodes.*.version' | sed -n 's/.*"version" *: *"\([^"]*\)".*/\1/p'
}

es_warn_version() {
    local running
    running=$(es_running_version) || return 0
    [[ $running == "$ES_VERSION" ]] \
        || log "elasticsearch: WARNING: running node is $running, not ES_VERSION=$ES_VERSION (run '$0 stop' first to switch)"
}

es_start() {
    local home pidfile=$ES_DIR/elasticsearch.pid java_home min
    # A live pid may also be a node still starting (e.g. a concurrent run):
    # waiting for it beats failing on "port taken".
    if pid_alive "$pidfile"; then
        log "elasticsearch: already running (pid $(head -n1 "$pidfile")) on 127.0.0.1:$ES_PORT, reusing"
        es_wait_ready "$pidfile"
        es_warn_version
        return 0
    fi
    port_in_use "$ES_PORT" && die "elasticsearch: port $ES_PORT is taken by another process (not our instance)"

    min=$(es_min_java)
    java_home=$(find_java_home "$min") \
        || die "elasticsearch $ES_VERSION needs a JDK >= $min under $JVM_DIR and none was found (Debian 12 only packages OpenJDK 17: install a JDK $min+ there, or use ES_VERSION=8.19.21 which runs on 17)"
    command -v curl >/dev/null || apt_install curl
    es_fetch
    home=$(es_home)

    id -u "$ES_USER" >/dev/null 2>&1 || {
        log "elasticsearch: creating system user $ES_USER (ES refuses to run as root)"
        useradd --system --user-group --home-dir /nonexistent --no-create-home \
            --shell /usr/sbin/nologin "$ES_USER" || die "could not create user $ES_USER"
    }
    mkdir -p "$ES_DIR/data-$ES_VERSION" "$ES_DIR/logs" "$ES_DIR/tmp"
    es_write_config "$home"
    # ES writes its keystore into config/ and needs its data/log/tmp dirs.
    chown -R "$ES_USER:" "$home" "$ES_DIR/data-$ES_VERSION" "$ES_DIR/logs" "$ES_DIR/tmp"
    chown "$ES_USER:" "$ES_DIR"
    ensure_traversable "$ES_USER" "$ES_DIR"
    rm -f "$pidfile"

    log "elasticsearch: starting $ES_VERSION on 127.0.0.1:$ES_PORT with $java_home (heap $ES_HEAP)"
    # -d returns once the node has started (or failed); its console output
    # goes to startup.log since stdout is reserved for the exports.
    # ES_TMPDIR / CLI_JAVA_OPTS keep the server's and the launcher's temp
    # files in the state dir instead of littering /tmp on every start.
    if ! as_user "$ES_USER" env ES_JAVA_HOME="$java_home" ES_PATH_CONF="$home/config" \
        ES_TMPDIR="$ES_DIR/tmp" CLI_JAVA_OPTS="-Djava.io.tmpdir=$ES_DIR/tmp" \
        "$home/bin/elasticsearch" -d -p "$pidfile" >"$ES_DIR/logs/startup.log" 2>&1; then
        es_log_tail
        die "elasticsearch: failed to start"
    fi
    es_wait_ready "$pidfile"
}

es_stop() {
    stop_pidfile elasticsearch "$ES_DIR/elasticsearch.pid" 60
}

es_status() {
    local version
    if pid_alive "$ES_DIR/elasticsearch.pid" \
        && version=$(es_running_version); then
        echo "elasticsearch: running  127.0.0.1:$ES_PORT  version=$version"
    else
        echo "elasticsearch: stopped"
        return 1
    fi
}

# ------------------------------------------------------------------- main ---

cmd_start() {
    local t0=$SECONDS
    require_root
    mkdir -p "$SERVICES_DIR"
    pg_start
    redis_start
    es_start
    log "all services up in $((SECONDS - t0))s (state in $SERVICES_DIR)"
    echo "export DATABASE_URL=postgresql+psycopg://$PG_USER:$PG_PASSWORD@127.0.0.1:$PG_PORT/$PG_DB"
    echo "export REDIS_URL=redis://127.0.0.1:$REDIS_PORT/0"
    echo "export ELASTICSEARCH_URL=http://127.0.0.1:$ES_PORT"
}

cmd_stop() {
    require_root
    # Try all three even if one fails; the exit code reports any failure.
    local rc=0
    es_stop || rc=1
    redis_stop || rc=1
    pg_stop || rc=1
    return $rc
}

cmd_status() {
    local rc=0
    require_root
    pg_status || rc=1
    redis_status || rc=1
    es_status || rc=1
    return $rc
}

case ${1:-start} in
    start) cmd_start ;;
    stop) cmd_stop ;;
    status) cmd_status ;;
    es-zip)
        [[ -d ${2:-} ]] || die "es-zip needs an existing directory"
        es_zip_into "$2"
        ;;
    -h | --help | help) sed -n '2,19p' "$0" | sed 's/^# \{0,1\}//' ;;
    *) die "unknown command '$1' (use: start | stop | status | es-zip DIR)" ;;
esac
