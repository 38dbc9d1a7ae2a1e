import fs from 'node:fs';
import path from 'node:path';
import { parse } from 'yaml';
import { CONNECTION_VARIABLES } from '../cli/connections';
import { repoRoot } from '../lib/paths';
import { pipelineServices } from '../lib/services';
import { loadStackSettings } from '../stack/settings';

/**
 * docker-compose.kafka.yml is the local stack for machines with Docker. No Docker engine runs
 * these tests, so they pin what users and the integration setup rely on: the same host ports as
 * `pdmctl stack up`, every connection variable for every pipeline container, Prometheus scraping
 * what lib/services.ts declares, mounts that exist, and no password in the repository.
 */

interface ComposeService {
  image?: string;
  build?: string | { context?: string; dockerfile?: string };
  profiles?: string[];
  ports?: Array<string | number | { published?: string | number; target?: number }>;
  environment?: Record<string, unknown> | string[];
  volumes?: Array<string | { type?: string; source?: string; target?: string }>;
  entrypoint?: string | string[];
  command?: string | string[];
}

interface ComposeFile {
  version?: unknown;
  services: Record<string, ComposeService>;
}

const readYaml = <T>(relative: string): T => parse(fs.readFileSync(path.join(repoRoot, relative), 'utf8'), { merge: true }) as T;

const compose = readYaml<ComposeFile>('docker-compose.kafka.yml');
const defaults = loadStackSettings({});

const INFRA = ['kafka', 'schema-registry', 'postgres', 'postgres-replica', 'mailpit', 'prometheus', 'grafana', 'mosquitto'];
const PIPELINE = ['window', 'inference', 'sink-postgres', 'sink-email', 'api', 'simulate', 'mqtt-bridge', 'retrain'];

function service(name: string): ComposeService {
  const found = compose.services[name];
  if (!found) throw new Error(`docker-compose.kafka.yml has no service ${name}`);
  return found;
}

function environment(name: string): Record<string, string> {
  const env = service(name).environment ?? {};
  const entries = Array.isArray(env) ? env.map((line) => [line.slice(0, line.indexOf('=')), line.slice(line.indexOf('=') + 1)]) : Object.entries(env);
  return Object.fromEntries(entries.map(([key, value]) => [key, value === null || value === undefined ? '' : String(value)]));
}

/** Published host port → container port, from short (`"HOST:CONTAINER"`) or long syntax. */
function portMap(name: string): Map<number, number> {
  const map = new Map<number, number>();
  for (const spec of service(name).ports ?? []) {
    if (typeof spec === 'object') {
      map.set(Number(spec.published), Number(spec.target));
      continue;
    }
    const parts = String(spec).replace(/\/(tcp|udp)$/, '').split(':');
    const container = Number(parts.at(-1));
    map.set(parts.length > 1 ? Number(parts.at(-2)) : container, container);
  }
  return map;
}

/** Every string anywhere in a parsed YAML value, with the path that leads to it. */
function strings(value: unknown, at = ''): Array<{ at: string; text: string }> {
  if (typeof value === 'string') return [{ at, text: value }];
  if (Array.isArray(value)) return value.flatMap((item, i) => strings(item, `${at}[${i}]`));
  if (value && typeof value === 'object') return Object.entries(value).flatMap(([key, item]) => strings(item, at ? `${at}.${key}` : key));
  return [];
}

describe('docker-compose.kafka.yml', () => {
  test('is a Compose spec file (no obsolete top-level version) with exactly the stack and pipeline services', () => {
    expect(compose.version).toBeUndefined();
    expect(Object.keys(compose.services).sort()).toEqual([...INFRA, ...PIPELINE].sort());
  });

  test('infrastructure starts by default; pipeline services only with --profile pipeline, from the repository image', () => {
    for (const name of INFRA) expect(service(name).profiles ?? []).toEqual([]);
    for (const name of PIPELINE) {
      expect(service(name).profiles).toEqual(['pipeline']);
      expect(service(name).image).toBe('pdm-stream:local');
      expect(service(name).build).toBeDefined();
    }
  });

  test("publishes every server on the local stack's default host port", () => {
    const expected: Record<string, Array<[number, number]>> = {
      kafka: [[defaults.PDM_KAFKA_PORT, 19092]],
      'schema-registry': [[defaults.PDM_REGISTRY_PORT, 8081]],
      postgres: [[defaults.PDM_POSTGRES_PORT, 5432]],
      'postgres-replica': [[defaults.PDM_POSTGRES_FOLLOWER_PORT, 5432]],
      mailpit: [
        [defaults.PDM_SMTP_PORT, 1025],
        [defaults.PDM_INBOX_PORT, 8025],
      ],
      prometheus: [[defaults.PDM_PROMETHEUS_PORT, 9090]],
      grafana: [[13000, 3000]],
    };
    for (const [name, pairs] of Object.entries(expected)) {
      expect([...portMap(name).entries()].sort()).toEqual([...pairs].sort());
    }
  });

  test('Kafka advertises its host-facing listener at localhost on the published port, and its internal one to containers', () => {
    const env = environment('kafka');
    const advertised = env.KAFKA_ADVERTISED_LISTENERS?.split(',') ?? [];
    expect(advertised).toContain(`EXTERNAL://localhost:${defaults.PDM_KAFKA_PORT}`);
    expect(advertised).toContain('INTERNAL://kafka:29092');
    expect(env.KAFKA_AUTO_CREATE_TOPICS_ENABLE).toBe('false');
  });

  test('every pipeline service gets every connection variable of CONTRACT.md, pointing at the compose servers', () => {
    for (const name of PIPELINE) {
      const env = environment(name);
      for (const variable of CONNECTION_VARIABLES) expect({ name, variable, value: env[variable] ?? '' }).toEqual({ name, variable, value: expect.stringMatching(/\S/) });
      expect(env.KAFKA_BROKERS).toBe('kafka:29092');
      expect(env.SCHEMA_REGISTRY_URL).toBe('http://schema-registry:8081');
      expect(env.DATABASE_URL).toMatch(/@postgres:5432\/pdm$/);
      expect(env.DATABASE_FOLLOWER_URL).toMatch(/@postgres-replica:5432\/pdm$/);
    }
  });

  test('pipeline services serve metrics on the ports lib/services.ts declares', () => {
    const declared = new Map<string, number>(pipelineServices.map((s) => [s.name, s.metricsPort]));
    for (const name of PIPELINE) {
      expect(declared.has(name)).toBe(true);
      expect({ name, port: Number(environment(name).PDM_METRICS_PORT) }).toEqual({ name, port: declared.get(name) });
    }
  });

  test('every host path mounted into a container, and the build context, exists in the repository', () => {
    const hostPaths: string[] = [];
    for (const svc of Object.values(compose.services)) {
      for (const volume of svc.volumes ?? []) {
        const source = typeof volume === 'string' ? volume.split(':')[0] : volume.type === 'bind' ? volume.source : undefined;
        if (source && /^(\.|\/)/.test(source)) hostPaths.push(source);
      }
    }
    expect(hostPaths).toEqual(
      expect.arrayContaining(['./stack/compose/postgres-primary-init.sh', './stack/compose/postgres-replica-entrypoint.sh', './stack/compose/prometheus.yml', './grafana/provisioning', './grafana/dashboards']),
    );
    for (const hostPath of hostPaths) expect({ hostPath, exists: fs.existsSync(path.resolve(repoRoot, hostPath)) }).toEqual({ hostPath, exists: true });
    expect(fs.existsSync(path.join(repoRoot, 'Dockerfile'))).toBe(true);
  });

  test('holds no password: every password comes from the environment as a ${...} interpolation', () => {
    const all = strings(compose.services);
    const checked: string[] = [];
    for (const { at, text } of all) {
      if (/PASSWORD$/i.test(at)) {
        expect({ at, text }).toEqual({ at, text: expect.stringMatching(/^\$\{[A-Z_]+(:?[?-][^}]*)?\}$/) });
        checked.push(at);
      }
      // postgres://user:secret@host: the secret must be an interpolation too.
      for (const match of text.matchAll(/:\/\/[^:/@\s]+:([^@\s]+)@/g)) expect({ at, secret: match[1] }).toEqual({ at, secret: expect.stringMatching(/^\$\{[A-Z_]+(:?[?-][^}]*)?\}$/) });
      // PDM_DB_PASSWORD is only ever referred to as an interpolation.
      expect({ at, bare: text.replace(/\$\{PDM_DB_PASSWORD[^}]*\}/g, '').includes('PDM_DB_PASSWORD') }).toEqual({ at, bare: false });
    }
    expect(checked).toEqual(expect.arrayContaining(['postgres.environment.POSTGRES_PASSWORD', 'postgres-replica.environment.PGPASSWORD']));
  });
});

describe('stack/compose/prometheus.yml', () => {
  interface ScrapeConfig {
    job_name: string;
    static_configs?: Array<{ targets: string[]; labels?: Record<string, string> }>;
  }
  const config = readYaml<{ scrape_configs: ScrapeConfig[] }>('stack/compose/prometheus.yml');

  test('scrapes every pipeline service by compose service name on its metrics port, labelled with its name', () => {
    const scraped = config.scrape_configs
      .filter((job) => job.job_name !== 'prometheus')
      .flatMap((job) => job.static_configs ?? [])
      .flatMap((group) => group.targets.map((target) => ({ target, service: group.labels?.service })));
    expect(scraped.sort((a, b) => a.target.localeCompare(b.target))).toEqual(
      pipelineServices.map((s) => ({ target: `${s.name}:${s.metricsPort}`, service: s.name })).sort((a, b) => a.target.localeCompare(b.target)),
    );
  });

  test('the pipeline containers it scrapes announce the same ports', () => {
    for (const name of PIPELINE) {
      const port = environment(name).PDM_METRICS_PORT;
      const job = config.scrape_configs.flatMap((j) => j.static_configs ?? []).find((group) => group.labels?.service === name);
      expect(job?.targets).toEqual([`${name}:${port}`]);
    }
  });
});

describe('grafana provisioning', () => {
  interface Datasource {
    uid: string;
    type: string;
    url: string;
    isDefault?: boolean;
    user?: string;
    jsonData?: { database?: string };
    secureJsonData?: { password?: string };
  }
  const { datasources } = readYaml<{ datasources: Datasource[] }>('grafana/provisioning/datasources/pdm.yml');
  const byUid = new Map(datasources.map((d) => [d.uid, d]));

  test('dashboards find Prometheus (the default) and the follower by their fixed uids', () => {
    expect(byUid.get('pdm-prometheus')).toMatchObject({ type: 'prometheus', url: 'http://prometheus:9090', isDefault: true });
    expect(byUid.get('pdm-follower')).toMatchObject({ url: 'postgres-replica:5432', user: 'pdm_analyst', jsonData: { database: 'pdm' } });
  });

  test("the follower's password comes from the container's environment, not the file", () => {
    expect(byUid.get('pdm-follower')?.secureJsonData?.password).toBe('$__env{PDM_ANALYST_PASSWORD}');
    expect(environment('grafana').PDM_ANALYST_PASSWORD).toMatch(/^\$\{PDM_ANALYST_PASSWORD(:-)?\}$/);
  });

  test('the dashboard provider loads the folder compose mounts', () => {
    const { providers } = readYaml<{ providers: Array<{ type: string; options: { path: string } }> }>('grafana/provisioning/dashboards/pdm.yml');
    const mounted = (service('grafana').volumes ?? []).map(String).find((v) => v.startsWith('./grafana/dashboards:'));
    expect(mounted?.split(':')[1]).toBe('/var/lib/grafana/dashboards');
    expect(providers).toEqual([expect.objectContaining({ type: 'file', options: expect.objectContaining({ path: '/var/lib/grafana/dashboards' }) })]);
  });
});
