#!/usr/bin/env bash
# The test command checks its prerequisites first (scripts/prereqs): run
# ./scripts/test with a tool hidden from PATH, and it must stop within
# seconds, with a failing status, naming the missing tool and the command
# that installs it, and before building, installing or starting anything.
#
# Each run gets a PATH of its own: a folder of links to every program of
# the real PATH (the first of each name, as a lookup would find it) except
# the hidden ones, with the programs that build, install or start services
# (cargo, rustup, apt-get, sudo, pip, npm, the servers, setsid) replaced by
# guards that let only a version query through and record anything else.
# DOORWARD_INSTALL and DOORWARD_REQUIRE_SERVICES are removed from the
# environment, so nothing is installed and no service is required.
#
# Run by scripts/test right after the check itself; cheap (a few seconds).
set -euo pipefail
cd "$(dirname "$0")/.."
. tests/lib/path.sh

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
failures=0

fail() {
  echo "FAIL: $*" >&2
  failures=$((failures + 1))
}

# guard DIR NAME [ALLOWED ARGUMENTS...]: NAME in DIR runs the real program
# only with exactly one of the allowed argument strings; anything else is
# recorded in $work/guarded and fails. A program that is not there stays
# absent.
guard() {
  local dir=$1 name=$2
  shift 2
  [ -e "$dir/$name" ] || return 0
  local real
  # The link's own target, not its last one: rustup's proxies (cargo ->
  # rustup) tell what to run by the name they are called with.
  real=$(readlink "$dir/$name")
  rm -f "$dir/$name"
  {
    echo '#!/bin/sh'
    echo 'case "$*" in'
    for allowed in "$@"; do
      printf "  '%s') exec '%s' \"\$@\" ;;\n" "$allowed" "$real"
    done
    echo 'esac'
    printf 'echo "%s $*" >> "%s/guarded"\n' "$name" "$work"
    printf 'echo "tests/prereqs.sh: %s was run past the prerequisite check" >&2\n' "$name"
    echo 'exit 97'
  } >"$dir/$name"
  chmod +x "$dir/$name"
}

# path NAME HIDDEN...: a PATH folder, $work/NAME, without the hidden programs.
path() {
  local dir="$work/$1"
  shift
  link_path "$dir"
  for hidden in "$@"; do
    rm -f "$dir/$hidden"
    [ ! -e "$dir/$hidden" ] || fail "could not hide $hidden"
  done
  # Version queries are what scripts/prereqs asks; anything else is a bug.
  # (rustup's proxies find their toolchain themselves, not through PATH.)
  guard "$dir" cargo --version -V "fmt --version" "clippy --version"
  guard "$dir" npm --version
  local name
  for name in rustup apt-get apt sudo pip pip3 npx psql pg_ctlcluster redis-server redis-cli \
    moto_server setsid nohup kotlinc maturin; do
    guard "$dir" "$name"
  done
}

# run NAME: ./scripts/test on PATH $work/NAME, output in $work/NAME.out.
run() {
  local start=$SECONDS
  set +e
  env -u DOORWARD_INSTALL -u DOORWARD_REQUIRE_SERVICES DOORWARD_PREREQS_TEST=1 \
    PATH="$work/$1" timeout -k 5 60 ./scripts/test >"$work/$1.out" 2>&1
  status=$?
  set -e
  elapsed=$((SECONDS - start))
}

# expect NAME HIDDEN LABEL INSTALL-REGEX: the report says LABEL is missing
# and gives an install command matching INSTALL-REGEX.
expect_missing() {
  local name=$1 hidden=$2 label=$3 install=$4 out="$work/$1.out"
  grep -A1 -F "MISSING  $label:" "$out" | grep -qE "install: .*$install" ||
    fail "hiding $hidden: no 'MISSING  $label' with an install command matching /$install/"
  grep '^missing: ' "$out" | grep -qF "$label" || fail "hiding $hidden: the summary does not name $label"
}

check() { # NAME HIDDEN...
  local name=$1 out="$work/$1.out"
  shift
  path "$name" "$@"
  : >"$work/guarded"
  run "$name"
  echo "  ./scripts/test without $*: exit $status after ${elapsed}s"
  if [ "$status" -eq 0 ]; then
    fail "hiding $*: the test command succeeded"
  elif [ "$status" -eq 124 ] || [ "$status" -eq 137 ]; then
    fail "hiding $*: the test command was still running after 60 s"
  fi
  grep -m1 '^==> ' "$out" | grep -q 'prerequisites' ||
    fail "hiding $*: the first step is not the prerequisite check"
  grep -q 'Compiling' "$out" && fail "hiding $*: it started compiling"
  [ ! -s "$work/guarded" ] || fail "hiding $*: ran past the check: $(tr '\n' ';' <"$work/guarded")"
  return 0
}

show_on_failure() {
  if [ "$failures" -gt 0 ]; then
    for out in "$work"/*.out; do
      echo "--- $(basename "$out" .out):"
      sed 's/^/    /' "$out"
    done
  fi
}

# The check itself, nothing hidden: what this machine has, so that the
# failures below are the hidden tool's.
path all
env -u DOORWARD_INSTALL -u DOORWARD_REQUIRE_SERVICES PATH="$work/all" \
  timeout -k 5 60 ./scripts/prereqs >"$work/all.out" 2>&1 || true
for needed in "Java" "Node.js"; do
  grep -q "^  ok       $needed " "$work/all.out" ||
    fail "this machine lacks $needed itself (see scripts/prereqs), so hiding it proves nothing"
done

check java java
expect_missing java java "Java 17+" "apt-get install -y [^ ]*jdk"

check node node
expect_missing node node "Node.js 20.19.0+ with npm" "nodejs|nodesource"

# Everything missing is listed at once, not only the first.
check both java node
expect_missing both java "Java 17+" "apt-get install -y [^ ]*jdk"
expect_missing both node "Node.js 20.19.0+ with npm" "nodejs|nodesource"

show_on_failure
if [ "$failures" -gt 0 ]; then
  echo "tests/prereqs.sh: $failures failure(s)" >&2
  exit 1
fi
echo "prerequisite check: ok (a hidden java or node stops the test command first, named with its install command)"
