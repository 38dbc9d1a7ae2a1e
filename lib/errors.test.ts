import { API_ERROR_CODES } from '../api/schemas';
import { ERROR_CODES, PdmError, type PdmErrorCode } from './errors';

// Compiled by `npx tsc --noEmit` (jest only transpiles): the set is closed at the type level.
export function undeclaredCodesDoNotCompile(): PdmError[] {
  return [
    // @ts-expect-error a code not declared in ERROR_CODES
    new PdmError('NOT_A_DECLARED_CODE', 'message'),
    // @ts-expect-error no escape hatch through the type parameter either
    new PdmError<string>('NOT_A_DECLARED_CODE', 'message'),
  ];
}

describe('the closed set of error codes', () => {
  const codes = Object.keys(ERROR_CODES) as PdmErrorCode[];

  it.each(codes)('%s has a one-line doc', (code) => {
    const doc = ERROR_CODES[code];
    expect(doc.trim().length).toBeGreaterThan(10);
    expect(doc).not.toContain('\n');
  });

  it('names codes in UPPER_SNAKE_CASE, but the API answers, which are lower case on the wire', () => {
    const lower = codes.filter((code) => code !== code.toUpperCase());
    expect(lower.sort()).toEqual([...API_ERROR_CODES].sort());
    for (const code of codes) expect(code).toMatch(/^([A-Z][A-Z0-9_]*|[a-z][a-z_]*)$/);
  });

  it('keeps the code, the message and the cause', () => {
    const cause = new Error('broker gone');
    const err = new PdmError('KAFKA_UNREACHABLE', 'Kafka does not answer', { cause });
    expect(err).toBeInstanceOf(Error);
    expect(err).toMatchObject({ code: 'KAFKA_UNREACHABLE', message: 'Kafka does not answer', cause, name: 'PdmError' });
  });
});
