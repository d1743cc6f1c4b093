/**
 * `ofql-eval merge <shard.json...> [--json all.json]`: the shards of one run (`--shard i/n`) as the
 * result of the whole run (eval/merge.ts). Writing over one of its inputs is refused.
 */
import type { Argv, CommandModule } from 'yargs';
import { formatSummary } from '../../eval/format.js';
import { mergeResults } from '../../eval/merge.js';
import { readResultFile, toJson } from '../../eval/result.js';
import { EXIT, warn, write } from '../cli-errors.js';
import { checkNotAnInput, checkOutputFile, writeOutputReported } from '../output-path.js';

interface MergeArgs {
  files: string[];
  json?: string;
  'allow-incomplete': boolean;
}

function merge(args: MergeArgs, argv: string[]): number {
  if (args.json !== undefined) {
    // Writing over a shard would lose it silently.
    checkNotAnInput(args.json, '--json', args.files.map((f) => ['merge input', f] as const));
    checkOutputFile(args.json, '--json');
  }
  const inputs = args.files.map((file) => ({ file, doc: readResultFile(file) }));
  const doc = mergeResults(inputs, { allowIncomplete: args['allow-incomplete'], command: ['ofql-eval', ...argv] });
  write(formatSummary(doc));
  if (args.json) {
    if (!writeOutputReported('ofql-eval merge', 'merged result', args.json, toJson(doc), warn)) return EXIT.failed;
    warn(`ofql-eval: merged ${inputs.length} files into ${args.json}${doc.complete ? '' : ' (INCOMPLETE)'}`);
  }
  return doc.complete || args['allow-incomplete'] ? EXIT.ok : EXIT.failed;
}

const builder = (y: Argv<object>) =>
  y
    .positional('files', { type: 'string', array: true, demandOption: true, describe: 'Result files of the shards' })
    .option('json', { alias: 'o', type: 'string', describe: 'Write the merged result here' })
    .option('allow-incomplete', {
        type: 'boolean',
        default: false,
        describe: 'Write a result with missing episodes (complete: false) instead of failing',
      })
    .example('$0 merge s0.json s1.json s2.json s3.json -o all.json', 'the whole run');

export function mergeCommand(argv: string[], setExitCode: (code: number) => void): CommandModule<object, MergeArgs> {
  return {
    command: 'merge <files..>',
    describe: 'Merge shard results into the result of the whole run',
    builder: builder as unknown as CommandModule<object, MergeArgs>['builder'],
    handler: (a) => setExitCode(merge(a, argv)),
  };
}
