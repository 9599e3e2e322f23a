import { closeSync, fsyncSync, openSync } from 'node:fs';

/** fsyncs a file's data and size. */
export function fileSync(path: string): void {
  const fd = openSync(path, 'r+');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

/** fsyncs a directory, so a rename or a new file in it survives a crash. */
export function dirSync(path: string): void {
  const fd = openSync(path, 'r');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}
