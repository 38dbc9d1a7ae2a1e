import fs from 'node:fs';
import path from 'node:path';
import { repoRoot } from '../../lib/paths';
import { pipelineServices } from '../../lib/services';
import { ensureDebianPackages, which } from '../artifacts';
import { serverDir, type StackContext, type StackServer } from '../server';

/** The pipeline's alerting rules; docker compose mounts the same file (stack/compose/prometheus.yml). */
export const RULES_FILE = path.join(repoRoot, 'stack', 'prometheus', 'rules.yml');

/**
 * Prometheus scraping itself and every pipeline service, and evaluating the pipeline's alerting
 * rules, read from the repository (a `/-/reload` picks up an edit). Targets come from a file
 * (file_sd), so the list changes without a restart.
 */
export function prometheusConfig(self: string, targetsFile: string, rulesFile: string = RULES_FILE): string {
  return `# written by pdmctl stack
global:
  scrape_interval: 5s
  evaluation_interval: 5s
rule_files:
  - '${rulesFile}'
scrape_configs:
  - job_name: prometheus
    static_configs:
      - targets: ['${self}']
  - job_name: pdm
    file_sd_configs:
      - files: ['${targetsFile}']
        refresh_interval: 10s
`;
}

/** file_sd entries for the pipeline's services (all of them unless `only` names some) on their default ports. */
export function pipelineTargets(host: string, only?: readonly string[]): Array<{ targets: string[]; labels: Record<string, string> }> {
  return pipelineServices.filter((service) => !only || only.includes(service.name)).map((service) => ({ targets: [`${host}:${service.metricsPort}`], labels: { service: service.name } }));
}

/**
 * Points the local Prometheus at the services that run (file_sd: picked up within 10 s, no
 * restart). `stack up` lists every service; `npm start` lists the ones it started, so a service it
 * did not start (the MQTT bridge without MQTT_URL) is not reported down.
 */
export function writePipelineTargets(settings: StackContext['settings'], only?: readonly string[]): void {
  const file = targetsFileOf(settings);
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, JSON.stringify(pipelineTargets(settings.PDM_STACK_HOST, only), null, 2));
}

/** The file_sd file listing the pipeline's targets: rewrite it to scrape other ports (tests do). */
export const targetsFileOf = (settings: StackContext['settings']): string => path.join(serverDir({ settings }, 'prometheus'), 'targets', 'pipeline.json');

function binary(ctx: StackContext): string {
  let found = which('prometheus') ?? (fs.existsSync('/usr/bin/prometheus') ? '/usr/bin/prometheus' : undefined);
  if (!found) {
    ensureDebianPackages(['prometheus'], ctx.reporter);
    found = which('prometheus') ?? '/usr/bin/prometheus';
  }
  return found;
}

export const prometheusServer: StackServer = {
  name: 'prometheus',
  dependsOn: [],
  stopSignal: 'SIGTERM',
  title: () => 'Prometheus',
  address: (ctx) => `http://${ctx.settings.PDM_STACK_HOST}:${ctx.settings.PDM_PROMETHEUS_PORT}`,
  ports: (ctx) => [ctx.settings.PDM_PROMETHEUS_PORT],
  marker: (ctx) => path.join(serverDir(ctx, 'prometheus'), 'prometheus.yml'),

  async prepare(ctx) {
    const command = binary(ctx);
    const dir = serverDir(ctx, 'prometheus');
    const targetsFile = targetsFileOf(ctx.settings);
    fs.mkdirSync(path.join(dir, 'data'), { recursive: true });
    writePipelineTargets(ctx.settings);
    const self = `${ctx.settings.PDM_STACK_HOST}:${ctx.settings.PDM_PROMETHEUS_PORT}`;
    const config = path.join(dir, 'prometheus.yml');
    fs.writeFileSync(config, prometheusConfig(self, targetsFile));
    return {
      command,
      args: [
        `--config.file=${config}`,
        `--storage.tsdb.path=${path.join(dir, 'data')}`,
        `--web.listen-address=${self}`,
        '--storage.tsdb.retention.time=15d',
        '--web.enable-lifecycle',
      ],
    };
  },

  async probe(ctx) {
    const ready = await fetch(`${prometheusServer.address(ctx)}/-/ready`, { signal: AbortSignal.timeout(2000) });
    return ready.ok ? undefined : `/-/ready answered ${ready.status}`;
  },
};
