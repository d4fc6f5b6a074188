#!/bin/sh
# standby.sh: berthd's standby shims (berthd --standby N, agent/standby.h).
# Each waits with a mini-init cloned ahead into the default namespaces, its
# file system ready, at idle priority. A fitting replica claims one and is
# then exactly what a cold start makes (namespaces, cgroups, limits, hostname,
# logs, exec errors); one that does not fit starts cold; the pool refills; a
# change of berthd's mount table retires the standbys (their root would be
# stale), and berthd's end (even kill -9) takes the unclaimed ones with it
# while replicas keep running. Exits 77 (skip) unless root.
. "$(dirname "$0")/lib.sh"

require_root
for b in unshare nsenter hostname; do command -v "$b" >/dev/null || { say "SKIP: $b missing"; exit 77; }; done
setup

# shims_with MODE: the pids of our berth-shim processes started as MODE
# (--standby: unclaimed standbys, not their mini-inits; --factory)
shims_with() {
        for _sw_p in /proc/[0-9]*; do
                _sw_pid=${_sw_p#/proc/}
                [ "$(cat "$_sw_p/comm" 2>/dev/null)" = berth-shim ] || continue
                case "$(cmdline_of "$_sw_pid")" in *"$1"*"$RUN/standby/"*) echo "$_sw_pid" ;; esac
        done
}
standby_pids() { shims_with --standby; }
n_standby() { standby_pids | wc -l; }
factory_pids() { shims_with --factory; }
parent_of() { awk '/^PPid:/ { print $2 }' "/proc/$1/status" 2>/dev/null; }
standbys_are() { [ "$(n_standby)" -eq "$1" ]; }
# all_ready N: N standby shims, each with its waiting mini-init
all_ready() {
        [ "$(n_standby)" -eq "$1" ] || return 1
        for _ar_s in $(standby_pids); do
                [ -n "$(children_of "$_ar_s")" ] || return 1
        done
}
policy_of() { awk '/^policy/ { print $3 }' "/proc/$1/sched" 2>/dev/null; } # 0 normal, 5 SCHED_IDLE
nice_of() { sed 's/.*) //' "/proc/$1/stat" | awk '{ print $17 }'; }
# staged: the log directories the standbys prepared (STATE/logs/.standby/<id>.<pid>)
STAGE=$STATE/logs/.standby
staged() { ls "$STAGE" 2>/dev/null | sort | xargs; }
n_staged() { ls "$STAGE" 2>/dev/null | wc -l; }
# staged_match N: N staged directories, one per standby shim, each with an empty shim.log
staged_match() {
        [ "$(n_staged)" -eq "$1" ] || return 1
        for _sm_s in $(standby_pids); do
                _sm_d=$(ls -d "$STAGE"/standby-*."$_sm_s" 2>/dev/null) || return 1
                [ -f "$_sm_d/shim.log" ] && [ ! -s "$_sm_d/shim.log" ] || return 1
        done
}
read_only_root() { awk '$5 == "/" { print $6 }' "/proc/$1/mountinfo" | grep -q '^ro'; }

step "1. berthd --standby 2 (the default): two standbys, each with a mini-init in its own namespaces, ready, idle priority"
start_berthd
wait_for all_ready 2 --timeout 10 --what "2 standby shims with their mini-init"
for s in $(standby_pids); do
        z=$(children_of "$s")
        [ "$(cat /proc/"$z"/comm)" = berth-init ] || fail "standby $s: child $z is $(cat /proc/"$z"/comm), not berth-init"
        levels=$(awk '/^NSpid:/ { print NF - 1 }' /proc/"$z"/status)
        [ "$levels" -ge 2 ] || fail "standby mini-init $z: NSpid has $levels level(s), not its own pid namespace"
        [ "$(readlink /proc/"$z"/ns/mnt)" != "$(readlink /proc/self/ns/mnt)" ] || fail "standby mini-init $z shares our mount namespace"
        read_only_root "$z" || fail "standby mini-init $z: / is not read-only"
        [ "$(policy_of "$s")" = 5 ] || fail "standby shim $s: scheduling policy $(policy_of "$s"), expected SCHED_IDLE (5)"
        [ "$(policy_of "$z")" = 5 ] || fail "standby mini-init $z: scheduling policy $(policy_of "$z"), expected SCHED_IDLE (5)"
        case "$(cat /proc/"$z"/cgroup)" in *"/services/"*) fail "standby mini-init $z is in a replica's cgroup already" ;; esac
done
STANDBY_BEFORE=$(standby_pids | xargs)
FACTORY=$(factory_pids | xargs)
[ "$(echo "$FACTORY" | wc -w)" = 1 ] || fail "standby factory: '$FACTORY', expected one"
[ "$(policy_of "$FACTORY")" = 5 ] || fail "standby factory: scheduling policy $(policy_of "$FACTORY"), expected SCHED_IDLE (5)"
for s in $STANDBY_BEFORE; do
        [ "$(parent_of "$s")" = "$FACTORY" ] || fail "standby $s is not a child of the factory $FACTORY"
done
ok "standbys $STANDBY_BEFORE ready, forked by the factory $FACTORY"

step "2. a fitting replica claims one: same namespaces, cgroups, limits, hostname, logs as a cold start"
write_manifest web <<'YAML'
apiVersion: berth/v1
kind: Service
metadata: {name: web}
spec:
  replicas: 1
  command: [/bin/sh, -c, "echo hello from web; echo oops >&2; exec sleep infinity"]
  terminationGracePeriod: 1s
  resources: {limits: {memory: 32Mi, pids: 8}}
YAML
wait_for record_is web 0 state running --timeout 5 --what "web-0 running"
WEB_SHIM=$(record_field web 0 shim_pid)
INIT=$(record_field web 0 pid)
echo " $STANDBY_BEFORE " | grep -q " $WEB_SHIM " || fail "web-0's shim $WEB_SHIM is not one of the standbys ($STANDBY_BEFORE)"
grep -q "run 1 started in a standby mini-init, pid $INIT" "$(shim_log_file web 0)" ||
        fail "web-0's shim.log does not say it started in the standby's mini-init: $(cat "$(shim_log_file web 0)")"
case "$(cmdline_of "$WEB_SHIM")" in
*--standby*) fail "the claimed shim still calls itself a standby: $(cmdline_of "$WEB_SHIM")" ;;
*"$STATE/replicas/web/0/launch"*) ;;
*) fail "the claimed shim's command line does not name its replica: $(cmdline_of "$WEB_SHIM")" ;;
esac
has_service() { [ -n "$(service_pid "$1" "$2")" ]; }
wait_for has_service web 0 --timeout 3 --what "web-0's service pid"
SVC=$(service_pid web 0)
for p in "$WEB_SHIM" "$INIT" "$SVC"; do
        [ "$(policy_of "$p")" = 0 ] && [ "$(nice_of "$p")" = 0 ] ||
                fail "pid $p runs with policy $(policy_of "$p") nice $(nice_of "$p"), not the normal 0 and 0"
done
for p in "$INIT" "$SVC"; do
        grep -qx "$p" "$(cg_file memory web 0 cgroup.procs)" || fail "pid $p is not in web-0's memory cgroup"
        grep -qx "$p" "$(cg_file pids web 0 cgroup.procs)" || fail "pid $p is not in web-0's pids cgroup"
        [ "$(policy_of "$p")" = 0 ] || fail "pid $p runs with scheduling policy $(policy_of "$p"), not the normal one"
done
[ "$(cg_read memory web 0 memory.limit_in_bytes)" = 33554432 ] || fail "memory.limit_in_bytes $(cg_read memory web 0 memory.limit_in_bytes)"
[ "$(cg_read pids web 0 pids.max)" = 8 ] || fail "pids.max $(cg_read pids web 0 pids.max)"
[ "$(nsenter -t "$SVC" -u hostname)" = web-0 ] || fail "hostname in web-0: $(nsenter -t "$SVC" -u hostname)"
# the claim carried the spec's text; the file, written meanwhile, says the same
grep -qx "id web-0" "$STATE/replicas/web/0/launch" || fail "web-0's launch spec file is missing or not web-0's"
[ "$(stat -c %a "$STATE/replicas/web/0/launch")" = 600 ] || fail "web-0's launch spec is not mode 0600"
tr '\0' '\n' </proc/"$SVC"/environ | grep -qx "HOSTNAME=web-0" || fail "web-0's environment: $(tr '\0' ' ' </proc/"$SVC"/environ)"
[ "$(awk '/^NSpid:/ { print $NF }' /proc/"$SVC"/status)" = 2 ] || fail "the service is not pid 2 of its namespace"
read_only_root "$SVC" || fail "web-0's / is not read-only"
wait_for replica_output_has web 0 "hello from web" --timeout 3 --what "web-0's stdout in its log"
wait_for replica_output_has web 0 "oops" --timeout 3 --what "web-0's stderr in its log"
wait_for all_ready 2 --timeout 10 --what "the pool refilled to 2"
# the standby's staged log directory became web-0's (renamed, mode kept),
# and its socket the replica's; the replacements staged their own
[ "$(stat -c %a "$STATE/logs/web/web-0")" = 750 ] || fail "web-0's log directory has mode $(stat -c %a "$STATE/logs/web/web-0")"
[ -S "$RUN/shims/web.0.sock" ] || fail "web-0's shim socket is missing: $(ls "$RUN/shims")"
ls "$RUN/standby" | grep -q "standby-.*\.sock" || fail "no standby sockets in $RUN/standby"
for sk in "$RUN"/standby/standby-*.sock; do
        n=${sk##*/standby-}; n=${n%.sock}
        for p in $(standby_pids); do case "$(cmdline_of "$p")" in *"standby-$n.sock"*) continue 2 ;; esac; done
        fail "$sk belongs to no standby (the claimed one's should have become web-0's)"
done
wait_for staged_match 2 --timeout 5 --what "one staged log directory per standby: $(staged)"
ok "web-0 runs in standby $WEB_SHIM's mini-init $INIT, limits and hostname applied; its staged log directory and socket taken; pool refilled"

# a replica that has a log directory already (it ran before) keeps it; the
# standby's staged one is removed
# web_again N: web with N replicas and a new command
web_again() {
        write_manifest web <<YAML
apiVersion: berth/v1
kind: Service
metadata: {name: web}
spec:
  replicas: $1
  command: [/bin/sh, -c, "echo hello again; exec sleep infinity"]
  terminationGracePeriod: 1s
YAML
}
web_again 0
gone() { [ ! -d "$STATE/replicas/web/0" ]; }
wait_for gone --timeout 10 --what "web-0 removed"
[ -s "$(shim_log_file web 0)" ] || fail "web-0's log directory went with it"
wait_for all_ready 2 --timeout 10 --what "the pool at 2"
SHIMLOG_LINES=$(wc -l <"$(shim_log_file web 0)")
web_again 1
wait_for record_is web 0 state running --timeout 5 --what "web-0 running again"
WEB_SHIM=$(record_field web 0 shim_pid)
grep -q "run 1 started in a standby mini-init, pid $(record_field web 0 pid)" "$(shim_log_file web 0)" ||
        fail "web-0 did not start from a standby again: $(tail -n 3 "$(shim_log_file web 0)")"
[ "$(wc -l <"$(shim_log_file web 0)")" -gt "$SHIMLOG_LINES" ] || fail "web-0's shim.log was replaced, not appended to"
wait_for replica_output_has web 0 "hello again" --timeout 3 --what "web-0's new output"
wait_for all_ready 2 --timeout 10 --what "the pool refilled to 2"
wait_for staged_match 2 --timeout 5 --what "no staged directory left behind by $WEB_SHIM: $(staged)"
ok "web-0 again, in its existing log directory; the unused staged one removed"

step "3. exec failure through a standby: the same clear message as a cold start"
write_manifest nope <<'YAML'
apiVersion: berth/v1
kind: Service
metadata: {name: nope}
spec:
  command: [/usr/bin/nope]
  restartPolicy: Never
YAML
wait_for record_is nope 0 last_exit.reason ExecFailed --timeout 5 --what "nope-0: ExecFailed"
MSG=$(record_field nope 0 last_exit.message)
[ "$MSG" = "exec /usr/bin/nope: No such file or directory" ] || fail "nope-0: last_exit.message '$MSG'"
grep -q "standby mini-init" "$(shim_log_file nope 0)" || fail "nope-0 did not start from a standby"
ok "ExecFailed: $MSG"

check "services that exit at once (their end may come with the fork report): every exit is seen"
write_manifest quick <<'YAML'
apiVersion: berth/v1
kind: Service
metadata: {name: quick}
spec:
  replicas: 12
  command: [/bin/true]
  restartPolicy: Never
YAML
all_quick_exited() {
        for _q in 0 1 2 3 4 5 6 7 8 9 10 11; do record_is quick "$_q" last_exit.code 0 || return 1; done
}
wait_for all_quick_exited --timeout 10 --what "quick-0..11: exited with code 0"
n=0
for q in 0 1 2 3 4 5 6 7 8 9 10 11; do grep -q "standby mini-init" "$(shim_log_file quick "$q")" && n=$((n + 1)); done
[ "$n" -ge 2 ] || fail "only $n of the quick replicas started from a standby"
ok "12 quick replicas ($n from standbys) exited 0 and berthd knows"

step "4. a spec that does not fit (network.mode: none) starts cold; the standbys stay"
BEFORE=$(standby_pids | xargs)
write_manifest isolated <<'YAML'
apiVersion: berth/v1
kind: Service
metadata: {name: isolated}
spec:
  command: [/bin/sleep, infinity]
  terminationGracePeriod: 1s
  network: {mode: none}
YAML
wait_for record_is isolated 0 state running --timeout 5 --what "isolated-0 running"
grep -q "standby mini-init" "$(shim_log_file isolated 0)" && fail "isolated-0 claimed a standby, which has no netns of its own"
[ "$(standby_pids | xargs)" = "$BEFORE" ] || fail "the standbys changed: $BEFORE -> $(standby_pids | xargs)"
ok "isolated-0 started cold, standbys $BEFORE untouched"

step "5. berthd's mount table changes: its standbys are retired and replaced; a replica then sees the new mount"
stop_berthd 10
wait_for standbys_are 0 --timeout 5 --what "standbys gone with berthd"
MNT=$(mktemp -d /var/tmp/berth-it-mnt.XXXXXX) || fail "mktemp"
cleanup_mnt() { rmdir "$MNT" 2>/dev/null; }
trap 'cleanup_mnt; cleanup' EXIT
cat >"$TEST_TMP/berthd-in-ns" <<EOF
#!/bin/sh
exec unshare -m --propagation private "$BERTHD" "\$@"
EOF
chmod +x "$TEST_TMP/berthd-in-ns"
REAL_BERTHD=$BERTHD
BERTHD=$TEST_TMP/berthd-in-ns
start_berthd # in a mount namespace of its own: the host's mount table is not touched
BERTHD=$REAL_BERTHD
wait_for all_ready 2 --timeout 10 --what "2 standbys"
OLD=$(standby_pids | xargs)
nsenter -t "$BERTHD_PID" -m mount -t tmpfs berth-it "$MNT" || fail "mount a tmpfs in berthd's namespace"
gone_all() { for _g in $OLD; do alive "$_g" && return 1; done; return 0; }
wait_for gone_all --timeout 5 --what "standbys $OLD retired"
wait_for all_ready 2 --timeout 10 --what "2 new standbys"
write_manifest sees <<YAML
apiVersion: berth/v1
kind: Service
metadata: {name: sees}
spec:
  command: [/bin/sh, -c, "grep -q ' $MNT ' /proc/self/mountinfo && echo SEEN || echo MISSING; exec sleep infinity"]
  terminationGracePeriod: 1s
YAML
wait_for replica_output_has sees 0 "SEEN" --timeout 5 --what "sees-0 reports the new mount"
grep -q "standby mini-init" "$(shim_log_file sees 0)" || fail "sees-0 did not start from a standby"
ok "standbys $OLD retired, new ones see $MNT"

step "6. kill -9 berthd: the unclaimed standbys exit, every replica keeps running"
LEFT=$(standby_pids | xargs)
REPLICA_SHIMS=$(records_table | awk '$3 == "running" { print $5 }' | xargs)
FACTORY=$(factory_pids | xargs)
kill9_berthd
wait_for standbys_are 0 --timeout 5 --what "standbys $LEFT gone"
no_factory() { [ -z "$(factory_pids)" ]; }
wait_for no_factory --timeout 5 --what "the factory $FACTORY gone"
for s in $REPLICA_SHIMS; do alive "$s" || fail "replica shim $s died with berthd"; done
nothing_staged() { [ "$(n_staged)" -eq 0 ]; }
wait_for nothing_staged --timeout 5 --what "the standbys' staged log directories removed: $(staged)"
ok "standbys $LEFT and the factory $FACTORY exited, their staged directories removed; replica shims $REPLICA_SHIMS alive"

step "7. --standby 0: none, replicas start cold; --standby 17: refused"
# what a killed standby left staged goes when berthd starts
mkdir -p "$STAGE/standby-7.999999" && : >"$STAGE/standby-7.999999/shim.log"
start_berthd --standby 0 --stop-services
sleep 0.3
standbys_are 0 || fail "--standby 0 started $(n_standby) standby shim(s)"
[ ! -e "$STAGE" ] || fail "a killed standby's staged directory survived berthd's start: $(ls -R "$STAGE")"
write_manifest cold <<'YAML'
apiVersion: berth/v1
kind: Service
metadata: {name: cold}
spec:
  command: [/bin/sleep, infinity]
  terminationGracePeriod: 1s
YAML
wait_for record_is cold 0 state running --timeout 5 --what "cold-0 running"
grep -q "standby mini-init" "$(shim_log_file cold 0)" && fail "cold-0 claimed a standby with --standby 0"
stop_berthd 30
[ "$BERTHD_RC" = 0 ] || fail "berthd --stop-services exited with $BERTHD_RC"
"$BERTHD" --standby 17 --manifests "$MANIFESTS" >"$TEST_TMP/out" 2>&1
RC=$?
[ "$RC" = 2 ] || fail "--standby 17: exit status $RC, expected 2"
grep -q -- "--standby: \"17\" is not a number from 0 to 16" "$TEST_TMP/out" || fail "--standby 17: $(cat "$TEST_TMP/out")"
ok "no standbys with 0; 17 refused with a clear message"
