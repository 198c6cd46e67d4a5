# Sourced by the tests that run a command on a PATH of their own
# (tests/prereqs.sh, tests/dist/install.sh).

# link_path DIR: fills DIR with links to every program of $PATH, the first
# of each name winning, as a lookup would; the caller then removes or
# replaces the names it hides.
link_path() {
  local dir=$1 entry
  mkdir -p "$dir"
  local IFS=:
  for entry in $PATH; do
    case "$entry" in /*) ;; *) continue ;; esac
    [ -d "$entry" ] || continue
    # An existing name is kept: the first folder of PATH wins.
    ln -s "$entry"/* "$dir"/ 2>/dev/null || true
  done
}
