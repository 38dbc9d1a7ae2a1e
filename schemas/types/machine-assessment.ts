// Generated from schemas/machine-assessment.avsc by `npm run generate`. Do not edit.
/* eslint-disable @typescript-eslint/no-namespace */

export type MachineAssessment = IoPdmstreamV1.MachineAssessment;

export namespace IoPdmstreamV1 {
    export const AnomalyScoreSchema = "{\"type\":\"record\",\"name\":\"AnomalyScore\",\"fields\":[{\"name\":\"score\",\"type\":\"double\"},{\"name\":\"threshold\",\"type\":\"double\",\"doc\":\"A score above it is anomalous.\"},{\"name\":\"modelName\",\"type\":\"string\"},{\"name\":\"modelVersion\",\"type\":\"string\"}]}";
    export const AnomalyScoreName = "io.pdmstream.v1.AnomalyScore";
    export interface AnomalyScore {
        score: number;
        /**
         * A score above it is anomalous.
         */
        threshold: number;
        modelName: string;
        modelVersion: string;
    }
    export const ForecastPointSchema = "{\"type\":\"record\",\"name\":\"ForecastPoint\",\"fields\":[{\"name\":\"feature\",\"type\":\"string\"},{\"name\":\"windowStart\",\"type\":{\"type\":\"long\",\"logicalType\":\"timestamp-millis\"},\"doc\":\"Start of the forecast window.\"},{\"name\":\"mean\",\"type\":\"double\"},{\"name\":\"lower\",\"type\":\"double\"},{\"name\":\"upper\",\"type\":\"double\"},{\"name\":\"limitLower\",\"type\":[\"null\",\"double\"],\"default\":null},{\"name\":\"limitUpper\",\"type\":[\"null\",\"double\"],\"default\":null}]}";
    export const ForecastPointName = "io.pdmstream.v1.ForecastPoint";
    export interface ForecastPoint {
        feature: string;
        /**
         * Start of the forecast window.
         */
        windowStart: number;
        mean: number;
        lower: number;
        upper: number;
        /**
         * Default: null
         */
        limitLower: null | number;
        /**
         * Default: null
         */
        limitUpper: null | number;
    }
    export const ForecastSchema = "{\"type\":\"record\",\"name\":\"Forecast\",\"fields\":[{\"name\":\"modelName\",\"type\":\"string\"},{\"name\":\"modelVersion\",\"type\":\"string\"},{\"name\":\"points\",\"doc\":\"Per feature and step: the point forecast of the window mean, its prediction interval and the limit in force.\",\"type\":{\"type\":\"array\",\"items\":{\"type\":\"record\",\"name\":\"ForecastPoint\",\"fields\":[{\"name\":\"feature\",\"type\":\"string\"},{\"name\":\"windowStart\",\"type\":{\"type\":\"long\",\"logicalType\":\"timestamp-millis\"},\"doc\":\"Start of the forecast window.\"},{\"name\":\"mean\",\"type\":\"double\"},{\"name\":\"lower\",\"type\":\"double\"},{\"name\":\"upper\",\"type\":\"double\"},{\"name\":\"limitLower\",\"type\":[\"null\",\"double\"],\"default\":null},{\"name\":\"limitUpper\",\"type\":[\"null\",\"double\"],\"default\":null}]}}}]}";
    export const ForecastName = "io.pdmstream.v1.Forecast";
    export interface Forecast {
        modelName: string;
        modelVersion: string;
        /**
         * Per feature and step: the point forecast of the window mean, its prediction interval and the limit in force.
         */
        points: IoPdmstreamV1.ForecastPoint[];
    }
    export const DriverSchema = "{\"type\":\"record\",\"name\":\"Driver\",\"doc\":\"A channel that drove a decision, with its share.\",\"fields\":[{\"name\":\"channel\",\"type\":\"string\",\"doc\":\"<feature>.<stat>, e.g. tempA.mean.\"},{\"name\":\"contribution\",\"type\":\"double\",\"doc\":\"Share of the decision this channel carries, 0 to 1.\"},{\"name\":\"value\",\"type\":[\"null\",\"double\"],\"default\":null,\"doc\":\"The channel's value in the window.\"},{\"name\":\"expected\",\"type\":[\"null\",\"double\"],\"default\":null,\"doc\":\"What the machine's own normal expected instead.\"}]}";
    export const DriverName = "io.pdmstream.v1.Driver";
    /**
     * A channel that drove a decision, with its share.
     */
    export interface Driver {
        /**
         * <feature>.<stat>, e.g. tempA.mean.
         */
        channel: string;
        /**
         * Share of the decision this channel carries, 0 to 1.
         */
        contribution: number;
        /**
         * The channel's value in the window.
         *
         * Default: null
         */
        value: null | number;
        /**
         * What the machine's own normal expected instead.
         *
         * Default: null
         */
        expected: null | number;
    }
    export const DeviationSchema = "{\"type\":\"record\",\"name\":\"Deviation\",\"doc\":\"The per-machine detector: how far the window is from the machine's own learned normal.\",\"fields\":[{\"name\":\"score\",\"type\":\"double\",\"doc\":\"The largest channel's EWMA residual over its control limit: above the threshold is a deviation.\"},{\"name\":\"threshold\",\"type\":\"double\"},{\"name\":\"modelName\",\"type\":\"string\"},{\"name\":\"modelVersion\",\"type\":\"string\"},{\"name\":\"drivers\",\"type\":{\"type\":\"array\",\"items\":{\"type\":\"record\",\"name\":\"Driver\",\"doc\":\"A channel that drove a decision, with its share.\",\"fields\":[{\"name\":\"channel\",\"type\":\"string\",\"doc\":\"<feature>.<stat>, e.g. tempA.mean.\"},{\"name\":\"contribution\",\"type\":\"double\",\"doc\":\"Share of the decision this channel carries, 0 to 1.\"},{\"name\":\"value\",\"type\":[\"null\",\"double\"],\"default\":null,\"doc\":\"The channel's value in the window.\"},{\"name\":\"expected\",\"type\":[\"null\",\"double\"],\"default\":null,\"doc\":\"What the machine's own normal expected instead.\"}]}},\"default\":[]}]}";
    export const DeviationName = "io.pdmstream.v1.Deviation";
    /**
     * The per-machine detector: how far the window is from the machine's own learned normal.
     */
    export interface Deviation {
        /**
         * The largest channel's EWMA residual over its control limit: above the threshold is a deviation.
         */
        score: number;
        threshold: number;
        modelName: string;
        modelVersion: string;
        /**
         * Default: []
         */
        drivers: IoPdmstreamV1.Driver[];
    }
    export const MachineAssessmentSchema = "{\"type\":\"record\",\"name\":\"MachineAssessment\",\"namespace\":\"io.pdmstream.v1\",\"doc\":\"What the inference processor made of one final window of one machine: its anomaly score and its forecast of the coming windows, or why it could not assess the machine yet. One record per machine and window, whether or not an alert changed.\",\"fields\":[{\"name\":\"machineId\",\"type\":\"string\"},{\"name\":\"windowStart\",\"type\":{\"type\":\"long\",\"logicalType\":\"timestamp-millis\"},\"doc\":\"Start of the window the assessment was made on.\"},{\"name\":\"windowEnd\",\"type\":{\"type\":\"long\",\"logicalType\":\"timestamp-millis\"},\"doc\":\"End of that window: the forecast starts here.\"},{\"name\":\"warmingUp\",\"type\":[\"null\",\"string\"],\"default\":null,\"doc\":\"Why the machine could not be assessed by every model yet (too little history), or null.\"},{\"name\":\"anomaly\",\"default\":null,\"type\":[\"null\",{\"type\":\"record\",\"name\":\"AnomalyScore\",\"fields\":[{\"name\":\"score\",\"type\":\"double\"},{\"name\":\"threshold\",\"type\":\"double\",\"doc\":\"A score above it is anomalous.\"},{\"name\":\"modelName\",\"type\":\"string\"},{\"name\":\"modelVersion\",\"type\":\"string\"}]}]},{\"name\":\"forecast\",\"default\":null,\"type\":[\"null\",{\"type\":\"record\",\"name\":\"Forecast\",\"fields\":[{\"name\":\"modelName\",\"type\":\"string\"},{\"name\":\"modelVersion\",\"type\":\"string\"},{\"name\":\"points\",\"doc\":\"Per feature and step: the point forecast of the window mean, its prediction interval and the limit in force.\",\"type\":{\"type\":\"array\",\"items\":{\"type\":\"record\",\"name\":\"ForecastPoint\",\"fields\":[{\"name\":\"feature\",\"type\":\"string\"},{\"name\":\"windowStart\",\"type\":{\"type\":\"long\",\"logicalType\":\"timestamp-millis\"},\"doc\":\"Start of the forecast window.\"},{\"name\":\"mean\",\"type\":\"double\"},{\"name\":\"lower\",\"type\":\"double\"},{\"name\":\"upper\",\"type\":\"double\"},{\"name\":\"limitLower\",\"type\":[\"null\",\"double\"],\"default\":null},{\"name\":\"limitUpper\",\"type\":[\"null\",\"double\"],\"default\":null}]}}}]}]},{\"name\":\"state\",\"type\":[\"null\",\"string\"],\"default\":null,\"doc\":\"The machine's state after this window: ok, at-risk (an alert is open), warming-up (learning its normal), off (it draws no current). Null from older writers.\"},{\"name\":\"deviation\",\"default\":null,\"type\":[\"null\",{\"type\":\"record\",\"name\":\"Deviation\",\"doc\":\"The per-machine detector: how far the window is from the machine's own learned normal.\",\"fields\":[{\"name\":\"score\",\"type\":\"double\",\"doc\":\"The largest channel's EWMA residual over its control limit: above the threshold is a deviation.\"},{\"name\":\"threshold\",\"type\":\"double\"},{\"name\":\"modelName\",\"type\":\"string\"},{\"name\":\"modelVersion\",\"type\":\"string\"},{\"name\":\"drivers\",\"type\":{\"type\":\"array\",\"items\":{\"type\":\"record\",\"name\":\"Driver\",\"doc\":\"A channel that drove a decision, with its share.\",\"fields\":[{\"name\":\"channel\",\"type\":\"string\",\"doc\":\"<feature>.<stat>, e.g. tempA.mean.\"},{\"name\":\"contribution\",\"type\":\"double\",\"doc\":\"Share of the decision this channel carries, 0 to 1.\"},{\"name\":\"value\",\"type\":[\"null\",\"double\"],\"default\":null,\"doc\":\"The channel's value in the window.\"},{\"name\":\"expected\",\"type\":[\"null\",\"double\"],\"default\":null,\"doc\":\"What the machine's own normal expected instead.\"}]}},\"default\":[]}]}]}]}";
    export const MachineAssessmentName = "io.pdmstream.v1.MachineAssessment";
    /**
     * What the inference processor made of one final window of one machine: its anomaly score and its forecast of the coming windows, or why it could not assess the machine yet. One record per machine and window, whether or not an alert changed.
     */
    export interface MachineAssessment {
        machineId: string;
        /**
         * Start of the window the assessment was made on.
         */
        windowStart: number;
        /**
         * End of that window: the forecast starts here.
         */
        windowEnd: number;
        /**
         * Why the machine could not be assessed by every model yet (too little history), or null.
         *
         * Default: null
         */
        warmingUp: null | string;
        /**
         * Default: null
         */
        anomaly: null | IoPdmstreamV1.AnomalyScore;
        /**
         * Default: null
         */
        forecast: null | IoPdmstreamV1.Forecast;
        /**
         * The machine's state after this window: ok, at-risk (an alert is open), warming-up (learning its normal), off (it draws no current). Null from older writers.
         *
         * Default: null
         */
        state: null | string;
        /**
         * Default: null
         */
        deviation: null | IoPdmstreamV1.Deviation;
    }
}
