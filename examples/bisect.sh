#!/usr/bin/env bash
# Find the commit that broke a guest, with plain `git bisect run` on an exported history.
#
#   examples/bisect.sh REPO GOOD BAD PATH EXPECTED
#   examples/bisect.sh /var/lib/xsgit/history.git known-good main local/domain/7/device/vif/0/state 4
#
# REPO is a repository written by `xsgit export --git-dir REPO` or by the live mirror
# (`xsgit daemon --git-dir REPO`). Each node is a directory holding `.value`, so the test is
# one `cat`. The in-memory equivalent, without exporting, is
#   xsgit bisect --good GOOD --bad BAD --expect /PATH=EXPECTED
set -euo pipefail
repo=$1 good=$2 bad=$3 path=$4 expected=$5
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
git clone --quiet "$repo" "$work/tree"
cd "$work/tree"
git bisect start --first-parent "$bad" "$good" >/dev/null
# Exit 0 = good, 1 = bad: the value is right, or it is not (or the node is gone).
git bisect run sh -c "test \"\$(cat '$path/.value' 2>/dev/null)\" = '$expected'" | grep -E 'is the first bad commit|^commit|^    ' || true
git bisect reset >/dev/null 2>&1
