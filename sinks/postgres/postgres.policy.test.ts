import { backoffDelayMs } from '../../lib/backoff';
import { classifyDbError } from './postgres.policy';

const pgError = (code: string, message = 'boom') => Object.assign(new Error(message), { code });

describe('what the sink does with a database error', () => {
  test.each([
    ['check constraint violated', pgError('23514'), 'row', 'PG_23514'],
    ['no partition for the row (its day dropped)', pgError('23514', 'no partition of relation "window_features" found for row'), 'retry', 'PG_23514'],
    ['not-null violated', pgError('23502'), 'row', 'PG_23502'],
    ['invalid text for a type', pgError('22P02'), 'row', 'PG_22P02'],
    ['numeric value out of range', pgError('22003'), 'row', 'PG_22003'],
    ['connection refused', pgError('ECONNREFUSED'), 'retry', 'ECONNREFUSED'],
    ['admin shutdown', pgError('57P01'), 'retry', 'PG_57P01'],
    ['statement timeout', pgError('57014'), 'retry', 'PG_57014'],
    ['a missing grant', pgError('42501'), 'retry', 'PG_42501'],
    ['serialization failure', pgError('40001'), 'retry', 'PG_40001'],
    ['a connection lost with no code', new Error('Connection terminated unexpectedly'), 'retry', 'DB_ERROR'],
    ['not even an Error', 'weird', 'retry', 'DB_ERROR'],
  ])('%s: %s', (_name, err, kind, code) => {
    expect(classifyDbError(err)).toMatchObject({ kind, code });
  });

  test.each([
    [0, 0],
    [1, 200],
    [2, 400],
    [3, 800],
    [6, 6400],
    [7, 10_000],
    [1000, 10_000],
  ])('retry %d waits %d ms (200 ms doubling, capped at 10 s)', (attempt, ms) => {
    expect(backoffDelayMs(attempt, 200, 10_000)).toBe(ms);
  });
});
