import fs from 'node:fs';
import { CONFIGURATION_DOCS, REGENERATE, renderConfigurationDocs } from './configuration-docs';

describe('docs/configuration.md', () => {
  const rendered = renderConfigurationDocs();

  it('is what the settings schemas generate (run the command named below when this fails)', () => {
    const onDisk = fs.existsSync(CONFIGURATION_DOCS) ? fs.readFileSync(CONFIGURATION_DOCS, 'utf8') : '';
    if (onDisk !== rendered) throw new Error(`docs/configuration.md is stale: run \`${REGENERATE}\` and commit the result`);
    expect(onDisk).toBe(rendered);
  });

  it('says it is generated and how to regenerate it', () => {
    expect(rendered).toContain(`do not edit by hand; run \`${REGENERATE}\``);
  });

  it("lists every contract variable once, with the default a user writes", () => {
    for (const name of ['KAFKA_BROKERS', 'SCHEMA_REGISTRY_URL', 'DATABASE_URL', 'DATABASE_FOLLOWER_URL', 'SMTP_URL', 'MODELS_DIR', 'PDM_TOPIC_PREFIX', 'PDM_MAX_CLOCK_SKEW']) {
      expect(rendered.match(new RegExp(`^\\| \`${name}\` \\|`, 'gm'))).toHaveLength(1);
    }
    expect(rendered).toMatch(/^\| `PDM_WINDOW_SIZE` \| `1h` \|/m);
    expect(rendered).toMatch(/^\| `MODELS_DIR` \| `models` \|/m);
  });
});
