/** Header names of the plain-NATS protocol (docs/PROTOCOL.md, "Plain NATS clients"). */
export const plainHeaders = Object.freeze({
  id: 'Paxlog-Id',
  key: 'Paxlog-Key',
  expectedOffset: 'Paxlog-Expected-Offset',
  offset: 'Paxlog-Offset',
  duplicate: 'Paxlog-Duplicate',
  timestamp: 'Paxlog-Timestamp',
  from: 'Paxlog-From',
  limit: 'Paxlog-Limit',
  waitMs: 'Paxlog-Wait-Ms',
  end: 'Paxlog-End',
  offsetNext: 'Paxlog-Offset-Next',
  offsetFirst: 'Paxlog-Offset-First',
  errorCode: 'Paxlog-Error-Code',
  error: 'Paxlog-Error',
  leaderHint: 'Paxlog-Leader-Hint',
});
