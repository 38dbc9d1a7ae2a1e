// Generated from schemas/alert-event.avsc by `npm run generate`. Do not edit.
/* eslint-disable @typescript-eslint/no-namespace */

export type AlertEvent = IoPdmstreamV1.AlertEvent;

export namespace IoPdmstreamV1 {
    export const AlertStatusSchema = "{\"type\":\"enum\",\"name\":\"AlertStatus\",\"symbols\":[\"FIRING\",\"RESOLVED\"]}";
    export const AlertStatusName = "io.pdmstream.v1.AlertStatus";
    export type AlertStatus = "FIRING" | "RESOLVED";
    export const AlertSeveritySchema = "{\"type\":\"enum\",\"name\":\"AlertSeverity\",\"symbols\":[\"INFO\",\"WARNING\",\"CRITICAL\"]}";
    export const AlertSeverityName = "io.pdmstream.v1.AlertSeverity";
    export type AlertSeverity = "INFO" | "WARNING" | "CRITICAL";
    export const AlertKindSchema = "{\"type\":\"enum\",\"name\":\"AlertKind\",\"symbols\":[\"FORECAST_BREACH\",\"ANOMALY\",\"OTHER\",\"DEVIATION\"],\"default\":\"OTHER\"}";
    export const AlertKindName = "io.pdmstream.v1.AlertKind";
    export type AlertKind = "FORECAST_BREACH" | "ANOMALY" | "OTHER" | "DEVIATION";
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
    export const AlertEventSchema = "{\"type\":\"record\",\"name\":\"AlertEvent\",\"namespace\":\"io.pdmstream.v1\",\"doc\":\"One transition of an alert: FIRING when a machine is at risk, RESOLVED when it has recovered.\",\"fields\":[{\"name\":\"alertId\",\"type\":\"string\",\"doc\":\"Unique id of this transition.\"},{\"name\":\"dedupKey\",\"type\":\"string\",\"doc\":\"Stable per machine and condition: every transition of one alert shares it.\"},{\"name\":\"machineId\",\"type\":\"string\"},{\"name\":\"status\",\"type\":{\"type\":\"enum\",\"name\":\"AlertStatus\",\"symbols\":[\"FIRING\",\"RESOLVED\"]}},{\"name\":\"severity\",\"type\":{\"type\":\"enum\",\"name\":\"AlertSeverity\",\"symbols\":[\"INFO\",\"WARNING\",\"CRITICAL\"]}},{\"name\":\"kind\",\"doc\":\"What raised it: FORECAST_BREACH (a forecast crosses a limit), ANOMALY (the fleet detector), DEVIATION (the machine left its own learned normal). Readers on an older schema see OTHER for a kind added later.\",\"type\":{\"type\":\"enum\",\"name\":\"AlertKind\",\"symbols\":[\"FORECAST_BREACH\",\"ANOMALY\",\"OTHER\",\"DEVIATION\"],\"default\":\"OTHER\"}},{\"name\":\"feature\",\"type\":[\"null\",\"string\"],\"default\":null,\"doc\":\"The feature concerned (current, accX, ...), when one is.\"},{\"name\":\"windowEnd\",\"type\":{\"type\":\"long\",\"logicalType\":\"timestamp-millis\"},\"doc\":\"End of the window the decision was made on.\"},{\"name\":\"predictedBreachAt\",\"type\":[\"null\",{\"type\":\"long\",\"logicalType\":\"timestamp-millis\"}],\"default\":null},{\"name\":\"score\",\"type\":\"double\",\"doc\":\"Anomaly score, or forecast value at the breach.\"},{\"name\":\"threshold\",\"type\":\"double\"},{\"name\":\"modelName\",\"type\":\"string\"},{\"name\":\"modelVersion\",\"type\":\"string\"},{\"name\":\"message\",\"type\":\"string\",\"doc\":\"One sentence for people.\"},{\"name\":\"createdAt\",\"type\":{\"type\":\"long\",\"logicalType\":\"timestamp-millis\"}},{\"name\":\"drivers\",\"type\":{\"type\":\"array\",\"items\":{\"type\":\"record\",\"name\":\"Driver\",\"doc\":\"A channel that drove a decision, with its share.\",\"fields\":[{\"name\":\"channel\",\"type\":\"string\",\"doc\":\"<feature>.<stat>, e.g. tempA.mean.\"},{\"name\":\"contribution\",\"type\":\"double\",\"doc\":\"Share of the decision this channel carries, 0 to 1.\"},{\"name\":\"value\",\"type\":[\"null\",\"double\"],\"default\":null,\"doc\":\"The channel's value in the window.\"},{\"name\":\"expected\",\"type\":[\"null\",\"double\"],\"default\":null,\"doc\":\"What the machine's own normal expected instead.\"}]}},\"default\":[],\"doc\":\"The channels that drove this transition, strongest first, so an engineer knows where to look.\"}]}";
    export const AlertEventName = "io.pdmstream.v1.AlertEvent";
    /**
     * One transition of an alert: FIRING when a machine is at risk, RESOLVED when it has recovered.
     */
    export interface AlertEvent {
        /**
         * Unique id of this transition.
         */
        alertId: string;
        /**
         * Stable per machine and condition: every transition of one alert shares it.
         */
        dedupKey: string;
        machineId: string;
        status: IoPdmstreamV1.AlertStatus;
        severity: IoPdmstreamV1.AlertSeverity;
        /**
         * What raised it: FORECAST_BREACH (a forecast crosses a limit), ANOMALY (the fleet detector), DEVIATION (the machine left its own learned normal). Readers on an older schema see OTHER for a kind added later.
         */
        kind: IoPdmstreamV1.AlertKind;
        /**
         * The feature concerned (current, accX, ...), when one is.
         *
         * Default: null
         */
        feature: null | string;
        /**
         * End of the window the decision was made on.
         */
        windowEnd: number;
        /**
         * Default: null
         */
        predictedBreachAt: null | number;
        /**
         * Anomaly score, or forecast value at the breach.
         */
        score: number;
        threshold: number;
        modelName: string;
        modelVersion: string;
        /**
         * One sentence for people.
         */
        message: string;
        createdAt: number;
        /**
         * The channels that drove this transition, strongest first, so an engineer knows where to look.
         *
         * Default: []
         */
        drivers: IoPdmstreamV1.Driver[];
    }
}
