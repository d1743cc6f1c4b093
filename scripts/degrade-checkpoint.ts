/**
 * Negative control of the regression gate (.ci/run, scripts/ci-gate.sh): write a degraded copy of
 * an OFQL checkpoint (eval/gate/negative-control.ts), which `ofql-eval regress` must report as a regression.
 *
 *   node dist/scripts/degrade-checkpoint.js --in eval/checkpoints/ofql-hopper-medium --out /tmp/bad --scale 0.5 --seed 0
 */
import { parseArgs } from 'node:util';
import { degradeOfqlCheckpoint } from '../eval/gate/negative-control.js';

const { values } = parseArgs({
  options: {
    in: { type: 'string' },
    out: { type: 'string' },
    scale: { type: 'string', default: '0.5' },
    seed: { type: 'string', default: '0' },
  },
});
if (!values.in || !values.out) {
  process.stderr.write('usage: degrade-checkpoint --in <OFQL checkpoint dir> --out <dir> [--scale 0.5] [--seed 0]\n');
  process.exit(2);
}
degradeOfqlCheckpoint(values.in, values.out, { scale: Number(values.scale), seed: Number(values.seed) })
  .then((r) => {
    process.stdout.write(`degraded ${r.tensors} actor tensors (${r.parameters} parameters), noise ${values.scale} x RMS -> ${values.out}\n`);
  })
  .catch((e: unknown) => {
    process.stderr.write(`degrade-checkpoint: error: ${(e as Error).message}\n`);
    process.exit(1);
  });
