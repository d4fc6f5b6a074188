#!/bin/sh
# ctl.sh: berthctl against the real berthd, end to end: usage errors (exit
# 2), an unreachable socket (exit 3, the exact message), invalid manifests
# (exit 1, FILE:LINE:COL), deploy / dry run / redeploy, ps (JSON and an
# aligned table), scale up and down to 0 (nothing left in the replicas'
# cgroups), stop / start / restart (pids), inspect, events (history, -o json,
# --follow ended by SIGINT with exit 0), delete, version, API errors (exit
# 1), and a peer without access (exit 3, "Permission denied").
# Root only (exit 77 otherwise): berthd runs on temp dirs with the cgroup
# parent berth-test-$$ below our own cgroups (lib.sh), removed at the end.
# Run by hand: top_builddir=/path/to/build sh tests/integration/ctl.sh
. "${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}/tests/integration/lib.sh"

require_root
require_bin "$BERTHCTL"
setup

SOCK=$RUN/berth.sock
BERTH_SOCKET=$SOCK
export BERTH_SOCKET
OUT=$TEST_TMP/out
ERR=$TEST_TMP/err
FOLLOW_PID=

# expect_out FILE TEXT: a line of FILE is TEXT exactly
expect_line() {
        grep -qxF -- "$2" "$1" || { say "--- $1:"; cat "$1"; fail "no line \"$2\" in the output"; }
}

# count_state SVC STATE: replicas of SVC in STATE, from `berthctl ps -o json`
count_state() {
        "$BERTHCTL" ps -o json "$1" 2>/dev/null | "$PY" -c '
import json, sys
print(sum(1 for r in json.load(sys.stdin) if r["state"] == sys.argv[1]))' "$2"
}
n_running() { [ "$(count_state "$1" running)" = "$2" ]; }
n_replicas() {
        [ "$("$BERTHCTL" ps -o json "$1" 2>/dev/null | "$PY" -c 'import json, sys; print(len(json.load(sys.stdin)))')" = "$2" ]
}

# pids_of SVC: "INDEX:PID" of every replica, sorted by index
pids_of() {
        "$BERTHCTL" ps -o json "$1" | "$PY" -c '
import json, sys
print(" ".join("%d:%s" % (r["replica"], r["pid"]) for r in json.load(sys.stdin)))'
}

# Every pid in the cgroups of SVC's replicas, in every hierarchy.
service_cg_pids() {
        for _sc_h in $CG_HIERS; do
                _sc_d=$(cg_dir "$_sc_h")/services/$1
                [ -d "$_sc_d" ] || continue
                find "$_sc_d" -name cgroup.procs -exec cat {} + 2>/dev/null
        done | sort -un
}
service_cg_empty() { [ -z "$(service_cg_pids "$1")" ]; }

stop_follow() {
        if [ -n "$FOLLOW_PID" ]; then
                kill -KILL "$FOLLOW_PID" 2>/dev/null
                wait "$FOLLOW_PID" 2>/dev/null
                FOLLOW_PID=
        fi
}

# a follower still running when we fail: ours to end before lib.sh's cleanup
trap '_ctl_rc=$?; stop_follow; (exit $_ctl_rc); cleanup' EXIT

# ------------------------------------------------------------------ 1
step "1. berthd not running: exit 3 with the socket in the message"
ctl --socket "$TEST_TMP/nowhere.sock" ps
expect_rc 3 "ps on a missing socket"
expect_line "$ERR" "berthctl: error: cannot connect to berthd at $TEST_TMP/nowhere.sock: No such file or directory; is berthd running? (systemctl status berthd)"
ok "$(cat "$ERR")"
BERTH_SOCKET=$TEST_TMP/nowhere.sock ctl scale web 1
expect_rc 3 "BERTH_SOCKET is used"
grep -qF "at $TEST_TMP/nowhere.sock:" "$ERR" || fail "BERTH_SOCKET not used: $(cat "$ERR")"
: >"$TEST_TMP/not-a-socket"
ctl --socket "$TEST_TMP/not-a-socket" ps
expect_rc 3 "a file that is not a socket"
grep -qF "Connection refused; is berthd running?" "$ERR" || fail "unexpected message: $(cat "$ERR")"
ctl --socket "$TEST_TMP/nowhere.sock" version
expect_rc 0 "version without berthd"
expect_line "$OUT" "berthctl $(sed -n 's/^AC_INIT(\[berth\], \[\([^]]*\)\].*/\1/p' "$top_srcdir/configure.ac")"
ok "version: $(cat "$OUT"); stderr: $(cat "$ERR")"

# ------------------------------------------------------------------ 2
step "2. usage errors: exit 2, naming what is wrong"
usage() { # usage TEXT ARGS...: exit 2 and TEXT in the message
        _u_text=$1
        shift
        ctl "$@"
        expect_rc 2 "berthctl $*"
        grep -qF -- "$_u_text" "$ERR" || fail "berthctl $*: \"$_u_text\" not in: $(cat "$ERR")"
        ok "berthctl $*: $(head -n 1 "$ERR")"
}
usage 'unknown command "frobnicate"' frobnicate
usage "unknown option --bogus" ps --bogus
usage "unknown option -x" -x
usage 'replica count "abc" is not a number' scale web abc
usage 'replica count "-1" is negative' scale web -1
usage "missing the replica count" scale web
usage "missing service name" scale
usage "missing service name" stop
usage 'unexpected argument "b"' delete a b
usage 'unknown output format "yaml"' ps -o yaml
usage "option --output needs an argument" ps --output
usage '--since: "x" is not a sequence number' events --since x
usage "no manifest given" deploy
usage "option -f needs an argument" deploy -f
ctl
expect_rc 2 "no command"

check "--help for every command (and 'help COMMAND' is the same)"
for c in deploy ps inspect scale stop start restart delete events validate version help; do
        ctl "$c" --help
        expect_rc 0 "$c --help"
        grep -q "^Usage: berthctl" "$OUT" || fail "$c --help: no usage line"
        cp "$OUT" "$TEST_TMP/help1"
        ctl help "$c"
        expect_rc 0 "help $c"
        cmp -s "$OUT" "$TEST_TMP/help1" || fail "'help $c' differs from '$c --help'"
done
ok "every command answers --help"

# ------------------------------------------------------------------ 3
step "3. invalid manifests: exit 1 with FILE:LINE:COL, nothing sent"
BAD=$TEST_TMP/bad.yaml
printf 'apiVersion: berth/v1\nkind: Service\nmetadata:\n  name: bad\nspec:\n  replicas: lots\n  command: [/bin/true]\n' >"$BAD"
ctl deploy -f "$BAD"
expect_rc 1 "deploy of an invalid file"
grep -q "^$BAD:6:13: error: spec.replicas: " "$ERR" || fail "no FILE:LINE:COL error: $(cat "$ERR")"
ok "$(head -n 1 "$ERR")"
# the same messages as validate
"$BERTHCTL" validate "$BAD" 2>"$TEST_TMP/validate.err" >/dev/null
cmp -s "$ERR" "$TEST_TMP/validate.err" || fail "deploy and validate disagree: $(cat "$ERR") / $(cat "$TEST_TMP/validate.err")"
ctl deploy -f "$top_srcdir/tests/data/four-errors.bad.yaml"
expect_rc 1 "deploy of tests/data/four-errors.bad.yaml"
[ "$(grep -c ':[0-9]*:[0-9]*: error: ' "$ERR")" = 4 ] || fail "expected 4 errors: $(cat "$ERR")"
ok "4 errors, each with line:col"

# ------------------------------------------------------------------ 4
step "4. deploy manifests/web.yaml: 3 replicas running within 1 s"
start_berthd
ctl deploy -f "$top_srcdir/manifests/web.yaml" --dry-run
expect_rc 0 "deploy --dry-run"
expect_line "$OUT" "web: created (revision 1, 3 replicas) (dry run)"
ctl ps -o json
expect_rc 0 "ps -o json"
[ "$(cat "$OUT" | tr -d ' \n')" = "[]" ] || fail "the dry run created something: $(cat "$OUT")"
ok "dry run: $(cat "$OUT" | tr -d '\n')"

T0=$(now_ms)
ctl deploy -f "$top_srcdir/manifests/web.yaml"
expect_rc 0 "deploy"
expect_line "$OUT" "web: created (revision 1, 3 replicas)"
wait_for n_running web 3 --timeout 1 --what "3 running replicas of web in ps -o json"
ok "3 running after $(( $(now_ms) - T0 )) ms"

check "ps -o json has the documented fields"
ctl ps -o json web
"$PY" -c '
import json, sys
reps = json.load(open(sys.argv[1]))
assert len(reps) == 3, reps
for i, r in enumerate(reps):
    for k in ("service", "replica", "id", "pid", "state", "since", "restarts", "revision", "cgroup",
              "started_at", "last_exit", "next_restart_at", "shim_pid"):
        assert k in r, "missing %s in %s" % (k, r)
    assert r["service"] == "web" and r["replica"] == i and r["state"] == "running", r
    assert isinstance(r["pid"], int) and r["pid"] > 1, r
    assert r["revision"] == 1 and r["restarts"] == 0 and r["last_exit"] is None, r
' "$OUT" || fail "ps -o json: $(cat "$OUT")"
ok "3 replicas with every field"

check "redeploying the same file changes nothing; a directory works too"
mkdir "$TEST_TMP/dir"
cp "$top_srcdir/manifests/web.yaml" "$TEST_TMP/dir/"
echo "not a manifest" >"$TEST_TMP/dir/README"
ctl deploy -f "$TEST_TMP/dir"
expect_rc 0 "deploy -f DIR"
expect_line "$OUT" "web: unchanged"
ok "$(cat "$OUT")"

# ------------------------------------------------------------------ 5
step "5. ps: an aligned table"
ctl ps
expect_rc 0 "ps"
sed 's/^/    /' "$OUT"
"$PY" -c '
import sys
lines = open(sys.argv[1]).read().splitlines()
head = lines[0]
cols = ["SERVICE", "REPLICA", "STATE", "READY", "PID", "RESTARTS", "AGE", "LAST EXIT"]
starts = [head.index(c) for c in cols]
assert starts == sorted(starts) and starts[0] == 0, head
assert len(lines) == 4, lines
for l in lines[1:]:
    assert "\033" not in l, "colors on a pipe: %r" % l
    assert l == l.rstrip(), "trailing spaces: %r" % l
    for s in starts[1:]:
        assert l[s - 1] == " " and l[s] != " ", "column at %d not aligned in %r" % (s, l)
    f = l.split()
    assert f[0] == "web" and f[2] == "running" and f[3] == "yes" and f[5] == "0" and f[7] == "-", f
' "$OUT" || fail "the table is not aligned"
ok "columns start where their headers do, no colors on a pipe"
if command -v script >/dev/null 2>&1; then
        # a terminal: STATE in green; NO_COLOR: none
        env -u NO_COLOR TERM=xterm script -qec "$BERTHCTL ps" /dev/null </dev/null >"$OUT" 2>&1
        grep -q "$(printf '\033')\[32mrunning$(printf '\033')\[0m" "$OUT" || fail "no green 'running' on a tty: $(od -c "$OUT" | head)"
        NO_COLOR=1 TERM=xterm script -qec "$BERTHCTL ps" /dev/null </dev/null >"$OUT" 2>&1
        ! grep -q "$(printf '\033')" "$OUT" || fail "colors despite NO_COLOR: $(od -c "$OUT" | head)"
        ok "colors on a terminal, none with NO_COLOR"
fi
ctl ps -o wide
expect_rc 0 "ps -o wide"
head -n 1 "$OUT" | grep -q "REVISION   CGROUP .*SHIM$" || fail "ps -o wide header: $(head -n 1 "$OUT")"
ok "wide: $(head -n 1 "$OUT")"

# ------------------------------------------------------------------ 6
step "6. scale web 5: 5 running within 1 s"
ctl scale web 5
expect_rc 0 "scale web 5"
expect_line "$OUT" "web: scaled to 5 replicas"
wait_for n_running web 5 --timeout 1 --what "5 running replicas of web"
ok "5 running after ${WAITED_MS} ms"

# ------------------------------------------------------------------ 7
step "7. stop / start / restart"
BEFORE=$(pids_of web)
ctl stop web
expect_rc 0 "stop web"
expect_line "$OUT" "web: stopped"
wait_for n_running web 0 --timeout 15 --what "no running replica of web after stop"
wait_for service_cg_empty web --timeout 5 --what "web's cgroups empty after stop"
ok "stopped: no replica runs, the cgroups are empty"
ctl start web
expect_rc 0 "start web"
expect_line "$OUT" "web: started (5 replicas)"
wait_for n_running web 5 --timeout 2 --what "5 running replicas of web after start"
STARTED=$(pids_of web)
for p in $STARTED; do
        case " $BEFORE " in *" $p "*) fail "replica ${p%:*} kept its pid ${p#*:} across stop/start" ;; esac
done
ok "started with new pids: $STARTED"
ctl restart web
expect_rc 0 "restart web"
expect_line "$OUT" "web: restarting (revision 2, 5 replicas rolled out)"
all_replaced() {
        _ar_now=$(pids_of web)
        [ "$(count_state web running)" = 5 ] || return 1
        for _ar_p in $_ar_now; do
                # a rollout surges: the indexes may change (docs/manifest.md, strategy)
                case " $STARTED " in *":${_ar_p#*:} "*) return 1 ;; esac      # another pid
        done
        "$BERTHCTL" ps -o json web | "$PY" -c 'import json, sys; sys.exit(any(r["revision"] != 2 for r in json.load(sys.stdin)))'
}
wait_for all_replaced --timeout 20 --what "every replica of web replaced (revision 2, new pids)"
ok "restarted: $(pids_of web)"

# ------------------------------------------------------------------ 8
step "8. inspect web"
ctl inspect web
expect_rc 0 "inspect web"
"$PY" -c '
import json, sys
o = json.load(open(sys.argv[1]))
s = o["service"]
assert s["name"] == "web" and s["revision"] == 2 and s["owner"] == "api" and s["stopped"] is False, s
assert s["spec"]["spec"]["replicas"] == 5 and s["replicas"]["desired"] == 5, s
assert len(o["replicas"]) == 5 and all(r["service"] == "web" for r in o["replicas"]), o["replicas"]
' "$OUT" || fail "inspect: $(head -c 800 "$OUT")"
ok "the service (revision 2, 5 desired) and its 5 replicas"

# ------------------------------------------------------------------ 9
step "9. scale web 0: no replica, nothing left in the replicas' cgroups"
ctl scale web 0
expect_rc 0 "scale web 0"
expect_line "$OUT" "web: scaled to 0 replicas"
wait_for n_replicas web 0 --timeout 15 --what "no replica of web in ps"
wait_for service_cg_empty web --timeout 5 --what "web's replica cgroups empty"
ok "no replica, cgroups empty (after ${WAITED_MS} ms more)"
replica_cgs_gone() {
        for _rg in 0 1 2 3 4; do cg_replica_gone web "$_rg" || return 1; done
}
wait_for replica_cgs_gone --timeout 5 --what "the cgroups of web-0..4 removed in every hierarchy"
ok "the replicas' cgroups are removed"
ctl ps web
expect_rc 0 "ps web with no replicas"
[ ! -s "$OUT" ] || fail "ps printed a table without rows: $(cat "$OUT")"

# ------------------------------------------------------------------ 10
step "10. events: the history, -o json, and --follow ended by SIGINT"
ctl events
expect_rc 0 "events"
for t in "ServiceCreated *web" "ServiceScaled *web" "ServiceStopped *web" "ServiceStarted *web" \
        "ServiceRestarted *web" "ReplicaStarted *web-0" "ReplicaStarted *web-4"; do
        grep -q "^[0-9T:.-]*Z  $t " "$OUT" || fail "no \"$t\" event line in: $(cat "$OUT")"
done
ok "$(wc -l <"$OUT") events, e.g.: $(grep ServiceCreated "$OUT" | head -n 1)"
ctl events -o json
expect_rc 0 "events -o json"
LAST_SEQ=$("$PY" -c '
import json, sys
seq = [json.loads(l)["seq"] for l in open(sys.argv[1]) if l.strip()]
assert seq == sorted(seq) and len(seq) > 5, seq
print(seq[-1])' "$OUT") || fail "events -o json: not one JSON object per line"
ctl events --since "$LAST_SEQ" -o json
expect_rc 0 "events --since"
[ "$(wc -l <"$OUT")" -ge 1 ] && head -n 1 "$OUT" | grep -q "\"seq\":$LAST_SEQ[,}]" ||
        fail "--since $LAST_SEQ: $(head -c 300 "$OUT")"
ok "--since $LAST_SEQ starts there"

FOLLOW_OUT=$TEST_TMP/follow.out
"$BERTHCTL" events -f --since "$((LAST_SEQ + 1))" >"$FOLLOW_OUT" 2>"$TEST_TMP/follow.err" &
FOLLOW_PID=$!
sleep 0.3
alive "$FOLLOW_PID" || fail "events -f exited early: $(cat "$TEST_TMP/follow.err")"
ctl scale web 1
expect_rc 0 "scale web 1 (while following)"
wait_for grep -q "ServiceScaled *web " "$FOLLOW_OUT" --timeout 2 --what "the scale event in events -f"
wait_for grep -q "ReplicaStarted *web-0 " "$FOLLOW_OUT" --timeout 2 --what "the replica's start in events -f"
kill -INT "$FOLLOW_PID"
poll_until 2 not_alive "$FOLLOW_PID" || fail "events -f did not end on SIGINT"
FRC=0
wait "$FOLLOW_PID" || FRC=$?
FOLLOW_PID=
[ "$FRC" = 0 ] || fail "events -f exited $FRC after SIGINT: $(cat "$TEST_TMP/follow.err")"
[ ! -s "$TEST_TMP/follow.err" ] || fail "events -f wrote to stderr: $(cat "$TEST_TMP/follow.err")"
ok "followed $(wc -l <"$FOLLOW_OUT") events, SIGINT: exit 0"

# ------------------------------------------------------------------ 11
step "11. API errors: exit 1 with berthd's message"
ctl scale nosuch 3
expect_rc 1 "scale of a missing service"
expect_line "$ERR" 'berthctl: error: service "nosuch" not found'
ok "$(cat "$ERR")"
ctl scale web 10001
expect_rc 1 "scale beyond the limit"
grep -q "^berthctl: error: .*10000" "$ERR" || fail "scale web 10001: $(cat "$ERR")"
ok "$(cat "$ERR")"
ctl inspect nosuch
expect_rc 1 "inspect of a missing service"
ctl ps nosuch
expect_rc 1 "ps of a missing service"
cp "$top_srcdir/manifests/worker.yaml" "$MANIFESTS/"
wait_for n_running worker 2 --timeout 5 --what "worker (from the manifests directory) running"
ctl delete worker
expect_rc 1 "delete of a service owned by the manifests directory"
grep -q "^berthctl: error: " "$ERR" || fail "no error: $(cat "$ERR")"
ok "$(head -n 1 "$ERR")"
ctl deploy -f "$top_srcdir/manifests/worker.yaml"
expect_rc 1 "deploy of a service owned by the manifests directory"
grep -q "^berthctl: error: .*worker" "$ERR" || fail "no error: $(cat "$ERR")"
ok "$(head -n 1 "$ERR")"

# ------------------------------------------------------------------ 12
step "12. version: berthctl's and berthd's"
ctl version
expect_rc 0 "version"
grep -q "^berthd .*(pid $BERTHD_PID, " "$OUT" || fail "no berthd line: $(cat "$OUT")"
ok "$(tr '\n' ';' <"$OUT")"

# ------------------------------------------------------------------ 13
step "13. a peer without access: exit 3, Permission denied"
if command -v setpriv >/dev/null 2>&1; then
        chmod 0711 "$TEST_TMP" "$RUN"
        RC=0
        setpriv --reuid=65534 --regid=65534 --clear-groups "$BERTHCTL" --socket "$SOCK" ps >"$OUT" 2>"$ERR" || RC=$?
        chmod 0700 "$TEST_TMP"
        expect_rc 3 "ps as nobody"
        expect_line "$ERR" "berthctl: error: cannot connect to berthd at $SOCK: Permission denied (are you in group berth?)"
        ok "$(cat "$ERR")"
else
        note "setpriv is not installed: skipped"
fi

# ------------------------------------------------------------------ 14
step "14. delete web: gone from ps, its cgroups removed"
ctl delete web
expect_rc 0 "delete web"
expect_line "$OUT" "web: deleted"
ctl ps web
wait_for sh -c '! "$1" ps web >/dev/null 2>&1' _ "$BERTHCTL" --timeout 15 --what "web gone"
ctl ps web
expect_rc 1 "ps of the deleted service"
expect_line "$ERR" 'berthctl: error: service "web" not found'
wait_for cg_service_gone web --timeout 5 --what "web's cgroups removed"
ok "web deleted, cgroups removed"

check "the manifests directory's worker goes when its file does"
rm -f "$MANIFESTS/worker.yaml"
wait_for sh -c '! "$1" ps worker >/dev/null 2>&1' _ "$BERTHCTL" --timeout 15 --what "worker gone"
wait_for service_cg_empty worker --timeout 5 --what "worker's cgroups empty"
ok "worker removed"

stop_follow
stop_berthd
[ "$BERTHD_RC" = 0 ] || fail "berthd exited with status $BERTHD_RC"
ok "berthd stopped cleanly"
say "PASS: ctl.sh"
