import Ajv2020 from 'ajv/dist/2020';
import addFormats from 'ajv-formats';
import type { ValidateFunction } from 'ajv';

/**
 * Checks an API answer against the OpenAPI document the API serves at /openapi.json: the path
 * template it matches, its method, its status and the JSON schema of that answer (refs resolved
 * within the document). Every answer an integration test gets goes through `check`, so a route
 * whose real answers drift from the document fails the test that called it.
 */

interface Operation {
  responses: Record<string, { content?: Record<string, { schema: unknown }> }>;
}

export class OpenApiCheck {
  private readonly ajv = new Ajv2020({ strict: false, allErrors: true });
  private readonly compiled = new Map<string, ValidateFunction>();
  private readonly templates: Array<{ template: string; pattern: RegExp }>;
  /** `method path status` of every answer checked, to show that each route was. */
  readonly seen = new Set<string>();

  constructor(private readonly document: { paths: Record<string, Record<string, Operation>> }) {
    addFormats(this.ajv);
    this.ajv.addSchema(document as object, 'openapi.json');
    this.templates = Object.keys(document.paths).map((template) => ({ template, pattern: new RegExp(`^${template.replace(/\{[^}]+\}/g, '[^/]+')}$`) }));
  }

  /**
   * The problems of `body` as the answer `status` to `method path` (empty when it matches the
   * document). Paths the document does not have are not its business (/health, /metrics, a 404 of
   * no route); a method it does not list must have been answered 405.
   */
  problems(method: string, pathAndQuery: string, status: number, contentType: string | null, body: unknown): string[] {
    const path = pathAndQuery.split('?')[0]!;
    const match = this.templates.find((t) => t.pattern.test(path));
    if (!match) return [];
    const operation = this.document.paths[match.template]![method.toLowerCase()];
    if (!operation) return status === 405 ? [] : [`${method} ${match.template} is not in the document, yet answered ${status}`];
    const response = operation.responses[String(status)];
    if (!response) return [`${method} ${match.template} answered ${status}, which the document does not list`];
    this.seen.add(`${method.toUpperCase()} ${match.template} ${status}`);
    const media = Object.keys(response.content ?? {})[0];
    if (!media) return [];
    if (!contentType?.startsWith(media)) return [`${method} ${match.template} ${status} came as ${contentType}, the document says ${media}`];
    if (media !== 'application/json') return [];
    const key = `${method} ${match.template} ${status}`;
    let validate = this.compiled.get(key);
    if (!validate) {
      const pointer = `#/paths/${match.template.replace(/~/g, '~0').replace(/\//g, '~1')}/${method.toLowerCase()}/responses/${status}/content/application~1json/schema`;
      validate = this.ajv.compile({ $ref: `openapi.json${pointer}` });
      this.compiled.set(key, validate);
    }
    if (validate(body)) return [];
    return (validate.errors ?? []).map((e) => `${method} ${match.template} ${status}: ${e.instancePath || '(body)'} ${e.message ?? ''}`);
  }
}
