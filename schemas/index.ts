import fs from 'node:fs';
import path from 'node:path';
import avro from 'avsc';

/**
 * The records of the pipeline. Types are generated from the .avsc files beside this one
 * (`npm run generate`); the Avro types used on the wire are parsed from the same files.
 */
export type { AlertControl } from './types/alert-control';
import type { IoPdmstreamV1 as AlertControlTypes } from './types/alert-control';
export type AlertAction = AlertControlTypes.AlertAction;
export type { AlertEvent } from './types/alert-event';
export type { MachineAssessment } from './types/machine-assessment-v2';
export type { MachineAssessment as MachineAssessmentV1 } from './types/machine-assessment';
export type { MachineControl } from './types/machine-control';
import type { IoPdmstreamV1 as ControlTypes } from './types/machine-control';
export type MachineAction = ControlTypes.MachineAction;
export type { SensorReading } from './types/sensor-reading';
export type { WindowFeatures } from './types/window-features';
import type { IoPdmstreamV1 as WindowTypes } from './types/window-features';
export type FeatureStats = WindowTypes.FeatureStats;
export type { WindowKey } from './types/window-key';

export const SCHEMA_FILES = {
  machineId: 'machine-id.avsc',
  sensorReading: 'sensor-reading.avsc',
  windowKey: 'window-key.avsc',
  windowFeatures: 'window-features.avsc',
  alertEvent: 'alert-event.avsc',
  machineAssessment: 'machine-assessment-v2.avsc',
  /** pdm.assessments.v1's record (a record per forecast point), deprecated. */
  machineAssessmentV1: 'machine-assessment.avsc',
  machineControl: 'machine-control.avsc',
  alertControl: 'alert-control.avsc',
} as const;

export type SchemaFile = (typeof SCHEMA_FILES)[keyof typeof SCHEMA_FILES];

/** The six sensor features, in the order every model and table uses. */
export const FEATURES = ['current', 'accX', 'accY', 'accZ', 'tempA', 'tempB'] as const;
export type Feature = (typeof FEATURES)[number];

const texts = new Map<string, string>();
const types = new Map<string, avro.Type>();

export function schemaText(file: SchemaFile | string): string {
  let text = texts.get(file);
  if (text === undefined) {
    text = fs.readFileSync(path.join(__dirname, file), 'utf8');
    texts.set(file, text);
  }
  return text;
}

/** The avsc type of a schema file, parsed once. Timestamps stay epoch milliseconds (numbers). */
export function avroType(file: SchemaFile | string): avro.Type {
  let type = types.get(file);
  if (type === undefined) {
    type = avro.Type.forSchema(JSON.parse(schemaText(file)) as avro.Schema);
    types.set(file, type);
  }
  return type;
}
