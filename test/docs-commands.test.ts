/**
 * Every fenced shell command in README.md and docs/*.md must run as written (issue 11, item 7).
 *
 * - ```sh blocks: every file a command reads (--ckpt, --baseline, --results, --dataset, a policy
 *   module, merge inputs, ...) exists in the repository, unless an earlier line of the same block
 *   writes it or it lies under data/ (the git-ignored directory the documented pipelines fill);
 *   every flag exists in `ofql-eval <command> --help` (scripts: in the script's parseArgs options;
 *   npm: the package.json script exists).
 * - The cheap ones run: `list`, `--help`, and `baseline` / `regress` with `--results` (no
 *   evaluation), their output files redirected into a temp directory.
 * - ```sh template blocks hold placeholders for the reader's own files (./my-policy.mjs): only
 *   their flags are checked.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ROOT, spawnAsync } from './eval-helpers.js';

const CLI = join(ROOT, 'dist', 'src', 'cli.js');
const tmp = mkdtempSync(join(tmpdir(), 'ofql-docs-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

interface DocCommand {
  file: string;
  line: number;
  template: boolean;
  text: string;
  argv: string[];
  /** Files written by earlier lines of the same block. */
  writtenBefore: Set<string>;
}

const SUBCOMMANDS = new Set(['run', 'merge', 'list', 'baseline', 'regress', 'collect', 'train', 'export-onnx', 'report', 'view']);
/** Flags whose value is a file or directory the command reads. */
const INPUT_FLAGS = new Set(['--ckpt', '--baseline', '-b', '--results', '-r', '--dataset', '-d']);
/** Flags whose value the command writes. */
const OUTPUT_FLAGS = new Set(['--out', '-o', '--json', '--markdown', '--junit', '--save-results']);

/** Split a shell line into words (quotes kept together, no expansion). */
function shellWords(line: string): string[] {
  const words: string[] = [];
  let cur = '';
  let quote: string | null = null;
  let inWord = false;
  for (const ch of line) {
    if (quote) {
      if (ch === quote) quote = null;
      else cur += ch;
    } else if (ch === '"' || ch === "'") {
      quote = ch;
      inWord = true;
    } else if (/\s/.test(ch)) {
      if (inWord) words.push(cur);
      cur = '';
      inWord = false;
    } else {
      cur += ch;
      inWord = true;
    }
  }
  if (inWord) words.push(cur);
  return words;
}

/** A line without its trailing `# comment` (a `#` that starts a word, outside quotes). */
function stripComment(line: string): string {
  let quote: string | null = null;
  for (let i = 0; i < line.length; i++) {
    const ch = line[i];
    if (quote) {
      if (ch === quote) quote = null;
    } else if (ch === '"' || ch === "'") quote = ch;
    else if (ch === '#' && (i === 0 || /\s/.test(line[i - 1]))) return line.slice(0, i);
  }
  return line;
}

function docFiles(): string[] {
  const docs = readdirSync(join(ROOT, 'docs')).filter((f) => f.endsWith('.md')).map((f) => join('docs', f));
  return ['README.md', ...docs];
}

/** The commands of the fenced sh / bash blocks of one Markdown file. */
function extractCommands(file: string): DocCommand[] {
  const lines = readFileSync(join(ROOT, file), 'utf8').split('\n');
  const out: DocCommand[] = [];
  let block: { template: boolean; written: Set<string> } | null = null;
  for (let i = 0; i < lines.length; i++) {
    const fence = /^```\s*(\S*)\s*(.*)$/.exec(lines[i]);
    if (fence) {
      if (block) block = null;
      else if (['sh', 'bash', 'shell'].includes(fence[1])) block = { template: /\btemplate\b/.test(fence[2]), written: new Set() };
      else {
        // skip a non-shell block to its closing fence
        while (i + 1 < lines.length && !/^```/.test(lines[i + 1])) i++;
        i++;
      }
      continue;
    }
    if (!block) continue;
    const start = i + 1;
    let text = lines[i];
    while (/\\\s*$/.test(text) && i + 1 < lines.length) text = text.replace(/\\\s*$/, ' ') + lines[++i];
    text = stripComment(text).trim();
    if (text === '') continue;
    for (const part of text.split('&&').map((p) => p.trim()).filter(Boolean)) {
      const argv = shellWords(block.template ? part.replace(/[[\]]/g, ' ') : part);
      out.push({ file, line: start, template: block.template, text: part, argv, writtenBefore: new Set(block.written) });
      for (let k = 0; k < argv.length - 1; k++) if (OUTPUT_FLAGS.has(argv[k])) block.written.add(argv[k + 1]);
    }
  }
  return out;
}

const ALL = docFiles().flatMap(extractCommands);

/** ofql-eval's argv after the program name, or null for other programs. */
function ofqlArgs(c: DocCommand): string[] | null {
  if (c.argv[0] === 'npx' && c.argv[1] === 'ofql-eval') return c.argv.slice(2);
  if (c.argv[0] === 'ofql-eval') return c.argv.slice(1);
  return null;
}

const helpCache = new Map<string, string>();
function helpOf(sub: string | null): string {
  const key = sub ?? '';
  if (!helpCache.has(key)) {
    const r = spawnSync(process.execPath, [CLI, ...(sub ? [sub] : []), '--help'], { cwd: ROOT, encoding: 'utf8' });
    helpCache.set(key, r.stdout);
  }
  return helpCache.get(key)!;
}

function isPlaceholder(v: string): boolean {
  return /[<>]|\.\.\.|^N$/.test(v);
}

/** Does `path` exist for this command (in the repository, written earlier, or generated under data/)? */
function available(path: string, c: DocCommand): boolean {
  if (c.writtenBefore.has(path) || [...c.writtenBefore].some((w) => path.startsWith(`${w.replace(/\/$/, '')}/`))) return true;
  if (/^data(\/|$)/.test(path)) return true;
  return existsSync(join(ROOT, path));
}

/** Problems with one ofql-eval command line: unknown flags, missing input files. */
function ofqlProblems(c: DocCommand, args: string[]): string[] {
  const problems: string[] = [];
  const sub = args[0] !== undefined && SUBCOMMANDS.has(args[0]) ? args[0] : null;
  const help = helpOf(sub === 'run' ? null : sub);
  const rest = sub ? args.slice(1) : args;
  for (let k = 0; k < rest.length; k++) {
    const w = rest[k];
    if (w.startsWith('-')) {
      const flag = w.split('=')[0];
      const re = new RegExp(`(^|[\\s,])${flag.replace(/[-]/g, '\\-')}([\\s,=]|$)`, 'm');
      if (!re.test(help)) problems.push(`flag ${flag} is not in 'ofql-eval ${sub ?? ''} --help'`);
      const value = rest[k + 1];
      if (!c.template && value !== undefined && !value.startsWith('-') && !isPlaceholder(value)) {
        const readsPath = INPUT_FLAGS.has(flag) || ((flag === '--policy' || flag === '-p') && /[/.]/.test(value));
        // --ckpt a,b,c names several checkpoints (src/commands/run-seeds.ts).
        const paths = flag === '--ckpt' ? value.split(',') : [value];
        for (const path of paths) if (readsPath && !available(path, c)) problems.push(`${flag} ${path}: no such file or directory in the repository`);
      }
    } else if (!c.template && (sub === 'merge' || sub === 'export-onnx' || sub === 'report' || sub === 'view') && !isPlaceholder(w) && (k === 0 || !rest[k - 1].startsWith('-'))) {
      if (!available(w, c)) problems.push(`${w}: no such file or directory in the repository`);
    }
  }
  return problems;
}

/** Problems with `node dist/scripts/X.js ...`: the script and each of its flags exist. */
function scriptProblems(c: DocCommand): string[] {
  const m = /^dist\/scripts\/(.+)\.js$/.exec(c.argv[1] ?? '');
  if (!m) return [`${c.argv[1]}: not a script under dist/scripts/`];
  const src = join(ROOT, 'scripts', `${m[1]}.ts`);
  if (!existsSync(src)) return [`scripts/${m[1]}.ts does not exist`];
  const text = readFileSync(src, 'utf8');
  return c.argv
    .slice(2)
    .filter((w) => w.startsWith('--'))
    .map((w) => w.slice(2).split('=')[0])
    .filter((name) => !new RegExp(`['"]?${name}['"]?\\s*:\\s*\\{`).test(text))
    .map((name) => `--${name} is not an option of scripts/${m[1]}.ts`);
}

function npmProblems(c: DocCommand): string[] {
  const scripts = (JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { scripts: Record<string, string> }).scripts;
  const [, verb, name] = c.argv;
  if (verb === 'ci' || verb === 'install') return [];
  if (verb === 'test') return scripts.test ? [] : ['package.json has no test script'];
  if (verb === 'run') return scripts[name] ? [] : [`package.json has no script '${name}'`];
  return [`npm ${verb}: not a documented npm use`];
}

/** A Python script of ours: it exists, and every flag used is one its argparse declares. */
function pythonProblems(c: DocCommand): string[] {
  const script = c.argv[1] ?? '';
  const file = join(ROOT, script);
  if (!existsSync(file)) return [`${script}: no such script`];
  const text = readFileSync(file, 'utf8');
  return c.argv
    .slice(2)
    .filter((a) => a.startsWith('-'))
    .filter((flag) => !text.includes(`"${flag}"`) && !text.includes(`'${flag}'`))
    .map((flag) => `${flag}: not an option of ${script} (its add_argument calls)`);
}

function problemsOf(c: DocCommand): string[] {
  const args = ofqlArgs(c);
  if (args) return ofqlProblems(c, args);
  if (c.argv[0] === 'node') return scriptProblems(c);
  if (c.argv[0] === 'npm') return npmProblems(c);
  if (/(^|\/)python3$/.test(c.argv[0] ?? '')) return pythonProblems(c);
  if (c.argv[0] === 'npx' && c.argv[1] === 'tsc') return existsSync(join(ROOT, c.argv[3] ?? 'tsconfig.json')) ? [] : [`${c.argv[3]}: no such file`];
  return [`'${c.argv[0]}': a program this test does not know how to check (teach test/docs-commands.test.ts)`];
}

/** Cheap as written: no evaluation, no training. */
function isCheap(args: string[]): boolean {
  if (args.includes('--help') || args[0] === 'list') return true;
  return (args[0] === 'regress' || args[0] === 'baseline') && (args.includes('--results') || args.includes('-r'));
}

describe('fenced shell commands in README.md and docs/', () => {
  it('finds the commands (the extraction works)', () => {
    expect(ALL.length).toBeGreaterThan(20);
    expect(ALL.some((c) => c.file === 'README.md' && ofqlArgs(c)?.[0] === 'list')).toBe(true);
    expect(ALL.some((c) => c.file === 'docs/regression-gate.md' && ofqlArgs(c)?.[0] === 'regress')).toBe(true);
    expect(ALL.some((c) => c.template)).toBe(true);
  });

  // Spawns `--help` of every command it meets, one after another: slow on a loaded machine.
  it('use only files that exist and flags that exist', { timeout: 180_000 }, () => {
    const problems = ALL.flatMap((c) => problemsOf(c).map((p) => `${c.file}:${c.line}: ${c.text}\n    ${p}`));
    expect(problems).toEqual([]);
  });

  const cheap = ALL.filter((c) => !c.template && ofqlArgs(c) !== null && isCheap(ofqlArgs(c)!));
  it('include cheap commands to run', () => {
    expect(cheap.length).toBeGreaterThanOrEqual(4);
  });

  it.each(cheap.map((c) => [`${c.file}:${c.line}: ${c.text}`, c] as const))('runs: %s', async (_name, c) => {
    const args = [...ofqlArgs(c)!];
    // Output files go to the temp directory: the docs' destinations are committed files.
    for (let k = 0; k < args.length - 1; k++) if (OUTPUT_FLAGS.has(args[k])) args[k + 1] = join(tmp, `${c.line}-${basename(args[k + 1])}`);
    const r = await spawnAsync(process.execPath, [CLI, ...args], { cwd: ROOT, timeout: 60_000 });
    const verdict = args[0] === 'regress' ? [0, 1] : [0];
    expect(verdict, `exit ${r.status}\n${r.stderr}`).toContain(r.status);
  });
});
