#!/bin/sh
# restore.sh: live restore under fault injection. 20 replicas (10 steady, 5
# victims whose services the test kills, 5 scaled up and down), then 30 rounds
# of `kill -9 berthd` at random moments (right after a scale-up was written,
# right after a victim's service was killed, or while idle) and a restart.
# At the end: the steady replicas run with the pids they had at the start;
# every victim's restart count equals the number of kills the test caused;
# the scaled service has exactly its replicas; one shim per replica; no
# process or cgroup that no record owns. Bounded: well under 2 minutes.
# Exits 77 (skip) unless root.
. "$(dirname "$0")/lib.sh"

require_root
setup

ROUNDS=${ROUNDS:-30}

rand() { # rand N: 0..N-1
        echo $(( $(od -An -N2 -tu2 /dev/urandom | tr -d ' ') % $1 ))
}

write_manifest steady <<'YAML'
apiVersion: berth/v1
kind: Service
metadata: {name: steady}
spec:
  replicas: 10
  command: [/bin/sleep, infinity]
  terminationGracePeriod: 1s
  resources: {limits: {memory: 16Mi, pids: 8}}
YAML
write_manifest victim <<'YAML'
apiVersion: berth/v1
kind: Service
metadata: {name: victim}
spec:
  replicas: 5
  command: [/bin/sleep, infinity]
  terminationGracePeriod: 1s
  restartBackoff: {initial: 10ms, max: 50ms, resetAfter: 1h}
YAML
scaler() {
        write_manifest scaler <<YAML
apiVersion: berth/v1
kind: Service
metadata: {name: scaler}
spec:
  replicas: $1
  command: [/bin/sleep, infinity]
  terminationGracePeriod: 1s
YAML
}
scaler 2
SCALE=2

start_berthd

all_running() { # all_running SVC N: records 0..N-1 running, nothing beyond
        _ar_i=0
        while [ "$_ar_i" -lt "$2" ]; do
                record_is "$1" "$_ar_i" state running || return 1
                _ar_i=$((_ar_i + 1))
        done
        [ ! -e "$STATE/replicas/$1/$2" ]
}
everything_running() {
        all_running steady 10 && all_running victim 5 && all_running scaler "$SCALE"
}

step "20 replicas come up"
wait_for everything_running --timeout 20 --what "steady 10, victim 5, scaler 2 running"
STEADY_PIDS=
i=0
while [ $i -lt 10 ]; do
        STEADY_PIDS="$STEADY_PIDS $(replica_pid steady $i)"
        i=$((i + 1))
done
ok "running; steady pids:$STEADY_PIDS"

KILLS_0=0 KILLS_1=0 KILLS_2=0 KILLS_3=0 KILLS_4=0

step "$ROUNDS rounds of kill -9 berthd"
round=0
while [ $round -lt "$ROUNDS" ]; do
        case $((round % 3)) in
        0)      # during a scale-up (and, every other time, a scale-down)
                if [ $SCALE -ge 5 ]; then SCALE=2; else SCALE=$((SCALE + 1)); fi
                scaler $SCALE
                what="scale to $SCALE"
                ;;
        1)      # during a restart
                v=$(rand 5)
                svc_pid=$(service_pid victim "$v")
                [ -n "$svc_pid" ] || fail "victim-$v has no service process"
                kill -KILL "$svc_pid"
                eval "KILLS_$v=\$((KILLS_$v + 1))"
                what="kill victim-$v's service ($svc_pid)"
                ;;
        2)      what="idle" ;;
        esac
        # a random moment: 0..29 ms later
        sleep "0.0$(rand 3)$(rand 10)"
        kill9_berthd
        check "round $((round + 1)): $what, then kill -9 berthd"
        start_berthd
        wait_for everything_running --timeout 20 --what "everything running again after round $((round + 1))"
        round=$((round + 1))
done

step "the same replicas run"
i=0
for p in $STEADY_PIDS; do
        [ "$(replica_pid steady $i)" = "$p" ] || fail "steady-$i: pid $(replica_pid steady $i), was $p (restarted or replaced)"
        alive "$p" || fail "steady-$i: its mini-init $p is gone"
        [ "$(record_field steady $i restart_count)" = 0 ] || fail "steady-$i restarted"
        i=$((i + 1))
done
ok "10 steady replicas kept their pids, no restart"

step "restart counts match the kills"
v=0
while [ $v -lt 5 ]; do
        eval "want=\$KILLS_$v"
        got=$(record_field victim $v restart_count)
        [ "$got" = "$want" ] || fail "victim-$v: restart_count $got, the test killed it $want times"
        v=$((v + 1))
done
ok "victims: $KILLS_0 $KILLS_1 $KILLS_2 $KILLS_3 $KILLS_4 kills = restart counts"

step "a run that ends while berthd is away: restarted at once by its shim, its end recorded on return"
# a fresh replica (no crash streak): berthd's standing order lets its shim
# restart it the moment it ends, without berthd; the next berthd must still
# record that end with its real status (issue 4) and count the restart
write_manifest away <<'YAML'
apiVersion: berth/v1
kind: Service
metadata: {name: away}
spec:
  command: [/bin/sleep, infinity]
  terminationGracePeriod: 1s
YAML
wait_for all_running away 1 --timeout 10 --what "away-0 running"
A_INIT=$(replica_pid away 0)
A_SVC=$(service_pid away 0)
[ -n "$A_SVC" ] || fail "away-0 has no service process"
# the order arrives right after the start: give it a moment
sleep 0.3
kill9_berthd
kill -TERM "$A_SVC"
a_restarted() { _a=$(service_pid away 0); [ -n "$_a" ] && [ "$_a" != "$A_SVC" ]; }
wait_for a_restarted --timeout 5 --what "away-0 restarted by its shim while berthd is down"
ok "restarted while berthd was down: service $A_SVC -> $(service_pid away 0), same mini-init $A_INIT"
start_berthd
wait_for all_running away 1 --timeout 10 --what "away-0 running after berthd's return"
[ "$(replica_pid away 0)" = "$A_INIT" ] || fail "away-0: mini-init $(replica_pid away 0), was $A_INIT"
[ "$(record_field away 0 restart_count)" = 1 ] || fail "away-0: restart_count $(record_field away 0 restart_count), want 1"
[ "$(record_field away 0 last_exit.signal)" = 15 ] && [ "$(record_field away 0 last_exit.reason)" = Signaled ] ||
        fail "away-0: last_exit $(record_field away 0 last_exit.reason) signal $(record_field away 0 last_exit.signal), want Signaled 15"
ok "recorded on return: restart_count 1, last_exit Signaled (signal 15)"

step "nothing leaked"
# one live shim and one live mini-init per record, and no other shim of ours
records=$(records_table)
n=$(echo "$records" | wc -l)
[ "$n" -eq $((16 + SCALE)) ] || fail "$n records, want $((16 + SCALE)):
$records"
shims=$(echo "$records" | awk '{print $5}' | sort -u)
[ "$(echo "$shims" | wc -l)" -eq "$n" ] || fail "replicas share a shim:
$records"
for s in $shims; do alive "$s" || fail "shim $s is gone"; done
ours=$(for p in /proc/[0-9]*; do
        pid=${p#/proc/}
        case "$(cmdline_of "$pid")" in
        *--standby* | *--factory*) ;; # unclaimed standby shims (and their mini-inits), their factory: berthd's
        *berth-shim*"$TEST_TMP/"*) alive "$pid" && echo "$pid" ;;
        esac
done | sort -u)
# every berth-shim process of ours is a recorded shim or a recorded mini-init
inits=$(echo "$records" | awk '{print $4}')
for p in $ours; do
        echo "$shims $inits" | tr ' ' '\n' | grep -qx "$p" || fail "process $p ($(cmdline_of "$p")) belongs to no replica"
done
# cgroups: exactly the recorded replicas
for h in memory pids unified; do
        cgs=$(cd "$(cg_dir $h)/services" && find . -mindepth 2 -maxdepth 2 -type d | sort)
        want=$(echo "$records" | awk '{print "./" $1 "/" $2}' | sort)
        [ "$cgs" = "$want" ] || fail "cgroups in $h do not match the records:
$cgs
--- records:
$want"
done
ok "$n replicas, $n shims, $n cgroups per hierarchy, no stray process"

step "--stop-services leaves nothing"
kill9_berthd
start_berthd --stop-services
stop_berthd 30
[ "$BERTHD_RC" = 0 ] || fail "berthd --stop-services exited with $BERTHD_RC"
wait_for cg_test_empty --timeout 5 --what "test cgroups empty"
no_stray() { [ -z "$(our_stray_pids)" ]; } # standby shims exit once berthd is gone
wait_for no_stray --timeout 5 --what "nothing of ours left" || fail "processes left: $(our_stray_pids)"
ok "all replicas stopped, nothing left"
