/** Errors raised by the xsgit client library. */

import { ERROR_NAMES, type ErrorName, opName } from '../wire/constants.js';

const KNOWN = new Set<string>(ERROR_NAMES);

/**
 * An ERROR reply from the daemon. `code` is the error name exactly as it came over the
 * wire ("ENOENT", "EAGAIN", ...); names outside xs_wire.h's table (e.g. oxenstored's
 * "EQUOTA") are kept verbatim, `known` tells them apart.
 */
export class XsError extends Error {
  readonly code: string;
  /** The request type that failed, e.g. "READ". */
  readonly op: string;
  /** The first string of the request (usually the path), when there was one. */
  readonly path: string | undefined;

  constructor(code: string, op: number | string, path?: string) {
    const opText = typeof op === 'number' ? opName(op) : op;
    super(`${opText}${path !== undefined ? ` ${path}` : ''}: ${code}`);
    this.name = 'XsError';
    this.code = code;
    this.op = opText;
    this.path = path;
  }

  /** Whether `code` is one of the names of xs_wire.h. */
  get known(): boolean {
    return KNOWN.has(this.code);
  }
}

/** The connection failed, was closed, or the daemon broke the protocol. */
export class XsConnectionError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'XsConnectionError';
  }
}

/** True if `err` is an XsError, optionally with the given wire name. */
export function isXsError(err: unknown, code?: ErrorName | string): err is XsError {
  return err instanceof XsError && (code === undefined || err.code === code);
}
