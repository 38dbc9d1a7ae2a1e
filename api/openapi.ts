import { createDocument, type ZodOpenApiOperationObject, type ZodOpenApiPathsObject } from 'zod-openapi';
import { ENDPOINTS, openApiPath, type Endpoint } from './endpoints';
import { errorBodySchema } from './schemas';

/**
 * The OpenAPI 3.1 document of the API, generated from the endpoint table (endpoints.ts): the
 * same zod schemas that check requests and type answers. Served at /openapi.json; /docs renders
 * it. Pure: built once per process.
 */

const ERROR_TEXT: Record<number, string> = {
  400: 'A parameter or the body is not valid: `parameter` and `problems` say which and why',
  401: 'An API key is required (PDM_API_KEY is set): send Authorization: Bearer <key> or X-API-Key: <key>',
  404: 'No such machine, alert or silence',
  409: 'The alert no longer fires, or the silence is already over',
  500: 'The request failed; the service log says why',
  503: 'The follower or Kafka did not answer, or the API is stopping; try again',
};

function operation(endpoint: Endpoint): ZodOpenApiOperationObject {
  const { response } = endpoint;
  const content = response.eventStream
    ? { 'text/event-stream': { schema: response.schema! } }
    : { 'application/json': { schema: response.schema! } };
  const errors = Object.fromEntries([...endpoint.errors, 401, 500, 503].sort().map((status) => [String(status), { description: ERROR_TEXT[status]!, content: { 'application/json': { schema: errorBodySchema } } }]));
  return {
    tags: [endpoint.tag],
    summary: endpoint.summary,
    ...(endpoint.description ? { description: endpoint.description } : {}),
    operationId: `${endpoint.method}${openApiPath(endpoint.path).replace(/[{}]/g, '').replace(/(^|\/|-)(\w)/g, (_m, _s, c: string) => c.toUpperCase())}`,
    requestParams: { ...(endpoint.params ? { path: endpoint.params } : {}), ...(endpoint.query ? { query: endpoint.query as never } : {}) },
    ...(endpoint.body ? { requestBody: { required: true, content: { 'application/json': { schema: endpoint.body } } } } : {}),
    responses: { [String(response.status)]: { description: response.description, content }, ...errors },
  };
}

export function openApiDocument(version: string): ReturnType<typeof createDocument> {
  const paths: ZodOpenApiPathsObject = {};
  for (const endpoint of ENDPOINTS) paths[openApiPath(endpoint.path)] = { ...paths[openApiPath(endpoint.path)], [endpoint.method]: operation(endpoint) };
  return createDocument({
    openapi: '3.1.0',
    info: {
      title: 'pdm-stream API',
      version,
      description:
        'The fleet, its machines, their alerts and what operators did about them, read from the Postgres follower; acknowledgements and silences written to pdm.alert-control.v1. ' +
        'Times are ISO-8601 in UTC. Lists are keyset-paginated: pass nextCursor as cursor.',
    },
    tags: [
      { name: 'fleet', description: 'The whole fleet' },
      { name: 'machines', description: 'Machines, their windows and scores' },
      { name: 'alerts', description: 'Alert transitions, acknowledgements, the action log' },
      { name: 'silences', description: 'Maintenance windows: mail held for a machine or a kind' },
      { name: 'live', description: 'Change notifications for consoles' },
    ],
    components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer', description: 'The key in PDM_API_KEY, when it is set' }, apiKey: { type: 'apiKey', in: 'header', name: 'X-API-Key' } } },
    security: [{}, { bearer: [] }, { apiKey: [] }],
    paths,
  });
}
