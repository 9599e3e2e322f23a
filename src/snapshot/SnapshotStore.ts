import { createHash } from 'node:crypto';
import { closeSync, mkdirSync, openSync, readdirSync, readFileSync, readSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import { SqliteLog } from '../storage/SqliteLog.js';
import { pathSync } from './fsyncs.js';

/** A snapshot's description, kept beside it and sent to a replica that asks for it. */
export interface SnapshotManifest {
  readonly name: string;
  /** Every instance up to this one is inside the snapshot. */
  readonly instance: number;
  readonly offsetNext: number;
  /** The first offset the snapshot holds (retention removed those below). */
  readonly horizonOffset: number;
  readonly bytes: number;
  readonly sha256: string;
  readonly createdAtMs: number;
}

export const snapshotManifestSchema = z.strictObject({
  name: z.string().regex(/^snapshot-\d{1,16}\.sqlite$/),
  instance: z.int().nonnegative(),
  offsetNext: z.int().nonnegative(),
  horizonOffset: z.int().nonnegative(),
  bytes: z.int().nonnegative(),
  sha256: z.string().regex(/^[0-9a-f]{64}$/),
  createdAtMs: z.int().nonnegative(),
});

/** The SHA-256 of a file, read in 1 MiB pieces. */
export function fileSha256(path: string): string {
  const hash = createHash('sha256');
  const fd = openSync(path, 'r');
  try {
    const buffer = Buffer.allocUnsafe(1 << 20);
    for (let at = 0; ; ) {
      const read = readSync(fd, buffer, 0, buffer.length, at);
      if (read === 0) break;
      hash.update(buffer.subarray(0, read));
      at += read;
    }
  } finally {
    closeSync(fd);
  }
  return hash.digest('hex');
}

/**
 * One log's snapshots on disk (the SnapshotStore of hashicorp/raft): each a self-contained SQLite
 * file with a JSON manifest beside it. A snapshot is written under a temporary name, fsynced and
 * renamed, then its manifest the same way, so a crash leaves either a whole snapshot or none; the
 * temporaries are removed on open. Only the newest `keepMax` are kept.
 */
export class SnapshotStore {
  readonly dir: string;
  private readonly keepMax: number;
  private taking: Promise<SnapshotManifest> | null = null;
  /** The complete snapshots, newest first: read from disk once, then kept in step with it. */
  private kept: SnapshotManifest[];

  constructor(options: { dir: string; keepMax: number }) {
    if (!Number.isSafeInteger(options.keepMax) || options.keepMax < 1) throw new RangeError(`keepMax ${options.keepMax}`);
    this.dir = options.dir;
    this.keepMax = options.keepMax;
    mkdirSync(this.dir, { recursive: true });
    for (const name of readdirSync(this.dir)) if (name.endsWith('.tmp')) rmSync(join(this.dir, name), { force: true });
    this.kept = this.scan();
  }

  /** Takes a snapshot of `store` without stopping it; one at a time (a second call joins the first). */
  take(store: SqliteLog): Promise<SnapshotManifest> {
    this.taking ??= this.takeNow(store).finally(() => {
      this.taking = null;
    });
    return this.taking;
  }

  private async takeNow(store: SqliteLog): Promise<SnapshotManifest> {
    const temporary = join(this.dir, `taking-${process.pid}-${Date.now()}.tmp`);
    try {
      await store.backupTo(temporary);
      const described = SqliteLog.describe(temporary);
      pathSync(temporary);
      const name = `snapshot-${described.committedInstance}.sqlite`;
      const manifest: SnapshotManifest = {
        name,
        instance: described.committedInstance,
        offsetNext: described.offsetNext,
        horizonOffset: described.horizonOffset,
        bytes: statSync(temporary).size,
        sha256: fileSha256(temporary),
        createdAtMs: Date.now(),
      };
      renameSync(temporary, join(this.dir, name));
      const manifestTemporary = join(this.dir, `${name}.json.tmp`);
      writeFileSync(manifestTemporary, JSON.stringify(manifest));
      pathSync(manifestTemporary);
      renameSync(manifestTemporary, join(this.dir, `${name}.json`));
      pathSync(this.dir);
      this.kept = [manifest, ...this.kept.filter((m) => m.name !== name)].sort((a, b) => b.instance - a.instance);
      this.prune();
      return manifest;
    } finally {
      rmSync(temporary, { force: true });
    }
  }

  /** Every complete snapshot, newest first. */
  list(): SnapshotManifest[] {
    return [...this.kept];
  }

  /** The snapshots on disk: each manifest whose file is there at the size it names. */
  private scan(): SnapshotManifest[] {
    const manifests: SnapshotManifest[] = [];
    for (const name of readdirSync(this.dir)) {
      if (!name.endsWith('.sqlite.json')) continue;
      try {
        const manifest = snapshotManifestSchema.parse(JSON.parse(readFileSync(join(this.dir, name), 'utf8')));
        if (statSync(join(this.dir, manifest.name)).size === manifest.bytes) manifests.push(manifest);
      } catch {
        continue; // a manifest without its file, or unreadable: not a snapshot
      }
    }
    return manifests.sort((a, b) => b.instance - a.instance);
  }

  latest(): SnapshotManifest | null {
    return this.kept[0] ?? null;
  }

  /** Up to `length` bytes of a kept snapshot from `at`; null when it is no longer kept. */
  readChunk(options: { name: string; at: number; length: number }): Uint8Array | null {
    if (!this.kept.some((m) => m.name === options.name)) return null;
    const fd = openSync(join(this.dir, options.name), 'r');
    try {
      const buffer = new Uint8Array(options.length);
      const read = readSync(fd, buffer, 0, options.length, options.at);
      return buffer.subarray(0, read);
    } finally {
      closeSync(fd);
    }
  }

  private prune(): void {
    for (const old of this.kept.splice(this.keepMax)) {
      rmSync(join(this.dir, `${old.name}.json`), { force: true });
      rmSync(join(this.dir, old.name), { force: true });
    }
  }
}

