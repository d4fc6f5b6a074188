# shellcheck shell=bash
# bench/lib.sh: shared by the bench scripts (sourced, not run). See bench/README.md.
#
# Safety rules every bench follows (the machine is shared):
#  - cgroups only below berth-bench-<pid>, created directly below the bench's
#    own cgroup in each hierarchy (v1 memory cpu cpuacct pids freezer, and the
#    cgroup2 tree); everything started by the bench runs inside it, so the
#    cleanup kills exactly what the bench started (cgroup.kill, then the pids
#    listed in its cgroup.procs files) and removes the directories;
#  - one temporary directory (below /var/tmp), removed at the end;
#  - cleanup runs on every exit (trap), also after errors and Ctrl-C;
#  - every wait is bounded.

BENCH_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
TOP_SRCDIR=$(dirname "$BENCH_DIR")
PROG=$(basename "$0")
CG_NAME=berth-bench-$$
CG_DIRS=()      # our berth-bench-<pid> in each hierarchy
CG_UNIFIED=     # the one on the cgroup2 tree (hybrid or unified), if any
WORK=           # the temporary directory
CLEANUP_HOOKS=()

die() {
        echo "$PROG: error: $*" >&2
        exit 1
}
note() { echo "$PROG: $*" >&2; }

require_root() {
        [ "$(id -u)" = 0 ] || die "must run as root (it creates cgroups and namespaces)"
}

# find_build [DIR]: DIR (from --build), else $BUILD_DIR, else $TOP_SRCDIR/build.
find_build() {
        local dir=${1:-${BUILD_DIR:-}} f
        if [ -z "$dir" ]; then
                [ -x "$TOP_SRCDIR/build/agent/berthd" ] ||
                        die "no build found (looked in $TOP_SRCDIR/build). Build out of tree without sanitizers:
    mkdir -p /tmp/bbench && cd /tmp/bbench && $TOP_SRCDIR/configure -q && make -j2
then run: $0 --build /tmp/bbench   (or set BUILD_DIR=/tmp/bbench)"
                dir=$TOP_SRCDIR/build
        fi
        [ -d "$dir" ] || die "--build $dir: no such directory"
        BUILD_DIR=$(cd "$dir" && pwd)
        for f in agent/berthd agent/berth-shim bench/stamp bench/raw-launch; do
                [ -x "$BUILD_DIR/$f" ] || die "$BUILD_DIR/$f is missing: run 'make -j2' in $BUILD_DIR (the bench helpers come with the bench/ section of Makefile.am)"
        done
        if grep -q '^SAN_CFLAGS = .*-fsanitize' "$BUILD_DIR/Makefile" 2>/dev/null; then
                die "$BUILD_DIR was configured with --enable-sanitizers: its numbers mean nothing. Use a build without sanitizers."
        fi
        # shellcheck disable=SC2034 # used by the bench scripts
        BERTHD=$BUILD_DIR/agent/berthd
        # shellcheck disable=SC2034
        SHIM=$BUILD_DIR/agent/berth-shim
        STAMP=$BUILD_DIR/bench/stamp
        # shellcheck disable=SC2034
        RAW_LAUNCH=$BUILD_DIR/bench/raw-launch
}

# ensure_cmd CMD PACKAGE: installs the Debian package when CMD is missing.
ensure_cmd() {
        command -v "$1" >/dev/null 2>&1 && return 0
        note "$1 is missing: installing the Debian package $2 (apt-get install -y $2) ..."
        DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "$2" >&2 ||
                die "cannot install $2; install it by hand (apt-get install $2) and run again"
        command -v "$1" >/dev/null 2>&1 || die "$2 is installed but $1 is still not in PATH"
}

# ---------------------------------------------------------------- time, numbers

# Realtime in µs, without a fork (bash 5: EPOCHREALTIME).
now_us() {
        local t=${EPOCHREALTIME/./}
        echo "$t"
}

# A fork-free sleep of $1 seconds (read -t on a pipe nobody writes to).
exec {SLEEP_FD}<> <(:)
nap() { read -r -t "$1" -u "$SLEEP_FD" _ || true; }

# stats: numbers (one a line) on stdin -> "n median p90 min max" (nearest rank).
stats() {
        sort -n | awk '{ v[NR] = $1 }
                END {
                        if (NR == 0) { print "0 - - - -"; exit }
                        m = int((NR + 1) / 2); p = int(NR * 0.9 + 0.999999); if (p < 1) p = 1
                        print NR, v[m], v[p], v[1], v[NR]
                }'
}

# us2ms N: µs -> "x.xx" ms; "-" stays "-".
us2ms() { awk -v v="$1" 'BEGIN { if (v == "-") print "-"; else printf "%.2f", v / 1000 }'; }
# ratio A B: A/B with two decimals.
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (a == "-" || b == "-" || b == 0) print "-"; else printf "%.2f", a / b }'; }
# target "AWK CONDITION": "met" or "MISSED", e.g. target "1.5 <= 2"
target() { if awk "BEGIN { exit !($1) }" 2>/dev/null; then echo met; else echo MISSED; fi; }

# ---------------------------------------------------------------- cgroups

# mount point of the v1 hierarchy holding controller $1 (or of cgroup2 with "")
cg_mount_of() {
        awk -v c="$1" '{
                for (i = 7; i <= NF; i++) if ($i == "-") break
                fs = $(i + 1); opts = $(i + 3)
                if (c == "" && fs == "cgroup2") { print $5; exit }
                if (c != "" && fs == "cgroup") {
                        n = split(opts, a, ","); for (j = 1; j <= n; j++) if (a[j] == c) { print $5; exit }
                }
        }' /proc/self/mountinfo
}

# our own path in the hierarchy of controller $1 ("" for cgroup2)
cg_own_path() {
        awk -F: -v c="$1" '
                c == "" && $1 == "0" && $2 == "" { print $3; exit }
                c != "" { n = split($2, a, ","); for (i = 1; i <= n; i++) if (a[i] == c) { print $3; exit } }' /proc/self/cgroup
}

# Creates berth-bench-<pid> below our own cgroup in each hierarchy.
cg_setup() {
        local c m own d x seen
        for c in memory cpu cpuacct pids freezer; do
                m=$(cg_mount_of "$c")
                if [ -z "$m" ]; then
                        note "cgroup v1 controller $c is not mounted: skipped"
                        continue
                fi
                own=$(cg_own_path "$c")
                d=$m${own%/}/$CG_NAME
                seen=
                for x in "${CG_DIRS[@]}"; do [ "$x" = "$d" ] && seen=1; done
                [ -n "$seen" ] && continue # co-mounted controllers
                mkdir "$d" || die "cannot create $d"
                CG_DIRS+=("$d")
        done
        [ ${#CG_DIRS[@]} -gt 0 ] ||
                die "no cgroup v1 controller is mounted: pure cgroup v2 is not supported by these benches yet (tested on v1 hybrid)"
        m=$(cg_mount_of "")
        if [ -n "$m" ]; then
                own=$(cg_own_path "")
                d=$m${own%/}/$CG_NAME
                mkdir "$d" || die "cannot create $d"
                CG_DIRS+=("$d")
                CG_UNIFIED=$d
        fi
}

# cg_join SUB: moves the calling (sub)shell into berth-bench-<pid>/SUB everywhere.
# Use in a subshell right before exec: ( cg_join agent; exec prog ).
cg_join() {
        local d
        for d in "${CG_DIRS[@]}"; do
                mkdir -p "$d/$1"
                echo "$BASHPID" >"$d/$1/cgroup.procs"
        done
}

# every pid in our cgroups (all of them started by this bench)
cg_pids() {
        local d
        for d in "${CG_DIRS[@]}"; do
                [ -d "$d" ] && find "$d" -name cgroup.procs -exec cat {} + 2>/dev/null
        done | sort -un
}

# cg_kill_sub SUB: kills everything in berth-bench-<pid>/SUB (bounded wait)
cg_kill_sub() {
        local d pids i
        for d in "${CG_DIRS[@]}"; do
                [ "$d" = "$CG_UNIFIED" ] && [ -e "$d/$1/cgroup.kill" ] && { echo 1 >"$d/$1/cgroup.kill" 2>/dev/null || true; }
        done
        for i in $(seq 100); do
                pids=$(for d in "${CG_DIRS[@]}"; do [ -d "$d/$1" ] && find "$d/$1" -name cgroup.procs -exec cat {} + 2>/dev/null; done | sort -un | grep -vx -e "$$" -e "$BASHPID" || true)
                [ -z "$pids" ] && return 0
                # shellcheck disable=SC2086
                kill -9 $pids 2>/dev/null || true
                nap 0.05
        done
        note "warning: processes still in $CG_NAME/$1 after 5 s: $pids"
}

cg_cleanup() {
        local d pids i
        [ ${#CG_DIRS[@]} -gt 0 ] || return 0
        # kill everything in our subtree: the kernel does it on cgroup2 ...
        if [ -n "$CG_UNIFIED" ] && [ -e "$CG_UNIFIED/cgroup.kill" ]; then
                echo 1 >"$CG_UNIFIED/cgroup.kill" 2>/dev/null || true
        fi
        # ... and by pid on v1 (and where cgroup.kill is missing), bounded
        for i in $(seq 100); do
                pids=$(cg_pids | grep -vx -e "$$" -e "$BASHPID" || true)
                [ -z "$pids" ] && break
                # shellcheck disable=SC2086
                kill -9 $pids 2>/dev/null || true
                nap 0.05
        done
        [ -n "$pids" ] && note "warning: processes still in $CG_NAME after 5 s: $pids"
        for d in "${CG_DIRS[@]}"; do
                for i in $(seq 50); do
                        [ -d "$d" ] || break
                        find "$d" -depth -type d -exec rmdir {} + 2>/dev/null || true
                        [ -d "$d" ] && nap 0.1
                done
                [ -d "$d" ] && note "warning: could not remove $d"
        done
        CG_DIRS=()
}

# ---------------------------------------------------------------- setup, cleanup

bench_cleanup() {
        local rc=$? h
        trap - EXIT INT TERM
        for h in "${CLEANUP_HOOKS[@]}"; do "$h" || true; done
        cg_cleanup
        # BENCH_KEEP=FILE: berthd's and the shims' logs are kept there (debugging)
        [ -n "${BENCH_KEEP:-}" ] && [ -n "$WORK" ] && { cat "$WORK/berthd.log" "$WORK"/state/logs/*/*/shim.log "$WORK"/run/standby/shim.log > "$BENCH_KEEP" 2>/dev/null || true; }
        [ -n "$WORK" ] && [ -d "$WORK" ] && rm -rf "$WORK"
        exit "$rc"
}

# bench_init: cgroups, a work directory, the cleanup trap.
bench_init() {
        trap bench_cleanup EXIT
        trap 'exit 130' INT
        trap 'exit 143' TERM
        # not below /tmp: replicas get a private /tmp, and they run binaries from here
        WORK=$(mktemp -d /var/tmp/berth-bench.XXXXXX)
        mkdir "$WORK/bin"
        cp "$STAMP" "$WORK/bin/stamp"
        STAMP=$WORK/bin/stamp
        cg_setup
}

# ---------------------------------------------------------------- berthd

# start_berthd [ARGS]: berthd on $BDIR/{manifests,state,run} ($BDIR defaults
# to $WORK), in berth-bench-<pid>/agent (its shims inherit that cgroup;
# replicas go below it, in .../agent/services). BERTHD_WRAP: a command
# berthd runs under (e.g. "strace -f -o FILE").
start_berthd() {
        local i b=${BDIR:-$WORK}
        mkdir -p "$b/manifests" "$b/state" "$b/run"
        (
                cg_join agent
                exec ${BERTHD_WRAP:-} "$BERTHD" --manifests "$b/manifests" --state-dir "$b/state" --run-dir "$b/run" \
                        "$@"
        ) >"$b/berthd.log" 2>&1 &
        BERTHD_PID=$!
        disown "$BERTHD_PID"
        for i in $(seq 200); do
                grep -q "ready" "$b/berthd.log" 2>/dev/null && return 0
                kill -0 "$BERTHD_PID" 2>/dev/null || break
                nap 0.05
        done
        cat "$b/berthd.log" >&2
        die "berthd did not become ready (log above)"
}

# record_field SVC IDX FIELD -> the value of a top-level (or a.b) field of record.json
record_field() {
        python3 - "${BDIR:-$WORK}/state/replicas/$1/$2/record.json" "$3" <<'EOF' 2>/dev/null
import json, sys
try:
    v = json.load(open(sys.argv[1]))
    for k in sys.argv[2].split("."):
        v = v[k]
    print(v)
except Exception:
    pass
EOF
}

# records SVC: "<idx> <state> <pid> <shim_pid> <spawned_at> <restart_count>" per replica
records() {
        python3 - "${BDIR:-$WORK}/state/replicas/$1" <<'EOF'
import json, os, sys
d = sys.argv[1]
for idx in sorted(os.listdir(d) if os.path.isdir(d) else [], key=lambda s: int(s) if s.isdigit() else -1):
    try:
        r = json.load(open(os.path.join(d, idx, "record.json")))
    except Exception:
        continue
    print(idx, r.get("state"), r.get("pid", 0), r.get("shim_pid", 0), r.get("spawned_at", 0), r.get("restart_count", 0))
EOF
}

# pss_kib PID: private+proportional memory of a process (smaps_rollup), KiB
pss_kib() { awk '/^Pss:/ { print $2; exit }' "/proc/$1/smaps_rollup" 2>/dev/null; }
rss_kib() { awk '/^VmRSS:/ { print $2; exit }' "/proc/$1/status" 2>/dev/null; }
# uss_kib PID: private memory only (Private_Clean + Private_Dirty), KiB
uss_kib() { awk '/^Private_(Clean|Dirty):/ { s += $2 } END { if (NR) print s }' "/proc/$1/smaps_rollup" 2>/dev/null; }
