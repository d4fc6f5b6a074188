#!/bin/sh
# validate.sh: `berthctl validate` and `berthd --check`, offline (no root,
# no cgroups, nothing started): exit statuses, the FILE:LINE:COL error lines
# of a file with four known errors, and the canonical JSON of web.yaml.
. "$(dirname "$0")/lib.sh"

require_bin "$BERTHCTL" "$BERTHD"
TEST_TMP=$(mktemp -d /tmp/berth-validate.XXXXXX) || fail "mktemp -d"
trap 'rm -rf "$TEST_TMP"' EXIT
trap 'exit 130' INT
trap 'exit 143' TERM HUP
OUT=$TEST_TMP/out
ERR=$TEST_TMP/err

# run CMD...: stdout in $OUT, stderr in $ERR, exit status in $RC
run() {
        "$@" >"$OUT" 2>"$ERR"
        RC=$?
}

show() { sed 's/^/    | /' "$@"; }

step "1. every example manifest is valid: berthctl validate manifests/*.yaml exits 0"
run "$BERTHCTL" validate "$top_srcdir"/manifests/*.yaml
show "$OUT" "$ERR"
[ "$RC" = 0 ] || fail "berthctl validate manifests/*.yaml exited $RC"
[ ! -s "$ERR" ] || fail "berthctl validate printed errors for valid manifests"
for f in "$top_srcdir"/manifests/*.yaml; do
        run "$BERTHCTL" validate "$f"
        [ "$RC" = 0 ] || fail "berthctl validate $f exited $RC: $(cat "$ERR")"
done
ok "exit 0, no error output (also one file at a time)"

step "2. tests/data/four-errors.bad.yaml: exactly four FILE:LINE:COL errors (6:3, 9:22, 10:3, 12:1), exit 1"
BAD=$top_srcdir/tests/data/four-errors.bad.yaml
run "$BERTHCTL" validate "$BAD"
show "$OUT" "$ERR"
[ "$RC" = 1 ] || fail "exit status $RC, expected 1"
cat "$OUT" "$ERR" >"$TEST_TMP/all"
N=$(grep -c . "$TEST_TMP/all")
[ "$N" = 4 ] || fail "$N lines of output, expected exactly 4"
NE=$(grep -c "^$BAD:[0-9][0-9]*:[0-9][0-9]*: error: ." "$TEST_TMP/all")
[ "$NE" = 4 ] || fail "$NE lines of the form FILE:LINE:COL: error: ..., expected 4"
POS=$(sed -n "s|^$BAD:\([0-9]*:[0-9]*\): error: .*|\1|p" "$TEST_TMP/all" | xargs)
[ "$POS" = "6:3 9:22 10:3 12:1" ] || fail "positions '$POS', expected '6:3 9:22 10:3 12:1'"
ok "four errors at $POS, exit 1"

step "3. usage errors exit 2: no file given; an unknown option"
run "$BERTHCTL" validate
show "$OUT" "$ERR"
[ "$RC" = 2 ] || fail "berthctl validate without a file exited $RC, expected 2"
run "$BERTHCTL" validate --no-such-option "$top_srcdir/manifests/web.yaml"
[ "$RC" = 2 ] || fail "berthctl validate --no-such-option exited $RC, expected 2"
ok "exit 2 for both"
check "a file that does not exist is an error, not valid"
run "$BERTHCTL" validate "$TEST_TMP/missing.yaml"
show "$OUT" "$ERR"
[ "$RC" != 0 ] || fail "berthctl validate of a missing file exited 0"
ok "exit $RC"

step "4. -o json of manifests/web.yaml: parses as JSON, limits.memory 134217728, limits.cpu 500"
run "$BERTHCTL" validate -o json "$top_srcdir/manifests/web.yaml"
[ "$RC" = 0 ] || fail "berthctl validate -o json exited $RC: $(cat "$ERR")"
"$PY" -c '
import json, sys
doc = json.load(open(sys.argv[1]))
assert isinstance(doc, list) and len(doc) == 1, "expected an array of one service, got %r" % type(doc)
svc = doc[0]
lim = svc["spec"]["resources"]["limits"]
req = svc["spec"]["resources"]["requests"]
print("    name=%s limits=%s requests=%s replicas=%s" % (svc["metadata"]["name"], lim, req, svc["spec"]["replicas"]))
assert svc["metadata"]["name"] == "web", svc["metadata"]["name"]
assert lim["memory"] == 134217728, "limits.memory %r" % lim["memory"]
assert lim["cpu"] == 500, "limits.cpu %r" % lim["cpu"]
assert lim["pids"] == 64, "limits.pids %r" % lim["pids"]
assert req["memory"] == 67108864 and req["cpu"] == 250, "requests %r" % req
' "$OUT" || fail "canonical JSON of web.yaml is wrong (see above): $(head -c 300 "$OUT")"
ok "valid JSON with spec.resources.limits.memory == 134217728 and cpu == 500"

step "5. berthd --check: the examples exit 0; a directory with a bad file exits 1 and prints FILE:LINE:COL"
run "$BERTHD" --check --manifests "$top_srcdir/manifests"
show "$OUT" "$ERR"
[ "$RC" = 0 ] || fail "berthd --check --manifests manifests exited $RC"
mkdir "$TEST_TMP/bad"
cp "$top_srcdir/manifests/web.yaml" "$TEST_TMP/bad/"
cat >"$TEST_TMP/bad/broken.yaml" <<'EOF'
apiVersion: berth/v1
kind: Service
metadata:
  name: broken
spec:
  command: ["/bin/true"]
  restartPolicy: always
EOF
run "$BERTHD" --check --manifests "$TEST_TMP/bad"
show "$OUT" "$ERR"
[ "$RC" = 1 ] || fail "berthd --check with a bad file exited $RC, expected 1"
cat "$OUT" "$ERR" | grep -q "^$TEST_TMP/bad/broken.yaml:7:18: error: spec.restartPolicy: " ||
        fail "berthd --check did not print the error as $TEST_TMP/bad/broken.yaml:7:18: error: spec.restartPolicy: ..."
cat "$OUT" "$ERR" | grep -q "web.yaml.*error" && fail "berthd --check reported an error in the valid web.yaml"
ok "exit 1 with the FILE:LINE:COL line"

say ""
say "PASS: validate.sh"
