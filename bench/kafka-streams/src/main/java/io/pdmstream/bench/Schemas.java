package io.pdmstream.bench;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.apache.avro.Schema;

/** The records of the job, parsed from schemas/*.avsc, the project's source of truth. */
record Schemas(Schema machineId, Schema sensorReading, Schema windowKey, Schema windowFeatures) {

  static Schemas load(Path dir) {
    return new Schemas(
        parse(dir.resolve("machine-id.avsc")),
        parse(dir.resolve("sensor-reading.avsc")),
        parse(dir.resolve("window-key.avsc")),
        parse(dir.resolve("window-features.avsc")));
  }

  /** FeatureStats is declared once, inside WindowFeatures' first feature field. */
  Schema featureStats() {
    return windowFeatures.getField(WindowAggregate.FEATURES.get(0)).schema();
  }

  private static Schema parse(Path file) {
    try {
      // One parser per file: each file is self-contained, and a shared parser would refuse a
      // name declared twice.
      return new Schema.Parser().parse(Files.readString(file));
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read schema " + file, e);
    }
  }
}
