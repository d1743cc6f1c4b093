/** Human-readable summary of a result document (what the CLI prints to stdout). */
import type { EnvResult, EvalResultDocument } from './result.js';

const nf = (x: number, digits = 2): string =>
  Number.isFinite(x) ? x.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits }) : 'n/a';
const int = (x: number): string => Math.round(x).toLocaleString('en-US');

export function formatSummary(doc: EvalResultDocument): string {
  const lines: string[] = [];
  const s = doc.settings;
  const status = doc.complete ? 'complete' : doc.interrupted ? 'INTERRUPTED (partial)' : doc.error ? 'FAILED (partial)' : 'INCOMPLETE';
  lines.push(
    `ofql-eval ${doc.tool.version}, MuJoCo ${doc.mujoco.version ?? doc.mujoco.packageVersion} | policy ${doc.policy.name}` +
      `${doc.policy.ckpt ? ` (ckpt ${doc.policy.ckpt}${typeof doc.policy.ckptStep === 'number' ? `, step ${doc.policy.ckptStep}` : ''})` : ''} | seed ${s.seed} | ${s.episodes} episodes` +
      `${s.shard ? ` | shard ${s.shard.index}/${s.shard.count}` : ''}${doc.mergedFrom ? ` | merged from ${doc.mergedFrom.length} files` : ''} | ${status}`,
  );
  if (!s.d4rlComparable) {
    lines.push(`note: --max-episode-steps ${s.maxEpisodeSteps} (D4RL uses 1000): scores are NOT comparable with D4RL's`);
  }
  for (const r of doc.results) lines.push('', ...formatEnv(r, doc));
  if (doc.results.length > 1) {
    const done = doc.results.filter((r) => r.summary);
    const meanOfMeans = done.reduce((a, r) => a + r.summary!.normalizedMean, 0) / Math.max(1, done.length);
    lines.push('', `mean normalised score over ${done.length} envs: ${nf(meanOfMeans)}`);
  }
  const t = doc.timing;
  lines.push(
    '',
    `total: ${int(t.envSteps)} env steps in ${nf(t.wallSeconds)} s wall = ${int(t.envStepsPerSecond)} env steps/s ` +
      `(${s.workers} worker${s.workers === 1 ? '' : 's'} x ${s.batchSize} envs)`,
  );
  if (doc.error) lines.push(`error: ${doc.error}`);
  return lines.join('\n') + '\n';
}

function formatEnv(r: EnvResult, doc: EvalResultDocument): string[] {
  const out: string[] = [];
  const share = doc.settings.shard ? ` (this shard: ${r.episodes.length + r.pendingEpisodes.length})` : '';
  out.push(`${r.envId}: ${r.episodes.length} episodes finished${share}${r.complete ? '' : `, ${r.pendingEpisodes.length} not finished`}`);
  const sm = r.summary;
  if (!sm) {
    out.push('  no finished episodes');
    return out;
  }
  out.push(
    `  return      ${nf(sm.returnMean)} +- ${nf(sm.returnStd)} (mean +- sample std, ddof=1; min ${nf(sm.returnMin)}, median ${nf(sm.returnMedian)}, max ${nf(sm.returnMax)})`,
  );
  const ci = sm.normalizedCi95
    ? `95% CI [${nf(sm.normalizedCi95[0])}, ${nf(sm.normalizedCi95[1])}] (Student t=${nf(sm.tQuantile ?? NaN, 3)}, n=${sm.episodes})`
    : '95% CI n/a (needs 2+ episodes)';
  out.push(`  normalised  ${nf(sm.normalizedMean)} +- ${nf(sm.normalizedStd)}  ${ci}`);
  out.push(
    `  length      ${nf(sm.lengthMean, 1)} (min ${sm.lengthMin}, max ${sm.lengthMax}); ${sm.terminatedEpisodes} terminated, ${sm.truncatedEpisodes} hit the time limit`,
  );
  const tm = r.timing;
  out.push(
    `  env steps   ${int(tm.envSteps)}; ${int(tm.envStepsPerWorkerSecond)} steps/s per worker; policy ${nf(100 * tm.policyShare, 1)}% of worker time`,
  );
  if (r.actionsOutOfRange > 0) {
    out.push(`  warning: ${int(r.actionsOutOfRange)} action entries were outside [-1, 1] (passed on; MuJoCo clamps ctrl, control cost uses them as given)`);
  }
  for (const rt of r.retries) {
    out.push(`  retry: episodes ${rt.episodes.join(', ')} after a worker crash (${rt.error}): ${rt.outcome}`);
  }
  return out;
}
