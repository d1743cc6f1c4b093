/** Shared helpers of the regression-gate tests: synthetic, valid result documents. */
import { getEnvEntry } from '../src/registry.js';
import { deriveSeed } from '../src/rng.js';
import { type EvalResultDocument, type EnvResult, RESULT_KIND, RESULT_SCHEMA_VERSION, summarize, writeResultFile } from '../eval/result.js';

export interface SyntheticOptions {
  /** envId -> per-episode normalised scores. */
  scores: Record<string, number[]>;
  seed?: number;
  maxEpisodeSteps?: number;
  complete?: boolean;
  policy?: string;
  ckpt?: string | null;
  ckptSha256?: string | null;
  toolVersion?: string;
}

/**
 * A result document as `evaluate` would write it, with the given normalised scores (returns are
 * derived from them with the env's D4RL constants, so the document is self-consistent).
 */
export function syntheticResult(o: SyntheticOptions): EvalResultDocument {
  const seed = o.seed ?? 0;
  const maxEpisodeSteps = o.maxEpisodeSteps ?? 1000;
  const results: EnvResult[] = Object.entries(o.scores).map(([envId, s]) => {
    const e = getEnvEntry(envId);
    const episodes = s.map((_, i) => i);
    const returns = s.map((x) => e.refMin + (x / 100) * (e.refMax - e.refMin));
    const lengths = s.map(() => maxEpisodeSteps);
    const terminated = s.map(() => false);
    return {
      envId,
      family: e.family,
      refMin: e.refMin,
      refMax: e.refMax,
      complete: true,
      episodes,
      seeds: episodes.map((i) => deriveSeed(seed, i)),
      returns,
      lengths,
      normalizedScores: [...s],
      terminated,
      pendingEpisodes: [],
      summary: summarize(returns, s, lengths, terminated),
      policyDescription: null,
      actionsOutOfRange: 0,
      retries: [],
      timing: { envSteps: s.length * maxEpisodeSteps, workerSeconds: 1.5, policySeconds: 0.5, policyShare: 1 / 3, envStepsPerWorkerSecond: 1000 },
    };
  });
  const episodes = Math.max(...Object.values(o.scores).map((s) => s.length));
  const complete = o.complete ?? true;
  const policy = o.policy ?? './policies/linear.mjs';
  const builtin = policy === 'random' || policy === 'zero';
  return {
    schemaVersion: RESULT_SCHEMA_VERSION,
    kind: RESULT_KIND,
    complete,
    interrupted: false,
    error: complete ? null : 'synthetic failure',
    createdAt: '2026-11-23T00:00:00.000Z',
    tool: { name: 'ofql-eval', version: o.toolVersion ?? '0.1.0' },
    mujoco: { version: '3.14.0', packageVersion: '3.14.0' },
    runtime: { node: process.version, platform: process.platform, arch: process.arch, cpus: 2, cpuModel: 'test', hostname: 'test' },
    command: ['ofql-eval', 'synthetic'],
    settings: {
      seed,
      episodes,
      maxEpisodeSteps,
      d4rlComparable: maxEpisodeSteps === 1000,
      batchSize: 8,
      chunkSize: 8,
      workers: 2,
      policyTimeoutMs: 60000,
      shard: null,
    },
    policy: {
      name: policy,
      kind: builtin ? 'builtin' : 'module',
      path: builtin ? null : `/abs/${policy}`,
      sha256: builtin ? null : 'a'.repeat(64),
      ckpt: o.ckpt ?? null,
      ckptSha256: o.ckptSha256 ?? null,
    },
    timing: { startedAt: '2026-11-23T00:00:00.000Z', finishedAt: '2026-11-23T00:00:03.000Z', wallSeconds: 3, envSteps: 0, envStepsPerSecond: 0 },
    results,
  };
}

export function writeSynthetic(path: string, o: SyntheticOptions): EvalResultDocument {
  const doc = syntheticResult(o);
  writeResultFile(path, doc);
  return doc;
}

/** n scores around `center`: center + spread * (a fixed zero-mean pattern). */
export function scoresAround(center: number, spread: number, n: number): number[] {
  // Deterministic pseudo-noise with mean exactly 0 (symmetric pairs).
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    const k = Math.floor(i / 2) + 1;
    const v = Math.sin(k * 1.7) * spread;
    out.push(center + (i % 2 === 0 ? v : -v));
  }
  if (n % 2 === 1) out[n - 1] = center;
  return out;
}

/**
 * Minimal XML well-formedness check (enough for our JUnit output): one root element, properly
 * nested tags, quoted attributes without '<' or raw '&', only the five predefined entities and
 * numeric character references, no characters XML 1.0 forbids. Returns the element tree.
 */
export interface XmlElement {
  name: string;
  attrs: Record<string, string>;
  children: XmlElement[];
  text: string;
}

export function parseXml(xml: string): XmlElement {
  let i = 0;
  if (/[\u0000-\u0008\u000B\u000C\u000E-\u001F\uFFFE\uFFFF]/.test(xml)) throw new Error('forbidden character in XML');
  const decode = (s: string, where: string): string => {
    if (s.includes('<')) throw new Error(`raw '<' in ${where}`);
    return s.replace(/&([^;]*);|&/g, (m, ent: string | undefined) => {
      if (ent === undefined) throw new Error(`raw '&' in ${where}`);
      const named: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'" };
      if (ent in named) return named[ent];
      if (/^#[0-9]+$/.test(ent)) return String.fromCodePoint(Number(ent.slice(1)));
      if (/^#x[0-9a-fA-F]+$/.test(ent)) return String.fromCodePoint(parseInt(ent.slice(2), 16));
      throw new Error(`unknown entity &${ent}; in ${where}`);
    });
  };
  const skipWs = (): void => {
    while (i < xml.length && /\s/.test(xml[i])) i++;
  };
  if (xml.startsWith('<?xml')) {
    const end = xml.indexOf('?>');
    if (end < 0) throw new Error('unterminated XML declaration');
    i = end + 2;
  }
  const parseElement = (): XmlElement => {
    skipWs();
    if (xml[i] !== '<') throw new Error(`expected '<' at ${i}`);
    i++;
    const nameMatch = /^[A-Za-z_][\w.-]*/.exec(xml.slice(i));
    if (!nameMatch) throw new Error(`bad element name at ${i}`);
    const el: XmlElement = { name: nameMatch[0], attrs: {}, children: [], text: '' };
    i += el.name.length;
    for (;;) {
      skipWs();
      if (xml.startsWith('/>', i)) {
        i += 2;
        return el;
      }
      if (xml[i] === '>') {
        i++;
        break;
      }
      const m = /^([A-Za-z_][\w.:-]*)\s*=\s*"([^"]*)"/.exec(xml.slice(i));
      if (!m) throw new Error(`bad attribute in <${el.name}> at ${i}: ${xml.slice(i, i + 40)}`);
      if (m[1] in el.attrs) throw new Error(`duplicate attribute ${m[1]} in <${el.name}>`);
      el.attrs[m[1]] = decode(m[2], `attribute ${m[1]} of <${el.name}>`);
      i += m[0].length;
    }
    for (;;) {
      const lt = xml.indexOf('<', i);
      if (lt < 0) throw new Error(`unclosed <${el.name}>`);
      el.text += decode(xml.slice(i, lt), `text of <${el.name}>`);
      i = lt;
      if (xml.startsWith('</', i)) {
        const close = `</${el.name}>`;
        if (!xml.startsWith(close, i)) throw new Error(`mismatched closing tag at ${i}: expected ${close}, got ${xml.slice(i, i + 30)}`);
        i += close.length;
        return el;
      }
      el.children.push(parseElement());
    }
  };
  const root = parseElement();
  skipWs();
  if (i !== xml.length) throw new Error(`content after the root element at ${i}`);
  return root;
}

export function findAll(el: XmlElement, name: string): XmlElement[] {
  const out: XmlElement[] = [];
  const walk = (e: XmlElement): void => {
    if (e.name === name) out.push(e);
    e.children.forEach(walk);
  };
  walk(el);
  return out;
}
