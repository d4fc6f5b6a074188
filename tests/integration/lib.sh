# lib.sh: shared helpers for berth's integration tests (POSIX sh: automake runs
# the tests with $(SHELL), dash on Debian). Source it, then:
#
#   require_root                 exit 77 (automake SKIP) unless root
#   setup                        temp dirs (mktemp -d) + cgroup parent berth-test-$$ directly
#                                below our own cgroup in memory, cpu, cpuacct, pids, freezer
#                                and unified; installs the EXIT trap (cleanup)
#   start_berthd [ARGS...]       starts berthd on $MANIFESTS/$STATE/$RUN with
#                                --cgroup-parent berth-test-$$; waits for "ready"
#   stop_berthd [TIMEOUT]        SIGTERM, waits; its exit status in $BERTHD_RC
#   kill9_berthd                 SIGKILL, waits
#   wait_for CMD... --timeout SECS [--what TEXT]
#                                runs CMD every 20 ms until it succeeds; fail()s on timeout
#   record_field SVC IDX FIELD   a field of STATE/replicas/SVC/IDX/record.json, dotted
#                                (last_exit.reason); null prints "null"; 1 if no record
#   replica_pid SVC IDX          the mini-init's host pid (record field pid)
#   service_pid SVC IDX          the service: the mini-init's (first) child
#   cg_dir HIER                  our test cgroup parent in HIER (memory, cpu, ..., unified)
#   cg_file HIER SVC IDX FILE    path of FILE in the replica's cgroup in HIER
#   cg_read HIER SVC IDX FILE    its contents
#   cleanup                      stop berthd (kill what we started), check that no process
#                                is left in the test cgroups, rmdir them depth-first,
#                                remove the temp dirs
#   fail MSG                     prints FAIL + context, exits 1 (cleanup runs)
#   step TEXT / check TEXT / ok TEXT   progress lines
#
# Binaries come from $top_builddir (set by Makefile.am's AM_TESTS_ENVIRONMENT);
# run by hand: top_builddir=/path/to/build sh tests/integration/runtime.sh

PY=${PYTHON:-/usr/bin/python3}
[ -x "$PY" ] || PY=python3

if [ -z "${top_srcdir:-}" ]; then
        top_srcdir=$(cd "$(dirname "$0")/../.." && pwd)
fi
if [ -z "${top_builddir:-}" ]; then
        if [ -x "./agent/berthd" ]; then top_builddir=$(pwd); else top_builddir=$top_srcdir; fi
fi
BERTHD="$top_builddir/agent/berthd"
SHIM="$top_builddir/agent/berth-shim"
BERTHCTL="$top_builddir/ctl/berthctl"

CG_HIERS="memory cpu cpuacct pids freezer unified"
CG_NAME="berth-test-$$"
TEST_TMP=
BERTHD_PID=
BERTHD_RC=
BERTHD_LOG=
BERTHD_STARTS=0
_CLEANED=

# ------------------------------------------------------------------ output

say() { printf '%s\n' "$*"; }
step() { printf '\n== %s\n' "$*"; }
check() { printf '  check: %s\n' "$*"; }
ok() { printf '  ok: %s\n' "$*"; }
note() { printf '  note: %s\n' "$*"; }

fail() {
        printf 'FAIL: %s\n' "$*" >&2
        if [ -n "$BERTHD_LOG" ] && [ -f "$BERTHD_LOG" ]; then
                if grep -q 'ERROR: AddressSanitizer\|runtime error:\|ERROR: LeakSanitizer' "$BERTHD_LOG"; then
                        printf -- '--- berthd sanitizer report (%s):\n' "$BERTHD_LOG" >&2
                        sed -n '/ERROR: AddressSanitizer\|runtime error:\|ERROR: LeakSanitizer/,/^SUMMARY/p' "$BERTHD_LOG" | head -n 60 >&2
                fi
                printf -- '--- last berthd log lines (%s):\n' "$BERTHD_LOG" >&2
                grep '^berthd\[' "$BERTHD_LOG" | tail -n "${BERTH_TEST_LOG_LINES:-20}" >&2
        fi
        exit 1
}

require_root() {
        if [ "$(id -u)" != 0 ]; then
                say "SKIP: $(basename "$0") needs root (namespaces, cgroups)"
                exit 77
        fi
}

require_bin() {
        for _rb in "$@"; do
                [ -x "$_rb" ] || fail "$_rb is not built (top_builddir=$top_builddir)"
        done
}

# ------------------------------------------------------------------ time, polling

# Milliseconds since boot (10 ms resolution), no fork.
now_ms() {
        read -r _nm_up _nm_rest </proc/uptime
        _nm_frac=${_nm_up#*.}
        _nm_frac=${_nm_frac#0}
        echo $(( ${_nm_up%.*} * 1000 + _nm_frac * 10 ))
}

# poll_until SECS CMD...: 0 as soon as CMD succeeds, 1 after SECS.
poll_until() {
        _pu_limit=$(( $(now_ms) + $(awk "BEGIN { printf \"%d\", $1 * 1000 }") ))
        shift
        while :; do
                if "$@" >/dev/null 2>&1; then return 0; fi
                [ "$(now_ms)" -ge "$_pu_limit" ] && break
                # a berthd that died cannot make anything happen any more
                if [ -n "${_PU_WATCH:-}" ] && [ -n "$BERTHD_PID" ] && ! alive "$BERTHD_PID"; then
                        wait "$BERTHD_PID"
                        BERTHD_RC=$?
                        _pu_pid=$BERTHD_PID
                        BERTHD_PID=
                        fail "berthd (pid $_pu_pid) died (exit status $BERTHD_RC) while waiting for: $*"
                fi
                sleep 0.02
        done
        "$@" >/dev/null 2>&1
}

# wait_for CMD... --timeout SECS [--what TEXT]
wait_for() {
        _wf_timeout=10
        _wf_what=
        _wf_opt=
        for _wf_a do
                shift
                case "$_wf_opt" in
                --timeout) _wf_timeout=$_wf_a; _wf_opt=; continue ;;
                --what) _wf_what=$_wf_a; _wf_opt=; continue ;;
                esac
                case "$_wf_a" in
                --timeout | --what) _wf_opt=$_wf_a; continue ;;
                esac
                set -- "$@" "$_wf_a"
        done
        [ $# -gt 0 ] || fail "wait_for: no command"
        _wf_t0=$(now_ms)
        _PU_WATCH=1
        if poll_until "$_wf_timeout" "$@"; then
                _PU_WATCH=
                WAITED_MS=$(( $(now_ms) - _wf_t0 ))
                return 0
        fi
        _PU_WATCH=
        fail "timed out after ${_wf_timeout}s waiting for: ${_wf_what:-$*}"
}

# ------------------------------------------------------------------ processes

# Alive and not a zombie.
alive() {
        [ -n "$1" ] && [ "$1" -gt 0 ] 2>/dev/null || return 1
        _al_st=$(sed -n 's/^State:[[:space:]]*\([A-Z]\).*/\1/p' "/proc/$1/status" 2>/dev/null) || return 1
        [ -n "$_al_st" ] && [ "$_al_st" != Z ] && [ "$_al_st" != X ]
}

not_alive() { ! alive "$1"; }

# The children of a process, all threads.
children_of() {
        cat /proc/"$1"/task/*/children 2>/dev/null | tr ' ' '\n' | sed '/^$/d'
}

# A process's command line, arguments separated by spaces ("" if gone).
cmdline_of() { { tr '\0' ' ' <"/proc/$1/cmdline"; } 2>/dev/null; }

# Our processes outside the cgroups: berth-shims (they stay in berthd's cgroup)
# and anything else whose command line names our temp dir.
our_stray_pids() {
        [ -n "$TEST_TMP" ] || return 0
        for _os_p in /proc/[0-9]*; do
                _os_pid=${_os_p#/proc/}
                [ "$_os_pid" = "$$" ] && continue
                if cmdline_of "$_os_pid" | grep -qF -- "$TEST_TMP/"; then
                        alive "$_os_pid" && echo "$_os_pid"
                fi
        done
        return 0
}

# ------------------------------------------------------------------ cgroups

# Our own cgroup in a hierarchy (from /proc/self/cgroup; "unified" = the "0::" line).
own_cgroup() {
        if [ "$1" = unified ]; then
                sed -n 's/^0:://p' /proc/self/cgroup
        else
                awk -F: -v c="$1" '{ n = split($2, a, ","); for (i = 1; i <= n; i++) if (a[i] == c) { print $3; exit } }' /proc/self/cgroup
        fi
}

cg_dir() {
        _cd_own=$(own_cgroup "$1")
        _cd_own=${_cd_own%/}
        echo "/sys/fs/cgroup/$1$_cd_own/$CG_NAME"
}

cg_file() { echo "$(cg_dir "$1")/services/$2/$3/$4"; }
cg_read() { cat "$(cg_file "$@")"; }

# Every pid in our test cgroups (all hierarchies, recursive).
cg_all_pids() {
        for _ca_h in $CG_HIERS; do
                _ca_d=$(cg_dir "$_ca_h")
                [ -d "$_ca_d" ] || continue
                find "$_ca_d" -name cgroup.procs -exec cat {} + 2>/dev/null
        done | sort -un
}

cg_test_empty() { [ -z "$(cg_all_pids)" ]; }

# Kills everything in our test cgroups: cgroup.kill on the unified tree (the
# kernel walks the subtree), then SIGKILL to each pid listed in any hierarchy.
cg_kill_all() {
        _ck_u=$(cg_dir unified)
        [ -f "$_ck_u/cgroup.kill" ] && echo 1 >"$_ck_u/cgroup.kill" 2>/dev/null
        for _ck_p in $(cg_all_pids); do
                kill -KILL "$_ck_p" 2>/dev/null
        done
        return 0
}

# No cgroup of the service left in any hierarchy.
cg_service_gone() {
        for _cs_h in $CG_HIERS; do
                [ -e "$(cg_dir "$_cs_h")/services/$1" ] && return 1
        done
        return 0
}
cg_replica_gone() {
        for _cr_h in $CG_HIERS; do
                [ -e "$(cg_file "$_cr_h" "$1" "$2" "")" ] && return 1
        done
        return 0
}

# ------------------------------------------------------------------ setup, berthd

setup() {
        require_bin "$BERTHD" "$SHIM"
        for _s_h in $CG_HIERS; do
                [ -d "/sys/fs/cgroup/$_s_h" ] || { say "SKIP: /sys/fs/cgroup/$_s_h is not mounted"; exit 77; }
        done
        TEST_TMP=$(mktemp -d /tmp/berth-it.XXXXXX) || fail "mktemp -d"
        MANIFESTS=$TEST_TMP/manifests
        STATE=$TEST_TMP/state
        RUN=$TEST_TMP/run
        mkdir -p "$MANIFESTS" "$STATE" "$RUN"
        trap cleanup EXIT
        trap 'exit 130' INT
        trap 'exit 143' TERM HUP
        for _s_h in $CG_HIERS; do
                _s_d=$(cg_dir "$_s_h")
                mkdir -p "$_s_d" || fail "cannot create test cgroup $_s_d"
        done
        say "setup: temp dir $TEST_TMP, cgroup parent $CG_NAME (below our own cgroup in: $CG_HIERS)"
}

start_berthd() {
        BERTHD_STARTS=$((BERTHD_STARTS + 1))
        BERTHD_LOG=$TEST_TMP/berthd.$BERTHD_STARTS.log
        say "  starting berthd $* (log $BERTHD_LOG)"
        "$BERTHD" --manifests "$MANIFESTS" --state-dir "$STATE" --run-dir "$RUN" \
                --cgroup-parent "$CG_NAME" --shim "$SHIM" "$@" </dev/null >"$BERTHD_LOG" 2>&1 &
        BERTHD_PID=$!
        _sb_limit=$(( $(now_ms) + 10000 ))
        while ! grep -q ' ready: ' "$BERTHD_LOG" 2>/dev/null; do
                alive "$BERTHD_PID" || { wait "$BERTHD_PID"; BERTHD_RC=$?; BERTHD_PID=; fail "berthd exited (status $BERTHD_RC) before it was ready"; }
                [ "$(now_ms)" -lt "$_sb_limit" ] || fail "berthd not ready after 10 s"
                sleep 0.02
        done
        ok "berthd pid $BERTHD_PID is ready"
}

# stop_berthd [TIMEOUT]: SIGTERM and wait for it to exit; status in BERTHD_RC.
stop_berthd() {
        [ -n "$BERTHD_PID" ] || return 0
        kill -TERM "$BERTHD_PID" 2>/dev/null
        if ! poll_until "${1:-10}" not_alive "$BERTHD_PID"; then
                kill -KILL "$BERTHD_PID" 2>/dev/null
                wait "$BERTHD_PID" 2>/dev/null
                BERTHD_PID=
                fail "berthd did not exit within ${1:-10}s of SIGTERM (killed)"
        fi
        wait "$BERTHD_PID"
        BERTHD_RC=$?
        BERTHD_PID=
}

kill9_berthd() {
        [ -n "$BERTHD_PID" ] || return 0
        kill -KILL "$BERTHD_PID" 2>/dev/null
        wait "$BERTHD_PID" 2>/dev/null
        BERTHD_RC=$?
        BERTHD_PID=
}

# write_manifest NAME: stdin to $MANIFESTS/NAME.yaml, atomically (rename), so
# berthd never reads half a file.
write_manifest() {
        cat >"$MANIFESTS/.$1.yaml.tmp" && mv -f "$MANIFESTS/.$1.yaml.tmp" "$MANIFESTS/$1.yaml"
}

# ------------------------------------------------------------------ records
# replica_diag SVC IDX: what berthd's record and the shim say, for a failure message
replica_diag() {
        _rd_pid=$(record_field "$1" "$2" pid)
        say "    record $1-$2: state=$(record_field "$1" "$2" state) pid=$_rd_pid ($(alive "$_rd_pid" && echo alive || echo NOT alive)) run=$(record_field "$1" "$2" run) restart_count=$(record_field "$1" "$2" restart_count) last_exit=$(record_field "$1" "$2" last_exit.reason)"
        say "    shim status file: $({ tr '\n' ' ' <"$STATE/replicas/$1/$2/status"; } 2>/dev/null)"
        say "    shim log $(shim_log_file "$1" "$2"):"
        tail -n 6 "$(shim_log_file "$1" "$2")" 2>/dev/null | sed 's/^/    | /'
        say "    berthd log about $1-$2:"
        grep "Replica $1-$2:" "$BERTHD_LOG" | tail -n 6 | sed 's/^/    | /'
        say "    its output (last lines):"
        replica_output "$1" "$2" 2>/dev/null | tail -n 6 | sed 's/^/    | /'
}


record_path() { echo "$STATE/replicas/$1/$2/record.json"; }

record_field() {
        _rf=$(record_path "$1" "$2")
        [ -f "$_rf" ] || return 1
        "$PY" -c '
import json, sys
try:
    v = json.load(open(sys.argv[1]))
except Exception as e:
    sys.exit(1)
for k in sys.argv[2].split("."):
    if not isinstance(v, dict) or k not in v:
        sys.exit(1)
    v = v[k]
print("null" if v is None else str(v).lower() if isinstance(v, bool) else v)
' "$_rf" "$3"
}

# record_is SVC IDX FIELD VALUE
record_is() { [ "$(record_field "$1" "$2" "$3" 2>/dev/null)" = "$4" ]; }

replica_pid() { record_field "$1" "$2" pid; }

service_pid() {
        _sp_init=$(replica_pid "$1" "$2") || return 1
        children_of "$_sp_init" | head -n 1
}

# The replica's log directory: one file of CRI records per run (<RUN>.log,
# rotated pieces <RUN>.log.<K>) and the shim's own log (shim.log).
replica_log_dir() { echo "$STATE/logs/$1/$1-$2"; }
shim_log_file() { echo "$STATE/logs/$1/$1-$2/shim.log"; }

# replica_log_files SVC IDX: every log file of the replica, oldest first (runs
# in order; in a run its pieces by K, then the active file)
replica_log_files() {
        _rl_d=$(replica_log_dir "$1" "$2")
        [ -d "$_rl_d" ] || return 0
        ls "$_rl_d" | awk -F. -v d="$_rl_d" '/^[0-9]+\.log(\.[0-9]+)?$/ {
                printf "%d %d %s/%s\n", $1, NF == 3 ? $3 : 2000000000, d, $0 }' | sort -k1,1n -k2,2n | cut -d' ' -f3
}

# replica_log SVC IDX: the newest run's active file ("" when none yet)
replica_log() { replica_log_files "$1" "$2" | tail -n 1; }

# replica_output SVC IDX: what the replica printed (stdout and stderr, every
# kept run, in order): the contents of the CRI records, P pieces joined
replica_output() {
        replica_log_files "$1" "$2" | while read -r _ro_f; do cat "$_ro_f"; done |
                awk '{ c = substr($0, 41); if ($3 == "P") printf "%s", c; else print c }'
}

# replica_output_has SVC IDX TEXT: the replica printed TEXT (grep -F)
replica_output_has() { replica_output "$1" "$2" | grep -qF -- "$3"; }

# ------------------------------------------------------------------ cleanup

cleanup() {
        _cl_rc=$?
        [ -n "$_CLEANED" ] && return 0
        _CLEANED=1
        trap - EXIT INT TERM HUP
        say ""
        say "== cleanup"
        if [ -n "$BERTHD_PID" ] && alive "$BERTHD_PID"; then
                kill -TERM "$BERTHD_PID" 2>/dev/null
                poll_until 10 not_alive "$BERTHD_PID" || kill -KILL "$BERTHD_PID" 2>/dev/null
                wait "$BERTHD_PID" 2>/dev/null
        fi
        BERTHD_PID=
        # the shims of the records, then the replicas' cgroups, then anything
        # else naming our temp dir (a leaked shim)
        if [ -n "$TEST_TMP" ] && [ -d "$STATE/replicas" ]; then
                for _cl_r in "$STATE"/replicas/*/*/record.json; do
                        [ -f "$_cl_r" ] || continue
                        _cl_s=$("$PY" -c 'import json,sys; print(json.load(open(sys.argv[1])).get("shim_pid") or 0)' "$_cl_r" 2>/dev/null)
                        if [ -n "$_cl_s" ] && [ "$_cl_s" != 0 ] && alive "$_cl_s" &&
                                cmdline_of "$_cl_s" | grep -qF -- "$TEST_TMP/"; then
                                kill -KILL "$_cl_s" 2>/dev/null
                        fi
                done
        fi
        _cl_left=$(cg_all_pids | tr '\n' ' ')
        if [ -n "$_cl_left" ]; then
                say "  killing what is left in the test cgroups: $_cl_left"
                cg_kill_all
        fi
        _cl_stray=$(our_stray_pids | tr '\n' ' ')
        if [ -n "$_cl_stray" ]; then
                say "  killing our processes outside the test cgroups: $_cl_stray"
                for _cl_p in $_cl_stray; do kill -KILL "$_cl_p" 2>/dev/null; done
        fi
        if ! poll_until 10 cg_test_empty; then
                say "  LEAK: processes remain in the test cgroups: $(cg_all_pids | tr '\n' ' ')"
                _cl_rc=1
        fi
        poll_until 5 test -z "$(our_stray_pids)" || { say "  LEAK: processes remain: $(our_stray_pids | tr '\n' ' ')"; _cl_rc=1; }
        for _cl_h in $CG_HIERS; do
                _cl_d=$(cg_dir "$_cl_h")
                [ -d "$_cl_d" ] || continue
                # rmdir can race with the last task leaving: retry briefly
                poll_until 5 sh -c 'find "$1" -depth -type d -exec rmdir {} + 2>/dev/null; ! test -d "$1"' _ "$_cl_d" ||
                        { say "  LEAK: cannot remove $_cl_d"; _cl_rc=1; }
        done
        if [ -n "$TEST_TMP" ] && [ -d "$TEST_TMP" ]; then
                if [ "$_cl_rc" != 0 ] && [ "$_cl_rc" != 77 ] && [ -n "${KEEP_LOGS:-}" ]; then
                        cp -r "$TEST_TMP" "${KEEP_LOGS}" 2>/dev/null && say "  logs kept in $KEEP_LOGS"
                fi
                rm -rf "$TEST_TMP"
        fi
        say "== cleanup done (exit $_cl_rc)"
        exit "$_cl_rc"
}

# records_table: one line per replica record:
#   SVC IDX STATE PID SHIM_PID RESTART_COUNT
records_table() {
        "$PY" -c '
import json, os, sys
base = sys.argv[1]
if not os.path.isdir(base):
    sys.exit(0)
for svc in sorted(os.listdir(base)):
    d = os.path.join(base, svc)
    if not os.path.isdir(d):
        continue
    for idx in sorted(os.listdir(d), key=lambda s: (len(s), s)):
        p = os.path.join(d, idx, "record.json")
        try:
            r = json.load(open(p))
        except Exception:
            continue
        print(svc, idx, r.get("state"), r.get("pid"), r.get("shim_pid"), r.get("restart_count"))
' "$STATE/replicas"
}

# ctl ARGS...: runs berthctl; its stdout in $OUT, stderr in $ERR (files in
# TEST_TMP unless the test set them), exit status in $RC.
ctl() {
        RC=0
        "$BERTHCTL" "$@" >"${OUT:=$TEST_TMP/out}" 2>"${ERR:=$TEST_TMP/err}" || RC=$?
}

# expect_rc N WHAT: the last ctl exited with N; else its output and fail.
expect_rc() {
        if [ "$RC" != "$1" ]; then
                say "--- stdout:"; cat "$OUT"; say "--- stderr:"; cat "$ERR"
                fail "$2: exit status $RC, expected $1"
        fi
        ok "$2: exit $RC"
}

# expect_grep FILE REGEX: a line of FILE matches REGEX (else FILE and fail).
expect_grep() {
        grep -qE -- "$2" "$1" || { say "--- $1:"; cat "$1"; fail "no line matching \"$2\" in the output"; }
}

# free_port: a free loopback TCP port (bound to 0 by the kernel, then released).
free_port() {
        "$PY" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# berthapi_py: writes $TEST_TMP/berthapi.py, a python3 client of berthd's API
# on $SOCK (exported), and puts it on PYTHONPATH. For what curl cannot do
# (streams, raw bytes) and for reading JSON fields:
#   request(method, path, body=None, headers=None, timeout=5) -> (status, data, response)
#   get(path, timeout=10) -> the parsed JSON body
#   follow(path, timeout=5) -> the response of a stream (read it with readline())
berthapi_py() {
        export SOCK
        cat >"$TEST_TMP/berthapi.py" <<'EOF'
import http.client, json, os, socket

SOCK = os.environ["SOCK"]

class Conn(http.client.HTTPConnection):
    def __init__(self, timeout=5):
        super().__init__("localhost", timeout=timeout)
    def connect(self):
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.settimeout(self.timeout)
        self.sock.connect(SOCK)

def request(method, path, body=None, headers=None, timeout=5):
    c = Conn(timeout)
    c.request(method, path, body=body, headers=headers or {})
    r = c.getresponse()
    data = r.read()
    c.close()
    return r.status, data, r

def get(path, timeout=10):
    return json.loads(request("GET", path, timeout=timeout)[1])

def follow(path, timeout=5):
    c = Conn(timeout)
    c.request("GET", path)
    return c.getresponse()
EOF
        PYTHONPATH="$TEST_TMP${PYTHONPATH:+:$PYTHONPATH}"
        export PYTHONPATH
}

# http_load_py: writes $TEST_TMP/httpload.py, a client loop against a
# loopback HTTP port: python3 httpload.py PORT OUT STOPFILE. 4 threads GET /
# until STOPFILE exists (at most 240 s, should the test die); it touches
# OUT.started once it runs, then writes OUT: "window START END" (wall-clock
# seconds), then one line per request, "START ok BODY" or "START FAIL error",
# START the time the request began.
http_load_py() {
        cat >"$TEST_TMP/httpload.py" <<'EOF'
import os, sys, threading, time, urllib.request
port, out, stop = sys.argv[1], sys.argv[2], sys.argv[3]
lines, lock = [], threading.Lock()
t0 = time.monotonic()
w0 = time.time()
def run():
    while not os.path.exists(stop) and time.monotonic() - t0 < 240:
        start = time.time()
        try:
            with urllib.request.urlopen("http://127.0.0.1:%s/" % port, timeout=10) as r:
                body = r.read().decode().strip()
                line = "ok " + body if r.status == 200 else "FAIL status %d" % r.status
        except Exception as e:
            line = "FAIL %r" % e
        with lock:
            lines.append("%.3f %s" % (start, line))
open(out + ".started", "w").close()
ts = [threading.Thread(target=run) for _ in range(4)]
for t in ts: t.start()
for t in ts: t.join()
with open(out + ".tmp", "w") as f:
    f.write("window %.3f %.3f\n" % (w0, time.time()))
    f.write("\n".join(lines) + "\n")
os.rename(out + ".tmp", out)
EOF
}
