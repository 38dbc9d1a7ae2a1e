import { asApiError } from './routes';
import { ApiError } from './validation';

describe('asApiError: what a failed request is answered with', () => {
  test('an ApiError keeps its status and body', () => {
    const err = new ApiError(404, 'not_found', 'no machine "x"');
    expect(asApiError(err)).toBe(err);
  });

  test.each([
    ['the follower away', Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:15433'), { code: 'ECONNREFUSED' }), 503, 'database_unavailable'],
    ['a statement timeout', Object.assign(new Error('canceling statement due to statement timeout'), { code: '57014' }), 503, 'database_unavailable'],
    ['a malformed URL (express marks it 400)', Object.assign(new URIError('Failed to decode param'), { status: 400 }), 400, 'bad_request'],
    ['a bug', new TypeError('cannot read properties of undefined'), 500, 'internal'],
    ['a missing table', Object.assign(new Error('relation "pdm.assessments" does not exist'), { code: '42P01' }), 500, 'internal'],
  ])('%s: %d %s, the cause kept for the log, not the body', (_name, err, status, code) => {
    const answer = asApiError(err);
    expect([answer.status, answer.code]).toEqual([status, code]);
    expect(answer.cause).toBe(err);
    if (status >= 500) expect(JSON.stringify(answer.body())).not.toContain(err.message);
  });
});
