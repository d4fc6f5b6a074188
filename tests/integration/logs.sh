#!/bin/sh
# logs.sh: `berthctl logs` and GET /v1/services/NAME/logs against the real
# berthd, end to end.
#
# Part A: a service with replicas: 0 (nothing writes into its log
# directories) whose two replica directories this test writes by hand in the
# CRI layout the shim writes (lib/crilog.h): merge of 2 replicas in time
# order with prefixes, --replica, --tail, --since/--until (RFC 3339 and
# durations), --timestamps, --previous, a long line joined from P records,
# a 200 KiB line sent in 128 KiB pieces and printed whole, API errors (404,
# 400), the wire format, and -f: a new line shows within 2 s, the stream
# continues across a rotation (active file renamed to a piece, a new one
# created, as the writer does) and across a restart (a new run file),
# without gaps or duplicates, and Ctrl-C exits 0; a simulated fast writer
# (300,000 lines, rotation at 1 MiB, the oldest pieces deleted) followed
# with every line once and in order; berthd stopping with follow streams
# open (exit 0, no sanitizer report).
#
# Part B: a real service printing known lines on stdout and stderr, through
# the real shim. It needs the shim's CRI writer (issue 6, capture half):
# when the shim still writes the old single file (logs/SVC/SVC-IDX.log) the
# part says so and is skipped; when the new layout (logs/SVC/SVC-IDX/RUN.log)
# is there every check runs (both replicas' stdout and stderr, --previous
# after a SIGKILL, -f through the writer's real rotations: 30,000 lines once
# and in order); when neither layout appears the test fails.
# Root only (exit 77 otherwise). Run by hand:
#   top_builddir=/path/to/build sh tests/integration/logs.sh
. "${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}/tests/integration/lib.sh"

require_root
require_bin "$BERTHCTL"
setup

SOCK=$RUN/berth.sock
BERTH_SOCKET=$SOCK
export BERTH_SOCKET
OUT=$TEST_TMP/out
ERR=$TEST_TMP/err
FOUT=$TEST_TMP/follow.out
FOLLOW_PID=

# expect_out TEXT WHAT: stdout is exactly TEXT (printf %b escapes)
expect_out() {
        printf '%b' "$1" >"$TEST_TMP/want"
        if ! cmp -s "$TEST_TMP/want" "$OUT"; then
                say "--- expected:"; cat "$TEST_TMP/want"; say "--- got:"; cat "$OUT"; say "--- stderr:"; cat "$ERR"
                fail "$2"
        fi
        ok "$2"
}

# cri DIR FILE: stdin lines "SECONDS STREAM TAG CONTENT" (SECONDS after $BASE,
# fractions allowed) appended to DIR/FILE as CRI records
cri() {
        mkdir -p "$1"
        "$PY" -c '
import sys, time
base = int(sys.argv[1])
out = open(sys.argv[2], "ab")
for l in sys.stdin.read().splitlines():
    off, stream, tag, content = l.split(" ", 3)
    ns = base * 10**9 + int(round(float(off) * 10**9))
    t = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(ns // 10**9)) + ".%09dZ" % (ns % 10**9)
    content = content.replace("LONG", "x" * 16384)
    out.write(("%s %s %s %s\n" % (t, stream, tag, content)).encode())
' "$BASE" "$1/$2"
}

# ts SECONDS: the RFC 3339 time $BASE + SECONDS, as berth prints it
ts() {
        "$PY" -c '
import sys, time
ns = int(sys.argv[1]) * 10**9 + int(round(float(sys.argv[2]) * 10**9))
print(time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(ns // 10**9)) + ".%09dZ" % (ns % 10**9))' "$BASE" "$1"
}

# the berthctl processes this test started in the background
stop_follow() {
        for _sf in $FOLLOW_PID $OTHER_PIDS; do
                kill -KILL "$_sf" 2>/dev/null
                wait "$_sf" 2>/dev/null
        done
        FOLLOW_PID=
        OTHER_PIDS=
}
OTHER_PIDS=
# keep fail()'s exit status through the cleanup
trap '_logs_rc=$?; stop_follow; (exit $_logs_rc); cleanup' EXIT

start_berthd
wait_for test -S "$SOCK" --timeout 10 --what "the control socket"

# ------------------------------------------------------------------ part A
step "part A: a service whose log files this test writes (replicas: 0)"
write_manifest hand <<'EOF'
apiVersion: berth/v1
kind: Service
metadata: {name: hand}
spec:
  replicas: 0
  command: ["/bin/sleep", "1000"]
EOF
wait_for "$BERTHCTL" inspect hand --timeout 10 --what "service hand"

BASE=$(($(date +%s) - 3600))
H0=$STATE/logs/hand/hand-0
H1=$STATE/logs/hand/hand-1
cri "$H0" 00000001.log <<'EOF'
1 stdout F h0 previous run line
EOF
cri "$H0" 00000002.log.1 <<'EOF'
10 stdout F h0 a
30 stderr F h0 b
EOF
cri "$H0" 00000002.log <<'EOF'
50 stdout F h0 c
55 stdout P LONG
55.5 stdout P LONG
56 stdout F tail of the long line
EOF
printf 'shim diagnostics: not service output\n' >"$H0/shim.log"
cri "$H1" 00000001.log <<'EOF'
20 stdout F h1 a
40 stderr F h1 b
60 stdout F h1 c
EOF
LONG=$("$PY" -c 'print("x" * 32768 + "tail of the long line")')

check "all replicas merged in time order, prefixed"
ctl logs hand
expect_rc 0 "logs hand"
expect_out "hand-0 | h0 a\nhand-1 | h1 a\nhand-0 | h0 b\nhand-1 | h1 b\nhand-0 | h0 c\nhand-0 | $LONG\nhand-1 | h1 c\n" \
        "2 replicas merged by time, 'hand-N | ' prefixes, pieces and the long line joined, shim.log ignored"

check "--replica 1: one replica, no prefix; --prefix adds it"
ctl logs hand --replica 1
expect_rc 0 "logs --replica 1"
expect_out "h1 a\nh1 b\nh1 c\n" "--replica 1 shows replica 1 only, without prefix"
ctl logs hand -r 1 --prefix
expect_out "hand-1 | h1 a\nhand-1 | h1 b\nhand-1 | h1 c\n" "--prefix prefixes a single replica"

check "--tail 1 (per replica), --tail 0"
ctl logs hand --tail 1
expect_rc 0 "logs --tail 1"
expect_out "hand-0 | $LONG\nhand-1 | h1 c\n" "--tail 1: the last line of each replica (the long line counts once)"
ctl logs hand --tail 0
expect_out "" "--tail 0 prints nothing"
ctl logs hand --tail 2 -r 0
expect_out "h0 c\n$LONG\n" "--tail 2 -r 0 crosses nothing and joins P records"
ctl logs hand --tail 4 -r 0
expect_out "h0 a\nh0 b\nh0 c\n$LONG\n" "--tail 4 -r 0 reaches into the rotated piece"

check "--since / --until"
ctl logs hand --since "$(ts 35)"
expect_rc 0 "logs --since RFC3339"
expect_out "hand-1 | h1 b\nhand-0 | h0 c\nhand-0 | $LONG\nhand-1 | h1 c\n" "--since $(ts 35)"
ctl logs hand --until "$(ts 30)"
expect_out "hand-0 | h0 a\nhand-1 | h1 a\nhand-0 | h0 b\n" "--until $(ts 30) (inclusive)"
ctl logs hand --since "$(ts 15)" --until "$(ts 45)" -r 1
expect_out "h1 a\nh1 b\n" "--since and --until together"
ctl logs hand --since 2h -r 1
expect_out "h1 a\nh1 b\nh1 c\n" "--since 2h (a duration before now) shows everything of the last hour"
ctl logs hand --since 30m
expect_out "" "--since 30m shows nothing older"

check "--timestamps"
ctl logs hand --timestamps -r 1 --tail 2
expect_out "$(ts 40) h1 b\n$(ts 60) h1 c\n" "--timestamps prints the capture time first"
ctl logs hand -t --tail 1
expect_out "hand-0 | $(ts 56) $LONG\nhand-1 | $(ts 60) h1 c\n" "prefix, then time, then the line"

check "--previous"
ctl logs hand --previous -r 0
expect_rc 0 "logs --previous -r 0"
expect_out "h0 previous run line\n" "--previous shows the run before the current one"
ctl logs hand -p
expect_out "hand-0 | h0 previous run line\n" "--previous without --replica: the replicas that have one"
ctl logs hand -p -r 1
expect_rc 1 "--previous of a replica without a previous run"
grep -q 'replica hand-1 has no previous run' "$ERR" || { cat "$ERR"; fail "no 'has no previous run' message"; }
ok "a replica without a previous run: exit 1, $(cat "$ERR")"

check "errors"
ctl logs nope
expect_rc 1 "logs of an unknown service"
grep -q 'service "nope" not found' "$ERR" || { cat "$ERR"; fail "unexpected message for an unknown service"; }
ok "unknown service: exit 1, $(cat "$ERR")"
ctl logs hand -r 7
expect_rc 1 "logs of a replica without logs"
grep -q 'replica hand-7 has no logs' "$ERR" || { cat "$ERR"; fail "unexpected message for replica 7"; }
ok "unknown replica: exit 1, $(cat "$ERR")"
ctl logs hand --since yesterday
expect_rc 2 "--since yesterday"
ctl logs hand -f -p
expect_rc 2 "-f with -p"
ok "bad --since and -f with -p are usage errors (exit 2)"
for q in "tail=x" "since=soon" "replica=a" "follow=maybe" "bogus=1"; do
        code=$(curl -s -o "$OUT" -w '%{http_code}' --unix-socket "$SOCK" "http://localhost/v1/services/hand/logs?$q")
        [ "$code" = 400 ] || { cat "$OUT"; fail "?$q: HTTP $code, expected 400"; }
        grep -q '"message"' "$OUT" || fail "?$q: no error message: $(cat "$OUT")"
        say "    ?$q: 400 $(cat "$OUT")"
done
code=$(curl -s -o "$OUT" -w '%{http_code}' --unix-socket "$SOCK" "http://localhost/v1/services/nope/logs")
[ "$code" = 404 ] || fail "unknown service: HTTP $code, expected 404"
ok "API: bad queries are 400 with a message, an unknown service 404"
curl -s --unix-socket "$SOCK" "http://localhost/v1/services/hand/logs?replica=1&tail=1" >"$OUT"
"$PY" -c '
import json, sys
m = json.loads(open(sys.argv[1]).read())
assert m == {"replica": 1, "time": sys.argv[2], "stream": "stdout", "line": "h1 c"}, m' "$OUT" "$(ts 60)" ||
        fail "the wire format is not as documented: $(cat "$OUT")"
ok "wire format: $(cat "$OUT")"

check "a 200 KiB line: sent in pieces of 128 KiB, printed as one line"
H3=$STATE/logs/hand/hand-3
"$PY" - "$H3" "$BASE" <<'EOF'
import os, sys, time
d, base = sys.argv[1], int(sys.argv[2])
os.makedirs(d, exist_ok=True)
t = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(base + 70)) + ".000000000Z"
line = "".join("%07d " % i for i in range(25600))  # 204800 bytes
with open(os.path.join(d, "00000001.log"), "w") as f:
    for off in range(0, len(line), 16384):
        piece = line[off:off + 16384]
        f.write("%s stdout %s %s\n" % (t, "P" if off + 16384 < len(line) else "F", piece))
    f.write("%s stderr F after the long line\n" % t)
with open(os.path.join(d, "want"), "w") as f:
    f.write("hand-3 | %s %s\nhand-3 | %s after the long line\n" % (t, line, t))
EOF
ctl logs hand -r 3 --prefix -t
expect_rc 0 "logs -r 3"
cmp -s "$H3/want" "$OUT" || { head -c 300 "$OUT"; fail "the 200 KiB line did not come out whole (prefix and time once)"; }
n=$(curl -s --unix-socket "$SOCK" "http://localhost/v1/services/hand/logs?replica=3" | grep -c '"partial":true')
[ "$n" -ge 1 ] || fail "berthd sent the 200 KiB line without a partial piece"
ok "one line of 200 KiB, sent in $((n + 1)) messages, printed whole with prefix and time once"
rm "$H3/want"

check "-f: new lines, a rotation, a restart"
NOW_OFF=$(($(date +%s) - BASE))
"$BERTHCTL" logs hand -f -r 0 --tail 1 >"$FOUT" 2>"$TEST_TMP/follow.err" &
FOLLOW_PID=$!
wait_for grep -q "tail of the long line" "$FOUT" --timeout 5 --what "the first line of logs -f"

t0=$(now_ms)
echo "$NOW_OFF stdout F follow one" | cri "$H0" 00000002.log
wait_for grep -qx "follow one" "$FOUT" --timeout 2 --what "a new line in logs -f within 2 s"
ok "a new line appeared after $(($(now_ms) - t0)) ms"

# rotation as the writer does it: last write, rename to a piece, new active file
echo "$NOW_OFF stdout F follow two (last line before the rotation)" | cri "$H0" 00000002.log
mv "$H0/00000002.log" "$H0/00000002.log.2"
echo "$NOW_OFF stdout F follow three (first line after the rotation)" | cri "$H0" 00000002.log
wait_for grep -q "follow three" "$FOUT" --timeout 2 --what "the line after a rotation"
ok "the stream continued across a rotation"

# a restart: a new run file
echo "$((NOW_OFF + 1)) stderr F follow four (new run)" | cri "$H0" 00000003.log
wait_for grep -q "follow four" "$FOUT" --timeout 2 --what "the line of the new run"
ok "the stream continued into the new run"

kill -INT "$FOLLOW_PID"
rc=0
wait "$FOLLOW_PID" || rc=$?
FOLLOW_PID=
[ "$rc" = 0 ] || fail "logs -f ended by SIGINT: exit status $rc, expected 0"
ctl_out=$OUT
OUT=$FOUT
expect_out "$LONG\nfollow one\nfollow two (last line before the rotation)\nfollow three (first line after the rotation)\nfollow four (new run)\n" \
        "logs -f: every line once, in order, across the rotation and the restart; Ctrl-C exits 0"
OUT=$ctl_out

ctl logs hand -r 0 -p
expect_out "h0 a\nh0 b\nh0 c\n$LONG\nfollow one\nfollow two (last line before the rotation)\nfollow three (first line after the rotation)\n" \
        "after the restart, --previous is the whole old run (pieces .1, .2 and the active file)"

check "-f under a fast writer that rotates at 1 MiB and keeps 5 pieces"
H2=$STATE/logs/hand/hand-2
mkdir -p "$H2"
: >"$H2/00000001.log"
N=300000
"$BERTHCTL" logs hand -f -r 2 >"$FOUT" 2>"$TEST_TMP/follow.err" &
FOLLOW_PID=$!
"$PY" -c 'import time; time.sleep(0.3)'
t0=$(now_ms)
"$PY" - "$H2" "$N" <<'EOF' || fail "the simulated writer failed"
import os, sys, time
d, n = sys.argv[1], int(sys.argv[2])
active = os.path.join(d, "00000001.log")
f = open(active, "ab", buffering=0)
k, size, batch = 0, 0, []
for i in range(n):
    ns = time.time_ns()
    t = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(ns // 10**9)) + ".%09dZ" % (ns % 10**9)
    batch.append(("%s stdout F number %07d\n" % (t, i)).encode())
    if len(batch) == 50 or i == n - 1:
        data = b"".join(batch)
        f.write(data)
        size += len(data)
        batch = []
        if size >= 1 << 20:
            # rotate as the writer does: rename to the next piece, reopen, drop the oldest
            k += 1
            os.rename(active, "%s.%d" % (active, k))
            f.close()
            f = open(active, "ab", buffering=0)
            size = 0
            if k > 5:
                os.unlink("%s.%d" % (active, k - 5))
f.close()
print("    writer: %d lines, %d rotations" % (n, k))
EOF
last=$(printf 'number %07d' $((N - 1)))
wait_for grep -q "$last" "$FOUT" --timeout 30 --what "the last of $N lines in logs -f"
say "    all $N lines through berthd + berthctl -f in $(($(now_ms) - t0)) ms"
"$PY" - "$FOUT" "$N" <<'EOF' || fail "logs -f lost, duplicated or reordered lines under a fast writer with rotations"
import sys
lines = open(sys.argv[1]).read().splitlines()
want = ["number %07d" % i for i in range(int(sys.argv[2]))]
if lines != want:
    got = set(lines)
    missing = [w for w in want if w not in got]
    print("    %d lines, %d missing (first %s), %d extra" % (len(lines), len(missing), missing[:3],
                                                             len(lines) - len(want) + len(missing)))
    sys.exit(1)
EOF
kill -INT "$FOLLOW_PID"
rc=0
wait "$FOLLOW_PID" || rc=$?
FOLLOW_PID=
[ "$rc" = 0 ] || fail "logs -f after SIGINT: exit status $rc"
ok "every line once and in order across 1 MiB rotations while the oldest pieces were deleted"

# follow_to_end SVC LAST TIMEOUT: berthctl logs SVC -f into $FOUT until the
# line LAST shows (within TIMEOUT s), then Ctrl-C: it must exit 0.
follow_to_end() {
        wait_for test -d "$STATE/logs/$1/$1-0" --timeout 10 --what "$1-0's log directory"
        "$BERTHCTL" logs "$1" -f >"$FOUT" 2>"$TEST_TMP/follow.err" &
        FOLLOW_PID=$!
        wait_for grep -q "$2" "$FOUT" --timeout "$3" --what "\"$2\" in logs -f"
        kill -INT "$FOLLOW_PID"
        _ft_rc=0
        wait "$FOLLOW_PID" || _ft_rc=$?
        FOLLOW_PID=
        [ "$_ft_rc" = 0 ] || fail "logs -f after SIGINT: exit status $_ft_rc"
}

# rotated_pieces SVC: how many rotated pieces replica 0's log directory holds
rotated_pieces() { ls "$STATE/logs/$1/$1-0/" | grep -Ec '^[0-9]{8,}\.log\.[0-9]+$' || true; }

# expect_counted FILE FORMAT N: FILE is exactly `seq -f FORMAT 1 N`
expect_counted() {
        seq -f "$2" 1 "$3" >"$TEST_TMP/want"
        if ! cmp -s "$TEST_TMP/want" "$1"; then
                say "    $(wc -l <"$1") lines; first differences:"
                diff "$TEST_TMP/want" "$1" | head -n 10
                fail "$1: not exactly lines 1..$3 ($2) once each, in order"
        fi
}

# ------------------------------------------------------------------ part B
step "part B: a real service through the shim's writer"
write_manifest printer <<'EOF'
apiVersion: berth/v1
kind: Service
metadata: {name: printer}
spec:
  replicas: 2
  command: ["/bin/sh", "-c", "echo out line of $BERTH_SERVICE-$BERTH_REPLICA; echo err line >&2; exec sleep 1000"]
  terminationGracePeriod: 1s
EOF
layout=
layout_now() {
        if ls "$STATE/logs/printer/printer-0/" 2>/dev/null | grep -Eq '^[0-9]{8,}\.log$'; then
                layout=cri
        elif [ -s "$STATE/logs/printer/printer-0.log" ]; then
                layout=old
        else
                return 1
        fi
}
wait_for layout_now --timeout 10 --what "printer-0's log (logs/printer/printer-0/RUN.log, or the old logs/printer/printer-0.log)"
if [ "$layout" = old ]; then
        note "SKIPPED part B: the shim on this branch writes the old single file logs/printer/printer-0.log;"
        note "part B runs once the shim's CRI writer (logs/SVC/SVC-IDX/RUN.log) is merged"
else
        # the glob is expanded at each try: printer-1's directory may not exist yet
        for i in 0 1; do
                wait_for sh -c "cat '$STATE/logs/printer/printer-$i/'[0-9]*.log 2>/dev/null | grep -q 'err line'" \
                        --timeout 10 --what "printer-$i's output"
        done
        ctl logs printer
        expect_rc 0 "logs printer"
        for l in "printer-0 | out line of printer-0" "printer-1 | out line of printer-1" "printer-0 | err line" \
                "printer-1 | err line"; do
                grep -qxF -- "$l" "$OUT" || { cat "$OUT"; fail "no line \"$l\" in berthctl logs printer"; }
        done
        ok "stdout and stderr of both replicas, prefixed"

        check "--previous after a crash"
        pid=$(service_pid printer 0)
        kill -KILL "$pid"
        wait_for sh -c "ls '$STATE/logs/printer/printer-0/' | grep -Eq '^[0-9]{8,}\\.log\$' && [ \$(ls '$STATE/logs/printer/printer-0/' | grep -Ec '^[0-9]{8,}\\.log\$') -ge 2 ]" \
                --timeout 15 --what "a second run of printer-0"
        wait_for sh -c "'$BERTHCTL' logs printer -r 0 | grep -q 'out line'" --timeout 10 --what "the new run's output"
        ctl logs printer -r 0 -p
        expect_rc 0 "logs printer -r 0 -p"
        grep -qxF "out line of printer-0" "$OUT" || { cat "$OUT"; fail "--previous does not show the crashed run's output"; }
        ok "--previous shows the crashed run's output"

        check "-f on a real replica whose log rotates (maxSize 256Ki, maxFiles 10)"
        write_manifest counter <<'EOF'
apiVersion: berth/v1
kind: Service
metadata: {name: counter}
spec:
  command: ["/bin/sh", "-c", "sleep 1; seq -f 'count %06g' 1 30000; exec sleep 1000"]
  terminationGracePeriod: 1s
  logging: {maxSize: 256Ki, maxFiles: 10}
EOF
        follow_to_end counter "count 030000" 30
        pieces=$(rotated_pieces counter)
        [ "$pieces" -ge 2 ] || fail "the writer made $pieces rotated pieces, expected several (maxSize 256Ki)"
        "$BERTHCTL" logs counter >"$OUT" 2>"$ERR" || fail "logs counter: $(cat "$ERR")"
        expect_counted "$FOUT" 'count %06g' 30000
        expect_counted "$OUT" 'count %06g' 30000
        ok "30000 lines (1.6 MB, all kept by maxFiles 10) once and in order through $pieces rotations, with -f and without"

        check "-f under a fast writer rotating at 1 MiB with maxFiles 3 (pieces deleted while -f reads): every line"
        # 300,000 lines (about 13 MB of records) in batches of 1,000, a few MB/s:
        # the writer rotates several times a second and deletes the oldest
        # piece two rotations later; berthd takes hold of each new file on
        # inotify, so the follower loses nothing. (Unpaced, seq rotates every
        # few ms and a berthd starved of CPU for two rotations on a loaded
        # machine can still miss a piece: test-crilog checks the mechanism.)
        write_manifest fast <<'EOF'
apiVersion: berth/v1
kind: Service
metadata: {name: fast}
spec:
  command: ["/bin/sh", "-c", "sleep 1; i=0; while [ $i -lt 300 ]; do seq -f 'count %07g' $((i * 1000 + 1)) $((i * 1000 + 1000)); sleep 0.01; i=$((i + 1)); done; exec sleep 1000"]
  terminationGracePeriod: 1s
  logging: {maxSize: 1Mi, maxFiles: 3}
EOF
        follow_to_end fast "count 0300000" 60
        pieces=$(rotated_pieces fast)
        [ "$pieces" -le 2 ] || fail "maxFiles 3 kept $pieces pieces"
        last_k=$(ls "$STATE/logs/fast/fast-0/" | sed -n 's/^[0-9]*\.log\.\([0-9]*\)$/\1/p' | sort -n | tail -n 1)
        [ "${last_k:-0}" -ge 5 ] || fail "only ${last_k:-0} rotations: the check deleted too few pieces to mean anything"
        expect_counted "$FOUT" 'count %07g' 300000
        ok "300000 lines once and in order through logs -f while the writer rotated at 1 MiB and kept 3 files"

        check "-f right after a deploy: picks up a replica whose log does not exist yet"
        write_manifest late <<'EOF'
apiVersion: berth/v1
kind: Service
metadata: {name: late}
spec:
  command: ["/bin/sh", "-c", "sleep 1; echo late line; exec sleep 1000"]
  terminationGracePeriod: 1s
EOF
        wait_for "$BERTHCTL" inspect late --timeout 10 --what "service late"
        "$BERTHCTL" logs late -f >"$FOUT" 2>"$TEST_TMP/follow.err" &
        FOLLOW_PID=$!
        wait_for grep -qx "late line" "$FOUT" --timeout 10 --what "late's first line in logs -f started right after the deploy"
        kill -INT "$FOLLOW_PID"
        rc=0
        wait "$FOLLOW_PID" || rc=$?
        FOLLOW_PID=
        [ "$rc" = 0 ] || fail "logs -f after SIGINT: exit status $rc"
        ok "logs -f started right after the deploy showed the replica's first line"
fi

check "-f on a replica that has not written anything yet waits for its first run"
mkdir -p "$STATE/logs/hand/hand-4"
"$BERTHCTL" logs hand -f -r 4 >"$TEST_TMP/f4.out" 2>&1 &
F4=$!
OTHER_PIDS="$OTHER_PIDS $F4"
"$PY" -c 'import time; time.sleep(0.5)'
alive "$F4" || fail "logs -f -r 4 ended before replica 4 wrote anything: $(cat "$TEST_TMP/f4.out")"
echo "$(($(date +%s) - BASE)) stdout F first words of replica 4" | cri "$STATE/logs/hand/hand-4" 00000001.log
wait_for grep -qx "first words of replica 4" "$TEST_TMP/f4.out" --timeout 2 --what "replica 4's first line"
kill -INT "$F4"
wait "$F4" || fail "logs -f -r 4: exit status $? after SIGINT"
ok "the follower waited, then showed the first run's first line"

check "two followers of one directory; one leaves, the other still gets new lines"
"$BERTHCTL" logs hand -f -r 1 --tail 0 >"$TEST_TMP/fa.out" 2>&1 &
FA=$!
OTHER_PIDS="$OTHER_PIDS $FA"
"$BERTHCTL" logs hand -f -r 1 --tail 0 >"$TEST_TMP/fb.out" 2>&1 &
FB=$!
OTHER_PIDS="$OTHER_PIDS $FB"
NOW_OFF=$(($(date +%s) - BASE))
"$PY" -c 'import time; time.sleep(0.5)'
echo "$NOW_OFF stdout F for both" | cri "$H1" 00000001.log
wait_for grep -qx "for both" "$TEST_TMP/fa.out" --timeout 2 --what "the line in the first follower"
wait_for grep -qx "for both" "$TEST_TMP/fb.out" --timeout 2 --what "the line in the second follower"
kill -INT "$FA"
wait "$FA" || fail "the first follower: exit status $? after SIGINT"
"$PY" -c 'import time; time.sleep(0.3)'
echo "$NOW_OFF stdout F for the second only" | cri "$H1" 00000001.log
wait_for grep -qx "for the second only" "$TEST_TMP/fb.out" --timeout 2 --what "the line in the remaining follower"
kill -INT "$FB"
wait "$FB" || fail "the second follower: exit status $? after SIGINT"
printf 'for both\nfor the second only\n' | cmp -s - "$TEST_TMP/fb.out" || { cat "$TEST_TMP/fb.out"; fail "the second follower's output"; }
ok "both followers got the line; the one left still follows (one shared inotify watch)"

step "berthd stops with follow streams open (one client gone)"
"$BERTHCTL" logs hand -f >"$TEST_TMP/f2.out" 2>"$TEST_TMP/f2.err" &
F2=$!
OTHER_PIDS="$OTHER_PIDS $F2"
wait_for grep -q "hand-1 | h1 c" "$TEST_TMP/f2.out" --timeout 5 --what "the first follow stream"
"$BERTHCTL" logs hand -f -r 1 >"$TEST_TMP/f3.out" 2>&1 &
F3=$!
OTHER_PIDS="$OTHER_PIDS $F3"
wait_for grep -q "h1 c" "$TEST_TMP/f3.out" --timeout 5 --what "the second follow stream"
kill -KILL "$F3"
wait "$F3" 2>/dev/null || true
stop_berthd
[ "$BERTHD_RC" = 0 ] || { tail -n 20 "$BERTHD_LOG"; fail "berthd exited with status $BERTHD_RC"; }
rc=0
wait "$F2" || rc=$?
[ "$rc" = 1 ] || fail "logs -f when berthd stops: exit status $rc, expected 1 ($(cat "$TEST_TMP/f2.err"))"
grep -q "closed the stream" "$TEST_TMP/f2.err" || fail "logs -f when berthd stops: $(cat "$TEST_TMP/f2.err")"
ok "berthd exited 0; the follower was told: $(cat "$TEST_TMP/f2.err")"
if grep -E "AddressSanitizer|LeakSanitizer|runtime error" "$TEST_TMP"/berthd.*.log; then
        fail "sanitizer reports in berthd's log"
fi
ok "no sanitizer report in berthd's log"
ok "done"
