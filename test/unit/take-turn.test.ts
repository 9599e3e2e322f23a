import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { takeTurn } from '../../src/node/takeTurn.js';

interface Item {
  readonly name: string;
  readonly entries: number;
}

const item = (name: string, entries: number): Item => ({ name, entries });
const names = (items: readonly Item[]) => items.map((i) => i.name).join('');
const bounds = { itemsMax: 3, entriesMax: 10, entries: (i: Item) => i.entries };

describe('takeTurn', () => {
  it('takes items in arrival order up to itemsMax, and leaves the rest queued in order', () => {
    const queue = [item('a', 0), item('b', 0), item('c', 0), item('d', 0), item('e', 0)];
    assert.equal(names(takeTurn(queue, bounds)), 'abc');
    assert.equal(names(queue), 'de');
    assert.equal(names(takeTurn(queue, bounds)), 'de');
    assert.equal(queue.length, 0);
    assert.deepEqual(takeTurn(queue, bounds), [], 'an empty queue gives an empty turn');
  });

  it('stops before the item that would take the turn past entriesMax; items with no entries do not count', () => {
    const queue = [item('a', 4), item('b', 0), item('c', 6), item('d', 1), item('e', 0)];
    assert.equal(names(takeTurn(queue, { ...bounds, itemsMax: 10 })), 'abc', 'exactly entriesMax (10) is allowed');
    assert.equal(names(queue), 'de');
    const next = [item('a', 4), item('b', 7), item('c', 0)];
    assert.equal(names(takeTurn(next, { ...bounds, itemsMax: 10 })), 'a', 'b would make 11: it waits, and c behind it waits too (order holds)');
    assert.equal(names(next), 'bc');
  });

  it('always takes the first item, however many entries it carries, so every turn makes progress', () => {
    const queue = [item('a', 1_000), item('b', 1)];
    assert.equal(names(takeTurn(queue, bounds)), 'a');
    assert.equal(names(takeTurn(queue, bounds)), 'b');
  });

  it('refuses bad bounds and a bad count of entries', () => {
    assert.throws(() => takeTurn([item('a', 1)], { ...bounds, itemsMax: 0 }), /itemsMax/);
    assert.throws(() => takeTurn([item('a', 1)], { ...bounds, entriesMax: 0 }), /entriesMax/);
    assert.throws(() => takeTurn([item('a', -1)], bounds), /counts -1 entries/);
    assert.throws(() => takeTurn([item('a', 1.5)], bounds), /counts 1.5 entries/);
  });
});
