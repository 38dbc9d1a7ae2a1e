// Generated from schemas/machine-assessment-v2.avsc by `npm run generate`. Do not edit.
/* eslint-disable @typescript-eslint/no-namespace */

export type MachineAssessment = IoPdmstreamV2.MachineAssessment;

export namespace IoPdmstreamV2 {
    export const AnomalyScoreSchema = "{\"type\":\"record\",\"name\":\"AnomalyScore\",\"fields\":[{\"name\":\"score\",\"type\":\"double\"},{\"name\":\"threshold\",\"type\":\"double\",\"doc\":\"A score above it is anomalous.\"},{\"name\":\"modelName\",\"type\":\"string\"},{\"name\":\"modelVersion\",\"type\":\"string\"}]}";
    export const AnomalyScoreName = "io.pdmstream.v2.AnomalyScore";
    export interface AnomalyScore {
        score: number;
        /**
         * A score above it is anomalous.
         */
        threshold: number;
        modelName: string;
        modelVersion: string;
    }
    export const ForecastSeriesSchema = "{\"type\":\"record\",\"name\":\"ForecastSeries\",\"fields\":[{\"name\":\"feature\",\"type\":\"string\"},{\"name\":\"mean\",\"type\":{\"type\":\"array\",\"items\":\"float\"},\"doc\":\"One value per step, as the model computed it (float32).\"},{\"name\":\"lower\",\"type\":{\"type\":\"array\",\"items\":\"float\"},\"doc\":\"Lower edge of the 90 % prediction interval, per step.\"},{\"name\":\"upper\",\"type\":{\"type\":\"array\",\"items\":\"float\"},\"doc\":\"Upper edge of the 90 % prediction interval, per step.\"},{\"name\":\"limitLower\",\"type\":[\"null\",\"double\"],\"default\":null},{\"name\":\"limitUpper\",\"type\":[\"null\",\"double\"],\"default\":null}]}";
    export const ForecastSeriesName = "io.pdmstream.v2.ForecastSeries";
    export interface ForecastSeries {
        feature: string;
        /**
         * One value per step, as the model computed it (float32).
         */
        mean: number[];
        /**
         * Lower edge of the 90 % prediction interval, per step.
         */
        lower: number[];
        /**
         * Upper edge of the 90 % prediction interval, per step.
         */
        upper: number[];
        /**
         * Default: null
         */
        limitLower: null | number;
        /**
         * Default: null
         */
        limitUpper: null | number;
    }
    export const ForecastSchema = "{\"type\":\"record\",\"name\":\"Forecast\",\"fields\":[{\"name\":\"modelName\",\"type\":\"string\"},{\"name\":\"modelVersion\",\"type\":\"string\"},{\"name\":\"stepMillis\",\"type\":\"long\",\"doc\":\"Length of a forecast step (the window size): step h of every series is the window starting at windowEnd + h \u00D7 stepMillis.\"},{\"name\":\"series\",\"doc\":\"Per feature: the point forecast of the window mean at each step, its prediction interval and the limits in force.\",\"type\":{\"type\":\"array\",\"items\":{\"type\":\"record\",\"name\":\"ForecastSeries\",\"fields\":[{\"name\":\"feature\",\"type\":\"string\"},{\"name\":\"mean\",\"type\":{\"type\":\"array\",\"items\":\"float\"},\"doc\":\"One value per step, as the model computed it (float32).\"},{\"name\":\"lower\",\"type\":{\"type\":\"array\",\"items\":\"float\"},\"doc\":\"Lower edge of the 90 % prediction interval, per step.\"},{\"name\":\"upper\",\"type\":{\"type\":\"array\",\"items\":\"float\"},\"doc\":\"Upper edge of the 90 % prediction interval, per step.\"},{\"name\":\"limitLower\",\"type\":[\"null\",\"double\"],\"default\":null},{\"name\":\"limitUpper\",\"type\":[\"null\",\"double\"],\"default\":null}]}}}]}";
    export const ForecastName = "io.pdmstream.v2.Forecast";
    export interface Forecast {
        modelName: string;
        modelVersion: string;
        /**
         * Length of a forecast step (the window size): step h of every series is the window starting at windowEnd + h × stepMillis.
         */
        stepMillis: number;
        /**
         * Per feature: the point forecast of the window mean at each step, its prediction interval and the limits in force.
         */
        series: IoPdmstreamV2.ForecastSeries[];
    }
    export const DriverSchema = "{\"type\":\"record\",\"name\":\"Driver\",\"doc\":\"A channel that drove a decision, with its share.\",\"fields\":[{\"name\":\"channel\",\"type\":\"string\",\"doc\":\"<feature>.<stat>, e.g. tempA.mean.\"},{\"name\":\"contribution\",\"type\":\"double\",\"doc\":\"Share of the decision this channel carries, 0 to 1.\"},{\"name\":\"value\",\"type\":[\"null\",\"double\"],\"default\":null,\"doc\":\"The channel's value in the window.\"},{\"name\":\"expected\",\"type\":[\"null\",\"double\"],\"default\":null,\"doc\":\"What the machine's own normal expected instead.\"}]}";
    export const DriverName = "io.pdmstream.v2.Driver";
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
    export const DeviationName = "io.pdmstream.v2.Deviation";
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
        drivers: IoPdmstreamV2.Driver[];
    }
    export const MachineAssessmentSchema = "{\"type\":\"record\",\"name\":\"MachineAssessment\",\"namespace\":\"io.pdmstream.v2\",\"doc\":\"What the inference processor made of one final window of one machine: its anomaly score and its forecast of the coming windows, or why it could not assess the machine yet. One record per machine and window, whether or not an alert changed. Version 2 of pdm.assessments.v1's record: the forecast is a series per feature (arrays over the steps), not a record per feature and step.\",\"fields\":[{\"name\":\"machineId\",\"type\":\"string\"},{\"name\":\"windowStart\",\"type\":{\"type\":\"long\",\"logicalType\":\"timestamp-millis\"},\"doc\":\"Start of the window the assessment was made on.\"},{\"name\":\"windowEnd\",\"type\":{\"type\":\"long\",\"logicalType\":\"timestamp-millis\"},\"doc\":\"End of that window: the forecast starts here.\"},{\"name\":\"warmingUp\",\"type\":[\"null\",\"string\"],\"default\":null,\"doc\":\"Why the machine could not be assessed by every model yet (too little history), or null.\"},{\"name\":\"anomaly\",\"default\":null,\"type\":[\"null\",{\"type\":\"record\",\"name\":\"AnomalyScore\",\"fields\":[{\"name\":\"score\",\"type\":\"double\"},{\"name\":\"threshold\",\"type\":\"double\",\"doc\":\"A score above it is anomalous.\"},{\"name\":\"modelName\",\"type\":\"string\"},{\"name\":\"modelVersion\",\"type\":\"string\"}]}]},{\"name\":\"forecast\",\"default\":null,\"type\":[\"null\",{\"type\":\"record\",\"name\":\"Forecast\",\"fields\":[{\"name\":\"modelName\",\"type\":\"string\"},{\"name\":\"modelVersion\",\"type\":\"string\"},{\"name\":\"stepMillis\",\"type\":\"long\",\"doc\":\"Length of a forecast step (the window size): step h of every series is the window starting at windowEnd + h \u00D7 stepMillis.\"},{\"name\":\"series\",\"doc\":\"Per feature: the point forecast of the window mean at each step, its prediction interval and the limits in force.\",\"type\":{\"type\":\"array\",\"items\":{\"type\":\"record\",\"name\":\"ForecastSeries\",\"fields\":[{\"name\":\"feature\",\"type\":\"string\"},{\"name\":\"mean\",\"type\":{\"type\":\"array\",\"items\":\"float\"},\"doc\":\"One value per step, as the model computed it (float32).\"},{\"name\":\"lower\",\"type\":{\"type\":\"array\",\"items\":\"float\"},\"doc\":\"Lower edge of the 90 % prediction interval, per step.\"},{\"name\":\"upper\",\"type\":{\"type\":\"array\",\"items\":\"float\"},\"doc\":\"Upper edge of the 90 % prediction interval, per step.\"},{\"name\":\"limitLower\",\"type\":[\"null\",\"double\"],\"default\":null},{\"name\":\"limitUpper\",\"type\":[\"null\",\"double\"],\"default\":null}]}}}]}]},{\"name\":\"state\",\"type\":[\"null\",\"string\"],\"default\":null,\"doc\":\"The machine's state after this window: ok, at-risk (an alert is open), warming-up (learning its normal), off (it draws no current). Null from older writers.\"},{\"name\":\"deviation\",\"default\":null,\"type\":[\"null\",{\"type\":\"record\",\"name\":\"Deviation\",\"doc\":\"The per-machine detector: how far the window is from the machine's own learned normal.\",\"fields\":[{\"name\":\"score\",\"type\":\"double\",\"doc\":\"The largest channel's EWMA residual over its control limit: above the threshold is a deviation.\"},{\"name\":\"threshold\",\"type\":\"double\"},{\"name\":\"modelName\",\"type\":\"string\"},{\"name\":\"modelVersion\",\"type\":\"string\"},{\"name\":\"drivers\",\"type\":{\"type\":\"array\",\"items\":{\"type\":\"record\",\"name\":\"Driver\",\"doc\":\"A channel that drove a decision, with its share.\",\"fields\":[{\"name\":\"channel\",\"type\":\"string\",\"doc\":\"<feature>.<stat>, e.g. tempA.mean.\"},{\"name\":\"contribution\",\"type\":\"double\",\"doc\":\"Share of the decision this channel carries, 0 to 1.\"},{\"name\":\"value\",\"type\":[\"null\",\"double\"],\"default\":null,\"doc\":\"The channel's value in the window.\"},{\"name\":\"expected\",\"type\":[\"null\",\"double\"],\"default\":null,\"doc\":\"What the machine's own normal expected instead.\"}]}},\"default\":[]}]}]}]}";
    export const MachineAssessmentName = "io.pdmstream.v2.MachineAssessment";
    /**
     * What the inference processor made of one final window of one machine: its anomaly score and its forecast of the coming windows, or why it could not assess the machine yet. One record per machine and window, whether or not an alert changed. Version 2 of pdm.assessments.v1's record: the forecast is a series per feature (arrays over the steps), not a record per feature and step.
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
        anomaly: null | IoPdmstreamV2.AnomalyScore;
        /**
         * Default: null
         */
        forecast: null | IoPdmstreamV2.Forecast;
        /**
         * The machine's state after this window: ok, at-risk (an alert is open), warming-up (learning its normal), off (it draws no current). Null from older writers.
         *
         * Default: null
         */
        state: null | string;
        /**
         * Default: null
         */
        deviation: null | IoPdmstreamV2.Deviation;
    }
}
