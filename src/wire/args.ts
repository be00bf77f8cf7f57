import './latin1.js';
/**
 * Payload argument parsing: NUL-separated strings, read straight from the input buffer.
 * Strings are latin1 (one char per byte) so that binary tokens and values survive.
 */

/** The single NUL-terminated argument, or null unless the payload is exactly one string
 *  ending at its last byte (the C daemon's `onearg`). */
export function oneArg(buf: Buffer, start: number, end: number): string | null {
  if (end <= start || buf[end - 1] !== 0) return null;
  const nul = buf.indexOf(0, start);
  if (nul !== end - 1) return null;
  return buf.latin1Slice(start, nul);
}

/** All NUL-terminated strings of the payload; bytes after the last NUL are ignored. */
export function strings(buf: Buffer, start: number, end: number): string[] {
  const out: string[] = [];
  let p = start;
  while (p < end) {
    const nul = buf.indexOf(0, p);
    if (nul < 0 || nul >= end) break;
    out.push(buf.latin1Slice(p, nul));
    p = nul + 1;
  }
  return out;
}

/** Offset of the first NUL in the payload, or -1. */
export function firstNul(buf: Buffer, start: number, end: number): number {
  const nul = buf.indexOf(0, start);
  return nul >= 0 && nul < end ? nul : -1;
}

/** C's atoi/strtoul as the 4.17 daemon applies it to domids: leading blanks, a sign, digits;
 *  junk after them ignored; wraps modulo 2^32. */
export function atoiU32(s: string): number {
  let i = 0;
  while (i < s.length && isSpace(s.charCodeAt(i))) i++;
  let neg = false;
  if (s[i] === '+' || s[i] === '-') neg = s[i++] === '-';
  let v = 0;
  for (; i < s.length; i++) {
    const c = s.charCodeAt(i) - 48;
    if (c < 0 || c > 9) break;
    v = (v * 10 + c) % 4294967296;
  }
  return neg ? (4294967296 - v) % 4294967296 : v;
}

export function isSpace(c: number): boolean {
  return c === 32 || (c >= 9 && c <= 13);
}

/** C's strtol(s, &end, 0): returns the value and whether the whole string was consumed
 *  with at least one digit. Base prefixes 0x (hex) and 0 (octal) as in C. */
export function strtol0(s: string): { value: number; ok: boolean } {
  let i = 0;
  while (i < s.length && isSpace(s.charCodeAt(i))) i++;
  let neg = false;
  if (s[i] === '+' || s[i] === '-') neg = s[i++] === '-';
  let base = 10;
  if (s[i] === '0' && (s[i + 1] === 'x' || s[i + 1] === 'X') && isDigit(s.charCodeAt(i + 2), 16)) {
    base = 16;
    i += 2;
  } else if (s[i] === '0') base = 8;
  const first = i;
  let v = 0;
  for (; i < s.length; i++) {
    const d = digit(s.charCodeAt(i), base);
    if (d < 0) break;
    v = Math.min(v * base + d, 2 ** 63);
  }
  return { value: neg ? -v : v, ok: i > first && i === s.length };
}

function digit(c: number, base: number): number {
  let d = -1;
  if (c >= 48 && c <= 57) d = c - 48;
  else if (c >= 97 && c <= 102) d = c - 87;
  else if (c >= 65 && c <= 70) d = c - 55;
  return d < base ? d : -1;
}

function isDigit(c: number, base: number): boolean {
  return digit(c, base) >= 0;
}

/**
 * A domid as C 4.22's parse_domid() reads it (tools/xenstored/domain.c): strtoul(s, &end, 10)
 * must consume the whole string and give at most 65535. So leading blanks and a sign are
 * accepted (`" 5"`, `"+5"`, `"000005"`, and `""` is 0, as strtoul leaves it), trailing ones
 * are not (`"5 "`, `"5x"`), and `"-1"` wraps to a huge value. Returns the domid, or -1
 * (EINVAL).
 */
export function parseDomid(s: string): number {
  let i = 0;
  while (i < s.length && isSpace(s.charCodeAt(i))) i++;
  let neg = false;
  if (s[i] === '+' || s[i] === '-') neg = s[i++] === '-';
  const first = i;
  let v = 0;
  for (; i < s.length; i++) {
    const c = s.charCodeAt(i) - 48;
    if (c < 0 || c > 9) break;
    v = Math.min(v * 10 + c, 2 ** 53);
  }
  // No digits: strtoul leaves the end at the start of the string.
  if (i === first) return s.length === 0 ? 0 : -1;
  if (i !== s.length) return -1;
  if (neg && v !== 0) return -1;
  return v <= 0xffff ? v : -1;
}

/** C's atoi on a signed int: leading blanks, a sign, digits; junk after them ignored; 0 when
 *  there are no digits. */
export function atoi(s: string): number {
  const v = Number.parseInt(s, 10);
  return Number.isNaN(v) ? 0 : Math.max(-(2 ** 31), Math.min(2 ** 31 - 1, v));
}
