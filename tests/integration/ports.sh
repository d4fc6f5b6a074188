#!/bin/sh
# ports.sh: zero-downtime ports (network.ports, socket activation), end to
# end with the example manifests/http-activated.yaml on a free loopback port:
#   - 3 replicas serve from the one socket berthd bound (responses from >= 2
#     replicas over >= 200 requests); each sees LISTEN_FDS=1, LISTEN_PID = its
#     own pid, LISTEN_FDNAMES=http;
#   - a client loop of >= 200 requests/s sees zero failures across: a replica
#     whose service is stopped (SIGTERM: it drains and is restarted), a
#     redeploy with a changed env (afterwards every response has the new
#     value), `berthctl restart`, and kill -9 of berthd + restart (the socket
#     is taken back from a shim: the same inode, one listener);
#   - a new revision on another port binds it and closes the old one;
#   - a stopped service keeps its port; with no shim alive, a restarted
#     berthd binds it anew;
#   - a port in use: berthctl deploy fails with one clear line (409), a
#     manifest gets a PortBindFailed event and portsError in inspect;
#   - deleting the service closes the socket.
# Loopback only, bounded (about a minute). Root only (exit 77 otherwise).
. "${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}/tests/integration/lib.sh"

require_root
require_bin "$BERTHCTL"
setup

SOCK=$RUN/berth.sock
BERTH_SOCKET=$SOCK
export BERTH_SOCKET
SVC=http-activated
CLIENT_PID=

PORT=$(free_port)
say "port: 127.0.0.1:$PORT"

# manifest GREETING [PORT]: the example, on our port, with GREETING set
manifest() {
        _mp=${2:-$PORT}
        sed -e "s/port: 8081,/port: $_mp,/" -e "s/value: hello}/value: $1}/" \
                "$top_srcdir/manifests/http-activated.yaml" | write_manifest "$SVC"
        grep -q "port: $_mp," "$MANIFESTS/$SVC.yaml" && grep -q "value: $1}" "$MANIFESTS/$SVC.yaml" ||
                fail "could not adapt manifests/http-activated.yaml"
}

# The client loop (lib.sh's httpload.py); client_stop leaves in $CLIENT_OUT
# "elapsed SECONDS", then one line per request: "ok BODY" or "FAIL error".
http_load_py

# client_start NAME / client_stop: a client loop around an action
client_start() {
        CLIENT_OUT=$TEST_TMP/client.$1
        rm -f "$TEST_TMP/stop"
        "$PY" "$TEST_TMP/httpload.py" "$PORT" "$CLIENT_OUT.raw" "$TEST_TMP/stop" &
        CLIENT_PID=$!
        sleep 1 # traffic before the action
}
client_stop() {
        sleep 1 # and after it
        touch "$TEST_TMP/stop"
        wait "$CLIENT_PID"
        CLIENT_PID=
        [ -f "$CLIENT_OUT.raw" ] || fail "the client wrote no results"
        awk 'NR == 1 && $1 == "window" { printf "elapsed %.3f\n", $3 - $2; next } { sub(/^[0-9.]+ /, ""); print }' \
                "$CLIENT_OUT.raw" >"$CLIENT_OUT"
        _n=$(grep -c '^ok ' "$CLIENT_OUT")
        _f=$(grep -c '^FAIL' "$CLIENT_OUT")
        _s=$(sed -n 's/^elapsed //p' "$CLIENT_OUT")
        _rate=$(awk -v n="$_n" -v s="$_s" 'BEGIN { printf "%d", (n + 0) / s }')
        say "  client ($1): $_n ok, $_f failed in ${_s}s ($_rate requests/s)"
        if [ "$_f" != 0 ]; then
                grep '^FAIL' "$CLIENT_OUT" | sort | uniq -c | head -n 5
                fail "$1: $_f requests failed"
        fi
        [ "$_rate" -ge 200 ] || fail "$1: only $_rate requests/s (need >= 200 for the check to mean anything)"
        ok "$1: zero failed requests at $_rate requests/s"
}

service_json() { "$BERTHCTL" inspect "$SVC" 2>/dev/null; }

# all_at REVISION: 3 replicas, all running that revision, nothing else
all_at() {
        "$BERTHCTL" ps -o json "$SVC" 2>/dev/null | "$PY" -c '
import json, sys
r = json.load(sys.stdin)
sys.exit(0 if len(r) == 3 and all(x["state"] == "running" and x["revision"] == int(sys.argv[1]) for x in r) else 1)' "$1"
}

# the inode of the one TCP listener on 127.0.0.1:PORT (/proc/net/tcp), "" if none
listen_inodes() {
        _hex=$(printf '%04X' "$PORT")
        awk -v p="0100007F:$_hex" '$2 == p && $4 == "0A" { print $10 }' /proc/net/tcp
}

step "3 replicas on one socket"
manifest rev1
start_berthd
wait_for all_at 1 --timeout 30 --what "3 replicas of revision 1 running"
wait_for curl -sf "http://127.0.0.1:$PORT/" --timeout 20 --what "an answer on port $PORT"
INODE=$(listen_inodes)
[ -n "$INODE" ] && [ "$(listen_inodes | wc -l)" = 1 ] || fail "expected one listener on port $PORT, got: $(listen_inodes)"
ls -l "/proc/$BERTHD_PID/fd" | grep -q "socket:\[$INODE\]" || fail "berthd does not hold the listening socket (inode $INODE)"
ok "berthd bound 127.0.0.1:$PORT once (inode $INODE)"

client_start baseline
client_stop baseline
"$PY" - "$CLIENT_OUT" <<'PY' || fail "socket activation environment or load spreading is wrong (above)"
import re, sys
seen, bad = set(), 0
for line in open(sys.argv[1]):
    if not line.startswith("ok "):
        continue
    m = re.match(r"ok (\S+) from (\S+) pid=(\d+) listen_pid=(\S+) listen_fds=(\S+) listen_fdnames=(\S+)$", line.strip())
    if not m or m.group(1) != "rev1" or m.group(4) != m.group(3) or m.group(5) != "1" or m.group(6) != "http":
        bad += 1
        if bad < 4: print("unexpected response:", line.strip())
    else:
        seen.add((m.group(2), m.group(3)))
print("  replicas that answered (hostname, pid):", sorted(seen))
sys.exit(1 if bad or len(seen) < 2 else 0)
PY
ok "LISTEN_FDS=1, LISTEN_PID = the service's pid, LISTEN_FDNAMES=http; >= 2 replicas answered"

step "a replica's service stops (SIGTERM: drains) and is restarted"
R0=$(record_field "$SVC" 0 restart_count)
client_start replica-restart
kill -TERM "$(service_pid "$SVC" 0)"
wait_for record_is "$SVC" 0 restart_count $((R0 + 1)) --timeout 20 --what "replica 0 restarted"
wait_for all_at 1 --timeout 20 --what "replica 0 running again"
client_stop replica-restart

step "redeploy with a changed env (revision 2)"
client_start redeploy
manifest rev2
wait_for all_at 2 --timeout 90 --what "every replica at revision 2"
client_stop redeploy
tail -n 200 "$CLIENT_OUT" | grep '^ok ' | grep -v '^ok rev2 ' | head -n 3 | grep . &&
        fail "responses from revision 1 after the rollout"
ok "the last 200 responses all come from revision 2"
[ "$(listen_inodes)" = "$INODE" ] || fail "the listening socket changed across the rollout"

step "berthctl restart (revision 3)"
client_start restart
"$BERTHCTL" restart "$SVC" >/dev/null || fail "berthctl restart failed"
wait_for all_at 3 --timeout 90 --what "every replica at revision 3"
client_stop restart

step "kill -9 berthd, restart: the socket is taken back from a shim"
client_start berthd-restart
kill9_berthd
sleep 0.5
start_berthd
wait_for all_at 3 --timeout 30 --what "3 replicas re-adopted"
client_stop berthd-restart
[ "$(listen_inodes)" = "$INODE" ] || fail "the listener on port $PORT changed: $(listen_inodes), was $INODE"
ls -l "/proc/$BERTHD_PID/fd" | grep -q "socket:\[$INODE\]" ||
        fail "the new berthd does not hold the listening socket (inode $INODE)"
grep "took listening socket" "$BERTHD_LOG"
grep -q "took listening socket 127.0.0.1:$PORT/TCP back from shim [0-9]* (inode $INODE, the shim's own)" "$BERTHD_LOG" ||
        fail "berthd did not say it took the socket back from a shim, inode checked against the shim's fd"
[ "$(grep -c "took listening socket" "$BERTHD_LOG")" = 1 ] || fail "berthd took the socket back more than once"
ok "the new berthd holds the same socket (inode $INODE), adopted from a shim"

step "a new revision on another port: bound, and the old one closes after the last old replica"
OLD_PORT=$PORT
PORT=$(free_port)
manifest rev4 "$PORT"
wait_for all_at 4 --timeout 90 --what "every replica at revision 4"
curl -sf "http://127.0.0.1:$PORT/" | grep -q '^rev4 ' || fail "no answer from revision 4 on port $PORT"
wait_for sh -c '! awk -v p="0100007F:$(printf %04X "$1")" '"'"'$2 == p && $4 == "0A" { f = 1 } END { exit !f }'"'"' /proc/net/tcp' _ "$OLD_PORT" \
        --timeout 10 --what "no listener on the old port $OLD_PORT"
[ -n "$(listen_inodes)" ] || fail "no listener on the new port $PORT"
ok "port $PORT bound, old port $OLD_PORT closed"

step "a port in use: one clear error"
cat >"$TEST_TMP/clash.yaml" <<YAML
apiVersion: berth/v1
kind: Service
metadata: {name: clash}
spec:
  command: [/bin/sleep, infinity]
  network:
    ports: [{name: http, port: $PORT, hostIP: 127.0.0.1}]
YAML
RC=0
"$BERTHCTL" deploy -f "$TEST_TMP/clash.yaml" >"$TEST_TMP/out" 2>"$TEST_TMP/err" || RC=$?
cat "$TEST_TMP/err"
[ "$RC" = 1 ] || fail "deploy of a service on a port in use: exit status $RC, expected 1"
grep -q "port http (127.0.0.1:$PORT/TCP): cannot bind: Address already in use" "$TEST_TMP/err" ||
        fail "the deploy error does not name the port and the cause"
[ "$(wc -l <"$TEST_TMP/err")" = 1 ] || fail "the deploy error is more than one line"
ok "berthctl deploy: refused, one line naming the port"
sed 's/name: clash/name: clash2/' "$TEST_TMP/clash.yaml" | write_manifest clash2
wait_for sh -c '"$1" inspect clash2 | grep -q "\"portsError\": \"port http (127.0.0.1:$2/TCP): cannot bind: Address already in use"' _ \
        "$BERTHCTL" "$PORT" --timeout 10 --what "portsError in berthctl inspect clash2"
"$BERTHCTL" events -o json 2>/dev/null | grep -q PortBindFailed || fail "no PortBindFailed event"
ok "a manifest on a port in use: PortBindFailed event, portsError in inspect"
rm -f "$MANIFESTS/clash2.yaml"

step "a stopped service keeps its port; with no shim left a restarted berthd binds it anew"
"$BERTHCTL" stop "$SVC" >/dev/null || fail "berthctl stop failed"
wait_for sh -c '[ "$("$1" ps -o json "$2" | tr -d " \n")" = "[]" ]' _ "$BERTHCTL" "$SVC" --timeout 30 --what "no replica left"
[ "$(listen_inodes)" = "$(listen_inodes | head -n 1)" ] && [ -n "$(listen_inodes)" ] ||
        fail "the stopped service's port is not listening"
STOPPED_INODE=$(listen_inodes)
kill9_berthd
[ -z "$(listen_inodes)" ] || fail "a listener on port $PORT with neither berthd nor a shim"
start_berthd
wait_for sh -c '[ -n "$(awk -v p="0100007F:$(printf %04X "$1")" '"'"'$2 == p && $4 == "0A" { print $10 }'"'"' /proc/net/tcp)" ]' _ "$PORT" \
        --timeout 10 --what "port $PORT bound anew"
[ "$(listen_inodes)" != "$STOPPED_INODE" ] || fail "the same inode without any holder?"
"$BERTHCTL" start "$SVC" >/dev/null || fail "berthctl start failed"
wait_for all_at 4 --timeout 30 --what "3 replicas running again"
wait_for curl -sf "http://127.0.0.1:$PORT/" --timeout 20 --what "an answer on port $PORT"
ok "stopped: port kept by berthd; no shim: bound anew; serving again"

step "deleting the service closes the socket"
rm -f "$MANIFESTS/$SVC.yaml"
wait_for sh -c '[ -z "$("$1" ps -o json | grep "\"'"$SVC"'\"")" ]' _ "$BERTHCTL" --timeout 30 --what "the replicas gone"
wait_for sh -c '! awk -v p="0100007F:$(printf %04X "$1")" '"'"'$2 == p && $4 == "0A" { f = 1 } END { exit !f }'"'"' /proc/net/tcp' _ "$PORT" \
        --timeout 10 --what "no listener on port $PORT"
ok "no listener on port $PORT"

stop_berthd
[ "$BERTHD_RC" = 0 ] || fail "berthd exited with $BERTHD_RC"
! grep -q 'ERROR: AddressSanitizer\|runtime error:\|ERROR: LeakSanitizer' "$TEST_TMP"/berthd.*.log "$STATE"/logs/*/*.shim 2>/dev/null ||
        fail "sanitizer reports in the logs"
say "PASS"
