import fs from 'node:fs';
import { parse } from 'yaml';
import { pipelineServices } from '../../lib/services';
import { RULES_FILE, pipelineTargets, prometheusConfig } from './prometheus';

describe('the Prometheus configuration of the local stack', () => {
  test('scrapes itself and reads the pipeline targets from a file', () => {
    const config = parse(prometheusConfig('127.0.0.1:19090', '/state/targets/pipeline.json'));
    expect(config.scrape_configs.map((c: { job_name: string }) => c.job_name)).toEqual(['prometheus', 'pdm']);
    expect(config.scrape_configs[0].static_configs[0].targets).toEqual(['127.0.0.1:19090']);
    expect(config.scrape_configs[1].file_sd_configs[0].files).toEqual(['/state/targets/pipeline.json']);
  });

  test('evaluates the pipeline alerting rules from the repository', () => {
    const config = parse(prometheusConfig('127.0.0.1:19090', '/state/targets/pipeline.json'));
    expect(config.rule_files).toEqual([RULES_FILE]);
    expect(fs.existsSync(RULES_FILE)).toBe(true);
  });

  test('lists every pipeline service once, on its metrics port, labelled with its name', () => {
    const targets = pipelineTargets('127.0.0.1');
    expect(targets).toHaveLength(pipelineServices.length);
    expect(targets).toContainEqual({ targets: ['127.0.0.1:19401'], labels: { service: 'window' } });
    expect(new Set(targets.map((t) => t.targets[0])).size).toBe(targets.length);
  });

  test('npm start lists only the services it started, so one it did not start is not reported down', () => {
    expect(pipelineTargets('127.0.0.1', ['window', 'simulate']).map((t) => t.labels.service)).toEqual(['window', 'simulate']);
  });
});
