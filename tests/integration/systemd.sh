#!/bin/sh
# systemd.sh: berthd under systemd's protocols, without systemd as PID 1:
#  - the units: systemd/berthd.service (generated from .in) and
#    berthd.socket pass `systemd-analyze verify` without a warning and say
#    what berthd needs (Type=notify, Delegate=yes, KillMode=process, ...);
#  - sd_notify: READY=1 comes only once the control API answers and the
#    replicas of the previous run are re-adopted; STATUS= counts them;
#    WATCHDOG=1 comes when WATCHDOG_USEC is set;
#  - socket activation: berthd serves the socket systemd-socket-activate
#    passes (named berth.sock), does not bind its own, and leaves the
#    passed socket's file alone when it exits.
# Needs root (exit 77 otherwise). Run by hand:
#   top_builddir=/path/to/build sh tests/integration/systemd.sh
. "${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}/tests/integration/lib.sh"

require_root
command -v curl >/dev/null 2>&1 || { say "SKIP: curl is not installed"; exit 77; }
setup

SOCK=$RUN/berth.sock
UNIT_SERVICE=$top_builddir/systemd/berthd.service
UNIT_SOCKET=$top_srcdir/systemd/berthd.socket

# replicas_of SOCKET SVC: "INDEX STATE PID" lines
replicas_of() {
        curl -sS --max-time 5 --unix-socket "$1" "http://localhost/v1/replicas?service=$2" |
                "$PY" -c '
import json, sys
for r in json.load(sys.stdin):
    print(r["replica"], r["state"], r["pid"])
'
}
pids_of() { replicas_of "$1" "$2" | awk '$2 == "running" { printf "%s:%s ", $1, $3 }'; }
running_is() { [ "$(replicas_of "$1" "$2" 2>/dev/null | grep -c ' running [0-9]')" = "$3" ]; }

# ------------------------------------------------------------------ units

step "the units"
[ -f "$UNIT_SERVICE" ] || fail "$UNIT_SERVICE is not generated (make systemd/berthd.service, or make check)"
! grep -q '@[a-z]*@' "$UNIT_SERVICE" || fail "unsubstituted variables in $UNIT_SERVICE: $(grep '@[a-z]*@' "$UNIT_SERVICE")"
grep -q '^ExecStart=/[^ ]*/berthd$' "$UNIT_SERVICE" || fail "ExecStart: $(grep ExecStart "$UNIT_SERVICE")"
ok "$(grep '^ExecStart=' "$UNIT_SERVICE")"
for _kv in Type=notify NotifyAccess=main Delegate=yes KillMode=process Restart=always WatchdogSec=30s; do
        grep -qx "$_kv" "$UNIT_SERVICE" || fail "berthd.service lacks $_kv"
done
for _kv in ListenStream=/run/berth/berth.sock SocketMode=0660 SocketGroup=berth FileDescriptorName=berth.sock; do
        grep -qx "$_kv" "$UNIT_SOCKET" || fail "berthd.socket lacks $_kv"
done
ok "Type=notify, NotifyAccess=main, Delegate=yes, KillMode=process, Restart=always, WatchdogSec=30s; socket 0660 group berth"

if command -v systemd-analyze >/dev/null 2>&1; then
        # verify checks that ExecStart exists: point it at the build's berthd
        mkdir -p "$TEST_TMP/units"
        sed "s|^ExecStart=.*|ExecStart=$BERTHD|" "$UNIT_SERVICE" >"$TEST_TMP/units/berthd.service"
        cp "$UNIT_SOCKET" "$TEST_TMP/units/berthd.socket"
        _out=$(cd "$TEST_TMP/units" && systemd-analyze verify --man=no berthd.service berthd.socket 2>&1)
        _rc=$?
        if [ $_rc != 0 ] && printf '%s' "$_out" | grep -qi 'failed to \(initialize\|connect\|create\)\|not been booted\|operation not permitted'; then
                note "systemd-analyze verify cannot run here, skipping that part: $(printf '%s' "$_out" | head -n 1)"
        else
                [ $_rc = 0 ] && [ -z "$_out" ] || fail "systemd-analyze verify (exit $_rc): $_out"
                ok "systemd-analyze verify: no warnings"
        fi
else
        note "systemd-analyze is not installed, skipping the verification"
fi

# ------------------------------------------------------------------ sd_notify

step "sd_notify: READY=1 once the API answers and the replicas are re-adopted"
write_manifest sleeper <<'EOF'
apiVersion: berth/v1
kind: Service
metadata:
  name: sleeper
spec:
  replicas: 2
  command: [/bin/sleep, infinity]
  terminationGracePeriod: 1s
EOF
start_berthd
wait_for running_is "$SOCK" sleeper 2 --timeout 5 --what "2 sleeper replicas"
PIDS=$(pids_of "$SOCK" sleeper)
ok "sleeper: $PIDS"
kill9_berthd
ok "berthd killed (kill -9); the replicas keep running"

# The listener plays systemd: on READY=1 it asks the API right away.
NOTIFY=$TEST_TMP/notify.sock
"$PY" - "$NOTIFY" "$SOCK" >"$TEST_TMP/notify.out" 2>&1 <<'EOF' &
import json, os, socket, sys, time
path, api = sys.argv[1], sys.argv[2]
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(path)
open(path + ".ready", "w").close()
s.settimeout(15)
t0 = time.monotonic()
ready = watchdog = status = None
answer = "none"
while time.monotonic() - t0 < 15 and not (ready and watchdog):
    try:
        msg = s.recv(4096).decode()
    except socket.timeout:
        break
    for line in msg.split("\n"):
        if line == "READY=1" and not ready:
            ready = time.monotonic()
            try:
                c = socket.socket(socket.AF_UNIX)
                c.settimeout(2)
                c.connect(api)
                c.sendall(b"GET /v1/replicas?service=sleeper HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")
                data = b""
                while True:
                    d = c.recv(65536)
                    if not d:
                        break
                    data += d
                head, _, body = data.partition(b"\r\n\r\n")
                reps = json.loads(body)
                answer = "%s %s" % (head.split()[1].decode(),
                                    " ".join("%s:%s" % (r["replica"], r["pid"]) for r in reps if r["state"] == "running"))
            except Exception as e:
                answer = "error %r" % e
        elif line.startswith("STATUS="):
            status = line
        elif line == "WATCHDOG=1":
            watchdog = time.monotonic()
print("ready", "yes" if ready else "no")
print("answer", answer)
print("status", status)
print("watchdog", "yes" if watchdog else "no")
EOF
_listener=$!
wait_for test -e "$NOTIFY.ready" --timeout 5 --what "the notify listener"
BERTHD_STARTS=$((BERTHD_STARTS + 1))
BERTHD_LOG=$TEST_TMP/berthd.$BERTHD_STARTS.log
NOTIFY_SOCKET=$NOTIFY WATCHDOG_USEC=2000000 "$BERTHD" --manifests "$MANIFESTS" --state-dir "$STATE" --run-dir "$RUN" \
        --cgroup-parent "$CG_NAME" --shim "$SHIM" </dev/null >"$BERTHD_LOG" 2>&1 &
BERTHD_PID=$!
wait "$_listener"
cat "$TEST_TMP/notify.out" | sed 's/^/  listener: /'
grep -qx 'ready yes' "$TEST_TMP/notify.out" || fail "no READY=1"
grep -q "^answer 200 ${PIDS% }\$" "$TEST_TMP/notify.out" ||
        fail "at READY=1 the API did not answer with the re-adopted replicas ($PIDS): $(grep ^answer "$TEST_TMP/notify.out")"
ok "at READY=1 the API answered with both replicas re-adopted, same pids"
grep -q '^status STATUS=.*2 replica' "$TEST_TMP/notify.out" || fail "STATUS: $(grep ^status "$TEST_TMP/notify.out")"
ok "$(sed -n 's/^status //p' "$TEST_TMP/notify.out")"
grep -qx 'watchdog yes' "$TEST_TMP/notify.out" || fail "no WATCHDOG=1 with WATCHDOG_USEC=2000000"
ok "WATCHDOG=1 sent"
stop_berthd
[ "$BERTHD_RC" = 0 ] || fail "berthd exited with $BERTHD_RC"
[ ! -e "$SOCK" ] || fail "berthd left its socket behind"

# ------------------------------------------------------------------ socket activation

step "socket activation: systemd-socket-activate --fdname=berth.sock"
if ! command -v systemd-socket-activate >/dev/null 2>&1; then
        note "systemd-socket-activate is not installed, skipping"
else
        ACT=$TEST_TMP/activated.sock
        BERTHD_STARTS=$((BERTHD_STARTS + 1))
        BERTHD_LOG=$TEST_TMP/berthd.$BERTHD_STARTS.log
        # --socket names a path berthd would bind without activation: it must stay unused
        systemd-socket-activate -l "$ACT" --fdname=berth.sock \
                "$BERTHD" --manifests "$MANIFESTS" --state-dir "$STATE" --run-dir "$RUN" \
                --cgroup-parent "$CG_NAME" --shim "$SHIM" --socket "$TEST_TMP/not-bound.sock" \
                </dev/null >"$BERTHD_LOG" 2>&1 &
        BERTHD_PID=$! # systemd-socket-activate execs berthd in place
        wait_for test -S "$ACT" --timeout 5 --what "the listening socket"
        # the first connection starts berthd, which answers it
        _info=$(curl -sS --max-time 15 --unix-socket "$ACT" http://localhost/v1/info) || fail "no answer on $ACT"
        _pid=$(printf '%s' "$_info" | "$PY" -c 'import json,sys; print(json.load(sys.stdin)["pid"])')
        [ "$_pid" = "$BERTHD_PID" ] || fail "answered by pid $_pid, not $BERTHD_PID"
        ok "berthd (pid $_pid) answered on the passed socket"
        grep -q 'socket activation' "$BERTHD_LOG" || fail "the log does not mention socket activation"
        [ ! -e "$TEST_TMP/not-bound.sock" ] || fail "berthd bound --socket despite the passed socket"
        [ "$(pids_of "$ACT" sleeper)" = "$PIDS" ] || fail "replicas changed: $PIDS -> $(pids_of "$ACT" sleeper)"
        ok "no socket of its own; replicas re-adopted: $PIDS"
        stop_berthd
        [ "$BERTHD_RC" = 0 ] || fail "berthd exited with $BERTHD_RC"
        [ -S "$ACT" ] || fail "berthd removed the socket it was passed"
        ok "the passed socket's file is left to its owner"
        rm -f "$ACT"
fi

say ""
say "PASS: systemd.sh"
