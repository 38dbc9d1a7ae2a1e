import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { repoRoot } from '../../lib/paths';
import { serverDir, type StackServer } from '../server';
import { PdmError } from '../../lib/errors';

/** MailDev (npm): an SMTP server that keeps every message in an inbox a person opens in a browser. */
export const smtpServer: StackServer = {
  name: 'smtp',
  dependsOn: [],
  stopSignal: 'SIGTERM',
  title: () => 'SMTP inbox (MailDev)',
  address: (ctx) => `smtp://${ctx.settings.PDM_STACK_HOST}:${ctx.settings.PDM_SMTP_PORT}  inbox http://${ctx.settings.PDM_STACK_HOST}:${ctx.settings.PDM_INBOX_PORT}`,
  ports: (ctx) => [ctx.settings.PDM_SMTP_PORT, ctx.settings.PDM_INBOX_PORT],
  marker: (ctx) => path.join(serverDir(ctx, 'smtp'), 'mail'),

  async prepare(ctx) {
    const mailDir = path.join(serverDir(ctx, 'smtp'), 'mail');
    fs.mkdirSync(mailDir, { recursive: true });
    return {
      command: process.execPath,
      args: [
        path.join(repoRoot, 'node_modules', 'maildev', 'bin', 'maildev'),
        '--smtp', String(ctx.settings.PDM_SMTP_PORT),
        '--web', String(ctx.settings.PDM_INBOX_PORT),
        '--ip', ctx.settings.PDM_STACK_HOST,
        '--mail-directory', mailDir,
      ],
    };
  },

  async probe(ctx) {
    const banner = await smtpBanner(ctx.settings.PDM_STACK_HOST, ctx.settings.PDM_SMTP_PORT);
    if (!banner.startsWith('220')) return `SMTP greeting was ${JSON.stringify(banner)}`;
    const inbox = await fetch(`http://${ctx.settings.PDM_STACK_HOST}:${ctx.settings.PDM_INBOX_PORT}/healthz`, { signal: AbortSignal.timeout(2000) });
    return inbox.ok ? undefined : `inbox /healthz answered ${inbox.status}`;
  },
};

/** Connects, reads the server's greeting line and says QUIT. */
function smtpBanner(host: string, port: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host, port });
    socket.setTimeout(2000, () => socket.destroy(new PdmError('STACK_SERVER_FAILED', 'no SMTP greeting within 2 s')));
    socket.once('data', (data) => {
      socket.end('QUIT\r\n');
      resolve(data.toString('utf8').trim());
    });
    socket.once('error', reject);
  });
}
