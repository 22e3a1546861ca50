/**
 * The `Txdata` codec and its visitor (SPEC §10.3–10.5, §12.3, Appendix A.5/A.6): golden bytes in
 * both directions, version check, visitor call order per mode, error wrapping, and truncation.
 * Every expected byte is copied from the spec.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  BufReader,
  ByteWriter,
  Commitlog,
  DecodeError,
  GenericLog,
  InvalidInputError,
  MemoryRepo,
  transactions,
} from '../../../src/index.js';
import {
  type Txdata,
  type TxdataVisitor,
  TxdataDecoderError,
  TxdataErrorCodes,
  consumeRecordFn,
  decodeRecordFn,
  encodeTxdata,
  isEmpty,
  skipRecordFn,
  txdataDecoder,
  txdataEncoder,
} from '../../../src/payload/index.js';
import {
  type ExampleRow,
  KERMIT,
  type TestRow,
  decodeExampleRow,
  decodeTestRow,
  encodeExampleRow,
  encodeTestRow,
  encodeWith,
  hex,
  rowVisitor,
} from './test-rows.js';

/** §10.5 / A.5. */
const WORKED: Txdata<ExampleRow> = {
  inputs: { reducerName: 'add', reducerArgs: hex('07 00 00 00') },
  mutations: { inserts: [{ tableId: 4096, rowdata: [{ n: 7, s: 'hi' }] }], deletes: [], truncates: [4097] },
};
const WORKED_BYTES = hex(
  'a0 08 00 00 00 03 61 64 64 07 00 00 00 01 00 10 00 00 01 07 00 00 00 02 00 00 00 68 69 00 01 01 10 00 00',
);
const HEADER_V1 = hex('28 64 73 29 5e 32 01 00 00 00');
/** A.6: the commit wrapping WORKED_BYTES (minTxOffset 0, epoch 0, n 1). */
const A6_COMMIT = new Uint8Array([
  ...hex('00 00 00 00 00 00 00 00  00 00 00 00 00 00 00 00  01 00  23 00 00 00'),
  ...WORKED_BYTES,
  ...hex('b2 18 6a c3'),
]);

const exampleVisitor = rowVisitor(decodeExampleRow);
const encodeExample = (t: Txdata<ExampleRow>) => encodeWith((out) => encodeTxdata(t, encodeExampleRow, out));

function decodeExample(bytes: Uint8Array, version = 1): Txdata<ExampleRow> {
  const reader = new BufReader(bytes);
  const txdata = decodeRecordFn(exampleVisitor, version, 0, reader);
  expect(reader.remaining).toBe(0);
  return txdata;
}

function thrown(f: () => unknown): TxdataDecoderError {
  try {
    f();
  } catch (e) {
    expect(e).toBeInstanceOf(TxdataDecoderError);
    return e as TxdataDecoderError;
  }
  throw new Error('expected a TxdataDecoderError');
}

/** A `Visitor`-kind error whose cause is a `DecodeError` with `reason`. */
function expectDecodeCause(e: TxdataDecoderError, reason: DecodeError['reason']): void {
  expect(e.kind).toBe('Visitor');
  expect(e.code).toBe(TxdataErrorCodes.TXDATA_VISITOR);
  expect(e.cause).toBeInstanceOf(DecodeError);
  expect((e.cause as DecodeError).reason).toBe(reason);
}

type Mode = 'decode' | 'consume' | 'skip';
const MODES: Mode[] = ['decode', 'consume', 'skip'];

function run<Row>(mode: Mode, visitor: TxdataVisitor<Row>, bytes: Uint8Array, version = 1, offset = 0): BufReader {
  const reader = new BufReader(bytes);
  if (mode === 'decode') decodeRecordFn(visitor, version, offset, reader);
  else if (mode === 'consume') consumeRecordFn(visitor, version, offset, reader);
  else skipRecordFn(visitor, version, reader);
  return reader;
}

/** Records every call as a string; rows are test rows. */
function recordingVisitor(events: string[], fail?: string): TxdataVisitor<TestRow> {
  const note = (e: string) => {
    events.push(e);
    if (e === fail) throw new Error(`visitor refuses ${e}`);
  };
  return {
    visitInsert: (t, r) => (note(`insert ${t}`), decodeTestRow(r)),
    visitDelete: (t, r) => (note(`delete ${t}`), decodeTestRow(r)),
    skipRow: (t, r) => (note(`skip ${t}`), void decodeTestRow(r)),
    visitTruncate: (t) => note(`truncate ${t}`),
    visitTxStart: (o) => note(`start ${o}`),
    visitTxEnd: () => note('end'),
    visitInputs: (i) => note(`inputs ${i.reducerName}`),
    visitOutputs: (o) => note(`outputs ${o.reducerOutput}`),
  };
}

const FULL: Txdata<TestRow> = {
  inputs: { reducerName: 'move', reducerArgs: hex('01 02') },
  outputs: { reducerOutput: 'boom' },
  mutations: {
    inserts: [
      { tableId: 4096, rowdata: [KERMIT, KERMIT] },
      { tableId: 7, rowdata: [KERMIT] },
    ],
    deletes: [{ tableId: 9, rowdata: [KERMIT] }],
    truncates: [1, 2],
  },
};
const FULL_BYTES = encodeWith((out) => encodeTxdata(FULL, encodeTestRow, out));

describe('§10.5 worked examples', () => {
  it('A.5: encodes byte for byte', () => {
    expect(encodeExample(WORKED)).toEqual(WORKED_BYTES);
  });

  it('A.5: decodes back to the value, consuming all 35 bytes', () => {
    expect(WORKED_BYTES.length).toBe(35);
    expect(decodeExample(WORKED_BYTES)).toEqual(WORKED);
  });

  it('outputs only: "boom"', () => {
    const t: Txdata<ExampleRow> = { outputs: { reducerOutput: 'boom' } };
    expect(encodeExample(t)).toEqual(hex('40 04 62 6f 6f 6d'));
    expect(decodeExample(hex('40 04 62 6f 6f 6d'))).toEqual(t);
  });

  it('empty mutations', () => {
    const t: Txdata<ExampleRow> = { mutations: { inserts: [], deletes: [], truncates: [] } };
    expect(encodeExample(t)).toEqual(hex('20 00 00 00'));
    expect(decodeExample(hex('20 00 00 00'))).toEqual(t);
    expect(isEmpty(t)).toBe(true);
  });

  it('nothing', () => {
    expect(encodeExample({})).toEqual(hex('00'));
    expect(encodeExample({ inputs: null, outputs: null, mutations: null })).toEqual(hex('00'));
    const t = decodeExample(hex('00'));
    expect(t).toEqual({});
    expect(isEmpty(t)).toBe(true);
  });

  it('isEmpty is false with any section content', () => {
    expect(isEmpty({ outputs: { reducerOutput: '' } })).toBe(false);
    expect(isEmpty(WORKED)).toBe(false);
    expect(isEmpty({ mutations: { inserts: [], deletes: [], truncates: [3] } })).toBe(false);
  });

  it('reserved flag bits 0x1f are ignored on read and written as 0', () => {
    expect(decodeExample(hex('1f'))).toEqual({});
    expect(decodeExample(hex('5f 04 62 6f 6f 6d'))).toEqual({ outputs: { reducerOutput: 'boom' } });
    expect(encodeExample({ outputs: { reducerOutput: 'boom' } })[0]).toBe(0x40);
  });

  it('A.6: a log written with txdataEncoder holds the golden commit and reads back', () => {
    const repo = new MemoryRepo();
    const log = GenericLog.open(repo, {}, txdataEncoder(encodeExampleRow));
    expect(log.append(WORKED)).toBe(true);
    log.commit();
    const segment = repo.segments.get(0)!.bytes();
    expect(segment).toEqual(new Uint8Array([...HEADER_V1, ...A6_COMMIT]));
    expect(segment.length).toBe(71);
    expect([...log.transactions(txdataDecoder(exampleVisitor))]).toEqual([{ offset: 0, txdata: WORKED }]);
  });

  it('A.6 on disk: Commitlog.open(dir, options, txdataEncoder(...))', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'clog-'));
    try {
      const log = Commitlog.open(dir, {}, txdataEncoder(encodeExampleRow));
      expect(log.append(WORKED)).toBe(true);
      expect(log.flush()).toBe(0);
      log.close();
      const segment = fs.readFileSync(path.join(dir, '00000000000000000000.stdb.log'));
      expect(new Uint8Array(segment)).toEqual(new Uint8Array([...HEADER_V1, ...A6_COMMIT]));
      expect([...transactions(dir, txdataDecoder(exampleVisitor))]).toEqual([{ offset: 0, txdata: WORKED }]);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('encode validation', () => {
  const tooLong = { inputs: { reducerName: 'x'.repeat(256), reducerArgs: new Uint8Array(0) } };
  for (const [name, t] of [
    ['reducer name over 255 bytes', tooLong],
    ['reducer output over 255 bytes', { outputs: { reducerOutput: 'é'.repeat(128) } }],
    ['table id above u32', { mutations: { inserts: [{ tableId: 2 ** 32, rowdata: [] }], deletes: [], truncates: [] } }],
    ['negative truncate table id', { mutations: { inserts: [], deletes: [], truncates: [-1] } }],
  ] as [string, Txdata<ExampleRow>][]) {
    it(`${name} → InvalidInputError, nothing written`, () => {
      const out = new ByteWriter(16);
      out.writeU8(0xee);
      expect(() => encodeTxdata(t, encodeExampleRow, out)).toThrow(InvalidInputError);
      expect(out.bytes()).toEqual(hex('ee'));
    });
  }

  it('a throwing row encoder leaves the output as it was', () => {
    const out = new ByteWriter(16);
    const boom = new Error('row');
    expect(() =>
      encodeTxdata(WORKED, () => {
        throw boom;
      }, out),
    ).toThrow(boom);
    expect(out.length).toBe(0);
  });
});

describe('version check (§10.4)', () => {
  for (const mode of MODES) {
    it(`${mode}: version 2 → UnsupportedVersion before anything is read or visited`, () => {
      const events: string[] = [];
      let reader: BufReader | undefined;
      const e = thrown(() => {
        reader = new BufReader(FULL_BYTES);
        const v = recordingVisitor(events);
        if (mode === 'decode') decodeRecordFn(v, 2, 0, reader);
        else if (mode === 'consume') consumeRecordFn(v, 2, 0, reader);
        else skipRecordFn(v, 2, reader);
      });
      expect(e.kind).toBe('UnsupportedVersion');
      expect(e.code).toBe('TXDATA_UNSUPPORTED_VERSION');
      expect(e.supported).toBe(1);
      expect(e.given).toBe(2);
      expect(reader!.pos).toBe(0);
      expect(events).toEqual([]);
    });
  }

  it('versions 0 and 1 are read', () => {
    expect(decodeExample(WORKED_BYTES, 0)).toEqual(WORKED);
    expect(decodeExample(WORKED_BYTES, 1)).toEqual(WORKED);
  });
});

describe('visitor calls per mode (§10.4)', () => {
  const visits = [
    'start 5',
    'inputs move',
    'outputs boom',
    'insert 4096',
    'insert 4096',
    'insert 7',
    'delete 9',
    'truncate 1',
    'truncate 2',
    'end',
  ];

  it('decode: start, inputs, outputs, rows, truncates, end; returns the value', () => {
    const events: string[] = [];
    const reader = new BufReader(FULL_BYTES);
    expect(decodeRecordFn(recordingVisitor(events), 1, 5, reader)).toEqual(FULL);
    expect(reader.remaining).toBe(0);
    expect(events).toEqual(visits);
  });

  it('consume: the same calls, nothing returned', () => {
    const events: string[] = [];
    const reader = new BufReader(FULL_BYTES);
    expect(consumeRecordFn(recordingVisitor(events), 1, 5, reader)).toBeUndefined();
    expect(reader.remaining).toBe(0);
    expect(events).toEqual(visits);
  });

  it('skip: only skipRow, no tx start/end, inputs, outputs or truncates', () => {
    const events: string[] = [];
    const reader = run('skip', recordingVisitor(events), FULL_BYTES);
    expect(reader.remaining).toBe(0);
    expect(events).toEqual(['skip 4096', 'skip 4096', 'skip 7', 'skip 9']);
  });

  it('the default no-op methods suffice', () => {
    const reader = new BufReader(FULL_BYTES);
    expect(decodeRecordFn(rowVisitor(decodeTestRow), 1, 0, reader)).toEqual(FULL);
  });

  it('txdataDecoder routes decode/consume/skip, and a log fold consumes every record', () => {
    const repo = new MemoryRepo();
    const log = GenericLog.open(repo, {}, txdataEncoder(encodeTestRow));
    log.append(FULL);
    log.append({ outputs: { reducerOutput: 'second' } });
    log.commit();
    log.append({ inputs: { reducerName: 'third', reducerArgs: new Uint8Array(0) } });
    log.commit();

    const events: string[] = [];
    const decoder = txdataDecoder(recordingVisitor(events));
    log.foldTransactions(decoder);
    expect(events).toEqual([...visits.map((e) => e.replace('start 5', 'start 0')), 'start 1', 'outputs second', 'end', 'start 2', 'inputs third', 'end']);

    events.length = 0;
    const txs = [...log.transactionsFrom(1, decoder)];
    expect(txs.map((t) => t.offset)).toEqual([1, 2]);
    expect(txs[0]!.txdata).toEqual({ outputs: { reducerOutput: 'second' } });
    // Offset 0 shares a commit with offset 1, so it is skipped through the visitor's skipRow.
    expect(events).toEqual(['skip 4096', 'skip 4096', 'skip 7', 'skip 9', 'start 1', 'outputs second', 'end', 'start 2', 'inputs third', 'end']);
  });
});

describe('error wrapping (§10.4)', () => {
  const failures: [Mode, string][] = [
    ['decode', 'start 0'],
    ['decode', 'inputs move'],
    ['decode', 'outputs boom'],
    ['decode', 'insert 7'],
    ['decode', 'delete 9'],
    ['decode', 'truncate 2'],
    ['decode', 'end'],
    ['consume', 'insert 4096'],
    ['consume', 'end'],
    ['skip', 'skip 9'],
  ];
  for (const [mode, fail] of failures) {
    it(`${mode}: a visitor throwing in "${fail}" → Visitor kind with the thrown error as cause`, () => {
      const events: string[] = [];
      const e = thrown(() => run(mode, recordingVisitor(events, fail), FULL_BYTES));
      expect(e.kind).toBe('Visitor');
      expect(e.code).toBe('TXDATA_VISITOR');
      expect((e.cause as Error).message).toBe(`visitor refuses ${fail}`);
      expect(events.at(-1)).toBe(fail);
      if (fail !== 'end') expect(events).not.toContain('end');
    });
  }

  it('invalid UTF-8 in the reducer name or output → InvalidUtf8', () => {
    expectDecodeCause(thrown(() => decodeExample(hex('80 03 00 00 00 02 c3 28'))), 'InvalidUtf8');
    expectDecodeCause(thrown(() => decodeExample(hex('40 01 ff'))), 'InvalidUtf8');
    expectDecodeCause(thrown(() => run('skip', exampleVisitor, hex('40 01 ff'))), 'InvalidUtf8');
  });

  it('inputs len < 1 + slen → BufferLength', () => {
    expectDecodeCause(thrown(() => decodeExample(hex('80 02 00 00 00 03 61 64 64'))), 'BufferLength');
    expectDecodeCause(thrown(() => decodeExample(hex('80 00 00 00 00 00'))), 'BufferLength');
  });

  it('huge counts fail fast with a DecodeError, without allocating', () => {
    // 2^64−1 insert ops; a row count of 2^64−1; an 11-byte varint; 2^32 truncates.
    expectDecodeCause(thrown(() => decodeExample(hex('20 ff ff ff ff ff ff ff ff ff 01'))), 'BufferLength');
    expectDecodeCause(thrown(() => decodeExample(hex('20 01 00 00 00 00 ff ff ff ff ff ff ff ff ff 01'))), 'Other');
    expectDecodeCause(thrown(() => decodeExample(hex('20 80 80 80 80 80 80 80 80 80 80 01'))), 'Other');
    expectDecodeCause(thrown(() => decodeExample(hex('20 00 00 80 80 80 80 10 00 00 00 00'))), 'BufferLength');
  });
});

describe('truncation and garbage never crash', () => {
  for (const mode of MODES) {
    it(`${mode}: the worked example cut at every byte → Visitor(DecodeError BufferLength)`, () => {
      for (let k = 0; k < WORKED_BYTES.length; k++) {
        expectDecodeCause(thrown(() => run(mode, exampleVisitor, WORKED_BYTES.subarray(0, k))), 'BufferLength');
      }
    });
  }

  it('random bytes and bit flips: a value or a TxdataDecoderError wrapping a DecodeError', () => {
    const visitor = rowVisitor(decodeTestRow);
    const check = (bytes: Uint8Array, mode: Mode) => {
      try {
        run(mode, visitor, bytes);
      } catch (e) {
        expect(e).toBeInstanceOf(TxdataDecoderError);
        expect((e as TxdataDecoderError).cause).toBeInstanceOf(DecodeError);
      }
    };
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 64 }), fc.constantFrom(...MODES), check),
      { numRuns: 500 },
    );
    fc.assert(
      fc.property(fc.nat(FULL_BYTES.length * 8 - 1), fc.constantFrom(...MODES), (bit, mode) => {
        const bytes = FULL_BYTES.slice();
        bytes[bit >> 3]! ^= 1 << (bit & 7);
        check(bytes, mode);
      }),
      { numRuns: 500 },
    );
  });
});
