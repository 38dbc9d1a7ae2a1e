import { keyChecker, presentedKey } from './auth';

describe('presentedKey', () => {
  test.each([
    [{ authorization: 'Bearer s3cret-key-0123456789' }, 's3cret-key-0123456789'],
    [{ authorization: 'bearer   s3cret-key-0123456789 ' }, 's3cret-key-0123456789'],
    [{ 'x-api-key': 's3cret-key-0123456789' }, 's3cret-key-0123456789'],
    [{ authorization: 'Basic dXNlcjpwYXNz', 'x-api-key': 'from-the-header' }, 'from-the-header'],
    [{ authorization: 'Bearer a', 'x-api-key': 'b' }, 'a'],
    [{ authorization: 'Basic dXNlcjpwYXNz' }, undefined],
    [{ authorization: 'Bearer' }, undefined],
    [{ 'x-api-key': '' }, undefined],
    [{ 'x-api-key': ['a', 'b'] }, undefined],
    [{}, undefined],
  ])('%j', (headers, key) => {
    expect(presentedKey(headers)).toBe(key);
  });
});

describe('keyChecker', () => {
  const matches = keyChecker('s3cret-key-0123456789');

  test('the key itself matches', () => {
    expect(matches('s3cret-key-0123456789')).toBe(true);
  });

  test.each([undefined, '', 's3cret-key-012345678', 's3cret-key-01234567890', 'S3CRET-KEY-0123456789', 'other'])('%j does not', (presented) => {
    expect(matches(presented)).toBe(false);
  });
});
