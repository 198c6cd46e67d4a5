#!/usr/bin/env bash
# Installs what scripts/dist built, as a new user would, and runs it, on a
# PATH with no Rust toolchain (cargo, rustc, rustup, maturin and the rest
# are absent; the environment is emptied to HOME, a temporary folder and
# the test services' variables):
#
#   python  a fresh virtualenv, the wheel and the FastAPI example's
#           requirements from PyPI; tests/dist/flow.py, then the FastAPI
#           example's tests against the installed package
#   node    an empty project, `npm install` of the two tarballs (the
#           platform package is the main one's optional dependency);
#           tests/dist/flow.mjs (ESM) and flow.cjs (CommonJS), and tsc
#           (TypeScript and @types/node from npm) checking tests/dist/typed.ts
#   jvm     examples/kotlin compiled against dist/jvm/doorward-V.jar and run
#           with JNA, kotlinx-coroutines and kotlin-stdlib only: the library
#           comes out of the jar (JNA's debug log names the jar)
#
#   tests/dist/install.sh [python] [node] [jvm]    (all three by default)
set -euo pipefail
cd "$(dirname "$0")/../.."
root=$PWD
. tests/lib/path.sh

version="$(./scripts/version)"
for needed in "dist/python/doorward-$version-"*.whl "dist/npm/doorward-$version.tgz" "dist/jvm/doorward-$version.jar"; do
  [ -f "$needed" ] || { echo "$needed is missing: run scripts/dist first" >&2; exit 1; }
done
parts=("$@")
[ ${#parts[@]} -gt 0 ] || parts=(python node jvm)

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
step() { printf '\n==> install: %s  [%s]\n' "$*" "$(date +%H:%M:%S)"; }

# The PATH: every program of this one but the Rust toolchain's.
bin="$work/bin"
link_path "$bin"
for name in cargo rustc rustup rustdoc rustfmt cargo-fmt cargo-clippy clippy-driver \
  rust-gdb rust-gdbgui rust-lldb rust-analyzer maturin; do
  rm -f "$bin/$name"
done
keep=(HOME="$HOME" PATH="$bin" TMPDIR="$work" LANG=C.UTF-8)
for name in $(env | sed -n 's/^\(DOORWARD_[A-Z_]*\)=.*/\1/p'); do
  keep+=("$name=${!name}")
done
# clean COMMAND...: COMMAND in that environment.
clean() { env -i "${keep[@]}" "$@"; }
for tool in cargo rustc rustup maturin; do
  if clean sh -c "command -v $tool" >/dev/null; then
    echo "tests/dist/install.sh: $tool is still on the installing PATH" >&2
    exit 1
  fi
done
echo "installing with no Rust toolchain: PATH has $(ls "$bin" | wc -l) programs, none of cargo, rustc, rustup, maturin"

python_part() {
  step "python: the wheel into a fresh virtualenv"
  local venv="$work/venv" wheel
  wheel="$(ls "$root/dist/python/doorward-$version-"*.whl)"
  clean python3 -m venv "$venv"
  clean "$venv/bin/python" -m pip install -q --disable-pip-version-check "$wheel" \
    -r examples/fastapi/requirements.txt pytest-asyncio
  (cd "$work" && clean "$venv/bin/python" "$root/tests/dist/flow.py")
  step "python: the FastAPI example's tests against the installed package"
  clean "$venv/bin/python" -m pytest -q -p no:cacheprovider -c python/pyproject.toml \
    --rootdir . examples/fastapi
}

node_part() {
  step "node: the tarballs into an empty project"
  local app="$work/app"
  mkdir -p "$app"
  echo '{ "name": "doorward-install-test", "private": true }' >"$app/package.json"
  # The versions of TypeScript and the Node types node/package.json pins.
  local typescript types
  typescript="$(clean node -p "require('$root/node/package.json').devDependencies.typescript")"
  types="$(clean node -p "require('$root/node/package.json').devDependencies['@types/node']")"
  (cd "$app" && clean npm install --no-audit --no-fund --loglevel=error \
    "$root/dist/npm/doorward-$version.tgz" "$root/dist/npm/doorward-linux-x64-gnu-$version.tgz" \
    "typescript@$typescript" "@types/node@$types")
  if ls "$app/node_modules/doorward/"*.node >/dev/null 2>&1; then
    echo "the doorward package carries an addon of its own: it belongs in the platform package" >&2
    return 1
  fi
  cp tests/dist/flow.mjs tests/dist/flow.cjs tests/dist/typed.ts "$app/"
  (cd "$app" && clean node flow.mjs && clean node flow.cjs)
  step "node: tsc on a typed use"
  cat >"$app/tsconfig.json" <<'EOF'
{
  "compilerOptions": {
    "target": "es2022",
    "module": "nodenext",
    "moduleResolution": "nodenext",
    "strict": true,
    "noEmit": true,
    "types": ["node"]
  },
  "files": ["typed.ts"]
}
EOF
  (cd "$app" && clean node_modules/.bin/tsc -p tsconfig.json)
  echo "tsc: typed.ts checks against the installed types"
}

jvm_part() {
  step "jvm: examples/kotlin against the jar"
  local jar="$root/dist/jvm/doorward-$version.jar"
  local kt="$root/bindings/uniffi/kotlin/node_modules/kotlin-compiler"
  [ -x "$kt/bin/kotlinc-jvm" ] || (cd bindings/uniffi/kotlin && clean npm ci --no-audit --no-fund --loglevel=error)
  local jna=${JNA_JAR:-/usr/share/java/jna.jar}
  local libs="$jna:$kt/lib/kotlinx-coroutines-core-jvm.jar:$kt/lib/kotlin-stdlib.jar"
  clean "$kt/bin/kotlinc-jvm" -nowarn -cp "$jar:$libs" examples/kotlin/*.kt -d "$work/example.jar"
  # JNA's load log (stderr) says where the library came from; the
  # example's own output is stdout.
  if ! (cd "$work" && clean java -Djna.debug_load=true -Ddoorward.keys="$root/tests/keys" \
    -cp "$work/example.jar:$jar:$libs" MainKt "$(mktemp -d "$work/kotlin.XXXX")") 2>"$work/jna.log"; then
    cat "$work/jna.log" >&2
    return 1
  fi
  grep -q "Found library resource at jar:.*doorward-$version.jar!/linux-x86-64/libdoorward_uniffi.so" "$work/jna.log" || {
    cat "$work/jna.log" >&2
    echo "JNA did not load libdoorward_uniffi from the jar (its log is above)" >&2
    return 1
  }
  echo "jvm: the library came out of doorward-$version.jar"
}

for part in "${parts[@]}"; do
  case "$part" in
    python | node | jvm) "${part}_part" ;;
    *) echo "unknown part: $part (python, node, jvm)" >&2; exit 2 ;;
  esac
done
echo "install tests passed: ${parts[*]}"
