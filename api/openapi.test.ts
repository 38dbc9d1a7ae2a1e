import { execFileSync } from 'node:child_process';
import { ENDPOINTS, openApiPath } from './endpoints';
import { openApiDocument } from './openapi';

/**
 * The document is generated from the endpoint table; these check that it is a valid OpenAPI 3.1
 * document (by @seriousme/openapi-schema-validator, which is ESM only: it runs in a child process)
 * and that it describes every route. test/integration/api.itest.ts checks the real answers
 * against it.
 */

const document = openApiDocument('1.2.3');

const VALIDATE = `
import { Validator } from '@seriousme/openapi-schema-validator';
let text = '';
for await (const chunk of process.stdin) text += chunk;
const validator = new Validator();
const result = await validator.validate(JSON.parse(text));
process.stdout.write(JSON.stringify({ valid: result.valid, version: validator.version, errors: result.errors ?? null }));
`;

describe('the OpenAPI document', () => {
  test('is valid OpenAPI 3.1', () => {
    const out = execFileSync(process.execPath, ['--input-type=module', '-e', VALIDATE], { input: JSON.stringify(document), encoding: 'utf8' });
    expect(JSON.parse(out)).toEqual({ valid: true, version: '3.1', errors: null });
  });

  test('the validator refuses a broken document (the check can fail)', () => {
    const broken = { ...document, paths: { '/x': { get: { responses: { 200: { content: 'not an object' } } } } } };
    const out = execFileSync(process.execPath, ['--input-type=module', '-e', VALIDATE], { input: JSON.stringify(broken), encoding: 'utf8' });
    expect(JSON.parse(out).valid).toBe(false);
  });

  test('describes every route, its parameters, its body and its answers', () => {
    const paths = document.paths as Record<string, Record<string, { parameters?: Array<{ name: string; in: string }>; requestBody?: unknown; responses: Record<string, unknown> }>>;
    for (const endpoint of ENDPOINTS) {
      const op = paths[openApiPath(endpoint.path)]?.[endpoint.method];
      expect(op).toBeDefined();
      expect(Object.keys(op!.responses)).toEqual(expect.arrayContaining([String(endpoint.response.status), '401', '500', '503', ...endpoint.errors.map(String)]));
      if (endpoint.params) expect(op!.parameters?.filter((p) => p.in === 'path').map((p) => p.name)).toEqual(Object.keys(endpoint.params.shape));
      expect(op!.requestBody !== undefined).toBe(endpoint.body !== undefined);
    }
    expect(Object.keys(paths).length).toBe(new Set(ENDPOINTS.map((e) => e.path)).size);
    expect(document.info.version).toBe('1.2.3');
  });

  test('query parameters are those the API accepts', () => {
    const machines = (document.paths as Record<string, Record<string, { parameters: Array<{ name: string }> }>>)['/machines']!.get!;
    expect(machines.parameters.map((p) => p.name)).toEqual(['q', 'state', 'limit', 'cursor']);
  });
});
