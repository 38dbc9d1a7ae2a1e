import { existsSync } from 'node:fs';
import path from 'node:path';
import pg from 'pg';
import { errorMessage } from '../lib/errors';
import { redactUrl } from '../lib/logger';
import { repoRoot } from '../lib/paths';
import type { RunningService, ServiceDefinition } from '../lib/service';
import { apiSettings } from './api.settings';
import { ChangeFeed } from './events';
import { openApiDocument } from './openapi';
import { ApiQueries, FLEET_LOOKBACK_MS } from './queries';
import { apiRoutes } from './routes';
import { controlWrites } from './writes';
import { openAlertControlPublisher } from '../producers/control.publisher';

/** Where `npm ci` (scripts/build-console.ts) puts the console. */
export const CONSOLE_DIR = path.join(repoRoot, 'console', 'dist');

/**
 * `pdmctl run api`: the read API (GET /machines, /machines/:id, /alerts) on the service's own
 * port, beside /health, /ready and /metrics.
 *
 * It reads only the Postgres follower, as pdm_analyst: the primary is the sinks', and a burst of
 * API requests must not slow the writes. Every connection is read-only besides (the follower
 * refuses writes anyway; a follower URL that names a primary by mistake still writes nothing).
 * Ready means the follower answers and has the tables; it starts even while the follower is
 * away, and says so on /ready until it is back.
 */

const STAGE = 'api';

/** A write waits this long for Kafka before it is answered 503 (it may still land: the id makes it count once). */
const WRITE_TIMEOUT_MS = 10_000;

/** The document's info.version: the project's. */
const API_VERSION = (require(path.join(repoRoot, 'package.json')) as { version: string }).version;

export const apiService: ServiceDefinition = {
  name: STAGE,
  async start({ env, logger, metrics, clock }): Promise<RunningService> {
    const settings = apiSettings(env);
    const log = logger.child({ component: STAGE });
    const pool = new pg.Pool({
      connectionString: settings.followerUrl,
      max: settings.poolSize,
      connectionTimeoutMillis: settings.connectTimeoutMs,
      statement_timeout: settings.statementTimeoutMs,
      // A socket the database stopped answering on (network gone) fails instead of hanging.
      query_timeout: settings.statementTimeoutMs + 5000,
      keepAlive: true,
      application_name: 'pdm-api',
      options: '-c default_transaction_read_only=on',
    });
    // An idle connection the server dropped: the pool discards it; the next query reconnects.
    pool.on('error', (err) => log.warn({ err: err.message }, 'an idle database connection failed'));
    const queries = new ApiQueries(pool, settings.schema, clock);
    const changes = new ChangeFeed({ changes: () => queries.actions.changes(clock() - FLEET_LOOKBACK_MS), logger: log });
    const consoleDir = existsSync(path.join(CONSOLE_DIR, 'index.html')) ? CONSOLE_DIR : undefined;
    if (!consoleDir) log.warn({ dir: CONSOLE_DIR }, 'the console is not built: run `npm run build:console`; the API answers without it');
    // Acknowledgements and silences go to pdm.alert-control.v1; the producer opens at the first one.
    const writes = controlWrites({ open: () => openAlertControlPublisher({ env, logger: log, clientId: 'pdm-api', publishTimeoutMs: WRITE_TIMEOUT_MS }), logger: log, clock });
    let stopping = false;
    const routes = apiRoutes({ queries, writes, changes, consoleDir, openApi: openApiDocument(API_VERSION), apiKey: settings.apiKey, metrics, logger: log, stopping: () => stopping, clock });
    log.info({ follower: redactUrl(settings.followerUrl), role: settings.role, schema: settings.schema, apiKey: settings.apiKey ? 'required' : 'not configured', console: consoleDir ? '/' : 'not built' }, 'API running');

    return {
      routes,
      async ready() {
        if (stopping) return 'stopping';
        try {
          return await queries.problem();
        } catch (err) {
          return `the follower does not answer: ${errorMessage(err)}`;
        }
      },
      async stop() {
        // Requests from now on are answered 503; those in flight finish before the pool closes.
        stopping = true;
        changes.stop();
        await writes.close().catch(() => undefined);
        await pool.end().catch(() => undefined);
        log.info('read API stopped');
      },
    };
  },
};
