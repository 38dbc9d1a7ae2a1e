/**
 * The pipeline's long-running services (`pdmctl run <name>`) and the port each serves
 * /health, /ready and /metrics on by default. Prometheus scrapes these; `npm start` starts those
 * that are built.
 */
export const pipelineServices = [
  { name: 'window', metricsPort: 19401, built: false },
  { name: 'inference', metricsPort: 19402, built: false },
  { name: 'sink-postgres', metricsPort: 19403, built: false },
  { name: 'sink-email', metricsPort: 19404, built: false },
  { name: 'api', metricsPort: 19405, built: false },
  { name: 'simulate', metricsPort: 19406, built: false },
  { name: 'mqtt-bridge', metricsPort: 19407, built: false },
] as const;

export type PipelineServiceName = (typeof pipelineServices)[number]['name'];
