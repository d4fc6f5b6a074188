#!/bin/sh
# probes.sh: every probe kind against real replicas.
#   httpGet    python3 -m http.server inside the replica: "/" -> ready; a
#              path that 404s -> not ready, the status in lastMessage; the
#              same server in a replica with its own network namespace
#              (network.mode none) is reached inside that namespace.
#   tcpSocket  liveness on the same server's port keeps it running.
#   exec       `test -f /tmp/ready` where only the replica's private /tmp
#              has the file: the probe runs in the replica's mount namespace.
#   notify     a python3 service (as user nobody) sends READY=1 and STATUS=
#              to $NOTIFY_SOCKET after 1 s: not ready before, ready after,
#              STATUS shown by `ps -o wide`.
#   liveness   a tcpSocket probe on a closed port: the replica is restarted
#              through the restart engine (restart count grows, last exit
#              LivenessFailed with the probe's message).
#   startup    gates readiness until it passes.
#   ps         the READY column.
#   restore    berthd kill -9 and back: the re-adopted replicas stay ready
#              and go on being probed.
# Exits 77 (skip) unless root.
. "$(dirname "$0")/lib.sh"

require_root
setup

CTL() { "$BERTHCTL" --socket "$RUN/berth.sock" "$@"; }
# a port the kernel says is free (a port derived from $$ collided with
# another test's listener in CI: "Address already in use")
PORT=$(free_port)
HOST_TMP_MARK=/tmp/berth-probe-ready-$$

# replica JSON field (python expression on r), e.g. rj web 0 'r["ready"]'
rj() {
        CTL ps "$1" -o json 2>/dev/null | "$PY" -c '
import json, sys
for r in json.load(sys.stdin):
    if r["replica"] == int(sys.argv[1]):
        print(eval(sys.argv[2]))' "$2" "$3"
}
is_ready() { [ "$(rj "$1" "$2" 'r["ready"]')" = True ]; }
is_not_ready_running() { [ "$(rj "$1" "$2" 'r["ready"], r["state"]')" = "(False, 'running')" ]; }

write_manifest http <<YAML
apiVersion: berth/v1
kind: Service
metadata: {name: http}
spec:
  command: [python3, -m, http.server, --bind, 127.0.0.1, "$PORT"]
  workingDir: /usr/share
  terminationGracePeriod: 1s
  readinessProbe: {httpGet: {path: /, port: $PORT}, periodSeconds: 1}
  livenessProbe: {tcpSocket: {port: $PORT}, periodSeconds: 1, failureThreshold: 10, initialDelaySeconds: 2}
YAML
write_manifest http404 <<YAML
apiVersion: berth/v1
kind: Service
metadata: {name: http404}
spec:
  command: [python3, -m, http.server, --bind, 127.0.0.1, "$PORT"]
  workingDir: /usr/share
  terminationGracePeriod: 1s
  network: {mode: none}
  readinessProbe: {httpGet: {path: /no/such/page, port: $PORT}, periodSeconds: 1, failureThreshold: 1}
YAML
write_manifest httpns <<YAML
apiVersion: berth/v1
kind: Service
metadata: {name: httpns}
spec:
  command: [python3, -m, http.server, --bind, 127.0.0.1, "$PORT"]
  workingDir: /usr/share
  terminationGracePeriod: 1s
  network: {mode: none}
  readinessProbe: {httpGet: {path: /, port: $PORT}, periodSeconds: 1}
YAML
write_manifest execp <<YAML
apiVersion: berth/v1
kind: Service
metadata: {name: execp}
spec:
  command: [sh, -c, "sleep 2; touch $HOST_TMP_MARK; exec sleep infinity"]
  terminationGracePeriod: 1s
  readinessProbe: {exec: {command: [test, -f, $HOST_TMP_MARK]}, periodSeconds: 1, failureThreshold: 1}
YAML
write_manifest whoami <<'YAML'
apiVersion: berth/v1
kind: Service
metadata: {name: whoami}
spec:
  user: nobody
  command: [sleep, infinity]
  terminationGracePeriod: 1s
  env: [{name: COLOR, value: teal}]
  isolation: {namespaces: [pid, mount, uts, ipc]}
  readinessProbe:
    exec: {command: [sh, -c, 'echo "uid=$(id -u) pid=$$ host=$(hostname) color=$COLOR"; exit 3']}
    periodSeconds: 1
  livenessProbe:
    exec: {command: [sh, -c, 'sleep 3']}
    periodSeconds: 1
    timeoutSeconds: 10
YAML
write_manifest notify <<'YAML'
apiVersion: berth/v1
kind: Service
metadata: {name: notify}
spec:
  user: nobody
  command:
    - python3
    - -c
    - |
      import os, socket, time
      time.sleep(1)
      # addressed per message, as sd_notify() does: a berthd that comes
      # back binds a new socket at the same path
      path = os.environ["NOTIFY_SOCKET"]
      s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
      s.sendto(b"READY=1\nSTATUS=serving 42 requests", path)
      while True:
          time.sleep(1)
          try:
              s.sendto(b"WATCHDOG=1", path)
          except OSError:
              pass
  terminationGracePeriod: 1s
  readinessProbe: {notify: true}
  livenessProbe: {notify: true, watchdogTimeout: 5s}
YAML
write_manifest dead <<'YAML'
apiVersion: berth/v1
kind: Service
metadata: {name: dead}
spec:
  command: [sleep, infinity]
  terminationGracePeriod: 1s
  restartBackoff: {initial: 100ms, max: 200ms}
  livenessProbe: {tcpSocket: {port: 9}, periodSeconds: 1, failureThreshold: 2}
YAML
write_manifest startup <<'YAML'
apiVersion: berth/v1
kind: Service
metadata: {name: startup}
spec:
  command: [sh, -c, "sleep 3; touch /tmp/started; exec sleep infinity"]
  terminationGracePeriod: 1s
  startupProbe: {exec: {command: [test, -f, /tmp/started]}, periodSeconds: 1, failureThreshold: 60}
  readinessProbe: {exec: {command: ["true"]}, periodSeconds: 1}
YAML
[ ! -e "$HOST_TMP_MARK" ] || fail "$HOST_TMP_MARK exists on the host before the test"
start_berthd

step "startup probe gates readiness"
wait_for is_not_ready_running startup 0 --timeout 20 --what "startup-0 running, not ready"
[ "$(rj startup 0 'r["probes"]["readiness"]["state"]')" = waiting ] ||
        fail "readiness should wait for startup: $(rj startup 0 'r["probes"]')"
ok "startup-0 running, not ready, readiness waiting: $(rj startup 0 'r["probes"]["startup"]')"

step "exec probe runs in the replica's mount namespace"
wait_for is_not_ready_running execp 0 --timeout 20 --what "execp-0 running, not ready"
msg=$(rj execp 0 'r["probes"]["readiness"]["lastMessage"]')
ok "execp-0 not ready while the file is missing (lastMessage: $msg)"
wait_for is_ready execp 0 --timeout 20 --what "execp-0 ready once its private /tmp has the file"
[ ! -e "$HOST_TMP_MARK" ] || fail "$HOST_TMP_MARK appeared on the host: the replica's /tmp is not private"
ok "execp-0 ready; $HOST_TMP_MARK exists only in the replica's /tmp"

step "exec probe: the replica's user, pid and uts namespaces, environment, cgroup"
whoami_msg() { rj whoami 0 'r["probes"]["readiness"]["lastMessage"]' | grep -q '^exit status 3: '; }
wait_for whoami_msg --timeout 30 --what "whoami-0's exec probe output"
msg=$(rj whoami 0 'r["probes"]["readiness"]["lastMessage"]')
nobody=$(id -u nobody)
case "$msg" in
"exit status 3: uid=$nobody pid="[0-9]*" host=whoami-0 color=teal") ;;
*) fail "whoami-0 exec probe message: '$msg' (want uid=$nobody, the replica's hostname and env)" ;;
esac
pid_in_ns=${msg#*pid=}; pid_in_ns=${pid_in_ns%% *}
[ "$pid_in_ns" -lt 1000 ] || fail "the exec probe's pid $pid_in_ns does not look like one in the replica's pid namespace"
probe_in_cgroup() {
        for p in $(cg_read pids whoami 0 cgroup.procs); do
                cmdline_of "$p" | grep -q '^sh -c sleep 3' && return 0
        done
        return 1
}
wait_for probe_in_cgroup --timeout 10 --what "the liveness exec probe (sleep 3) in whoami-0's pids cgroup"
ok "exec probe as nobody, pid $pid_in_ns in the replica's pid ns, its hostname and env; runs in its cgroup: $msg"

step "httpGet: ready on 200, tcpSocket liveness passes"
if ! poll_until 30 is_ready http 0; then
        replica_diag http 0
        say "    its probes: $(rj http 0 'r["probes"]')"
        fail "timed out after 30s waiting for: http-0 ready"
fi
live_ok() { [ "$(rj http 0 'r["probes"]["liveness"]["state"]')" = success ]; }
wait_for live_ok --timeout 20 --what "http-0 liveness success"
ok "http-0 ready ($(rj http 0 'r["probes"]["readiness"]["lastMessage"]')), liveness success"

step "httpGet inside the replica's own network namespace"
wait_for is_ready httpns 0 --timeout 30 --what "httpns-0 (network.mode none) ready"
ok "httpns-0 ready: the probe reached 127.0.0.1:$PORT inside its netns"

step "httpGet: a 404 keeps the replica not ready"
got404() { rj http404 0 'r["probes"]["readiness"]["lastMessage"]' | grep -q 'HTTP status 404'; }
wait_for got404 --timeout 30 --what "http404-0 readiness lastMessage HTTP status 404"
is_not_ready_running http404 0 || fail "http404-0: $(rj http404 0 'r["ready"], r["state"]')"
[ "$(rj http404 0 'r["probes"]["readiness"]["state"]')" = failure ] || fail "http404-0 readiness state"
ok "http404-0 not ready, readiness failure: HTTP status 404"

step "notify: READY=1 and STATUS= over NOTIFY_SOCKET (as nobody)"
wait_for is_ready notify 0 --timeout 20 --what "notify-0 ready"
[ "$(rj notify 0 'r["notifyStatus"]')" = "serving 42 requests" ] || fail "notifyStatus: $(rj notify 0 'r["notifyStatus"]')"
CTL ps notify -o wide >"$TEST_TMP/wide.txt"
grep -q 'serving 42 requests' "$TEST_TMP/wide.txt" || fail "ps -o wide lacks STATUS: $(cat "$TEST_TMP/wide.txt")"
ok "notify-0 ready, STATUS in ps -o wide: $(tail -1 "$TEST_TMP/wide.txt")"
sleep 6 # longer than watchdogTimeout: WATCHDOG=1 keeps it live
[ "$(rj notify 0 'r["restarts"]')" = 0 ] || fail "notify-0 restarted although it sends WATCHDOG=1"
[ "$(rj notify 0 'r["probes"]["liveness"]["lastMessage"]')" = "WATCHDOG=1" ] || fail "notify-0 liveness: $(rj notify 0 'r["probes"]["liveness"]')"
ok "notify-0 kept alive by WATCHDOG=1 (no restart after 6 s, watchdog 5 s)"

step "startup passes, then readiness"
wait_for is_ready startup 0 --timeout 30 --what "startup-0 ready after its startup probe passed"
ok "startup-0 ready: $(rj startup 0 'r["probes"]["startup"]["state"]')"

step "liveness failure restarts through the restart engine"
restarted() { [ "$(rj dead 0 'r["restarts"]')" -ge 2 ] 2>/dev/null; }
wait_for restarted --timeout 60 --what "dead-0 restarted twice by its liveness probe"
reason=$(rj dead 0 'r["last_exit"]["reason"]')
msg=$(rj dead 0 'r["last_exit"]["message"]')
[ "$reason" = LivenessFailed ] || fail "dead-0 last exit reason: $reason"
case "$msg" in "liveness probe failed: connect to port 9"*) ;; *) fail "dead-0 last exit message: $msg" ;; esac
CTL events -o json >"$TEST_TMP/events.json"
grep '"ProbeFailed"' "$TEST_TMP/events.json" | grep -q '"dead"' || fail "no ProbeFailed event for dead"
grep '"ReplicaReady"' "$TEST_TMP/events.json" | grep -q '"http"' || fail "no ReplicaReady event for http"
ok "dead-0: restarts $(rj dead 0 'r["restarts"]'), last exit $reason: $msg; ProbeFailed and ReplicaReady events"

step "ps shows READY"
CTL ps >"$TEST_TMP/ps.txt"
head -1 "$TEST_TMP/ps.txt" | grep -q READY || fail "ps header lacks READY: $(head -1 "$TEST_TMP/ps.txt")"
grep -E '^http404 +0 ' "$TEST_TMP/ps.txt" | grep -qw no || fail "ps: http404 not shown as not ready: $(cat "$TEST_TMP/ps.txt")"
grep -E '^http +0 ' "$TEST_TMP/ps.txt" | grep -qw yes || fail "ps: http not shown as ready: $(cat "$TEST_TMP/ps.txt")"
ok "ps READY column: $(grep -E '^(http|http404) ' "$TEST_TMP/ps.txt" | tr -s ' ' | tr '\n' ';')"

step "berthd kill -9 and back: re-adopted replicas stay ready and are still probed"
pid_before=$(rj http 0 'r["pid"]')
kill9_berthd
start_berthd
[ "$(rj http 0 'r["pid"]')" = "$pid_before" ] || fail "http-0 was not re-adopted (pid $pid_before -> $(rj http 0 'r["pid"]'))"
is_ready http 0 || fail "http-0 not ready right after re-adoption"
is_ready notify 0 || fail "notify-0 (READY=1 came before the restart) not ready after re-adoption"
t0=$(rj http 0 'r["probes"]["readiness"]["lastTime"]')
probed_again() { t=$(rj http 0 'r["probes"]["readiness"]["lastTime"]'); [ "$t" != None ] && [ "$t" != "$t0" ]; }
wait_for probed_again --timeout 10 --what "http-0 probed again by the new berthd"
watchdog_seen() { [ "$(rj notify 0 'r["probes"]["liveness"]["lastMessage"]')" = "WATCHDOG=1" ]; }
wait_for watchdog_seen --timeout 10 --what "notify-0's WATCHDOG=1 reaching the new berthd"
is_not_ready_running http404 0 || fail "http404-0 after re-adoption: $(rj http404 0 'r["ready"], r["state"]')"
ok "http-0 and notify-0 re-adopted ready, probed again ($(rj http 0 'r["probes"]["readiness"]["lastTime"]'))"

step "stop"
stop_berthd
[ "$BERTHD_RC" = 0 ] || fail "berthd exited with status $BERTHD_RC (sanitizer report in its log?)"
ok "berthd stopped (exit 0)"
