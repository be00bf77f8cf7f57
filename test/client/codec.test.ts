import { describe, expect, it } from 'vitest';
import {
  decodeStrings,
  decodeText,
  encodeFrame,
  encodeStrings,
  encodeWrite,
  FrameDecoder,
  FrameTooLargeError,
} from '../../src/client/index.js';
import { HEADER_SIZE, Op, PAYLOAD_MAX } from '../../src/wire/constants.js';

function header(type: number, reqId: number, txId: number, len: number): Buffer {
  const b = Buffer.alloc(HEADER_SIZE);
  b.writeUInt32LE(type, 0);
  b.writeUInt32LE(reqId, 4);
  b.writeUInt32LE(txId, 8);
  b.writeUInt32LE(len, 12);
  return b;
}

describe('client codec', () => {
  it('encodes a header as four little-endian u32 followed by the payload', () => {
    const f = encodeFrame(Op.READ, 0xdeadbeef, 7, Buffer.from('/a\0'));
    expect(f.length).toBe(HEADER_SIZE + 3);
    expect(f.subarray(0, 16)).toEqual(header(Op.READ, 0xdeadbeef, 7, 3));
    expect(f.subarray(16).toString('latin1')).toBe('/a\0');
  });

  it('encodes strings NUL-terminated and WRITE values raw', () => {
    expect(encodeStrings(['/a', 'tok']).toString('latin1')).toBe('/a\0tok\0');
    expect(encodeStrings([]).length).toBe(0);
    expect(encodeWrite('/k', Buffer.from([0, 1, 0])).toString('latin1')).toBe('/k\0\x00\x01\x00');
    expect(encodeWrite('/k', '').toString('latin1')).toBe('/k\0');
  });

  it('decodes strings and reply text', () => {
    expect(decodeStrings(Buffer.from('a\0b\0'))).toEqual(['a', 'b']);
    expect(decodeStrings(Buffer.alloc(0))).toEqual([]);
    expect(decodeStrings(Buffer.from('a\0tail'))).toEqual(['a']);
    expect(decodeStrings(Buffer.from('a\0tail'), true)).toEqual(['a', 'tail']);
    expect(decodeText(Buffer.from('OK\0'))).toBe('OK');
    expect(decodeText(Buffer.from('17'))).toBe('17');
  });

  it('parses many frames from one chunk, returning views without copying', () => {
    const a = encodeFrame(Op.READ, 1, 0, Buffer.from('one'));
    const b = encodeFrame(Op.WRITE, 2, 3, Buffer.from('OK\0'));
    const c = encodeFrame(Op.DIRECTORY, 3, 0, Buffer.alloc(0));
    const chunk = Buffer.concat([a, b, c]);
    const d = new FrameDecoder();
    d.push(chunk);
    const f1 = d.next()!;
    expect(f1).toMatchObject({ type: Op.READ, reqId: 1, txId: 0 });
    expect(f1.payload.toString()).toBe('one');
    expect(f1.payload.buffer).toBe(chunk.buffer); // a view of the chunk
    expect(d.next()).toMatchObject({ type: Op.WRITE, reqId: 2, txId: 3 });
    const f3 = d.next()!;
    expect(f3.type).toBe(Op.DIRECTORY);
    expect(f3.payload.length).toBe(0);
    expect(d.next()).toBeUndefined();
    expect(d.buffered).toBe(0);
  });

  it('reassembles frames split at every byte boundary', () => {
    const frames = [
      encodeFrame(Op.READ, 1, 0, Buffer.from('hello')),
      encodeFrame(Op.WATCH_EVENT, 0, 0, Buffer.from('/a/b\0tok\0')),
      encodeFrame(Op.ERROR, 9, 4, Buffer.from('ENOENT\0')),
    ];
    const stream = Buffer.concat(frames);
    for (let cut = 1; cut < stream.length; cut++) {
      const d = new FrameDecoder();
      const got: string[] = [];
      for (const part of [stream.subarray(0, cut), stream.subarray(cut)]) {
        d.push(part);
        for (let f = d.next(); f; f = d.next()) got.push(`${f.type}/${f.reqId}/${f.txId}/${f.payload.toString('latin1')}`);
      }
      expect(got).toEqual(['2/1/0/hello', '15/0/0//a/b\0tok\0', '16/9/4/ENOENT\0']);
    }
  });

  it('reassembles a frame delivered one byte at a time', () => {
    const payload = Buffer.alloc(PAYLOAD_MAX, 0x61);
    const frame = encodeFrame(Op.READ, 5, 0, payload);
    const d = new FrameDecoder();
    for (let i = 0; i < frame.length - 1; i++) {
      d.push(frame.subarray(i, i + 1));
      expect(d.next()).toBeUndefined();
    }
    d.push(frame.subarray(frame.length - 1));
    const f = d.next()!;
    expect(f.reqId).toBe(5);
    expect(f.payload.equals(payload)).toBe(true);
  });

  it('rejects a header announcing more than 4096 bytes before the payload arrives', () => {
    const d = new FrameDecoder();
    d.push(header(Op.READ, 1, 0, PAYLOAD_MAX + 1));
    expect(() => d.next()).toThrow(FrameTooLargeError);
    const ok = new FrameDecoder();
    ok.push(header(Op.READ, 1, 0, PAYLOAD_MAX));
    expect(ok.next()).toBeUndefined(); // legal, waiting for the payload
  });
});
