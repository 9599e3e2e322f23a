/**
 * Keeps the consensus cores pure: no I/O, no clock, no global randomness, no timers, no await.
 * Run by `npm run lint`. Usage: tsx scripts/check-pure-core.ts [dir ...] (default: the core dirs).
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';

export const pureCoreDirs = ['src/log', 'src/election', 'src/replica'];

const rules: ReadonlyArray<{ pattern: RegExp; why: string }> = [
  { pattern: /from\s+['"](node:|fs|path|os|net|dgram|child_process|worker_threads|timers|crypto|perf_hooks)/, why: 'imports a node module' },
  { pattern: /import\s*\(\s*['"]/, why: 'imports dynamically' },
  { pattern: /require\s*\(/, why: 'uses require' },
  { pattern: /from\s+['"](@nats-io\/|nats|better-sqlite3|pino|rxjs)/, why: 'imports an I/O or runtime library' },
  { pattern: /from\s+['"]\.\.\/\.\.\//, why: 'imports from outside the core' },
  { pattern: /\bDate\b/, why: 'reads the clock (Date)' },
  { pattern: /\bperformance\b/, why: 'reads the clock (performance)' },
  { pattern: /\bMath\.random\b/, why: 'uses Math.random' },
  { pattern: /\b(setTimeout|setInterval|setImmediate|queueMicrotask|clearTimeout|clearInterval)\b/, why: 'uses a timer' },
  { pattern: /\bprocess\./, why: 'touches the process' },
  { pattern: /\bconsole\./, why: 'logs' },
  { pattern: /\bawait\b|\basync\s/, why: 'awaits' },
  { pattern: /\bglobalThis\b/, why: 'reaches for globals' },
];

export interface PurityProblem {
  readonly file: string;
  readonly line: number;
  readonly why: string;
  readonly text: string;
}

function sourceFiles(dir: string): string[] {
  const files: string[] = [];
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) files.push(...sourceFiles(path));
    else if (path.endsWith('.ts')) files.push(path);
  }
  return files;
}

/** Strips comments so that prose about Date or timers does not trip the rules. */
function codeOnly(line: string, inBlock: { open: boolean }): string {
  let code = line;
  if (inBlock.open) {
    const end = code.indexOf('*/');
    if (end < 0) return '';
    inBlock.open = false;
    code = code.slice(end + 2);
  }
  code = code.replace(/\/\*.*?\*\//g, '');
  const start = code.indexOf('/*');
  if (start >= 0) {
    inBlock.open = true;
    code = code.slice(0, start);
  }
  return code.replace(/\/\/.*$/, '');
}

export function checkPurity(dirs: readonly string[]): PurityProblem[] {
  const problems: PurityProblem[] = [];
  for (const dir of dirs) {
    for (const file of sourceFiles(dir)) {
      const inBlock = { open: false };
      readFileSync(file, 'utf8').split('\n').forEach((text, index) => {
        const code = codeOnly(text, inBlock);
        for (const rule of rules) {
          if (rule.pattern.test(code)) problems.push({ file: relative(process.cwd(), file), line: index + 1, why: rule.why, text: text.trim() });
        }
      });
    }
  }
  return problems;
}

if (process.argv[1] !== undefined && import.meta.url.endsWith(process.argv[1].replace(/^.*\//, ''))) {
  const dirs = process.argv.length > 2 ? process.argv.slice(2) : pureCoreDirs;
  const problems = checkPurity(dirs.filter((dir) => statSync(dir, { throwIfNoEntry: false })?.isDirectory() === true));
  for (const p of problems) console.error(`${p.file}:${p.line}: the pure core ${p.why}: ${p.text}`);
  if (problems.length > 0) {
    console.error(`${problems.length} purity problems`);
    process.exit(1);
  }
  console.log(`pure core clean: ${dirs.join(', ')}`);
}
