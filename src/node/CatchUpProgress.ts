import type { SnapshotProgress } from '../snapshot/snapshotFetch.js';

/** How far back the catch-up rate looks. */
const rateWindowMs = 5_000;
/** Samples kept for the rate: one per sampleEveryMs at most, so the window holds a bounded number. */
const sampleEveryMs = 250;

export interface CatchUpReport {
  /** 'snapshot': copying or installing a snapshot; 'log': fetching chosen instances; 'caught-up'. */
  readonly state: 'snapshot' | 'log' | 'caught-up';
  readonly instancesBehind: number;
  readonly instancesPerSec: number;
  readonly snapshot: { readonly source: number; readonly bytesDone: number; readonly bytesTotal: number; readonly bytesPerSec: number } | null;
}

/** What `status()` says about a replica catching up: how far behind, how fast, and a snapshot's bytes. */
export class CatchUpProgress {
  private readonly samples: Array<{ atMs: number; committedInstance: number }> = [];
  private snapshot: { source: number; instanceMin: number; bytesDone: number; bytesTotal: number; startedMs: number } | null = null;

  /** A committed position at a time (monotonic ms). */
  observe(atMs: number, committedInstance: number): void {
    const last = this.samples[this.samples.length - 1];
    if (last !== undefined && atMs - last.atMs < sampleEveryMs) return;
    this.samples.push({ atMs, committedInstance });
    while (this.samples.length > 0 && atMs - this.samples[0]!.atMs > rateWindowMs) this.samples.shift();
  }

  snapshotStarted(options: { source: number; instanceMin: number }): void {
    this.snapshot = { ...options, bytesDone: 0, bytesTotal: 0, startedMs: performance.now() };
  }

  snapshotProgress(progress: SnapshotProgress): void {
    if (this.snapshot === null) return;
    this.snapshot = { ...this.snapshot, source: progress.source, bytesDone: progress.bytesDone, bytesTotal: progress.bytesTotal };
  }

  snapshotEnded(): void {
    this.snapshot = null;
  }

  report(position: { committedInstance: number; chosenKnownMax: number }): CatchUpReport {
    const instancesBehind = Math.max(0, position.chosenKnownMax - position.committedInstance);
    const first = this.samples[0];
    const last = this.samples[this.samples.length - 1];
    const spanMs = first !== undefined && last !== undefined ? last.atMs - first.atMs : 0;
    const instancesPerSec = spanMs > 0 ? Math.round(((last!.committedInstance - first!.committedInstance) * 1000) / spanMs) : 0;
    const snapshot = this.snapshot;
    if (snapshot !== null) {
      const elapsedMs = performance.now() - snapshot.startedMs;
      const bytesPerSec = elapsedMs > 0 ? Math.round((snapshot.bytesDone * 1000) / elapsedMs) : 0;
      return { state: 'snapshot', instancesBehind, instancesPerSec, snapshot: { source: snapshot.source, bytesDone: snapshot.bytesDone, bytesTotal: snapshot.bytesTotal, bytesPerSec } };
    }
    return { state: instancesBehind > 0 ? 'log' : 'caught-up', instancesBehind, instancesPerSec, snapshot: null };
  }
}
