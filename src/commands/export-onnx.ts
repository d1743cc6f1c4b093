/**
 * `ofql-eval export-onnx CKPT -o actor.onnx`: the one-step actor of an OFQL checkpoint as an ONNX
 * model (src/ofql/onnx-export.ts) that any ONNX runtime, and `ofql-eval --policy actor.onnx`, runs.
 * The model takes `obs` and `noise` (the harness fills noise from each episode's seed, exactly as
 * the checkpoint policy draws it), so both give the same actions.
 */
import { EXIT, reportKnownError } from '../cli-errors.js';
import type { Argv, CommandModule } from 'yargs';
import { packageVersion } from '../package-version.js';
import { checkOutputFile, writeOutputFile } from '../output-path.js';
import { CheckpointError } from '../checkpoint/index.js';
import { readOfqlModel } from '../ofql/checkpoint.js';
import { OfqlConfigError } from '../ofql/config.js';
import { ofqlActorOnnx } from '../ofql/onnx-export.js';

interface ExportOnnxArgs {
  ckpt: string;
  out: string;
  actor?: 'ema' | 'online';
}

/** Write the ONNX file; returns what was written, for the message. */
export async function exportOfqlOnnx(a: ExportOnnxArgs): Promise<{ out: string; actor: 'ema' | 'online'; step: number; bytes: number; error: string | null }> {
  checkOutputFile(a.out, '--out'); // before reading the checkpoint
  const model = await readOfqlModel(a.ckpt);
  const actor = a.actor ?? model.config.evalActor;
  const bytes = ofqlActorOnnx(model.weights, model.config, {
    actor,
    producerVersion: packageVersion(),
    metadata: {
      'ofql-eval.checkpoint': model.dir,
      'ofql-eval.step': String(model.step),
      'ofql-eval.actor': actor,
      ...(model.envId !== undefined ? { 'ofql-eval.envId': model.envId } : {}),
      'ofql-eval.noise': 'standard normal [n, actDim]; ofql-eval fills it per episode seed and step',
    },
  });
  const written = writeOutputFile(a.out, bytes);
  return { out: written.path, actor, step: model.step, bytes: bytes.length, error: written.error };
}

const builder = (y: Argv<object>) =>
  y
    .positional('ckpt', { type: 'string', demandOption: true, describe: 'OFQL checkpoint directory' })
    .option('out', { alias: 'o', type: 'string', demandOption: 'give the output file: -o actor.onnx', describe: 'Output .onnx file (written atomically)' })
    .option('actor', { choices: ['ema', 'online'] as const, describe: "Which actor to export (default: the checkpoint's evalActor)" })
    .example('$0 export-onnx ck/latest -o actor.onnx && $0 --env hopper-medium-v2 --policy actor.onnx', 'export, then evaluate through onnxruntime');

export function exportOnnxCommand(setExitCode: (code: number) => void): CommandModule<object, ExportOnnxArgs> {
  return {
    command: 'export-onnx <ckpt>',
    describe: 'Write the one-step actor of an OFQL checkpoint as an ONNX model (inputs obs, noise; output action)',
    builder,
    handler: async (a) => {
      try {
        const r = await exportOfqlOnnx(a);
        if (r.error !== null) process.stderr.write(`ofql-eval export-onnx: error: could not write ${a.out} (${r.error}); wrote the model to ${r.out} instead\n`);
        process.stdout.write(`ofql-eval export-onnx: wrote ${r.out} (${r.bytes} bytes; ${r.actor} actor of step ${r.step})\n`);
        setExitCode(r.error === null ? 0 : 1);
      } catch (err) {
        if (!reportKnownError('ofql-eval export-onnx', err, [[CheckpointError, EXIT.failed], [OfqlConfigError, EXIT.failed]], setExitCode)) throw err;
      }
    },
  };
}
