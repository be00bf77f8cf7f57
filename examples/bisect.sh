#!/usr/bin/env bash
# Find the commit that broke a guest, with plain `git bisect run` on an exported history.
#
#   examples/bisect.sh REPO GOOD BAD PATH EXPECTED
#   examples/bisect.sh /var/lib/xsgit known-good main /local/domain/7/device/vif/0/state 4
#
# REPO is a repository written by `xsgit export --git-dir REPO` or by the live mirror
# (`xsgit daemon --git-dir REPO`). Each node is a directory holding `.value`, so the test is
# one comparison of bytes. PATH is a xenstore path (with or without its leading /): it is read
# inside the checked-out history, never from this machine's file system.
#
# As `git bisect` (and `xsgit bisect`), both ends are checked first. Exit status: 0 with the
# first bad commit printed; 1 when there is no answer (GOOD does not hold EXPECTED, BAD does,
# an argument is wrong). The in-memory equivalent, without exporting, is
#   xsgit bisect --good GOOD --bad BAD --expect /PATH=EXPECTED
set -euo pipefail
if [ $# -ne 5 ]; then
  echo "usage: $0 REPO GOOD BAD PATH EXPECTED" >&2
  exit 1
fi
repo=$1 good=$2 bad=$3 path=$4 expected=$5
rel=${path#/}
case "/$rel/" in
  *//* | */./* | */../*) echo "$0: PATH $path: not a xenstore path" >&2; exit 1 ;;
esac
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
git clone --quiet --no-checkout "$repo" "$work/tree"
cd "$work/tree"
for rev in "$good" "$bad"; do
  git rev-parse --quiet --verify "$rev^{commit}" >/dev/null || { echo "$0: $rev: no such revision in $repo" >&2; exit 1; }
done
# good: the node exists and its value is EXPECTED, byte for byte (no trailing newline added).
printf '%s' "$expected" > "$work/expected"
check="test -f './$rel/.value' && cmp -s './$rel/.value' '$work/expected'"
judge() { git checkout --quiet --force --detach "$1" && sh -c "$check"; }
if ! judge "$good"; then
  echo "$0: GOOD $good is not good: $path does not hold \"$expected\" there; no answer" >&2
  exit 1
fi
if judge "$bad"; then
  echo "$0: BAD $bad is not bad: $path already holds \"$expected\" there; no answer" >&2
  exit 1
fi
git bisect start --first-parent "$bad" "$good" >/dev/null
if ! git bisect run sh -c "$check" >"$work/log" 2>&1; then
  cat "$work/log" >&2
  exit 1
fi
first=$(sed -n 's/^\([0-9a-f]\{40\}\) is the first bad commit$/\1/p' "$work/log")
git bisect reset >/dev/null 2>&1
if [ -z "$first" ]; then
  cat "$work/log" >&2
  exit 1
fi
git log -1 --format='first bad commit: %H %aI %an %s' "$first"
