import { apiSettings } from './api.settings';

const follower = 'postgres://pdm:owner-secret@127.0.0.1:15433/pdm';

describe('apiSettings', () => {
  test('with the analyst\'s password: the follower as pdm_analyst; defaults', () => {
    const settings = apiSettings({ DATABASE_FOLLOWER_URL: follower, PDM_ANALYST_PASSWORD: 'an@lyst/pw' });
    expect(settings).toEqual({ followerUrl: 'postgres://pdm_analyst:an%40lyst%2Fpw@127.0.0.1:15433/pdm', role: 'pdm_analyst', schema: 'pdm', apiKey: undefined, poolSize: 4, statementTimeoutMs: 10_000, connectTimeoutMs: 5_000 });
    expect(Object.isFrozen(settings)).toBe(true);
  });

  test('without it: the follower URL\'s own login', () => {
    expect(apiSettings({ DATABASE_FOLLOWER_URL: 'postgres://reader:pw@replica:5432/pdm' })).toMatchObject({ followerUrl: 'postgres://reader:pw@replica:5432/pdm', role: 'reader' });
  });

  test('every setting', () => {
    expect(apiSettings({ DATABASE_FOLLOWER_URL: follower, PDM_POSTGRES_SCHEMA: 't_api', PDM_API_KEY: 'k'.repeat(32), PDM_API_POOL_SIZE: '8', PDM_API_STATEMENT_TIMEOUT: '2s', PDM_API_CONNECT_TIMEOUT: '500ms' })).toMatchObject({
      schema: 't_api',
      apiKey: 'k'.repeat(32),
      poolSize: 8,
      statementTimeoutMs: 2000,
      connectTimeoutMs: 500,
    });
  });

  test.each([
    [{}, 'DATABASE_FOLLOWER_URL: is required'],
    [{ DATABASE_FOLLOWER_URL: 'not a url' }, 'DATABASE_FOLLOWER_URL: not a URL'],
    [{ DATABASE_FOLLOWER_URL: follower, PDM_API_KEY: 'short' }, 'PDM_API_KEY: must be at least 16 characters'],
    [{ DATABASE_FOLLOWER_URL: follower, PDM_POSTGRES_SCHEMA: 'Bad-Name' }, 'PDM_POSTGRES_SCHEMA: must be a lower-case SQL identifier'],
    [{ DATABASE_FOLLOWER_URL: follower, PDM_API_POOL_SIZE: '0' }, 'PDM_API_POOL_SIZE'],
  ])('%j is refused, naming the variable', (env, message) => {
    expect(() => apiSettings(env)).toThrow(message);
  });

  test('a refused API key is not repeated in the error', () => {
    expect(() => apiSettings({ DATABASE_FOLLOWER_URL: follower, PDM_API_KEY: 'tooshort-secret' })).toThrow(expect.objectContaining({ message: expect.not.stringContaining('tooshort-secret') }));
  });
});
