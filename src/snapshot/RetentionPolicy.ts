import { z } from 'zod';

/**
 * How much of a log a replica keeps. Any combination: entries beyond the newest `entriesMax`,
 * beyond the newest `bytesMax` bytes of entry data, or older than `ageMsMax` go. Every replica of a
 * log must run the same policy: the horizon is a pure function of the committed batches (their
 * offsets, sizes and the leader's timestamps inside them) and the policy, so replicas that run the
 * same policy truncate at the same offsets.
 */
export interface RetentionPolicy {
  readonly entriesMax?: number;
  readonly bytesMax?: number;
  readonly ageMsMax?: number;
}

export const retentionPolicySchema = z
  .strictObject({
    entriesMax: z.int().positive().exactOptional(),
    bytesMax: z.int().positive().exactOptional(),
    ageMsMax: z.int().positive().exactOptional(),
  });

export const retentionKeepAll: RetentionPolicy = Object.freeze({});

export function retentionIsBounded(policy: RetentionPolicy): boolean {
  return policy.entriesMax !== undefined || policy.bytesMax !== undefined || policy.ageMsMax !== undefined;
}

/** The policy in words, for status and logs. */
export function retentionText(policy: RetentionPolicy): string {
  const parts: string[] = [];
  if (policy.entriesMax !== undefined) parts.push(`${policy.entriesMax} entries`);
  if (policy.bytesMax !== undefined) parts.push(`${policy.bytesMax} bytes`);
  if (policy.ageMsMax !== undefined) parts.push(`${policy.ageMsMax} ms`);
  return parts.length === 0 ? 'keep all' : `keep at most ${parts.join(', ')}`;
}
