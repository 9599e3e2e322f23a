/**
 * Named places where a test makes a replica process die at once, as a power cut or `kill -9`
 * would, to check that what is on disk there is whole (etcd calls these failpoints). A point is
 * armed only by the environment variable PAXLOG_CRASH_AT naming it; unarmed, it does nothing.
 */
export const crashPointNames = ['snapshot-install-before-rename', 'snapshot-install-after-rename'] as const;

export type CrashPointName = (typeof crashPointNames)[number];

const armed = process.env['PAXLOG_CRASH_AT'];

if (armed !== undefined && armed !== '' && !(crashPointNames as readonly string[]).includes(armed)) {
  throw new Error(`PAXLOG_CRASH_AT=${armed} names no crash point (${crashPointNames.join(', ')})`);
}

/** Dies here, by SIGKILL of this process, when PAXLOG_CRASH_AT names this point. */
export function crashPoint(name: CrashPointName): void {
  if (armed === name) process.kill(process.pid, 'SIGKILL');
}
