/**
 * `ofql-eval view RESULT.json [-o replay.html] [--env ID]`: a self-contained page that replays the
 * episodes a run recorded (`ofql-eval --record N`) with the env's MuJoCo model (src/view/*).
 */
import { EXIT, reportKnownError, type KnownError } from '../cli-errors.js';
import { isAbsolute, relative } from 'node:path';
import type { Argv, CommandModule } from 'yargs';
import { decodeRecording } from '../../eval/recording.js';
import { ResultFormatError, readResultFile, type EnvResult } from '../../eval/result.js';
import { OutputPathError, checkOutputFile, writeOutputReported } from '../output-path.js';
import { replayHtml, type ReplayEpisode } from '../view/page.js';
import { posesOf, sceneOf } from '../view/poses.js';

interface ViewArgs {
  result: string;
  out: string;
  env?: string;
}

/** The env result to replay: --env, else the first with recordings (a message names what exists). */
function pickEnv(results: readonly EnvResult[], file: string, env: string | undefined): EnvResult {
  const recorded = results.filter((r) => (r.recordings?.length ?? 0) > 0);
  if (recorded.length === 0) throw new ResultFormatError(`${file} has no recorded episodes; evaluate with --record N (e.g. --record 3) to keep trajectories`);
  if (env === undefined) return recorded[0]!;
  const r = recorded.find((x) => x.envId === env);
  if (!r) throw new ResultFormatError(`${file} has no recordings for ${env}; recorded: ${recorded.map((x) => x.envId).join(', ')}`);
  return r;
}

/** A path relative to the working directory when it lies inside it (titles stay short and portable). */
function shortPath(p: string): string {
  const rel = relative(process.cwd(), p);
  return rel !== '' && !rel.startsWith('..') && !isAbsolute(rel) ? rel : p;
}

/** The replay page of a result document. */
export async function viewPage(file: string, env?: string): Promise<string> {
  const doc = readResultFile(file);
  const r = pickEnv(doc.results, file, env);
  const scene = await sceneOf(r.envId);
  const episodes: ReplayEpisode[] = [];
  for (const rec of r.recordings!) {
    const { qpos, rewards } = decodeRecording(rec, `${file} ${r.envId}`);
    const j = r.episodes.indexOf(rec.episode);
    episodes.push({ episode: rec.episode, steps: rec.steps, return: j >= 0 ? r.returns[j]! : rewards.reduce((s, x) => s + x, 0), rewards, poses: await posesOf(r.envId, qpos, rec.nq) });
  }
  return replayHtml(`${r.envId}: ${doc.policy.name}${doc.policy.ckpt ? ` (${shortPath(doc.policy.ckpt)})` : ''}`, scene, episodes);
}

const builder = (y: Argv<object>) =>
  y
    .positional('result', { type: 'string', demandOption: true, describe: 'A result document written with --record N' })
    .option('out', { alias: 'o', type: 'string', default: 'replay.html', describe: 'The HTML page to write' })
    .option('env', { type: 'string', describe: 'Which env of the result to replay (default: the first with recordings)' })
    .example('$0 --ckpt runs/hopper --episodes 10 --record 3 --json r.json && $0 view r.json -o replay.html', 'record, then replay in a browser');

export function viewCommand(setExitCode: (code: number) => void): CommandModule<object, ViewArgs> {
  return {
    command: 'view <result>',
    describe: 'Write an HTML page replaying the recorded episodes of a result (--record N) with the MuJoCo model',
    builder,
    handler: async (a) => {
      try {
        checkOutputFile(a.out, '-o'); // before any work
        const ok = writeOutputReported('ofql-eval view', 'replay page', a.out, await viewPage(a.result, a.env));
        if (ok) process.stderr.write(`ofql-eval view: wrote ${a.out}\n`);
        setExitCode(ok ? 0 : 1);
      } catch (err) {
        // RangeError (exit 1, not a usage error): a recording that does not fit its field sizes or the
        // env's model (eval/recording.ts fromBase64, src/view/poses.ts), as well as an OptionError.
        const known: KnownError[] = [[OutputPathError, EXIT.usage], [ResultFormatError, EXIT.failed], [RangeError, EXIT.failed]];
        if (!reportKnownError('ofql-eval view', err, known, setExitCode)) throw err;
      }
    },
  };
}
