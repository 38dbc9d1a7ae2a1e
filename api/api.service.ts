import pg from 'pg';
import { errorMessage } from '../lib/errors';
import { redactUrl } from '../lib/logger';
import type { RunningService, ServiceDefinition } from '../lib/service';
import { apiSettings } from './api.settings';
import { ApiQueries } from './queries';
import { apiRoutes } from './routes';

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

export const apiService: ServiceDefinition = {
  name: STAGE,
  async start({ env, logger, metrics }): Promise<RunningService> {
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
    const queries = new ApiQueries(pool, settings.schema);
    let stopping = false;
    const routes = apiRoutes({ queries, apiKey: settings.apiKey, metrics, logger: log, stopping: () => stopping });
    log.info({ follower: redactUrl(settings.followerUrl), role: settings.role, schema: settings.schema, apiKey: settings.apiKey ? 'required' : 'not configured' }, 'read API running');

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
        await pool.end().catch(() => undefined);
        log.info('read API stopped');
      },
    };
  },
};
