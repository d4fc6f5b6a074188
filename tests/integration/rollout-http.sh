#!/bin/sh
# rollout-http.sh: the two end-to-end acceptance checks of rolling updates
# (issue 7), with real HTTP traffic on a socket-activated service: the
# example manifests/http-activated.yaml (3 replicas of a python3 server that
# answers "$GREETING from ..." on the one listening socket berthd binds, and
# drains on SIGTERM), on a free loopback port, network.mode none, strategy
# RollingUpdate maxSurge 1 / maxUnavailable 0, progressDeadline 30s and an
# exec readiness probe `test "$GREETING" != broken` (periodSeconds 1,
# failureThreshold 2). An httpGet/tcpSocket probe could not tell the
# replicas apart (any replica may accept on the shared socket, and in their
# own network namespace nothing listens on their loopback): the exec probe
# runs in the replica, with its environment.
#
# One client loop (4 threads, urllib, >= 200 requests/s on loopback, every
# request must get HTTP 200) runs across both rollouts; each response is
# recorded with the time its request started and the revision (GREETING)
# that answered it:
#   1. revision 1 (GREETING=rev1), `deploy --wait`; the loop starts;
#   2. revision 2 (GREETING=rev2), `deploy --wait` exits 0: zero failed
#      requests; every request started after the rollout completed is
#      answered by rev2 (>= 200 of them);
#   3. revision 3 (GREETING=broken: serves, but readiness never succeeds),
#      `deploy --wait` exits 1 with ReadinessFailed before the progress
#      deadline, the rollout is rolled back to revision 2 by itself (GET
#      /v1/services/NAME/rollout: target 2, rollback true; `rollout history`:
#      3 rolled-back, 2 current; RolloutFailed/RolloutRolledBack events),
#      no replica of revision 3 is left, zero failed requests, and every
#      request started after the rollback completed is answered by rev2.
# Socket activation has no traffic gating: the surge replica of revision 3
# accepts from the shared socket while it runs, so some "broken" answers
# (HTTP 200) during the failed rollout are expected and only counted.
# Loopback only, bounded (about a minute; the client stops itself after
# 240 s). Root only (exit 77 otherwise). Run by hand:
#   top_builddir=/path/to/build sh tests/integration/rollout-http.sh
. "${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}/tests/integration/lib.sh"

require_root
require_bin "$BERTHCTL"
setup

SOCK=$RUN/berth.sock
BERTH_SOCKET=$SOCK
export SOCK BERTH_SOCKET
SVC=http-activated
OUT=$TEST_TMP/out
ERR=$TEST_TMP/err
DEADLINE=30

PORT=$(free_port)
say "port: 127.0.0.1:$PORT"

# manifest GREETING: the example on our port with GREETING set, the rolling
# strategy, the progress deadline and the exec readiness probe; in a file
# for berthctl deploy -f ($TEST_TMP/GREETING.yaml)
manifest() {
        _mf=$TEST_TMP/$1.yaml
        {
                sed -e "s/port: 8081,/port: $PORT,/" -e "s/value: hello}/value: $1}/" \
                        "$top_srcdir/manifests/http-activated.yaml"
                cat <<EOF
  strategy: {type: RollingUpdate, rollingUpdate: {maxSurge: 1, maxUnavailable: 0}}
  progressDeadline: ${DEADLINE}s
  readinessProbe:
    exec: {command: [/bin/sh, -c, 'test "\$GREETING" != broken']}
    periodSeconds: 1
    failureThreshold: 2
EOF
        } >"$_mf"
        grep -q "port: $PORT," "$_mf" && grep -q "value: $1}" "$_mf" && grep -q '^spec:$' "$_mf" ||
                fail "could not adapt manifests/http-activated.yaml"
}

# now: wall-clock seconds, as the client stamps its requests (time.time())
now() { "$PY" -c 'import time; print("%.3f" % time.time())'; }

berthapi_py

rollout_field() {
        "$PY" -c '
import sys
from berthapi import get
v = get("/v1/services/%s/rollout" % sys.argv[1])[sys.argv[2]]
print("null" if v is None else str(v).lower() if isinstance(v, bool) else v)' "$SVC" "$1"
}

# revisions: the revisions of every replica, stopping ones included, sorted
revisions() {
        "$PY" -c '
import sys
from berthapi import get
print(" ".join(sorted(str(r["revision"]) for r in get("/v1/replicas?service=" + sys.argv[1]))))' "$SVC"
}

# all_at REV: exactly 3 replicas (none stopping), all of REV, all running,
# and the rollout to REV complete
all_at() {
        [ "$(revisions)" = "$1 $1 $1" ] && [ "$(rollout_field target)" = "$1" ] &&
                [ "$(rollout_field state)" = complete ] &&
                "$BERTHCTL" ps -o json "$SVC" 2>/dev/null | "$PY" -c '
import json, sys
r = json.load(sys.stdin)
sys.exit(0 if len(r) == 3 and all(x["state"] == "running" and x["revision"] == int(sys.argv[1]) for x in r) else 1)' "$1"
}

http_load_py

# ---------------------------------------------------------------------------
step "revision 1 (GREETING=rev1): deploy --wait"
start_berthd
manifest rev1
ctl deploy --wait -f "$TEST_TMP/rev1.yaml"
expect_rc 0 "deploy --wait (revision 1)"
expect_grep "$OUT" "^$SVC: rollout to revision 1 complete \\(3 of 3 available\\)$"
wait_for all_at 1 --timeout 30 --what "3 replicas of revision 1 running"
wait_for sh -c 'curl -sf "http://127.0.0.1:$1/" | grep -q "^rev1 "' _ "$PORT" --timeout 20 --what "rev1 answers on port $PORT"
ok "3 replicas of revision 1 serve 127.0.0.1:$PORT"

CLIENT_OUT=$TEST_TMP/client.out
"$PY" "$TEST_TMP/httpload.py" "$PORT" "$CLIENT_OUT" "$TEST_TMP/stop" &
CLIENT_PID=$!
wait_for test -e "$CLIENT_OUT.started" --timeout 10 --what "the client loop started"
sleep 2 # traffic on revision 1 first
T_R2_START=$(now)
check "client loop running (pid $CLIENT_PID)"

# ---------------------------------------------------------------------------
step "revision 2 (GREETING=rev2) under the client loop: deploy --wait"
manifest rev2
ctl deploy --wait -f "$TEST_TMP/rev2.yaml"
expect_rc 0 "deploy --wait (revision 2)"
T_R2_DONE=$(now)
expect_grep "$OUT" "^$SVC: rollout to revision 2 complete \\(3 of 3 available\\)$"
all_at 2 || fail "after deploy --wait: replicas $(revisions), rollout $(rollout_field state) to $(rollout_field target)"
ok "every replica on revision 2, nothing stopping"
sleep 3 # traffic on revision 2 alone

# ---------------------------------------------------------------------------
step "revision 3 (GREETING=broken, never ready) under the client loop: fails, rolls back"
manifest broken
T_R3_START=$(now)
T0=$(now_ms)
ctl deploy --wait -f "$TEST_TMP/broken.yaml"
T1=$(now_ms)
expect_rc 1 "deploy --wait (revision 3 never ready)"
expect_grep "$OUT" "^$SVC: updated \\(revision 3"
expect_grep "$OUT" "^$SVC: rollout to revision 3 failed: .*ReadinessFailed.*; rolled back to revision 2$"
# the readiness probe fails after ~2 s (2 checks 1 s apart): a failure only
# at the progress deadline means berthd did not notice it by itself
[ $((T1 - T0)) -lt $((DEADLINE * 1000)) ] ||
        fail "the failure took $((T1 - T0)) ms, not within the progress deadline (${DEADLINE}s)"
ok "revision 3 failed after $((T1 - T0)) ms (progress deadline ${DEADLINE}s)"
# the rollback: its stopping replica of revision 3 drains (grace 10s)
wait_for all_at 2 --timeout 40 --what "back on revision 2, no replica of revision 3 left"
T_R3_BACK=$(now)
[ "$(rollout_field rollback)" = true ] || fail "the rollout back to revision 2 is not marked as a rollback"
[ "$(rollout_field lastComplete)" = 2 ] || fail "lastComplete: $(rollout_field lastComplete)"
ok "rolled back to revision 2 by itself: 3 replicas of revision 2, none of revision 3"
# the last rollout failed: so says rollout status until the next one, also
# once the rollback is complete
ctl rollout status "$SVC"
expect_rc 1 "rollout status after the rollback"
expect_grep "$OUT" "^$SVC: rollout to revision 3 failed: .*ReadinessFailed.*; rolled back to revision 2$"
ctl rollout history "$SVC"
expect_rc 0 "rollout history"
expect_grep "$OUT" "^2 +[0-9T:Z-]+ +api [0-9a-f]{16} +complete \\(current\\)$"
expect_grep "$OUT" "^3 +[0-9T:Z-]+ +api [0-9a-f]{16} +rolled-back$"
ok "history: 2 complete (current), 3 rolled-back"
ctl events
expect_grep "$OUT" "RolloutFailed +$SVC +revision 3 failed.*(ReadinessFailed|readiness)"
expect_grep "$OUT" "RolloutRolledBack +$SVC +revision 3 failed: rolling back to revision 2"
ok "events: RolloutFailed (readiness), RolloutRolledBack"
sleep 3 # traffic on revision 2 alone again

# ---------------------------------------------------------------------------
step "the client loop: zero failures, and who answered when"
touch "$TEST_TMP/stop"
wait "$CLIENT_PID" || fail "the client loop exited with status $?"
CLIENT_PID=
[ -f "$CLIENT_OUT" ] || fail "the client wrote no results"
"$PY" - "$CLIENT_OUT" "$T_R2_START" "$T_R2_DONE" "$T_R3_START" "$T_R3_BACK" <<'PY' || fail "the client loop saw what it must not (above)"
import collections, re, sys
out, r2_start, r2_done, r3_start, r3_back = sys.argv[1], *map(float, sys.argv[2:])
lines = open(out).read().split("\n")
w0, w1 = map(float, lines[0].split()[1:3])
phases = [  # name, from, to, greetings allowed
    ("revision 1", w0, r2_start, {"rev1"}),
    ("rollout 1 -> 2", r2_start, r2_done, {"rev1", "rev2"}),
    ("revision 2", r2_done, r3_start, {"rev2"}),
    ("rollout 3, rollback", r3_start, r3_back, {"rev2", "broken"}),
    ("revision 2 again", r3_back, w1, {"rev2"}),
]
bad = 0
stats = {p[0]: collections.Counter() for p in phases}
for line in lines[1:]:
    if not line:
        continue
    t, _, rest = line.partition(" ")
    t = float(t)
    phase = next((p for p in phases if p[1] <= t < p[2]), phases[-1] if t >= w1 else phases[0])
    c = stats[phase[0]]
    m = re.match(r"ok (\S+) from ", rest)
    if not m:
        c["FAIL"] += 1
        bad += 1
        if bad < 6: print("  failed request at %.3f (%s): %s" % (t, phase[0], rest))
        continue
    c[m.group(1)] += 1
    if m.group(1) not in phase[3]:
        bad += 1
        if bad < 6: print("  unexpected answer at %.3f (%s): %s" % (t, phase[0], rest))
total = sum(sum(c.values()) for c in stats.values())
fails = sum(c["FAIL"] for c in stats.values())
rate = total / (w1 - w0)
for name, a, b, _ in phases:
    c = stats[name]
    n = sum(c.values())
    print("  client: %-20s %5.1fs %6d requests (%d/s): %s" % (name, b - a, n, n / (b - a) if b > a else 0,
          ", ".join("%s %d" % kv for kv in sorted(c.items()))))
print("  client: %d requests, %d failed in %.1fs (%d requests/s)" % (total, fails, w1 - w0, rate))
ok = True
if bad:
    print("  %d failed or unexpected responses" % bad); ok = False
if rate < 200:
    print("  only %d requests/s (need >= 200 for the check to mean anything)" % rate); ok = False
# a fast rollout (new replicas are ready at once: the socket queues what
# they do not accept yet) may take well under a second: the loop must have
# been at work during it, not necessarily at its full rate
for name in ("rollout 1 -> 2", "rollout 3, rollback"):
    if sum(stats[name].values()) < 20:
        print("  fewer than 20 requests during %s" % name); ok = False
for name in ("revision 2", "revision 2 again"):
    if stats[name]["rev2"] < 200:
        print("  fewer than 200 rev2 answers after %s" % name); ok = False
# the last 200 responses, in the order they were recorded
last = [l for l in lines[1:] if l][-200:]
if any(" ok rev2 from " not in l for l in last):
    print("  the last 200 responses are not all from rev2"); ok = False
sys.exit(0 if ok else 1)
PY
ok "zero failed requests across both rollouts; after each, every response from rev2 (the last 200 too)"

stop_berthd
[ "$BERTHD_RC" = 0 ] || fail "berthd exited with $BERTHD_RC"
! grep -q 'ERROR: AddressSanitizer\|runtime error:\|ERROR: LeakSanitizer' "$TEST_TMP"/berthd.*.log "$STATE"/logs/*/*.shim 2>/dev/null ||
        fail "sanitizer reports in the logs"
say "PASS"
