// Generated from schemas/window-features.avsc by `npm run generate`. Do not edit.
/* eslint-disable @typescript-eslint/no-namespace */

export type WindowFeatures = IoPdmstreamV1.WindowFeatures;

export namespace IoPdmstreamV1 {
    export const FeatureStatsSchema = "{\"type\":\"record\",\"name\":\"FeatureStats\",\"fields\":[{\"name\":\"count\",\"type\":\"long\"},{\"name\":\"mean\",\"type\":[\"null\",\"double\"],\"default\":null},{\"name\":\"min\",\"type\":[\"null\",\"double\"],\"default\":null},{\"name\":\"max\",\"type\":[\"null\",\"double\"],\"default\":null},{\"name\":\"stddev\",\"type\":[\"null\",\"double\"],\"default\":null}]}";
    export const FeatureStatsName = "io.pdmstream.v1.FeatureStats";
    export interface FeatureStats {
        count: number;
        /**
         * Default: null
         */
        mean: null | number;
        /**
         * Default: null
         */
        min: null | number;
        /**
         * Default: null
         */
        max: null | number;
        /**
         * Default: null
         */
        stddev: null | number;
    }
    export const WindowFeaturesSchema = "{\"type\":\"record\",\"name\":\"WindowFeatures\",\"namespace\":\"io.pdmstream.v1\",\"doc\":\"Final aggregates of one machine's readings over one event-time window [windowStart, windowEnd).\",\"fields\":[{\"name\":\"machineId\",\"type\":\"string\"},{\"name\":\"windowStart\",\"type\":{\"type\":\"long\",\"logicalType\":\"timestamp-millis\"},\"doc\":\"Inclusive start.\"},{\"name\":\"windowEnd\",\"type\":{\"type\":\"long\",\"logicalType\":\"timestamp-millis\"},\"doc\":\"Exclusive end.\"},{\"name\":\"count\",\"type\":\"long\",\"doc\":\"Readings in the window (duplicates counted once).\"},{\"name\":\"current\",\"doc\":\"Statistics of one feature over the window. count is the number of non-null values; the others are null when count is 0, stddev is the population standard deviation.\",\"type\":{\"type\":\"record\",\"name\":\"FeatureStats\",\"fields\":[{\"name\":\"count\",\"type\":\"long\"},{\"name\":\"mean\",\"type\":[\"null\",\"double\"],\"default\":null},{\"name\":\"min\",\"type\":[\"null\",\"double\"],\"default\":null},{\"name\":\"max\",\"type\":[\"null\",\"double\"],\"default\":null},{\"name\":\"stddev\",\"type\":[\"null\",\"double\"],\"default\":null}]}},{\"name\":\"accX\",\"type\":\"FeatureStats\"},{\"name\":\"accY\",\"type\":\"FeatureStats\"},{\"name\":\"accZ\",\"type\":\"FeatureStats\"},{\"name\":\"tempA\",\"type\":\"FeatureStats\"},{\"name\":\"tempB\",\"type\":\"FeatureStats\"},{\"name\":\"extras\",\"type\":{\"type\":\"map\",\"values\":\"FeatureStats\"},\"default\":{},\"doc\":\"Statistics of each extra channel of the readings (SensorReading.extras), by name, as for the six features.\"}]}";
    export const WindowFeaturesName = "io.pdmstream.v1.WindowFeatures";
    /**
     * Final aggregates of one machine's readings over one event-time window [windowStart, windowEnd).
     */
    export interface WindowFeatures {
        machineId: string;
        /**
         * Inclusive start.
         */
        windowStart: number;
        /**
         * Exclusive end.
         */
        windowEnd: number;
        /**
         * Readings in the window (duplicates counted once).
         */
        count: number;
        /**
         * Statistics of one feature over the window. count is the number of non-null values; the others are null when count is 0, stddev is the population standard deviation.
         */
        current: IoPdmstreamV1.FeatureStats;
        accX: IoPdmstreamV1.FeatureStats;
        accY: IoPdmstreamV1.FeatureStats;
        accZ: IoPdmstreamV1.FeatureStats;
        tempA: IoPdmstreamV1.FeatureStats;
        tempB: IoPdmstreamV1.FeatureStats;
        /**
         * Statistics of each extra channel of the readings (SensorReading.extras), by name, as for the six features.
         *
         * Default: {}
         */
        extras: {
            [index: string]: IoPdmstreamV1.FeatureStats;
        };
    }
}
