/**
 * paxlog's public API. Internals stay behind this file; what it exports is what users may rely on.
 */
export * from './log/mod.js';
