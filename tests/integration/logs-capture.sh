#!/bin/sh
# logs-capture.sh: the shim's log capture, end to end (issue 6, capture half).
# Files: STATE/logs/<svc>/<svc>-<idx>/<RUN>.log[.<K>], CRI records; read here
# by a small parser that follows the CRI rules (timestamp, stream, tag,
# content; P pieces joined until the F record, per stream).
#   1. 1,000,000 numbered lines while berthd is killed (-9) and restarted
#      twice: all of them, once each, in order
#   2. rotation at maxSize 1Mi, maxFiles 3, under a fast writer: 3 files,
#      each valid and within the limit, consecutive numbers, no duplicate
#   3. 100 KiB lines on stdout and stderr round-trip through P/F records
#   4. a crash starts a new run file; the previous run's file is kept, older
#      runs go
#   4b. logging.driver journald: entries in the journal when journald runs;
#      otherwise (no /run/systemd/journal/socket: that part is skipped) the
#      fallback to files, said once in shim.log
#   5. a file size limit (RLIMIT_FSIZE) stands in for a full disk: the
#      service keeps running, output is dropped and counted (logDroppedBytes),
#      one LogDropped event, only whole records in the file
# Exits 77 (skip) unless root.
. "$(dirname "$0")/lib.sh"

require_root
setup

CRI=$TEST_TMP/cri.py
cat >"$CRI" <<'PY'
# cri.py MODE FILE...: reads CRI log files in the order given, strictly:
# "<RFC3339Nano UTC> <stdout|stderr> <F|P> <content>\n"; a P record's content
# continues in the next record of the same stream; timestamps never go back.
import datetime, re, sys

REC = re.compile(rb"^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}Z) (stdout|stderr) ([FP]) (.*)$", re.S)

def lines(files):
    pending = {b"stdout": [], b"stderr": []}
    last = ""
    for f in files:
        data = open(f, "rb").read()
        if data and not data.endswith(b"\n"):
            sys.exit("%s: does not end with a whole record" % f)
        for n, rec in enumerate(data.split(b"\n")[:-1], 1):
            m = REC.match(rec)
            if not m:
                sys.exit("%s:%d: not a CRI record: %r" % (f, n, rec[:120]))
            ts, stream, tag, content = m.groups()
            ts = ts.decode()
            datetime.datetime.strptime(ts[:26], "%Y-%m-%dT%H:%M:%S.%f")  # a real date
            if ts < last:
                sys.exit("%s:%d: time goes back (%s after %s)" % (f, n, ts, last))
            last = ts
            if len(content) > 16384:
                sys.exit("%s:%d: record content longer than 16384 bytes" % (f, n))
            pending[stream].append(content)
            if tag == b"F":
                yield stream.decode(), b"".join(pending[stream])
                pending[stream] = []
    for s, p in pending.items():
        if p:
            sys.exit("a P record of %s without its F record at the end" % s.decode())

mode, files = sys.argv[1], sys.argv[2:]
if mode == "numbers":
    # every stdout line a number, consecutive, no duplicate; prints "first last count"
    first = prev = None
    count = 0
    for s, c in lines(files):
        if s != "stdout":
            continue
        v = int(c)
        if prev is not None and v != prev + 1:
            sys.exit("after %d comes %d (lost or duplicated lines)" % (prev, v))
        if first is None:
            first = v
        prev = v
        count += 1
    print(first, prev, count)
elif mode == "text":
    for s, c in lines(files):
        sys.stdout.buffer.write(s.encode() + b"\t" + c + b"\n")
elif mode == "records":
    # tags per file: "P P P F" ...
    for f in files:
        print(" ".join(r.split(b" ", 4)[1].decode() + ":" + r.split(b" ", 4)[2].decode()
                       for r in open(f, "rb").read().split(b"\n")[:-1]))
else:
    sys.exit("unknown mode " + mode)
PY

api() { curl -sf --unix-socket "$RUN/berth.sock" "http://localhost$1"; }

# ---------------------------------------------------------------- 1
step "1,000,000 numbered lines while berthd is killed and restarted twice"
# 100 batches of 10,000 lines, 30 ms apart: about 3-4 s of output
write_manifest million <<'YAML'
apiVersion: berth/v1
kind: Service
metadata: {name: million}
spec:
  command: [/bin/sh, -c, 'i=0; while [ $i -lt 100 ]; do seq $((i * 10000 + 1)) $((i * 10000 + 10000)); sleep 0.03; i=$((i + 1)); done; echo done >&2; exec sleep infinity']
  logging: {maxSize: 20Mi, maxFiles: 5}
  terminationGracePeriod: 1s
YAML
start_berthd
wait_for record_is million 0 state running --timeout 10 --what "million-0 running"
MILLION_PID=$(replica_pid million 0)
million_lines() { replica_log_files million 0 | xargs cat | wc -l; }
sleep 0.7
kill9_berthd
N1=$(million_lines)
[ "$N1" -lt 1000000 ] || fail "million-0 printed everything before berthd was killed: the test proves nothing"
ok "berthd killed at $N1 records"
sleep 0.3
start_berthd
sleep 0.7
kill9_berthd
ok "berthd killed again at $(million_lines) records"
sleep 0.3
start_berthd
# the last stdout line ends up in the active file ("done" on stderr may be
# read before the rest of stdout: records are in the order the shim read them)
million_done() { grep -q ' stdout F 1000000$' "$(replica_log million 0)"; }
wait_for million_done --timeout 30 --what "million-0 to finish printing"
[ "$(replica_pid million 0)" = "$MILLION_PID" ] || fail "million-0 was restarted (pid $MILLION_PID -> $(replica_pid million 0))"
FILES=$(replica_log_files million 0)
say "  files: $(for f in $FILES; do printf '%s ' "$(basename "$f")"; done)"
# shellcheck disable=SC2086
R=$("$PY" "$CRI" numbers $FILES) || fail "million-0's log is not complete and in order"
[ "$R" = "1 1000000 1000000" ] || fail "million-0's log holds lines $R (first last count), want 1 1000000 1000000"
ok "all 1,000,000 lines, once each, in order ($R), through two kill -9 of berthd"
check "berthctl logs shows the same: every line once, in order"
"$BERTHCTL" --socket "$RUN/berth.sock" logs million >"$TEST_TMP/million.out" 2>"$TEST_TMP/million.err" ||
        fail "berthctl logs million failed: $(head -c 300 "$TEST_TMP/million.err")"
"$PY" - "$TEST_TMP/million.out" <<'PY' || fail "berthctl logs million: not every line once, in order"
import sys
nums, other = [], []
for line in open(sys.argv[1], "rb").read().split(b"\n")[:-1]:
    (nums if line.isdigit() else other).append(line)
if [int(n) for n in nums] != list(range(1, 1000001)):
    bad = next((i for i, n in enumerate(nums) if int(n) != i + 1), len(nums))
    sys.exit("%d numbered lines; the first out of place at position %d" % (len(nums), bad))
if other != [b"done"]:
    sys.exit("other lines: %r" % other[:5])
print("  ok: berthctl logs million: 1..1000000 once each, in order, and 'done'")
PY

# ---------------------------------------------------------------- 2
step "rotation at maxSize 1Mi, maxFiles 3, under a fast writer"
write_manifest rot <<'YAML'
apiVersion: berth/v1
kind: Service
metadata: {name: rot}
spec:
  command: [/bin/sh, -c, 'seq 1 300000; echo done >&2; exec sleep infinity']
  logging: {maxSize: 1Mi, maxFiles: 3}
  terminationGracePeriod: 1s
YAML
wait_for grep -q ' stdout F 300000$' "$(replica_log_dir rot 0)/00000001.log" --timeout 20 --what "rot-0 to finish printing"
FILES=$(replica_log_files rot 0)
NAMES=$(for f in $FILES; do basename "$f"; done | tr '\n' ' ')
say "  files: $NAMES"
[ "$(echo "$FILES" | wc -l)" = 3 ] || fail "rot-0 keeps $(echo "$FILES" | wc -l) files, want 3 (maxFiles): $NAMES"
echo "$NAMES" | grep -Eq '^00000001\.log\.([0-9]+) 00000001\.log\.([0-9]+) 00000001\.log $' ||
        fail "rot-0's files are not two pieces and the active file of run 1: $NAMES"
for f in $FILES; do
        [ "$(stat -c %s "$f")" -le 1048576 ] || fail "$f is larger than maxSize (1Mi): $(stat -c %s "$f") bytes"
done
# shellcheck disable=SC2086
R=$("$PY" "$CRI" numbers $FILES) || fail "rot-0's kept records are not consecutive"
set -- $R
[ "$2" = 300000 ] || fail "rot-0's last kept line is $2, want 300000"
[ "$3" -gt 40000 ] || fail "rot-0 keeps only $3 lines in 3 files of 1 MiB"
ok "3 files within 1 MiB, valid CRI, lines $1..$2 consecutive, no duplicate ($3 lines kept)"

# ---------------------------------------------------------------- 3
step "100 KiB lines round-trip through P/F records, stdout and stderr tagged right"
write_manifest long <<'YAML'
apiVersion: berth/v1
kind: Service
metadata: {name: long}
spec:
  command: [/usr/bin/python3, -c, 'import sys; l = "".join(chr(97 + i % 26) for i in range(102400)); sys.stdout.write("out:" + l + "\n"); sys.stdout.flush(); sys.stderr.write("err:" + l[::-1] + "\n"); sys.stderr.flush(); print("short", flush=True); import time; time.sleep(3600)']
  terminationGracePeriod: 1s
YAML
wait_for replica_output_has long 0 short --timeout 10 --what "long-0's output"
wait_for sh -c "grep -c ' stderr F ' '$(replica_log_dir long 0)/00000001.log' | grep -qx 1" --timeout 5 --what "long-0's stderr line"
"$PY" "$CRI" text "$(replica_log_dir long 0)/00000001.log" >"$TEST_TMP/long.txt" || fail "long-0's log is not valid CRI"
"$PY" - "$TEST_TMP/long.txt" <<'PY' || fail "the 100 KiB lines did not round-trip"
import sys
l = "".join(chr(97 + i % 26) for i in range(102400))
got = [x.split("\t", 1) for x in open(sys.argv[1]).read().split("\n")[:-1]]
want = [["stdout", "out:" + l], ["stderr", "err:" + l[::-1]], ["stdout", "short"]]
got.sort(key=lambda g: (g[0], len(g[1])), reverse=True)
want.sort(key=lambda g: (g[0], len(g[1])), reverse=True)
if got != want:
    sys.exit("got %s" % [(s, len(c), c[:20]) for s, c in got])
PY
TAGS=$("$PY" "$CRI" records "$(replica_log_dir long 0)/00000001.log")
[ "$(echo "$TAGS" | tr ' ' '\n' | grep -c '^stdout:P$')" = 6 ] && [ "$(echo "$TAGS" | tr ' ' '\n' | grep -c '^stderr:P$')" = 6 ] ||
        fail "want 6 P records per 102404-byte line, got: $TAGS"
ok "2 lines of 102404 bytes: 6 P + 1 F records each, intact, on the right stream"

# ---------------------------------------------------------------- 4
step "a crash starts a new run file; the previous run is kept"
mkdir -p "$TEST_TMP/crash"
write_manifest crash <<YAML
apiVersion: berth/v1
kind: Service
metadata: {name: crash}
spec:
  command: [/bin/sh, -c, 'n=\$(cat /mnt/n 2>/dev/null || echo 0); n=\$((n + 1)); echo \$n >/mnt/n; echo "run \$n"; printf "unterminated \$n"; if [ \$n -lt 3 ]; then sleep 0.2; exit 1; fi; exec sleep infinity']
  restartPolicy: Always
  restartBackoff: {initial: 10ms, max: 20ms}
  terminationGracePeriod: 1s
  isolation:
    namespaces: [pid, mount, uts, ipc]
    mounts: [{source: $TEST_TMP/crash, target: /mnt}]
YAML
wait_for record_is crash 0 restart_count 2 --timeout 10 --what "crash-0 restarted twice"
wait_for record_is crash 0 state running --timeout 10 --what "crash-0 running"
wait_for test -s "$(replica_log_dir crash 0)/00000003.log" --timeout 5 --what "run 3's log file"
NAMES=$(replica_log_files crash 0 | xargs -n1 basename | tr '\n' ' ')
[ "$NAMES" = "00000002.log 00000003.log " ] || fail "crash-0's run files: $NAMES, want 00000002.log 00000003.log (the current and the previous run)"
"$PY" "$CRI" text "$(replica_log_dir crash 0)/00000002.log" >"$TEST_TMP/run2.txt" || fail "run 2's file is not valid CRI"
printf 'stdout\trun 2\nstdout\tunterminated 2\n' | cmp -s - "$TEST_TMP/run2.txt" ||
        fail "run 2's file holds: $(cat "$TEST_TMP/run2.txt")"
grep -q ' stdout F run 3$' "$(replica_log_dir crash 0)/00000003.log" || fail "run 3's output is not in 00000003.log"
grep -q 'writes its output to .*/00000003.log' "$(shim_log_file crash 0)" || fail "the shim's log does not name run 3's file"
ok "runs 2 and 3 kept (run 1 deleted); run 2's unterminated last line is an F record in its own file"

# ---------------------------------------------------------------- 4b
step "logging.driver: journald"
write_manifest jrnl <<'YAML'
apiVersion: berth/v1
kind: Service
metadata: {name: jrnl}
spec:
  command: [/bin/sh, -c, 'echo "journal line $BERTH_SERVICE-$BERTH_REPLICA"; echo "journal error" >&2; exec sleep infinity']
  logging: {driver: journald}
  terminationGracePeriod: 1s
YAML
wait_for record_is jrnl 0 state running --timeout 10 --what "jrnl-0 running"
if [ -S /run/systemd/journal/socket ] && command -v journalctl >/dev/null 2>&1; then
        in_journal() { journalctl -q -o cat BERTH_SERVICE=jrnl BERTH_REPLICA=0 SYSLOG_IDENTIFIER=jrnl | grep -qx "$1"; }
        wait_for in_journal "journal line jrnl-0" --timeout 10 --what "jrnl-0's line in the journal"
        wait_for in_journal "journal error" --timeout 10 --what "jrnl-0's stderr line in the journal"
        journalctl -q -o cat PRIORITY=3 BERTH_SERVICE=jrnl | grep -qx "journal error" || fail "stderr is not PRIORITY=3 in the journal"
        [ -z "$(replica_log_files jrnl 0)" ] || fail "jrnl-0 also has log files: $(replica_log_files jrnl 0)"
        ok "stdout and stderr in the journal with BERTH_SERVICE, BERTH_REPLICA, SYSLOG_IDENTIFIER, PRIORITY; no files"
else
        say "  SKIP (journal part): no /run/systemd/journal/socket (or no journalctl) on this host: journald is not running"
        check "without journald the shim falls back to files and says so once"
        wait_for replica_output_has jrnl 0 "journal line jrnl-0" --timeout 10 --what "jrnl-0's line in its log file"
        wait_for replica_output_has jrnl 0 "journal error" --timeout 10 --what "jrnl-0's stderr line in its log file"
        grep -q 'writing log files instead' "$(shim_log_file jrnl 0)" || fail "shim.log does not say it fell back to files: $(cat "$(shim_log_file jrnl 0)")"
        [ "$(grep -c 'writing log files instead' "$(shim_log_file jrnl 0)")" = 1 ] || fail "the fallback is logged more than once"
        ok "fell back to $(basename "$(replica_log jrnl 0)"): $(grep 'writing log files instead' "$(shim_log_file jrnl 0)" | cut -d' ' -f3-)"
fi

# ---------------------------------------------------------------- 5
step "writes fail (file size limit): the service keeps running, output is dropped and counted"
stop_berthd
# RLIMIT_FSIZE of 1024 blocks (512 KiB in dash, 1 MiB in bash) for berthd and
# the shims it starts from now on (berthd's own files stay far below it);
# maxSize above it, so writes fail
ulimit -f 1024
FSIZE=$("$PY" -c 'import resource; print(resource.getrlimit(resource.RLIMIT_FSIZE)[0])')
say "  RLIMIT_FSIZE $FSIZE bytes"
start_berthd
write_manifest full <<'YAML'
apiVersion: berth/v1
kind: Service
metadata: {name: full}
spec:
  command: [/bin/sh, -c, 'seq 1 400000; echo done >&2; exec sleep infinity']
  logging: {maxSize: 8Mi}
  terminationGracePeriod: 1s
YAML
wait_for record_is full 0 state running --timeout 10 --what "full-0 running"
FULL_PID=$(replica_pid full 0)
dropped() { api "/v1/replicas?service=full" | "$PY" -c 'import json,sys; print(json.load(sys.stdin)[0].get("logDroppedBytes", -1))'; }
dropped_some() { [ "$(dropped)" -gt 0 ]; }
wait_for dropped_some --timeout 10 --what "logDroppedBytes > 0 in GET /v1/replicas"
wait_for grep -q 'cannot write the log: File too large; dropping output' "$(shim_log_file full 0)" --timeout 5 --what "the shim's log line"
F=$(replica_log full 0)
# every record either in the file or counted: 400000 lines of 40 + digits + 1
# bytes and "done" (45 bytes) on stderr
TOTAL=$("$PY" -c "print(sum(40 + len(str(i)) + 1 for i in range(1, 400001)) + 45)")
all_counted() { [ "$(dropped)" = $((TOTAL - $(stat -c %s "$F"))) ]; }
wait_for all_counted --timeout 10 --what "logDroppedBytes = $TOTAL - the file's size (last seen $(dropped))"
D=$(dropped)
SIZE=$(stat -c %s "$F")
[ "$SIZE" -le "$FSIZE" ] || fail "the log file grew past the limit: $SIZE"
N=$("$PY" "$CRI" numbers "$F") || fail "the log file holds a torn or bad record"
set -- $N
[ "$(replica_pid full 0)" = "$FULL_PID" ] && record_is full 0 state running || fail "full-0 did not keep running"
EVENTS=$("$BERTHCTL" --socket "$RUN/berth.sock" events -o json | grep -c '"LogDropped"')
[ "$EVENTS" = 1 ] || fail "$EVENTS LogDropped events, want 1 (one per drop episode)"
ok "service running; $SIZE bytes of whole records written (lines 1..$2), $D bytes dropped and reported, 1 LogDropped event"
record_is full 0 log_dropped_bytes "$D" || fail "the record does not keep the dropped count"

say ""
say "PASS: logs-capture"
