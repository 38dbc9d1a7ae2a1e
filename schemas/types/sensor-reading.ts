// Generated from schemas/sensor-reading.avsc by `npm run generate`. Do not edit.
/* eslint-disable @typescript-eslint/no-namespace */

export type SensorReading = IoPdmstreamV1.SensorReading;

export namespace IoPdmstreamV1 {
    export const SensorReadingSchema = "{\"type\":\"record\",\"name\":\"SensorReading\",\"namespace\":\"io.pdmstream.v1\",\"doc\":\"One reading of a machine's sensors: the six named ones and any others in extras. A missing sensor is null, never 0.\",\"fields\":[{\"name\":\"machineId\",\"type\":\"string\",\"doc\":\"Machine id, also the record key.\"},{\"name\":\"timestamp\",\"type\":{\"type\":\"long\",\"logicalType\":\"timestamp-millis\"},\"doc\":\"Event time: when the machine took the reading (UTC).\"},{\"name\":\"current\",\"type\":[\"null\",\"double\"],\"default\":null,\"doc\":\"Motor current, A.\"},{\"name\":\"accX\",\"type\":[\"null\",\"double\"],\"default\":null,\"doc\":\"Vibration, X axis, g (RMS).\"},{\"name\":\"accY\",\"type\":[\"null\",\"double\"],\"default\":null,\"doc\":\"Vibration, Y axis, g (RMS).\"},{\"name\":\"accZ\",\"type\":[\"null\",\"double\"],\"default\":null,\"doc\":\"Vibration, Z axis, g (RMS).\"},{\"name\":\"tempA\",\"type\":[\"null\",\"double\"],\"default\":null,\"doc\":\"Temperature A (motor body), degrees Celsius.\"},{\"name\":\"tempB\",\"type\":[\"null\",\"double\"],\"default\":null,\"doc\":\"Temperature B (fluid or bearing), degrees Celsius.\"},{\"name\":\"extras\",\"type\":{\"type\":\"map\",\"values\":[\"null\",\"double\"]},\"default\":{},\"doc\":\"Any other channel the machine has (pressure, flow, speed, ...), by name: a letter, then letters, digits or underscores, at most 32 characters, not one of the six above; at most 64 a reading. Null (or absent) when the sensor reported nothing.\"}]}";
    export const SensorReadingName = "io.pdmstream.v1.SensorReading";
    /**
     * One reading of a machine's sensors: the six named ones and any others in extras. A missing sensor is null, never 0.
     */
    export interface SensorReading {
        /**
         * Machine id, also the record key.
         */
        machineId: string;
        /**
         * Event time: when the machine took the reading (UTC).
         */
        timestamp: number;
        /**
         * Motor current, A.
         *
         * Default: null
         */
        current: null | number;
        /**
         * Vibration, X axis, g (RMS).
         *
         * Default: null
         */
        accX: null | number;
        /**
         * Vibration, Y axis, g (RMS).
         *
         * Default: null
         */
        accY: null | number;
        /**
         * Vibration, Z axis, g (RMS).
         *
         * Default: null
         */
        accZ: null | number;
        /**
         * Temperature A (motor body), degrees Celsius.
         *
         * Default: null
         */
        tempA: null | number;
        /**
         * Temperature B (fluid or bearing), degrees Celsius.
         *
         * Default: null
         */
        tempB: null | number;
        /**
         * Any other channel the machine has (pressure, flow, speed, ...), by name: a letter, then letters, digits or underscores, at most 32 characters, not one of the six above; at most 64 a reading. Null (or absent) when the sensor reported nothing.
         *
         * Default: {}
         */
        extras: {
            [index: string]: null | number;
        };
    }
}
