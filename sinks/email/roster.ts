import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { acknowledgement, acknowledges, silenceFor, type AlertControlState } from '../../lib/alert-control';
import { matches } from '../../lib/control-request';
import { PdmError } from '../../lib/errors';
import type { Routing } from './lifecycle';

export { matches };

/**
 * The on-call roster: who is mailed about which machine, and when a machine is silenced
 * (maintenance). Parsed from YAML or JSON (YAML is a superset) and validated once; the lookups
 * are pure. Precedence, most specific first: `machines` (id or glob pattern), then `groups`
 * (a named set of patterns), then `default`. Every matching entry of the first level that
 * matches contributes its recipients.
 */

const email = z.string().trim().regex(/^[^\s@<>",;]+@[^\s@<>",;]+$/, 'is not an e-mail address');
const recipients = z.union([email, z.array(email).min(1)]).transform((r) => (Array.isArray(r) ? r : [r]));
const patterns = z.union([z.string().min(1), z.array(z.string().min(1)).min(1)]).transform((p) => (Array.isArray(p) ? p : [p]));
const instant = z.union([z.string(), z.date()]).transform((value, ctx) => {
  const ms = value instanceof Date ? value.getTime() : Date.parse(value);
  if (!Number.isFinite(ms)) {
    ctx.addIssue({ code: 'custom', message: `${String(value)} is not an ISO time` });
    return z.NEVER;
  }
  return ms;
});

export const rosterSchema = z
  .object({
    /** Who gets mail about a machine nothing else names. */
    default: recipients,
    /** Machine id or glob pattern (`*` any characters) → recipients. */
    machines: z.record(z.string().min(1), recipients).default({}),
    /** Named machine groups: the machines' patterns and the group's recipients. */
    groups: z.record(z.string().min(1), z.object({ machines: patterns, recipients })).default({}),
    /** Maintenance windows: a machine's mail waits while one is on. */
    silences: z.array(z.object({ machines: patterns, from: instant, to: instant, reason: z.string().default('') })).default([]),
  })
  .strict()
  .superRefine((roster, ctx) => {
    roster.silences.forEach((s, i) => {
      if (s.to <= s.from) ctx.addIssue({ code: 'custom', path: ['silences', i, 'to'], message: 'must be after from' });
    });
  });

export type Roster = z.infer<typeof rosterSchema>;

/** Parses the roster file's text; a bad entry fails with its path. */
export function parseRoster(text: string, source = 'roster'): Roster {
  let raw: unknown;
  try {
    raw = parseYaml(text);
  } catch (cause) {
    throw new PdmError('CONFIG_INVALID', `${source}: not YAML or JSON: ${(cause as Error).message}`, { cause });
  }
  const result = rosterSchema.safeParse(raw);
  if (!result.success) {
    const problems = result.error.issues.map((issue) => `${issue.path.join('.') || '(root)'}: ${issue.message}`);
    throw new PdmError('CONFIG_INVALID', `${source}: invalid roster:\n  ${problems.join('\n  ')}`);
  }
  return result.data;
}

const unique = (values: string[]): string[] => [...new Set(values)];

export function recipientsFor(roster: Roster, machineId: string): string[] {
  const byMachine = Object.entries(roster.machines).filter(([pattern]) => matches(pattern, machineId));
  if (byMachine.length > 0) return unique(byMachine.flatMap(([, r]) => r));
  const byGroup = Object.values(roster.groups).filter((g) => g.machines.some((p) => matches(p, machineId)));
  if (byGroup.length > 0) return unique(byGroup.flatMap((g) => g.recipients));
  return unique(roster.default);
}

/** The silence on `machineId` at `nowMs` (from inclusive, to exclusive), if any. */
export function silenceAt(roster: Roster, machineId: string, nowMs: number): Roster['silences'][number] | undefined {
  return roster.silences.find((s) => s.from <= nowMs && nowMs < s.to && s.machines.some((p) => matches(p, machineId)));
}

/**
 * Routing by the roster and, when given, by operators' actions (pdm.alert-control.v1, a table the
 * email sink follows live): a machine's mail waits while a roster silence or an active control
 * silence holds it (a control silence of one kind holds only that kind); an acknowledged alert gets
 * no reminders in its episode.
 */
export function rosterRouting(roster: Roster, control?: AlertControlState): Routing {
  return {
    recipients: (machineId) => recipientsFor(roster, machineId),
    silenced: (machineId, kind, nowMs) =>
      silenceAt(roster, machineId, nowMs) !== undefined || (control !== undefined && silenceFor(control, machineId, kind, nowMs) !== undefined),
    acknowledged: (dedupKey, episodeAlertIds) => control !== undefined && acknowledges(acknowledgement(control, dedupKey), episodeAlertIds),
  };
}
