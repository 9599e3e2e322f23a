/**
 * An event-sourced bank account on paxlog. The account's state is rebuilt from its events with
 * stream({ from: 0 }); every command appends its event with `expectedOffset`, so two tellers working
 * on stale state cannot both withdraw the same money: the second one gets a ConflictError,
 * catches up, re-checks the balance and retries.
 *
 * Run against a cluster (`npm run dev` prints its URL):
 *   npx tsx examples/bank-account.ts nats://127.0.0.1:PORT [LOG]
 */
import { ConflictError, PaxlogClient } from '../src/mod.js';

type Event = { type: 'deposited' | 'withdrew'; amount: number };

class Account {
  balance = 0;
  /** The offset the next event must land at: one past the last event applied. */
  offsetNext = 0;

  apply(event: Event, offset: number): void {
    this.balance += event.type === 'deposited' ? event.amount : -event.amount;
    this.offsetNext = offset + 1;
  }
}

async function catchUp(client: PaxlogClient, account: Account): Promise<void> {
  const { entries, offsetNext } = await client.read({ from: account.offsetNext, limit: 4096 });
  for (const entry of entries) account.apply(JSON.parse(new TextDecoder().decode(entry.data)) as Event, entry.offset);
  account.offsetNext = offsetNext;
}

/** A command: check the rule on current state, append with expectedOffset, retry on conflict. */
async function withdraw(client: PaxlogClient, account: Account, amount: number): Promise<string> {
  for (;;) {
    await catchUp(client, account);
    if (account.balance < amount) return `refused: balance ${account.balance} < ${amount}`;
    const event: Event = { type: 'withdrew', amount };
    try {
      const { offset } = await client.append(new TextEncoder().encode(JSON.stringify(event)), { expectedOffset: account.offsetNext });
      account.apply(event, offset);
      return `withdrew ${amount} at offset ${offset}`;
    } catch (error) {
      if (!(error instanceof ConflictError)) throw error;
      // Someone else appended first: rebuild and decide again.
    }
  }
}

const servers = process.argv[2] ?? 'nats://127.0.0.1:4222';
const client = await PaxlogClient.connect({ servers, log: process.argv[3] ?? 'default' });
try {
  const setup = new Account();
  await catchUp(client, setup);
  await client.append(new TextEncoder().encode(JSON.stringify({ type: 'deposited', amount: 100 })), { expectedOffset: setup.offsetNext });
  await catchUp(client, setup);
  console.log(`balance after the deposit: ${setup.balance}`);
  const tellerA = new Account();
  const tellerB = new Account();
  await Promise.all([catchUp(client, tellerA), catchUp(client, tellerB)]);
  console.log(`teller A: ${await withdraw(client, tellerA, 70)}`);
  console.log(`teller B (stale state, 70 more): ${await withdraw(client, tellerB, 70)}`);
  const rebuilt = new Account();
  for await (const entry of client.entries({ from: 0 })) {
    rebuilt.apply(JSON.parse(new TextDecoder().decode(entry.data)) as Event, entry.offset);
    if (entry.offset === tellerA.offsetNext - 1) break;
  }
  console.log(`balance rebuilt from the stream: ${rebuilt.balance}`);
} finally {
  await client.close();
}
