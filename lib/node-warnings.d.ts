export declare function silenceKnownWarnings(): void;
