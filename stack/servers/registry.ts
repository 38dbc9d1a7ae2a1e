import fs from 'node:fs';
import path from 'node:path';
import { ensureApicurio } from '../artifacts';
import { serverDir, type StackServer } from '../server';

/** The Confluent-compatible API of Apicurio Registry lives under this path. */
export const CCOMPAT_PATH = '/apis/ccompat/v7';

export const registryServer: StackServer = {
  name: 'registry',
  dependsOn: [],
  stopSignal: 'SIGTERM',
  title: (ctx) => `Apicurio Registry ${ctx.settings.PDM_APICURIO_VERSION} (Confluent-compatible API)`,
  address: (ctx) => `http://${ctx.settings.PDM_STACK_HOST}:${ctx.settings.PDM_REGISTRY_PORT}${CCOMPAT_PATH}`,
  ports: (ctx) => [ctx.settings.PDM_REGISTRY_PORT],
  marker: (ctx) => path.join(serverDir(ctx, 'registry'), 'db'),

  async prepare(ctx) {
    const jar = await ensureApicurio(ctx.settings, ctx.reporter);
    const dir = serverDir(ctx, 'registry');
    fs.mkdirSync(path.join(dir, 'db'), { recursive: true });
    return {
      command: 'java',
      args: [
        `-Xmx${ctx.settings.PDM_REGISTRY_HEAP}`,
        '-XX:+UseSerialGC',
        `-Dquarkus.http.host=${ctx.settings.PDM_STACK_HOST}`,
        `-Dquarkus.http.port=${ctx.settings.PDM_REGISTRY_PORT}`,
        // Schemas persist in an H2 file (the default keeps them in memory and loses them on a
        // restart, which would orphan every record's schema id).
        `-Dapicurio.datasource.url=jdbc:h2:file:${path.join(dir, 'db', 'registry')}`,
        // Registering the same schema text twice (in any formatting) returns the same id.
        '-Dapicurio.ccompat.use-canonical-hash=true',
        '-Dapicurio.rest.deletion.artifact.enabled=true',
        '-Dapicurio.rest.deletion.artifact-version.enabled=true',
        '-Dapicurio.rest.deletion.group.enabled=true',
        '-Dquarkus.log.level=INFO',
        '-jar',
        jar,
      ],
      env: { ...process.env, JAVA_TOOL_OPTIONS: undefined },
    };
  },

  async probe(ctx) {
    const base = `http://${ctx.settings.PDM_STACK_HOST}:${ctx.settings.PDM_REGISTRY_PORT}`;
    const ready = await fetch(`${base}/health/ready`, { signal: AbortSignal.timeout(2000) });
    if (!ready.ok) return `/health/ready answered ${ready.status}`;
    const subjects = await fetch(`${base}${CCOMPAT_PATH}/subjects`, { signal: AbortSignal.timeout(2000) });
    return subjects.ok ? undefined : `${CCOMPAT_PATH}/subjects answered ${subjects.status}`;
  },
};
