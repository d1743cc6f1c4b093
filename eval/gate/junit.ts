/**
 * JUnit XML for the score-regression gate: one <testcase> per environment, a <failure> element
 * exactly on the environments that regressed, the test numbers in <system-out>. The dialect is
 * the common one read by GitHub / GitLab / Jenkins test reporters (testsuites > testsuite >
 * testcase, failures counted on both levels).
 */
import { type EnvComparison, type RegressReport, fmt, fmtP, fmtT } from './compare.js';

/**
 * Escape text for XML 1.0 character data and attribute values: & < > " ' become entities,
 * characters that XML 1.0 cannot hold at all (C0 controls other than tab / LF / CR, lone
 * surrogates, U+FFFE / U+FFFF) become U+FFFD.
 */
export function escapeXml(s: string): string {
  return s
    .replace(/[\u0000-\u0008\u000B\u000C\u000E-\u001F\uFFFE\uFFFF]/g, '\uFFFD')
    .replace(/[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g, '\uFFFD')
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&apos;');
}

/** Attribute value: escaped, and tab / LF / CR as character references (attribute normalisation would turn them into spaces). */
function attr(s: string | number): string {
  return escapeXml(String(s)).replace(/\t/g, '&#9;').replace(/\n/g, '&#10;').replace(/\r/g, '&#13;');
}

const SUITE = 'ofql-eval score regression';
const CLASS = 'ofql-eval.regress';

function details(c: EnvComparison): string {
  return [
    `env: ${c.envId}`,
    `baseline: mean ${fmt(c.meanBaseline, 4)}, std ${fmt(c.stdBaseline, 4)}, n ${c.nBaseline}, 95% CI ${c.ciBaseline ? `[${fmt(c.ciBaseline[0], 4)}, ${fmt(c.ciBaseline[1], 4)}]` : 'n/a'}`,
    `new:      mean ${fmt(c.meanNew, 4)}, std ${fmt(c.stdNew, 4)}, n ${c.nNew}, 95% CI ${c.ciNew ? `[${fmt(c.ciNew[0], 4)}, ${fmt(c.ciNew[1], 4)}]` : 'n/a'}`,
    `diff (new - baseline): ${fmt(c.diff, 4)}; drop: ${fmt(c.drop, 4)}`,
    `Welch t = ${fmtT(c.t)}, df = ${fmt(c.df, 2)}, one-sided p = ${fmtP(c.p)}${c.zeroVariance ? ' (both samples constant: exact comparison)' : ''}`,
    `verdict: ${c.verdict === 'regression' ? 'REGRESSION' : 'pass'}: ${c.reason}`,
  ].join('\n');
}

/** The report as JUnit XML. */
export function toJUnitXml(report: RegressReport): string {
  const tests = report.envs.length;
  const failures = report.regressions.length;
  const time = report.envs.reduce((a, c) => a + (Number.isFinite(c.seconds) ? c.seconds : 0), 0);
  const props: [string, string | number][] = [
    ['alpha', report.alpha],
    ['alphaPerTest', report.alphaPerTest],
    ['minEffect', report.minEffect],
    ['correction', report.correction],
    ['rule', report.rule],
    ['baseline', report.baseline.file ?? ''],
    ['baselinePolicy', report.baseline.policy],
    ['baselineCkpt', report.baseline.ckpt ?? ''],
    ['newPolicy', report.candidate.policy],
    ['newCkpt', report.candidate.ckpt ?? ''],
  ];
  const L: string[] = [];
  L.push('<?xml version="1.0" encoding="UTF-8"?>');
  L.push(`<testsuites name="${attr(SUITE)}" tests="${tests}" failures="${failures}" errors="0" time="${time.toFixed(3)}">`);
  L.push(
    `  <testsuite name="${attr(SUITE)}" tests="${tests}" failures="${failures}" errors="0" skipped="0" time="${time.toFixed(3)}" timestamp="${attr(report.createdAt)}">`,
  );
  L.push('    <properties>');
  for (const [k, v] of props) L.push(`      <property name="${attr(k)}" value="${attr(v)}"/>`);
  L.push('    </properties>');
  for (const c of report.envs) {
    L.push(`    <testcase classname="${CLASS}" name="${attr(c.envId)}" time="${(Number.isFinite(c.seconds) ? c.seconds : 0).toFixed(3)}">`);
    if (c.verdict === 'regression') {
      const msg = `${c.envId}: normalised score dropped ${fmt(c.drop)} (${fmt(c.meanBaseline)} -> ${fmt(c.meanNew)}), p = ${fmtP(c.p)}`;
      L.push(`      <failure type="ScoreRegression" message="${attr(msg)}">${escapeXml(`${details(c)}\nrule: ${report.rule}`)}</failure>`);
    }
    L.push(`      <system-out>${escapeXml(details(c))}</system-out>`);
    L.push('    </testcase>');
  }
  L.push('  </testsuite>');
  L.push('</testsuites>');
  return L.join('\n') + '\n';
}

/** JUnit XML for a gate that could not run: one testcase with an <error>. */
export function errorJUnitXml(message: string, timestamp = new Date().toISOString()): string {
  return [
    '<?xml version="1.0" encoding="UTF-8"?>',
    `<testsuites name="${attr(SUITE)}" tests="1" failures="0" errors="1" time="0.000">`,
    `  <testsuite name="${attr(SUITE)}" tests="1" failures="0" errors="1" skipped="0" time="0.000" timestamp="${attr(timestamp)}">`,
    `    <testcase classname="${CLASS}" name="inputs" time="0.000">`,
    `      <error type="RegressInputError" message="${attr(message.split('\n')[0])}">${escapeXml(message)}</error>`,
    '    </testcase>',
    '  </testsuite>',
    '</testsuites>',
    '',
  ].join('\n');
}
