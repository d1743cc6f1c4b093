/** Reports of the regression gate: JUnit XML (parsed back), Markdown and JSON. */
import { describe, expect, it } from 'vitest';
import { baselineFromResult } from '../eval/gate/baseline.js';
import { errorJUnitXml, escapeXml, toJUnitXml } from '../eval/gate/junit.js';
import { formatErrorMarkdown, formatMarkdown, formatText, regress, reportToJson } from '../eval/gate/compare.js';
import { findAll, parseXml, scoresAround, syntheticResult } from './regress-helpers.js';

const ENVS = ['hopper-medium-v2', 'walker2d-medium-v2', 'halfcheetah-medium-v2'];
const base = baselineFromResult(
  syntheticResult({ scores: Object.fromEntries(ENVS.map((e) => [e, scoresAround(50, 4, 30)])) }),
  { source: { kind: 'results', file: 'eval/baselines/b&"<x>".json' }, label: 'label | with <tags> & "quotes"' },
);

function report(newMeans: number[], opts: { minEffect?: number } = {}) {
  const doc = syntheticResult({ scores: Object.fromEntries(ENVS.map((e, k) => [e, scoresAround(newMeans[k], 4, 30)])), seed: 7 });
  return regress(base, doc, { baselineFile: 'eval/baselines/b&"<x>".json', ...opts });
}

describe('JUnit XML', () => {
  it('is well-formed, one testcase per env, no failure when nothing regressed', () => {
    const xml = toJUnitXml(report([50, 51, 49.5]));
    const root = parseXml(xml);
    expect(root.name).toBe('testsuites');
    expect(root.attrs).toMatchObject({ tests: '3', failures: '0', errors: '0' });
    const suites = findAll(root, 'testsuite');
    expect(suites).toHaveLength(1);
    expect(suites[0].attrs).toMatchObject({ tests: '3', failures: '0' });
    const cases = findAll(root, 'testcase');
    expect(cases.map((c) => c.attrs.name)).toEqual(ENVS);
    expect(findAll(root, 'failure')).toHaveLength(0);
    for (const c of cases) expect(findAll(c, 'system-out')[0].text).toMatch(/Welch t = .*df = .*one-sided p = /);
    // attribute values with markup characters come back intact
    const props = Object.fromEntries(findAll(root, 'property').map((p) => [p.attrs.name, p.attrs.value]));
    expect(props.baseline).toBe('eval/baselines/b&"<x>".json');
    expect(props.rule).toMatch(/p < alpha = 0\.01 AND drop = \(baseline mean - new mean\) >= min-effect = 2\.00/);
  });

  it('has a <failure> exactly on the regressed environments', () => {
    const r = report([50, 40, 49]); // walker2d drops 10 (regression); halfcheetah drops 1 (< min-effect)
    expect(r.regressions).toEqual(['walker2d-medium-v2']);
    const root = parseXml(toJUnitXml(r));
    expect(root.attrs.failures).toBe('1');
    const cases = findAll(root, 'testcase');
    const failing = cases.filter((c) => findAll(c, 'failure').length > 0).map((c) => c.attrs.name);
    expect(failing).toEqual(['walker2d-medium-v2']);
    const f = findAll(cases[1], 'failure')[0];
    expect(f.attrs.type).toBe('ScoreRegression');
    expect(f.attrs.message).toMatch(/walker2d-medium-v2: normalised score dropped 10\.00 \(50\.00 -> 40\.00\), p = /);
    expect(f.text).toMatch(/verdict: REGRESSION: drop 10\.00 >= min-effect 2\.00 and p = .* < alpha 0\.01/);
  });

  it('escapes markup and drops characters XML cannot hold', () => {
    expect(escapeXml(`a<b>&"c"'d'`)).toBe('a&lt;b&gt;&amp;&quot;c&quot;&apos;d&apos;');
    expect(escapeXml('x\u0000y\u001Fz\uD800')).toBe('x\uFFFDy\uFFFDz\uFFFD');
    expect(escapeXml('tab\tnl\n\u{1F600}')).toBe('tab\tnl\n\u{1F600}');
    const xml = errorJUnitXml('bad <input> & "stuff"\u0001\nsecond line');
    const root = parseXml(xml);
    expect(root.attrs).toMatchObject({ tests: '1', errors: '1', failures: '0' });
    const e = findAll(root, 'error')[0];
    expect(e.attrs.message).toBe('bad <input> & "stuff"\uFFFD');
    expect(e.text).toBe('bad <input> & "stuff"\uFFFD\nsecond line');
  });
});

describe('Markdown / text / JSON', () => {
  it('has the table with every column, the rule, and the verdicts', () => {
    const md = formatMarkdown(report([50, 40, 49]));
    expect(md).toMatch(/^## Score regression gate: FAIL\n/);
    expect(md).toContain('**1 of 3 environments regressed: walker2d-medium-v2.**');
    expect(md).toContain('| env | baseline mean ± 95% CI | new mean ± 95% CI | diff (new − base) | t | df | p (one-sided) | verdict |');
    expect(md).toMatch(/\| `walker2d-medium-v2` \| 50\.00 ± \d\.\d\d \(n=30\) \| 40\.00 ± \d\.\d\d \(n=30\) \| -10\.00 \| -\d+\.\d{3} \| \d+\.\d \| [\d.e-]+ \| \*\*REGRESSION\*\* /);
    expect(md).toMatch(/\| `halfcheetah-medium-v2` .* \| -1\.00 \| .* \| pass \(drop 1\.00 < min-effect 2\.00/);
    expect(md).toContain('**Rule.** An environment REGRESSES if and only if p < alpha = 0.01 AND');
    // a label with a pipe cannot break the table
    const source = md.split('\n').find((l) => l.startsWith('| source'))!;
    expect(source).toContain('label \\| with');
    expect(source.replace(/\\\|/g, '').split('|')).toHaveLength(5); // 3 cells
    expect(formatMarkdown(report([50, 50, 50]))).toMatch(/^## Score regression gate: PASS\n\nNo regression in 3 environments\./);
    expect(formatErrorMarkdown('x')).toMatch(/^## Score regression gate: ERROR/);
  });

  it('text report aligns the columns; JSON writes infinite t as strings', () => {
    const txt = formatText(report([50, 40, 49]));
    expect(txt).toMatch(/^ofql-eval regress: FAIL \(walker2d-medium-v2\)\n/);
    const lines = txt.split('\n');
    const header = lines.findIndex((l) => l.startsWith('env '));
    const rows = lines.slice(header, header + 4);
    const col = rows[0].indexOf('verdict');
    for (const r of rows.slice(1)) expect(r.slice(col - 2, col)).toBe('  ');
    // zero variance -> t = -Infinity in the report
    const det = baselineFromResult(syntheticResult({ scores: { 'hopper-medium-v2': [70, 70, 70] } }), { source: { kind: 'run' } });
    const r = regress(det, syntheticResult({ scores: { 'hopper-medium-v2': [60, 60, 60] }, seed: 3 }));
    expect(r.passed).toBe(false);
    expect(r.notes.join('\n')).toMatch(/both samples are constant.*min-effect alone/);
    const json = JSON.parse(reportToJson(r)) as { envs: { t: unknown; p: number }[]; kind: string };
    expect(json.kind).toBe('ofql-eval/regress-report');
    expect(json.envs[0].t).toBe('-Infinity');
    expect(json.envs[0].p).toBe(0);
    const xml = parseXml(toJUnitXml(r));
    expect(findAll(xml, 'failure')).toHaveLength(1);
    expect(findAll(xml, 'system-out')[0].text).toMatch(/t = -inf.*both samples constant: exact comparison/);
  });
});
