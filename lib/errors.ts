/**
 * Errors carry a stable code (for tests, metrics and scripts) and keep the original as `cause`.
 * Every code of the code base is declared here, once, with what it means: `PdmError` takes only
 * these, so a new failure needs a line below before it can be thrown. A module with codes of its
 * own (serde, replay, MQTT bridge) subclasses PdmError with its slice of the set, so every
 * expected failure is a PdmError and reads as one clear line at the CLI.
 */
export const ERROR_CODES = {
  // Settings and command lines
  CONFIG_INVALID: 'a setting (environment variable or its file) is missing or wrong; the message names it',
  USAGE: 'a command-line flag or argument is missing or wrong; the message names it',

  // The local stack (pdmctl stack)
  STACK_PREREQUISITE: 'a program or package the local stack needs is missing',
  STACK_FETCH_FAILED: 'downloading or unpacking a server of the local stack failed',
  STACK_SERVER_FAILED: 'a server of the local stack did not start or answer',

  // Kafka and the schema registry
  KAFKA_UNREACHABLE: 'no Kafka broker answers at KAFKA_BROKERS',
  KAFKA_ADMIN: 'creating or inspecting topics failed',
  KAFKA_INTERNALS: 'the installed kafkajs lacks an internal the partition reader relies on',
  KAFKA_CLIENT_MISSING: 'PDM_KAFKA_CLIENT names a Kafka client library that is not installed or did not build',
  KAFKA_PARTITION_UNKNOWN: 'a partition does not exist or has no leader',
  KAFKA_FETCH: 'a fetch returned no data where the partition has some',
  TOPIC_MISSING: 'a topic the service reads or writes does not exist (run pdmctl topics)',
  CHANGELOG_PARTITIONS: 'a state changelog has not as many partitions as its input topic',
  REGISTRY: 'the schema registry refused or failed a request',

  // Records on the wire (Confluent framing and Avro)
  SERDE_TOO_SHORT: 'a record is shorter than the 5-byte wire-format header',
  SERDE_MAGIC_BYTE: 'a record does not start with the magic byte 0',
  SERDE_UNKNOWN_SCHEMA: 'a record names a schema id the registry does not know',
  SERDE_INCOMPATIBLE_SCHEMA: "a record's writer schema cannot be read as the reader's",
  SERDE_DECODE: 'a record body is not valid Avro of its schema',
  SERDE_ENCODE: 'a value does not fit the schema it is written with',
  SERDE_NOT_REGISTERED: 'a schema is not registered under its subject (run pdmctl topics)',
  SERDE_REGISTRY_UNAVAILABLE: 'the schema registry did not answer; a retry may succeed',

  // Processor state
  WINDOW_STATE_MISMATCH: "the window state restored was written with another configuration",
  STATE_FORMAT: 'a state record has a format this processor does not read',
  STAGE_NOT_OPEN: 'a batch arrived for a partition its stage has not opened (a bug)',

  // Models
  MODEL_NOT_FOUND: 'no model (version) where one was asked for',
  MODEL_INVALID: "a model's manifest or graph is not valid",
  MODEL_CHECKSUM: "a model file does not match its manifest's checksum",
  MODEL_DATA: 'training or evaluation data is missing or malformed',
  MODEL_NOT_PROMOTED: 'no usable model has been promoted',
  MODEL_SELF_CHECK: 'a loaded model gives non-finite output on its training means',

  // sink-postgres and its migrations
  SINK_STOPPING: 'the sink is stopping and takes no more records',
  MIGRATION_FILE_NAME: 'a migration file is not named NNN_name.sql',
  MIGRATION_DUPLICATE: 'two migration files have the same version',
  MIGRATION_CHANGED: 'an applied migration file has been edited since',
  MIGRATION_MISSING: 'an applied migration has no file (the code is older than the database)',
  MIGRATION_OUT_OF_ORDER: 'an unapplied migration has a version below an applied one',
  MIGRATION_FAILED: 'a migration failed and was rolled back',
  MIGRATION_DB: 'the database could not be reached to migrate; a retry may succeed',

  // sink-email
  EMAIL_SEND_FAILED: 'the SMTP server refused or did not take a mail',
  EMAIL_LOG_UNAVAILABLE: 'the notifications table could not be read or written',
  EMAIL_LOG_MISSING: 'the notifications table does not exist (run the migrations)',

  // Alert control (pdmctl alerts, machines)
  CONTROL_PUBLISH_TIMEOUT: 'a control event was not acknowledged in time',
  CONTROL_TABLE_STOPPED: 'the control table was stopped before it caught up',
  ALERT_NOT_FOUND: 'no alert with that id',
  ALERT_OTHER_MACHINE: 'the alert belongs to another machine than the one named',
  ALERT_NOT_FIRING: 'the alert is not firing, so it cannot be acknowledged',
  FOLLOWER_UNREACHABLE: 'the Postgres follower (DATABASE_FOLLOWER_URL) does not answer',

  // pdmctl replay
  REPLAY_BAD_FLAG: 'a replay flag is wrong',
  REPLAY_BAD_MAP: '--map is not column=feature,...',
  REPLAY_UNKNOWN_COLUMN: '--map or --time-column names a column the CSV lacks',
  REPLAY_NO_TIME_COLUMN: 'the CSV has no time column',
  REPLAY_NOTHING_MAPPED: 'no column of the CSV maps to a feature',
  REPLAY_FILE: 'the CSV file cannot be read',

  // MQTT bridge
  MQTT_KAFKA_DELIVERY: 'a reading from MQTT could not be written to Kafka',
  MQTT_SUBSCRIBE_REFUSED: 'the MQTT broker refused the subscription',
  MQTT_SESSION_TAKEN_OVER: 'another client took over the bridge’s MQTT session',

  // The read API's answers (the `error` field of its JSON bodies: lower case on the wire)
  bad_request: 'a parameter is missing or wrong (400)',
  unauthorized: 'no or a wrong API key (401)',
  not_found: 'no such resource (404)',
  method_not_allowed: 'the path does not take that method (405)',
  conflict: 'the request conflicts with the current state (409)',
  database_unavailable: 'the Postgres follower does not answer (503)',
  kafka_unavailable: 'Kafka does not answer (503)',
  stopping: 'the service is stopping (503)',
  internal: 'a bug (500)',
} as const satisfies Record<string, string>;

/** The closed set of error codes: a code not declared in ERROR_CODES does not compile. */
export type PdmErrorCode = keyof typeof ERROR_CODES;

/** The codes starting with `Prefix`: a module's slice of the set. */
export type ErrorCodesOf<Prefix extends string> = Extract<PdmErrorCode, `${Prefix}${string}`>;

export class PdmError<Code extends PdmErrorCode = PdmErrorCode> extends Error {
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
