// Generated from schemas/window-key.avsc by `npm run generate`. Do not edit.
/* eslint-disable @typescript-eslint/no-namespace */

export type WindowKey = IoPdmstreamV1.WindowKey;

export namespace IoPdmstreamV1 {
    export const WindowKeySchema = "{\"type\":\"record\",\"name\":\"WindowKey\",\"namespace\":\"io.pdmstream.v1\",\"doc\":\"Key of pdm.window-features.v1: one machine's one window, so compaction keeps one record per window.\",\"fields\":[{\"name\":\"machineId\",\"type\":\"string\"},{\"name\":\"windowStart\",\"type\":{\"type\":\"long\",\"logicalType\":\"timestamp-millis\"}}]}";
    export const WindowKeyName = "io.pdmstream.v1.WindowKey";
    /**
     * Key of pdm.window-features.v1: one machine's one window, so compaction keeps one record per window.
     */
    export interface WindowKey {
        machineId: string;
        windowStart: number;
    }
}
