import { closeSync, fsyncSync, openSync } from 'node:fs';

/**
 * fsyncs a file (its data and size) or a folder (so a rename or a new file in it survives a
 * crash). Linux lets a read-only descriptor fsync both.
 */
export function pathSync(path: string): void {
  const fd = openSync(path, 'r');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}
