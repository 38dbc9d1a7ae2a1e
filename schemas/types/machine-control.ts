// Generated from schemas/machine-control.avsc by `npm run generate`. Do not edit.
/* eslint-disable @typescript-eslint/no-namespace */

export type MachineControl = IoPdmstreamV1.MachineControl;

export namespace IoPdmstreamV1 {
    export const MachineActionSchema = "{\"type\":\"enum\",\"name\":\"MachineAction\",\"symbols\":[\"RELEARN\",\"UNKNOWN\"],\"default\":\"UNKNOWN\"}";
    export const MachineActionName = "io.pdmstream.v1.MachineAction";
    export type MachineAction = "RELEARN" | "UNKNOWN";
    export const MachineControlSchema = "{\"type\":\"record\",\"name\":\"MachineControl\",\"namespace\":\"io.pdmstream.v1\",\"doc\":\"An operator's request about one machine, applied by the inference processor. The topic is the audit trail: who asked what, when, and why.\",\"fields\":[{\"name\":\"requestId\",\"type\":\"string\",\"doc\":\"A UUID, unique per request.\"},{\"name\":\"machineId\",\"type\":\"string\"},{\"name\":\"action\",\"doc\":\"What to do. RELEARN forgets the machine's learned baseline; it is learned again from its next windows, with alerts quiet meanwhile. Readers on an older schema see UNKNOWN for an action added later, and ignore it.\",\"type\":{\"type\":\"enum\",\"name\":\"MachineAction\",\"symbols\":[\"RELEARN\",\"UNKNOWN\"],\"default\":\"UNKNOWN\"}},{\"name\":\"requestedBy\",\"type\":\"string\",\"doc\":\"Who asked: a person (user@host) or a service.\"},{\"name\":\"requestedAt\",\"type\":{\"type\":\"long\",\"logicalType\":\"timestamp-millis\"},\"doc\":\"When they asked, by the requester's clock.\"},{\"name\":\"reason\",\"type\":[\"null\",\"string\"],\"default\":null,\"doc\":\"Why, in the requester's words.\"}]}";
    export const MachineControlName = "io.pdmstream.v1.MachineControl";
    /**
     * An operator's request about one machine, applied by the inference processor. The topic is the audit trail: who asked what, when, and why.
     */
    export interface MachineControl {
        /**
         * A UUID, unique per request.
         */
        requestId: string;
        machineId: string;
        /**
         * What to do. RELEARN forgets the machine's learned baseline; it is learned again from its next windows, with alerts quiet meanwhile. Readers on an older schema see UNKNOWN for an action added later, and ignore it.
         */
        action: IoPdmstreamV1.MachineAction;
        /**
         * Who asked: a person (user@host) or a service.
         */
        requestedBy: string;
        /**
         * When they asked, by the requester's clock.
         */
        requestedAt: number;
        /**
         * Why, in the requester's words.
         *
         * Default: null
         */
        reason: null | string;
    }
}
