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
    export const AlertKindSchema = "{\"type\":\"enum\",\"name\":\"AlertKind\",\"symbols\":[\"FORECAST_BREACH\",\"ANOMALY\",\"OTHER\"],\"default\":\"OTHER\"}";
    export const AlertKindName = "io.pdmstream.v1.AlertKind";
    export type AlertKind = "FORECAST_BREACH" | "ANOMALY" | "OTHER";
    export const AlertEventSchema = "{\"type\":\"record\",\"name\":\"AlertEvent\",\"namespace\":\"io.pdmstream.v1\",\"doc\":\"One transition of an alert: FIRING when a machine is at risk, RESOLVED when it has recovered.\",\"fields\":[{\"name\":\"alertId\",\"type\":\"string\",\"doc\":\"Unique id of this transition.\"},{\"name\":\"dedupKey\",\"type\":\"string\",\"doc\":\"Stable per machine and condition: every transition of one alert shares it.\"},{\"name\":\"machineId\",\"type\":\"string\"},{\"name\":\"status\",\"type\":{\"type\":\"enum\",\"name\":\"AlertStatus\",\"symbols\":[\"FIRING\",\"RESOLVED\"]}},{\"name\":\"severity\",\"type\":{\"type\":\"enum\",\"name\":\"AlertSeverity\",\"symbols\":[\"INFO\",\"WARNING\",\"CRITICAL\"]}},{\"name\":\"kind\",\"doc\":\"What raised it. Readers on an older schema see OTHER for a kind added later.\",\"type\":{\"type\":\"enum\",\"name\":\"AlertKind\",\"symbols\":[\"FORECAST_BREACH\",\"ANOMALY\",\"OTHER\"],\"default\":\"OTHER\"}},{\"name\":\"feature\",\"type\":[\"null\",\"string\"],\"default\":null,\"doc\":\"The feature concerned (current, accX, ...), when one is.\"},{\"name\":\"windowEnd\",\"type\":{\"type\":\"long\",\"logicalType\":\"timestamp-millis\"},\"doc\":\"End of the window the decision was made on.\"},{\"name\":\"predictedBreachAt\",\"type\":[\"null\",{\"type\":\"long\",\"logicalType\":\"timestamp-millis\"}],\"default\":null},{\"name\":\"score\",\"type\":\"double\",\"doc\":\"Anomaly score, or forecast value at the breach.\"},{\"name\":\"threshold\",\"type\":\"double\"},{\"name\":\"modelName\",\"type\":\"string\"},{\"name\":\"modelVersion\",\"type\":\"string\"},{\"name\":\"message\",\"type\":\"string\",\"doc\":\"One sentence for people.\"},{\"name\":\"createdAt\",\"type\":{\"type\":\"long\",\"logicalType\":\"timestamp-millis\"}}]}";
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
         * What raised it. Readers on an older schema see OTHER for a kind added later.
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
    }
}
