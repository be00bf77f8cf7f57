/** Wire constants of the xenstore protocol, as xs_wire.h defines them. */

export const HEADER_SIZE = 16;
/** XENSTORE_PAYLOAD_MAX: the largest payload either side may send. */
export const PAYLOAD_MAX = 4096;
/** XENSTORE_REL_PATH_MAX: the longest path relative to a domain's home. */
export const REL_PATH_MAX = 2048;
/** XENSTORE_ABS_PATH_MAX. */
export const ABS_PATH_MAX = 3072;

export const enum Op {
  CONTROL = 0,
  DIRECTORY = 1,
  READ = 2,
  GET_PERMS = 3,
  WATCH = 4,
  UNWATCH = 5,
  TRANSACTION_START = 6,
  TRANSACTION_END = 7,
  INTRODUCE = 8,
  RELEASE = 9,
  GET_DOMAIN_PATH = 10,
  WRITE = 11,
  MKDIR = 12,
  RM = 13,
  SET_PERMS = 14,
  WATCH_EVENT = 15,
  ERROR = 16,
  IS_DOMAIN_INTRODUCED = 17,
  RESUME = 18,
  SET_TARGET = 19,
  RESTRICT = 20,
  RESET_WATCHES = 21,
  DIRECTORY_PART = 22,
  GET_FEATURE = 23,
  SET_FEATURE = 24,
  GET_QUOTA = 25,
  SET_QUOTA = 26,
  TYPE_COUNT = 27,
  INVALID = 0xffff,
}

export const OP_NAMES: readonly string[] = [
  'CONTROL', 'DIRECTORY', 'READ', 'GET_PERMS', 'WATCH', 'UNWATCH', 'TRANSACTION_START',
  'TRANSACTION_END', 'INTRODUCE', 'RELEASE', 'GET_DOMAIN_PATH', 'WRITE', 'MKDIR', 'RM',
  'SET_PERMS', 'WATCH_EVENT', 'ERROR', 'IS_DOMAIN_INTRODUCED', 'RESUME', 'SET_TARGET',
  'RESTRICT', 'RESET_WATCHES', 'DIRECTORY_PART', 'GET_FEATURE', 'SET_FEATURE', 'GET_QUOTA',
  'SET_QUOTA',
];

export function opName(type: number): string {
  return OP_NAMES[type] ?? `UNKNOWN(${type})`;
}

/** The error names of xs_wire.h, in its (append-only) order. Only these go on the wire. */
export const ERROR_NAMES = [
  'EINVAL', 'EACCES', 'EEXIST', 'EISDIR', 'ENOENT', 'ENOMEM', 'ENOSPC', 'EIO',
  'ENOTEMPTY', 'ENOSYS', 'EROFS', 'EBUSY', 'EAGAIN', 'EISCONN', 'E2BIG', 'EPERM',
] as const;

export type ErrorName = (typeof ERROR_NAMES)[number];

/** Feature bits of GET_FEATURE and the ring page's server_features. */
export const FEATURE_RECONNECTION = 1;
export const FEATURE_ERROR = 2;
export const FEATURE_WATCHDEPTH = 4;
export const FEATURE_DOMID_ANY = 8;

/** Domids from here up are reserved (DOMID_SELF, DOMID_IO, …). */
export const DOMID_FIRST_RESERVED = 0x7ff0;
export const DOMID_SELF = 0x7ff0;
export const DOMID_INVALID = 0x7ff4;
export const DOMID_ANY = 0x7ff5;
export const DOMID_MAX = 0xffff;
