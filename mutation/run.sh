#!/usr/bin/env bash
# Mutation testing of nncalc's arithmetic: src/nncalc/{engine,activations,backprop,losses}.py.
#
#   mutation/run.sh [after|before] [COMMIT]      defaults: after, HEAD
#
#   before  the project's own fast tests: test_activations, test_forward, test_backprop,
#           test_against_pytorch and test_properties (when present)
#   after   the same plus tests/test_mutation_gaps.py (taken from the working tree)
#
# Environment:
#   PYTHON  interpreter with nncalc's test extras and mutmut 3.8.1 (default /tmp/v/bin/python)
#   WORK    directory for the copy (default: a new directory under $TMPDIR or /tmp); it is
#           kept so the results can be inspected; delete it afterwards.
#
# The repository's working tree is never touched: COMMIT is exported with `git archive`.
# Three steps, all in the copy:
#   1. mutmut run                       mutants inside functions and methods
#   2. mutation/verify_mutants.py       every mutant mutmut did not kill, settled by a plain
#                                       pytest run with the mutant active (MUTANT_UNDER_TEST)
#   3. mutation/module_level_mutants.py the mutants mutmut generates for module-level code
#                                       (registry lambdas, constants) but never runs
# Results: $WORK/mutmut-results.txt, $WORK/verified-*.json, $WORK/module-level.json.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/.." && pwd)
python=${PYTHON:-/tmp/v/bin/python}
mutmut=$(dirname "$python")/mutmut
mode=${1:-after}
commit=${2:-HEAD}
work=${WORK:-$(mktemp -d "${TMPDIR:-/tmp}/nncalc-mutation-XXXXXX")}

case "$mode" in before | after) ;; *) echo "usage: $0 [after|before] [COMMIT]" >&2; exit 2 ;; esac
"$mutmut" --version | grep -q ' 3\.8\.' || echo "warning: written for mutmut 3.8.x, found: $("$mutmut" --version)" >&2

mkdir -p "$work"
git -C "$repo" archive "$commit" | tar -x -C "$work"
cp "$here/setup.cfg" "$work/setup.cfg"
mkdir -p "$work/mutation"
cp "$here/verify_mutants.py" "$here/module_level_mutants.py" "$here/verdict.py" "$work/mutation/"

tests=(tests/test_activations.py tests/test_forward.py tests/test_backprop.py)
[ -f "$work/tests/test_against_pytorch.py" ] && tests+=(tests/test_against_pytorch.py)
[ -f "$work/tests/test_against_pytorch.py" ] || sed -i '/tests\/test_against_pytorch.py/d' "$work/setup.cfg"
[ -f "$work/tests/test_properties.py" ] || sed -i '/tests\/test_properties.py/d' "$work/setup.cfg"
[ -f "$work/tests/test_properties.py" ] && tests+=(tests/test_properties.py)
if [ "$mode" = after ]; then
    cp "$repo/tests/test_mutation_gaps.py" "$work/tests/"
    tests+=(tests/test_mutation_gaps.py)
else
    sed -i '/tests\/test_mutation_gaps.py/d' "$work/setup.cfg"
fi
# test_properties.py (and the fuzz target it loads) imports neither nncalc.backprop nor
# nncalc.losses, nor anything that does, so it cannot reach their mutants: leave it out there.
fast=()
for t in "${tests[@]}"; do [ "$t" = tests/test_properties.py ] || fast+=("$t"); done

cd "$work"
echo "copy of $(git -C "$repo" rev-parse "$commit") in $work ($mode)"
"$mutmut" run --max-children 2 > mutmut-run.log 2>&1
"$mutmut" results > mutmut-results.txt

not_killed() { sed -n "s/^ *\(nncalc\.$1\.[^:]*\): .*/\1/p" mutmut-results.txt; }
for group in engine activations; do
    names=$(not_killed "$group")
    [ -z "$names" ] || "$python" mutation/verify_mutants.py --out "verified-$group.json" --tests "${tests[@]}" --only $names
done
for group in backprop losses; do
    names=$(not_killed "$group")
    [ -z "$names" ] || "$python" mutation/verify_mutants.py --out "verified-$group.json" --tests "${fast[@]}" --only $names
done

"$python" mutation/module_level_mutants.py --out module-level.json \
    --files src/nncalc/engine.py src/nncalc/activations.py src/nncalc/losses.py --tests "${tests[@]}"
echo "results in $work"
