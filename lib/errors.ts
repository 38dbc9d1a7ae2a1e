/**
 * Errors carry a stable code (for tests, metrics and scripts) and keep the original as `cause`.
 */
export type PdmErrorCode =
  | 'CONFIG_INVALID'
  | 'STACK_PREREQUISITE'
  | 'STACK_FETCH_FAILED'
  | 'STACK_SERVER_FAILED'
  | 'STACK_LOCKED'
  | 'TOPIC_CONFIG_DRIFT'
  | 'KAFKA_ADMIN'
  | 'REGISTRY'
  | 'SERDE'
  | 'INVALID_RECORD'
  | 'NOT_BUILT';

export class PdmError extends Error {
  readonly code: PdmErrorCode;

  constructor(code: PdmErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'PdmError';
    this.code = code;
  }
}

export function errorMessage(err: unknown): string {
  if (err instanceof Error) return err.message;
  return String(err);
}
