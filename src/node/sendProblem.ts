/**
 * Runs a NATS send (publish or respond); what it threw, as text, or null when it went. Endpoints
 * send through it because a throw inside a NATS callback ends nats.js's reader (the connection
 * drops), and one inside the learner's loop or an async callback ends the process: a reply NATS
 * refuses (over the server's max_payload, or the connection closing) is an operating error.
 */
export function sendProblem(send: () => unknown): string | null {
  try {
    send();
    return null;
  } catch (error) {
    return error instanceof Error ? error.message : String(error);
  }
}
