#!/bin/sh
# rollout.sh: rolling updates end to end (docs/manifest.md "strategy",
# docs/api.md "Rollouts", berthctl rollout): a 3-replica service rolled with
# maxSurge 1 / maxUnavailable 0 never has fewer than 3 running replicas and
# ends with every replica on the new revision; a revision that crash-loops
# fails and is rolled back automatically without the old replicas ever going
# below replicas - maxUnavailable (`rollout status` and `deploy --wait` exit
# 1); history shows causes and statuses; undo --to-revision; pause/resume; a
# berthd killed with SIGKILL in the middle of a slow rollout (minReadySeconds)
# finishes it after its restart; Recreate; scale during a rollout; a
# manifests-directory service that was rolled back is not rolled again until
# its file changes.
# Readiness is "running" until the probes exist.
# Needs root (exit 77 otherwise). Run by hand:
#   top_builddir=/path/to/build sh tests/integration/rollout.sh
. "${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}/tests/integration/lib.sh"

require_root
setup

SOCK=$RUN/berth.sock
BERTH_SOCKET=$SOCK
export SOCK BERTH_SOCKET
OUT=$TEST_TMP/out
ERR=$TEST_TMP/err

# web VERSION [EXTRA SPEC LINES...]: a manifest for the service web on stdout
web() {
        _w_v=$1
        shift
        cat <<EOF
apiVersion: berth/v1
kind: Service
metadata: {name: web}
spec:
  replicas: 3
  command: [/bin/sleep, "1000"]
  env: [{name: VERSION, value: "$_w_v"}]
  terminationGracePeriod: 2s
  strategy: {type: RollingUpdate, rollingUpdate: {maxSurge: 1, maxUnavailable: 0}}
  progressDeadline: 20s
EOF
        for _w_l in "$@"; do printf '  %s\n' "$_w_l"; done
}

berthapi_py

# watch OLD_REV OUTFILE: in the background, polls /v1/replicas every 10 ms
# and writes "LOW_RUNNING LOW_RUNNING_OF_REV<=OLD_REV MAX_NOT_STOPPING LOOKS
# MIXED" when stopped (SIGTERM); MIXED is 1 when replicas of revisions <=
# OLD_REV and > OLD_REV were ever up (not stopping) at once. Sets WATCH_PID.
watch() {
        rm -f "$2.started"
        "$PY" - "$1" "$2.started" >"$2" 2>&1 <<'EOF' &
import json, signal, sys, time
from berthapi import get
old = int(sys.argv[1])
low, low_old, high, n, mixed = 99, 99, 0, 0, 0
stop = False
def on_term(*_):
    global stop
    stop = True
signal.signal(signal.SIGTERM, on_term)
while not stop:
    try:
        v = get("/v1/replicas?service=web")
    except Exception as e:
        continue
    running = [r for r in v if r["state"] == "running"]
    low = min(low, len(running))
    low_old = min(low_old, len([r for r in running if r["revision"] <= old]))
    # "stopped": its service has ended, only its removal is pending (the shim
    # leaving): it runs nothing, so neither surge nor Recreate counts it
    live = [r for r in v if r["state"] not in ("stopping", "killing", "stopped")]
    high = max(high, len(live))
    if any(r["revision"] <= old for r in live) and any(r["revision"] > old for r in live):
        mixed = 1
    n += 1
    if n == 1:
        open(sys.argv[2], "w").close()
    time.sleep(0.01)
print(low, low_old, high, n, mixed)
EOF
        WATCH_PID=$!
        wait_for test -e $2.started --timeout 10 --what "the watcher's first look"
}

unwatch() {
        kill -TERM "$WATCH_PID"
        wait "$WATCH_PID"
        read -r W_LOW W_LOW_OLD W_HIGH W_N W_MIXED <"$1" || fail "the watcher said nothing: $(cat "$1")"
        [ "$W_N" -gt 3 ] || fail "the watcher looked only $W_N times: $(cat "$1")"
}

# revisions_of: the sorted revisions of the replicas that are not stopping
revisions_of() {
        "$PY" -c '
from berthapi import get
print(" ".join(str(r["revision"]) for r in get("/v1/replicas?service=web") if r["state"] not in ("stopping", "killing")))'
}

rollout_field() {
        "$PY" -c '
import sys
from berthapi import get
v = get("/v1/services/web/rollout")[sys.argv[1]]
print("null" if v is None else str(v).lower() if isinstance(v, bool) else v)' "$1"
}

all_at() { [ "$(revisions_of)" = "$1 $1 $1" ] && [ "$(rollout_field state)" = complete ]; }

start_berthd

# ---------------------------------------------------------------------------
step "revision 1: deploy --wait returns once it is complete"
web 1 >"$TEST_TMP/web1.yaml"
ctl deploy --wait -f "$TEST_TMP/web1.yaml"
expect_rc 0 "deploy --wait (revision 1)"
expect_grep "$OUT" "^web: rollout to revision 1 complete \\(3 of 3 available\\)$"
[ "$(revisions_of)" = "1 1 1" ] || fail "revisions after deploy --wait: $(revisions_of)"

# ---------------------------------------------------------------------------
step "revision 2 with maxSurge 1, maxUnavailable 0: never fewer than 3 running"
watch 1 "$TEST_TMP/w2"
web 2 >"$TEST_TMP/web2.yaml"
ctl deploy --wait -f "$TEST_TMP/web2.yaml"
expect_rc 0 "deploy --wait (revision 2)"
expect_grep "$OUT" "^web: updated \\(revision 2"
expect_grep "$OUT" "^web: rollout to revision 2 complete"
unwatch "$TEST_TMP/w2"
[ "$W_LOW" -ge 3 ] || fail "the rollout went down to $W_LOW running replicas"
[ "$W_HIGH" -le 4 ] || fail "the rollout ran $W_HIGH replicas at once (maxSurge 1 allows 4)"
[ "$(revisions_of)" = "2 2 2" ] || fail "revisions after the rollout: $(revisions_of)"
ok "never fewer than $W_LOW running, at most $W_HIGH at once, every replica on revision 2 ($W_N looks)"

# ---------------------------------------------------------------------------
step "revision 3 crash-loops: the rollout fails and rolls back by itself"
watch 2 "$TEST_TMP/w3"
web 3 >"$TEST_TMP/web3.yaml"
sed -i 's|command: \[/bin/sleep, "1000"\]|command: [/bin/sh, -c, "exit 1"]|' "$TEST_TMP/web3.yaml"
ctl deploy -f "$TEST_TMP/web3.yaml"
expect_rc 0 "deploy revision 3"
T0=$(now_ms)
ctl rollout status web
expect_rc 1 "rollout status of a crash-looping revision"
T1=$(now_ms)
expect_grep "$OUT" "^web: rollout to revision 3 failed: .*CrashLoop.*rolled back to revision 2$"
[ $((T1 - T0)) -lt 15000 ] || fail "the failure took $((T1 - T0)) ms"
wait_for all_at 2 --timeout 20 --what "web back on revision 2"
unwatch "$TEST_TMP/w3"
[ "$W_LOW_OLD" -ge 3 ] || fail "revision 2 went down to $W_LOW_OLD running replicas during the failed rollout"
[ "$(rollout_field target)" = 2 ] || fail "target after the rollback: $(rollout_field target)"
ok "failed after $((T1 - T0)) ms, rolled back; revision 2 never below $W_LOW_OLD running"
# asked once the rollback is complete, the answer is the same: the last
# rollout failed (a fast rollback once finished before the first ask)
[ "$(rollout_field rolledBackFrom)" = 3 ] || fail "rolledBackFrom after the rollback: $(rollout_field rolledBackFrom)"
ctl rollout status web
expect_rc 1 "rollout status after the rollback is complete"
expect_grep "$OUT" "^web: rollout to revision 3 failed: .*CrashLoop.*; rolled back to revision 2$"
ctl events
expect_grep "$OUT" "RolloutFailed +web +revision 3 failed"
expect_grep "$OUT" "RolloutRolledBack +web +revision 3 failed: rolling back to revision 2"

# ---------------------------------------------------------------------------
step "rollout history: revisions, causes, statuses"
ctl rollout history web
expect_rc 0 "rollout history"
head -1 "$OUT" | grep -qE '^REVISION +TIME +CHANGE-CAUSE +STATUS$' || fail "header: $(head -1 "$OUT")"
expect_grep "$OUT" "^1 +[0-9T:Z-]+ +api [0-9a-f]{16} +superseded$"
expect_grep "$OUT" "^2 +[0-9T:Z-]+ +api [0-9a-f]{16} +complete \\(current\\)$"
expect_grep "$OUT" "^3 +[0-9T:Z-]+ +api [0-9a-f]{16} +rolled-back$"
ctl rollout history web -o json
expect_rc 0 "rollout history -o json"
"$PY" -c '
import json, sys
h = json.load(open(sys.argv[1]))
assert [e["revision"] for e in h] == [1, 2, 3], h
assert [e["status"] for e in h] == ["superseded", "complete", "rolled-back"], h
assert [e["current"] for e in h] == [False, True, False], h
assert len({e["digest"] for e in h}) == 3, h
' "$OUT" || fail "history JSON: $(cat "$OUT")"
ok "history: 1 superseded, 2 complete (current), 3 rolled-back"

# ---------------------------------------------------------------------------
step "deploy --wait of a crash-looping revision exits 1"
web 4 >"$TEST_TMP/web4.yaml"
sed -i 's|command: \[/bin/sleep, "1000"\]|command: [/bin/sh, -c, "exit 1"]|' "$TEST_TMP/web4.yaml"
ctl deploy --dry-run -f "$TEST_TMP/web4.yaml"
expect_rc 0 "deploy --dry-run (revision numbers are not reused after a rollback)"
expect_grep "$OUT" "^web: updated \(revision 4, 3 replicas\) \(dry run\)$"
ctl deploy --wait -f "$TEST_TMP/web4.yaml"
expect_rc 1 "deploy --wait (revision 4 crash-loops)"
expect_grep "$OUT" "^web: rollout to revision 4 failed: .*rolled back to revision 2$"
wait_for all_at 2 --timeout 20 --what "web back on revision 2 after revision 4"

# ---------------------------------------------------------------------------
step "rollout undo --to-revision 1"
ctl rollout undo web --to-revision 1
expect_rc 0 "rollout undo --to-revision 1"
expect_grep "$OUT" "^web: rolling back to revision 1$"
ctl rollout status web
expect_rc 0 "rollout status after undo"
expect_grep "$OUT" "^web: rollout to revision 1 complete"
[ "$(rollout_field rolledBackFrom)" = null ] || fail "rolledBackFrom after an undo: $(rollout_field rolledBackFrom)"
[ "$(revisions_of)" = "1 1 1" ] || fail "revisions after undo: $(revisions_of)"
ctl rollout undo web --to-revision 99
expect_rc 1 "undo to a revision that does not exist"
expect_grep "$ERR" "no revision 99"

# ---------------------------------------------------------------------------
step "pause: a deploy does not roll; resume rolls"
ctl rollout pause web
expect_rc 0 "rollout pause"
web 5 >"$TEST_TMP/web5.yaml"
ctl deploy -f "$TEST_TMP/web5.yaml"
expect_rc 0 "deploy revision 5 while paused"
sleep 2
[ "$(revisions_of)" = "1 1 1" ] || fail "a paused rollout rolled: $(revisions_of)"
[ "$(rollout_field state)" = paused ] || fail "state while paused: $(rollout_field state)"
ok "paused: still 1 1 1 after 2 s"
kill9_berthd
start_berthd
sleep 1
[ "$(rollout_field state)" = paused ] || fail "state after a berthd restart while paused: $(rollout_field state)"
[ "$(rollout_field target)" = 5 ] || fail "target after a berthd restart while paused: $(rollout_field target)"
[ "$(revisions_of)" = "1 1 1" ] || fail "a paused rollout rolled after a berthd restart: $(revisions_of)"
ok "still paused (target 5, replicas on 1) after kill -9 and restart of berthd"
ctl rollout resume web
expect_rc 0 "rollout resume"
ctl rollout status web
expect_rc 0 "rollout status after resume"
[ "$(revisions_of)" = "5 5 5" ] || fail "revisions after resume: $(revisions_of)"
ok "resumed: every replica on revision 5"

# ---------------------------------------------------------------------------
step "kill -9 berthd in the middle of a slow rollout (minReadySeconds 2): it completes"
web 6 "minReadySeconds: 2" >"$TEST_TMP/web6.yaml"
ctl deploy -f "$TEST_TMP/web6.yaml"
expect_rc 0 "deploy revision 6 (slow)"
mid() { case " $(revisions_of) " in *" 6 "*" 5 "* | *" 5 "*" 6 "*) return 0 ;; esac; return 1; }
wait_for mid --timeout 10 --what "revisions 5 and 6 side by side"
BEFORE=$(revisions_of)
kill9_berthd
check "berthd killed with old and new replicas: $BEFORE"
start_berthd
wait_for all_at 6 --timeout 30 --what "the rollout to revision 6 completes after the restart"
ctl rollout history web
expect_grep "$OUT" "^6 +.* +complete \\(current\\)$"
ok "revision 6 complete after the restart"

# ---------------------------------------------------------------------------
step "Recreate: every old replica is gone before a new one starts"
watch 6 "$TEST_TMP/w7"
web 7 >"$TEST_TMP/web7.yaml"
sed -i 's|strategy: .*|strategy: {type: Recreate}|' "$TEST_TMP/web7.yaml"
ctl deploy --wait -f "$TEST_TMP/web7.yaml"
expect_rc 0 "deploy --wait (revision 7, Recreate)"
unwatch "$TEST_TMP/w7"
[ "$W_MIXED" = 0 ] || fail "Recreate ran revisions 6 and 7 side by side"
[ "$W_HIGH" -le 3 ] || fail "Recreate ran $W_HIGH replicas at once"
[ "$(revisions_of)" = "7 7 7" ] || fail "revisions after Recreate: $(revisions_of)"
ok "Recreate: never old and new at once, at most $W_HIGH replicas ($W_N looks)"

# ---------------------------------------------------------------------------
step "scale during a rollout is honoured"
web 8 "minReadySeconds: 1" >"$TEST_TMP/web8.yaml"
ctl deploy -f "$TEST_TMP/web8.yaml"
expect_rc 0 "deploy revision 8 (slow)"
mid8() { case " $(revisions_of) " in *" 8 "*" 7 "* | *" 7 "*" 8 "*) return 0 ;; esac; return 1; }
wait_for mid8 --timeout 10 --what "revisions 7 and 8 side by side"
ctl scale web 5
expect_rc 0 "scale web 5 in the middle of the rollout"
at5() { [ "$(revisions_of)" = "8 8 8 8 8" ] && [ "$(rollout_field state)" = complete ]; }
wait_for at5 --timeout 30 --what "5 replicas, all on revision 8"
[ "$(rollout_field target)" = 8 ] || fail "scaling changed the target: $(rollout_field target)"
ctl scale web 3
expect_rc 0 "scale web 3"
wait_for all_at 8 --timeout 20 --what "3 replicas on revision 8"
ok "scaled to 5 mid-rollout: 5 on revision 8, then back to 3"

# ---------------------------------------------------------------------------
step "a manifests-directory service rolled back is not rolled again until its file changes"
cat >"$TEST_TMP/dir-good.yaml" <<'EOF'
apiVersion: berth/v1
kind: Service
metadata: {name: dirsvc}
spec:
  replicas: 2
  command: [/bin/sleep, "1000"]
  terminationGracePeriod: 1s
  strategy: {rollingUpdate: {maxSurge: 1, maxUnavailable: 0}}
EOF
write_manifest dirsvc <"$TEST_TMP/dir-good.yaml"
dir_field() {
        "$PY" -c '
import sys
from berthapi import get
try:
    print(get("/v1/services/dirsvc/rollout")[sys.argv[1]])
except Exception:
    print("none")' "$1"
}
dir_complete() { [ "$(dir_field state)" = complete ] && [ "$(dir_field target)" = "$1" ]; }
wait_for dir_complete 1 --timeout 20 --what "dirsvc revision 1 complete"
sed 's|command: \[/bin/sleep, "1000"\]|command: [/bin/sh, -c, "exit 1"]|' "$TEST_TMP/dir-good.yaml" | write_manifest dirsvc
rolled_back() { [ "$(dir_field rollback)" = True ] && dir_complete 1; }
wait_for rolled_back --timeout 20 --what "dirsvc rolled back to revision 1"
# another file in the directory changes: everything is rescanned
printf 'apiVersion: berth/v1\nkind: Service\nmetadata: {name: other}\nspec:\n  replicas: 1\n  command: [/bin/sleep, "1000"]\n' | write_manifest other
sleep 2
[ "$(dir_field target)" = 1 ] || fail "dirsvc was rolled again: target $(dir_field target)"
[ "$(dir_field heldDigest)" != None ] || fail "dirsvc holds no digest"
ok "rescan: dirsvc stays on revision 1 (the failed spec is held back)"
sed 's|replicas: 2|replicas: 3|' "$TEST_TMP/dir-good.yaml" | sed 's|command: \[/bin/sleep, "1000"\]|command: [/bin/sh, -c, "exit 1"]|' | write_manifest dirsvc
scaled() { [ "$("$PY" -c 'from berthapi import get; print(get("/v1/services/dirsvc")["replicas"]["desired"])')" = 3 ] && [ "$(dir_field target)" = 1 ]; }
wait_for scaled --timeout 10 --what "dirsvc scaled to 3 on revision 1 (the held spec's replica count followed)"
sed 's|sleep, "1000"|sleep, "2000"|' "$TEST_TMP/dir-good.yaml" | write_manifest dirsvc
wait_for dir_complete 3 --timeout 20 --what "dirsvc rolled to revision 3 once its file changed"
ok "a new spec in the file rolls again"

stop_berthd
[ "$BERTHD_RC" = 0 ] || fail "berthd exited with status $BERTHD_RC"
if grep -l 'ERROR: AddressSanitizer\|runtime error:\|ERROR: LeakSanitizer' "$TEST_TMP"/berthd.*.log; then
        fail "sanitizer reports in the berthd logs above"
fi
ok "berthd stopped, no sanitizer report"
