/**
 * Fuzzing the `Txdata` decoder (issue 8, SPEC §10, Q40): random bytes and mutated encodings of random
 * `Txdata` (inputs, outputs, inserts, deletes, truncates; rows of two shapes) go through decode, consume
 * and skip, for supported and unsupported log format versions, directly and as the records of a log
 * read with `transactions`/`foldTransactions`. Only typed errors may escape — and the wrapped cause of
 * a visitor error must be typed too, not a `RangeError` in disguise — every case ends within a time
 * bound, and counts read from the bytes are checked before anything is allocated for them.
 * `FUZZ_RUNS` scales the number of cases.
 */
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import {
  BufReader,
  ByteWriter,
  CommitlogError,
  GenericLog,
  MemoryRepo,
  foldTransactions,
  transactions,
} from '../../src/index.js';
import {
  type RowEncoder,
  type Txdata,
  TxdataDecoderError,
  type TxdataVisitor,
  consumeRecordFn,
  decodeRecordFn,
  encodeTxdata,
  skipRecordFn,
  txdataDecoder,
} from '../../src/api/replay.js';
import {
  fuzzCounter,
  fuzzRuns,
  mutate,
  mutationsArb,
  timeBound,
  typed,
  FUZZ_TIMEOUT_MS,
} from '../helpers/reliability.js';

afterAll(() => console.log(`txdata fuzz: ${fuzzCounter.cases} cases`));

/** Two row shapes: a fixed u32, and a u8-length-prefixed byte string. */
interface Shape<Row> {
  visitor: TxdataVisitor<Row>;
  encode: RowEncoder<Row>;
  row: fc.Arbitrary<Row>;
}

const u32Rows: Shape<number> = {
  visitor: {
    visitInsert: (_t, r) => r.getU32(),
    visitDelete: (_t, r) => r.getU32(),
    skipRow: (_t, r) => r.skip(4),
  },
  encode: (row, out) => {
    const b = new Uint8Array(4);
    new DataView(b.buffer).setUint32(0, row, true);
    out.write(b);
  },
  row: fc.integer({ min: 0, max: 0xffff_ffff }),
};

const bytesRows: Shape<Uint8Array> = {
  visitor: {
    visitInsert: (_t, r) => r.getArray(r.getU8()),
    visitDelete: (_t, r) => r.getArray(r.getU8()),
    skipRow: (_t, r) => r.skip(r.getU8()),
  },
  encode: (row, out) => {
    out.write(Uint8Array.of(row.length));
    out.write(row);
  },
  row: fc.uint8Array({ maxLength: 20 }),
};

function txdataArb<Row>(row: fc.Arbitrary<Row>): fc.Arbitrary<Txdata<Row>> {
  const ops = fc.array(
    fc.record({ tableId: fc.integer({ min: 0, max: 0xffff_ffff }), rowdata: fc.array(row, { maxLength: 4 }) }),
    { maxLength: 3 },
  );
  return fc.record(
    {
      inputs: fc.record({ reducerName: fc.string({ maxLength: 12 }), reducerArgs: fc.uint8Array({ maxLength: 24 }) }),
      outputs: fc.record({ reducerOutput: fc.string({ maxLength: 12 }) }),
      mutations: fc.record({
        inserts: ops,
        deletes: ops,
        truncates: fc.array(fc.integer({ min: 0, max: 0xffff_ffff }), { maxLength: 3 }),
      }),
    },
    { requiredKeys: [] },
  );
}

function encode<Row>(shape: Shape<Row>, txdata: Txdata<Row>): Uint8Array {
  const out = new ByteWriter();
  encodeTxdata(txdata, shape.encode, out);
  return out.bytes().slice();
}

/** A typed error whose causes, as far as they go, are typed too (a visitor error wraps its cause). */
function expectTypedChain(e: unknown, where: string): void {
  if (!(e instanceof CommitlogError))
    throw new Error(`${where}: not a typed error: ${(e as Error)?.stack ?? String(e)}`);
  if (e instanceof TxdataDecoderError && e.cause !== undefined) expectTypedChain(e.cause, `${where} (cause)`);
}

/** Decode, consume and skip one record; returns the decoded value or null. */
function decodeAll<Row>(shape: Shape<Row>, bytes: Uint8Array, version: number): Txdata<Row> | null {
  fuzzCounter.cases++;
  let decoded: Txdata<Row> | null = null;
  timeBound('txdata', () => {
    const attempts: [string, () => unknown][] = [
      ['decode', () => (decoded = decodeRecordFn(shape.visitor, version, 7, new BufReader(bytes)))],
      ['consume', () => consumeRecordFn(shape.visitor, version, 7, new BufReader(bytes))],
      ['skip', () => skipRecordFn(shape.visitor, version, new BufReader(bytes))],
    ];
    for (const [what, f] of attempts) {
      try {
        f();
      } catch (e) {
        expectTypedChain(e, what);
      }
    }
  });
  return decoded;
}

const shapes = [
  ['u32 rows', u32Rows],
  ['length-prefixed rows', bytesRows],
] as const;

describe('fuzz: Txdata', () => {
  for (const [name, shape] of shapes) {
    it(
      `${name}: valid encodings round-trip; mutated ones decode or fail typed`,
      () => {
        const s = shape as Shape<unknown>;
        fc.assert(
          fc.property(txdataArb(s.row), mutationsArb, fc.constantFrom(0, 1, 1, 2), (txdata, mutations, version) => {
            const bytes = encode(s, txdata);
            const back = decodeAll(s, bytes, 1);
            expect(back).not.toBeNull();
            expect(encode(s, back!)).toEqual(bytes);
            decodeAll(s, mutate(bytes, mutations), version);
          }),
          { numRuns: fuzzRuns(1500) },
        );
      },
      FUZZ_TIMEOUT_MS,
    );
  }

  it(
    'random bytes',
    () => {
      fc.assert(
        fc.property(fc.uint8Array({ maxLength: 200 }), fc.constantFrom(0, 1, 2), (bytes, version) => {
          for (const [, shape] of shapes) decodeAll(shape as Shape<unknown>, bytes, version);
        }),
        { numRuns: fuzzRuns(1500) },
      );
    },
    FUZZ_TIMEOUT_MS,
  );

  it(
    'counts far beyond the bytes left (varints up to 2^64−1) fail fast, without allocating for them',
    () => {
      // flags: mutations only; then an insert count, a table, a row count.
      const huge = [
        [0x20, 0xff, 0xff, 0xff, 0xff, 0x0f], // 2^32−1 inserts
        [0x20, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01], // 2^64−1 inserts
        [0x20, 0x01, 0, 0, 0, 0, 0xff, 0xff, 0xff, 0xff, 0x0f], // one table, 2^32−1 rows
        [0x20, 0x00, 0x00, 0xff, 0xff, 0xff, 0xff, 0x0f], // 2^32−1 truncates
        [0x80, 0xff, 0xff, 0xff, 0xff, 0x05, 0x61], // inputs claiming a 4 GiB record
      ];
      for (const h of huge) {
        const before = process.memoryUsage().arrayBuffers;
        for (const [, shape] of shapes) {
          const r = typed('huge', () =>
            decodeRecordFn((shape as Shape<unknown>).visitor, 1, 0, new BufReader(Uint8Array.from(h))),
          );
          expect(r).toBeInstanceOf(CommitlogError);
        }
        expect(process.memoryUsage().arrayBuffers - before).toBeLessThan(64 * 1024 * 1024);
      }
    },
    FUZZ_TIMEOUT_MS,
  );

  it(
    'as the records of a log: transactions and fold over mutated Txdata',
    () => {
      fc.assert(
        fc.property(
          fc.array(fc.tuple(txdataArb(u32Rows.row), fc.option(mutationsArb, { nil: undefined })), {
            minLength: 1,
            maxLength: 6,
          }),
          (records) => {
            fuzzCounter.cases++;
            const repo = new MemoryRepo();
            const log = GenericLog.open(repo, { maxSegmentSize: 400, maxRecordsInCommit: 2 });
            for (const [t, m] of records) {
              const bytes = encode(u32Rows, t);
              log.appendMaybeFlush(m ? mutate(bytes, m) : bytes);
            }
            log.close();
            const decoder = txdataDecoder(u32Rows.visitor);
            timeBound('log', () => {
              for (const r of transactions(repo, decoder, { errors: 'yield' }))
                if (!r.ok) expectTypedChain(r.error, 'transactions');
              try {
                foldTransactions(repo, decoder);
              } catch (e) {
                expectTypedChain(e, 'fold');
              }
            });
          },
        ),
        { numRuns: fuzzRuns(300) },
      );
    },
    FUZZ_TIMEOUT_MS,
  );
});
