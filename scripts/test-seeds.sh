#!/usr/bin/env bash
# The seed-dependent tests under many seeds: npm run test:seeds [-- FROM TO]   (default 1 30)
#
# Only the matrix and the injected-bug tests read FC_SEED (test/setup.ts, test/suite.ts); every
# other test fixes its own seed. Each seed's output goes to reports/out/seeds/SEED.log; the last
# line is "N passed, N failed" over the seeds, and the exit status is 1 if any seed failed.
set -u
from=${1:-1}
to=${2:-30}
cd "$(dirname "$0")/.." || exit 2
mkdir -p reports/out/seeds
passed=0
failed=()
for s in $(seq "$from" "$to"); do
  start=$(date +%s)
  if FC_SEED=$s npx vitest run test/matrix.snp.test.ts test/matrix.tdx.test.ts test/matrix.cca.test.ts test/mutants.test.ts > "reports/out/seeds/$s.log" 2>&1; then
    passed=$((passed + 1))
    echo "seed $s: pass ($(( $(date +%s) - start )) s)"
  else
    failed+=("$s")
    echo "seed $s: FAIL ($(( $(date +%s) - start )) s): $(sed 's/\x1b\[[0-9;]*m//g' "reports/out/seeds/$s.log" | grep -E '^ *(FAIL|AssertionError)' | cut -c1-300 | head -4 | tr '\n' ' ')"
  fi
done
echo "${#failed[@]} seed(s) failed${failed[*]:+: ${failed[*]}}"
echo "$passed passed, ${#failed[@]} failed"
[ ${#failed[@]} -eq 0 ]
