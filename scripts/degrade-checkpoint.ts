/**
 * Negative control of the regression gate (.ci/run, scripts/ci-gate.sh): write a degraded copy of
 * an OFQL checkpoint (eval/gate/negative-control.ts), which `ofql-eval regress` must report as a regression.
 *
 *   node dist/scripts/degrade-checkpoint.js --in eval/checkpoints/ofql-hopper-medium --out /tmp/bad --scale 0.5 --seed 0
 */
import { degradeOfqlCheckpoint } from '../eval/gate/negative-control.js';
import { intFlag, scriptArgs } from './script-args.js';

const { values, fail } = scriptArgs('degrade-checkpoint', 'usage: degrade-checkpoint --in <OFQL checkpoint dir> --out <dir> [--scale 0.5] [--seed 0]', {
  in: { type: 'string' },
  out: { type: 'string' },
  scale: { type: 'string', default: '0.5' },
  seed: { type: 'string' },
});
const input = values.in ?? fail('give --in (the checkpoint to degrade)');
const output = values.out ?? fail('give --out (the directory to write)');
const scale = Number(values.scale);
if (!(scale > 0) || !Number.isFinite(scale)) fail(`--scale must be a number > 0, got '${values.scale}'`);
degradeOfqlCheckpoint(input, output, { scale, seed: intFlag(values.seed, 'seed', 0, 0, fail) })
  .then((r) => {
    process.stdout.write(`degraded ${r.tensors} actor tensors (${r.parameters} parameters), noise ${values.scale} x RMS -> ${values.out}\n`);
  })
  .catch((e: unknown) => {
    process.stderr.write(`degrade-checkpoint: error: ${(e as Error).message}\n`);
    process.exit(1);
  });
