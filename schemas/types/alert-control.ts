// Generated from schemas/alert-control.avsc by `npm run generate`. Do not edit.
/* eslint-disable @typescript-eslint/no-namespace */

export type AlertControl = IoPdmstreamV1.AlertControl;

export namespace IoPdmstreamV1 {
    export const AlertActionSchema = "{\"type\":\"enum\",\"name\":\"AlertAction\",\"symbols\":[\"ACK\",\"SILENCE\",\"UNSILENCE\",\"UNKNOWN\"],\"default\":\"UNKNOWN\"}";
    export const AlertActionName = "io.pdmstream.v1.AlertAction";
    export type AlertAction = "ACK" | "SILENCE" | "UNSILENCE" | "UNKNOWN";
    export const AlertControlSchema = "{\"type\":\"record\",\"name\":\"AlertControl\",\"namespace\":\"io.pdmstream.v1\",\"doc\":\"An operator's action on alert mail: acknowledge an alert, silence a machine or an alert kind for a time, end a silence early. Applied live by the email sink; the topic is the audit trail: who did what, when, and why.\",\"fields\":[{\"name\":\"requestId\",\"type\":\"string\",\"doc\":\"A UUID, unique per action. A SILENCE is known by it (its silence id).\"},{\"name\":\"action\",\"doc\":\"What to do. ACK: no more reminders for the alert's firing episode (its resolution is still mailed). SILENCE: hold the mail of the machines and kinds it names from startsAt to endsAt. UNSILENCE: end the silence silenceId now. Readers on an older schema see UNKNOWN for an action added later, and ignore it.\",\"type\":{\"type\":\"enum\",\"name\":\"AlertAction\",\"symbols\":[\"ACK\",\"SILENCE\",\"UNSILENCE\",\"UNKNOWN\"],\"default\":\"UNKNOWN\"}},{\"name\":\"machineId\",\"type\":[\"null\",\"string\"],\"default\":null,\"doc\":\"ACK: the alert's machine. SILENCE: a machine id or a glob pattern (* any characters; * alone is every machine); null with a kind: that kind on every machine. UNSILENCE: the silence's pattern when the requester knows it, else null.\"},{\"name\":\"kind\",\"type\":[\"null\",\"string\"],\"default\":null,\"doc\":\"SILENCE: the alert kind it holds (an AlertEvent kind such as ANOMALY); null: every kind. A SILENCE names a machine, a kind, or both.\"},{\"name\":\"alertId\",\"type\":[\"null\",\"string\"],\"default\":null,\"doc\":\"ACK: the FIRING transition acknowledged; the acknowledgement holds for that firing episode, until the alert resolves.\"},{\"name\":\"dedupKey\",\"type\":[\"null\",\"string\"],\"default\":null,\"doc\":\"ACK: the alert's dedup key, which the acknowledgement applies to.\"},{\"name\":\"silenceId\",\"type\":[\"null\",\"string\"],\"default\":null,\"doc\":\"UNSILENCE: the requestId of the SILENCE it ends.\"},{\"name\":\"startsAt\",\"type\":[\"null\",{\"type\":\"long\",\"logicalType\":\"timestamp-millis\"}],\"default\":null,\"doc\":\"SILENCE: when it begins (inclusive).\"},{\"name\":\"endsAt\",\"type\":[\"null\",{\"type\":\"long\",\"logicalType\":\"timestamp-millis\"}],\"default\":null,\"doc\":\"SILENCE: when it ends (exclusive), unless an UNSILENCE ends it earlier.\"},{\"name\":\"requestedBy\",\"type\":\"string\",\"doc\":\"Who acted: a person (user@host, a name) or a service.\"},{\"name\":\"requestedAt\",\"type\":{\"type\":\"long\",\"logicalType\":\"timestamp-millis\"},\"doc\":\"When they acted, by the requester's clock; an UNSILENCE ends its silence at this time.\"},{\"name\":\"reason\",\"type\":[\"null\",\"string\"],\"default\":null,\"doc\":\"Why, in the requester's words (a SILENCE always has one).\"}]}";
    export const AlertControlName = "io.pdmstream.v1.AlertControl";
    /**
     * An operator's action on alert mail: acknowledge an alert, silence a machine or an alert kind for a time, end a silence early. Applied live by the email sink; the topic is the audit trail: who did what, when, and why.
     */
    export interface AlertControl {
        /**
         * A UUID, unique per action. A SILENCE is known by it (its silence id).
         */
        requestId: string;
        /**
         * What to do. ACK: no more reminders for the alert's firing episode (its resolution is still mailed). SILENCE: hold the mail of the machines and kinds it names from startsAt to endsAt. UNSILENCE: end the silence silenceId now. Readers on an older schema see UNKNOWN for an action added later, and ignore it.
         */
        action: IoPdmstreamV1.AlertAction;
        /**
         * ACK: the alert's machine. SILENCE: a machine id or a glob pattern (* any characters; * alone is every machine); null with a kind: that kind on every machine. UNSILENCE: the silence's pattern when the requester knows it, else null.
         *
         * Default: null
         */
        machineId: null | string;
        /**
         * SILENCE: the alert kind it holds (an AlertEvent kind such as ANOMALY); null: every kind. A SILENCE names a machine, a kind, or both.
         *
         * Default: null
         */
        kind: null | string;
        /**
         * ACK: the FIRING transition acknowledged; the acknowledgement holds for that firing episode, until the alert resolves.
         *
         * Default: null
         */
        alertId: null | string;
        /**
         * ACK: the alert's dedup key, which the acknowledgement applies to.
         *
         * Default: null
         */
        dedupKey: null | string;
        /**
         * UNSILENCE: the requestId of the SILENCE it ends.
         *
         * Default: null
         */
        silenceId: null | string;
        /**
         * SILENCE: when it begins (inclusive).
         *
         * Default: null
         */
        startsAt: null | number;
        /**
         * SILENCE: when it ends (exclusive), unless an UNSILENCE ends it earlier.
         *
         * Default: null
         */
        endsAt: null | number;
        /**
         * Who acted: a person (user@host, a name) or a service.
         */
        requestedBy: string;
        /**
         * When they acted, by the requester's clock; an UNSILENCE ends its silence at this time.
         */
        requestedAt: number;
        /**
         * Why, in the requester's words (a SILENCE always has one).
         *
         * Default: null
         */
        reason: null | string;
    }
}
