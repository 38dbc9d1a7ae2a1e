/**
 * The pipeline's long-running services (`pdmctl run <name>`) and the port each serves
 * /health, /ready and /metrics on by default. Prometheus scrapes these; `npm start` starts those
 * that are built.
 */
export const pipelineServices = [
  { name: 'window', metricsPort: 19401 },
  { name: 'inference', metricsPort: 19402 },
  { name: 'sink-postgres', metricsPort: 19403 },
  { name: 'sink-email', metricsPort: 19404 },
  { name: 'api', metricsPort: 19405 },
  { name: 'simulate', metricsPort: 19406 },
  { name: 'mqtt-bridge', metricsPort: 19407 },
  // Scheduled retraining of the fleet models: started only where PDM_RETRAIN_EVERY is set.
  { name: 'retrain', metricsPort: 19408 },
] as const;

export type PipelineServiceName = (typeof pipelineServices)[number]['name'];
