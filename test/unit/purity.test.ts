import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { checkPurity, pureCoreDirs } from '../../scripts/check-pure-core.js';

describe('the pure-core check behind npm run lint', () => {
  it('finds the consensus cores clean', () => {
    assert.deepEqual(checkPurity(pureCoreDirs.filter(existsDir)), []);
  });

  const forbidden: Array<[string, string]> = [
    ["import { connect } from '@nats-io/transport-node';", 'I/O'],
    ["import Database from 'better-sqlite3';", 'I/O'],
    ["import { setTimeout } from 'node:timers';", 'node module'],
    ["import { readFileSync } from 'node:fs';", 'node module'],
    ['export const now = Date.now();', 'Date'],
    ['export const r = Math.random();', 'Math.random'],
    ['setTimeout(() => {}, 1);', 'timer'],
    ['export async function f() { await g(); }', 'awaits'],
  ];
  for (const [code, why] of forbidden) {
    it(`fails on: ${code}`, () => {
      const dir = mkdtempSync(join(tmpdir(), 'purity-'));
      try {
        writeFileSync(join(dir, 'bad.ts'), `// Date.now() in a comment is fine\n${code}\n`);
        const problems = checkPurity([dir]);
        assert.equal(problems.length >= 1, true, `no problem found for ${why}`);
        assert.equal(problems[0]?.line, 2);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    });
  }
});

function existsDir(dir: string): boolean {
  return statSync(dir, { throwIfNoEntry: false })?.isDirectory() === true;
}
