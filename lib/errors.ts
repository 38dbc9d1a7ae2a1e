/**
 * Errors carry a stable code (for tests, metrics and scripts) and keep the original as `cause`.
 * A module with codes of its own (serde, replay, MQTT bridge) subclasses PdmError with its own
 * code type, so every expected failure is a PdmError and reads as one clear line at the CLI.
 */
export type PdmErrorCode = 'CONFIG_INVALID' | 'STACK_PREREQUISITE' | 'STACK_FETCH_FAILED' | 'STACK_SERVER_FAILED' | 'KAFKA_ADMIN' | 'KAFKA_UNREACHABLE' | 'REGISTRY';

export class PdmError<Code extends string = PdmErrorCode> extends Error {
  readonly code: Code;

  constructor(code: Code, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'PdmError';
    this.code = code;
  }
}

export function errorMessage(err: unknown): string {
  if (err instanceof Error) return err.message;
  return String(err);
}
