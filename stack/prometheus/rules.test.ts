import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { parse } from 'yaml';
import { which } from '../artifacts';
import { RULES_FILE } from '../servers/prometheus';

/**
 * The pipeline's alerting rules, checked by Prometheus's own tool: `promtool check rules` (syntax,
 * PromQL, templates) and `promtool test rules` on the unit tests beside them, which feed series
 * and require each alert to fire, with its labels and annotations, or to stay quiet. promtool
 * comes with Debian's `prometheus` package, which the local stack and .ci/run install.
 */

const DIR = path.dirname(RULES_FILE);
const TEST_FILES = fs.readdirSync(DIR).filter((f) => f.endsWith('.test.yml')).sort();

interface Rule {
  alert?: string;
  expr: string;
  for?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
}
interface AlertTest {
  alertname: string;
  exp_alerts?: unknown[];
}

const rules = (parse(fs.readFileSync(RULES_FILE, 'utf8')) as { groups: Array<{ rules: Rule[] }> }).groups.flatMap((g) => g.rules);
const alertTests = TEST_FILES.flatMap((file) => (parse(fs.readFileSync(path.join(DIR, file), 'utf8')) as { tests: Array<{ alert_rule_test?: AlertTest[] }> }).tests.flatMap((t) => t.alert_rule_test ?? []));

function promtool(args: string[]): { status: number | null; output: string } {
  const binary = process.env.PROMTOOL ?? which('promtool') ?? (fs.existsSync('/usr/bin/promtool') ? '/usr/bin/promtool' : undefined);
  if (!binary) throw new Error('promtool not found: install the Debian package `prometheus` (apt-get install prometheus; .ci/run does), or set PROMTOOL to its path');
  const result = spawnSync(binary, args, { cwd: DIR, encoding: 'utf8', timeout: 120_000 });
  if (result.error) throw result.error;
  return { status: result.status, output: `${result.stdout}${result.stderr}` };
}

describe('the pipeline alerting rules (stack/prometheus/rules.yml)', () => {
  test('promtool check rules accepts them', () => {
    const { status, output } = promtool(['check', 'rules', path.basename(RULES_FILE)]);
    expect(output).toContain(`SUCCESS: ${rules.length} rules found`);
    expect(status).toBe(0);
  });

  test('promtool test rules passes every unit test', () => {
    expect(TEST_FILES.length).toBeGreaterThan(0);
    const { status, output } = promtool(['test', 'rules', ...TEST_FILES]);
    if (status !== 0) throw new Error(`promtool test rules failed:\n${output}`);
    expect(output).not.toContain('FAILED');
  });

  test.each(rules.map((r) => [r.alert ?? r.expr, r] as const))('%s waits before firing, has a severity, and says what happened and what to do', (_name, rule) => {
    expect(rule.alert).toMatch(/^Pdm[A-Z][A-Za-z]+$/);
    expect(rule.for).toMatch(/^\d+[smh]$/);
    expect(['critical', 'warning']).toContain(rule.labels?.severity);
    for (const key of ['summary', 'description', 'runbook']) expect(rule.annotations?.[key]?.length ?? 0).toBeGreaterThan(20);
  });

  test.each(rules.map((r) => [r.alert!] as const))('%s has a unit test where it fires and one where it does not', (alert) => {
    const mine = alertTests.filter((t) => t.alertname === alert);
    expect(mine.some((t) => (t.exp_alerts ?? []).length > 0)).toBe(true);
    expect(mine.some((t) => (t.exp_alerts ?? []).length === 0)).toBe(true);
  });
});
