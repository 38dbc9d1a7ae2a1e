package io.pdmstream.bench;

import org.apache.avro.Schema;
import org.apache.avro.generic.GenericData;
import org.apache.avro.generic.GenericRecord;
import org.apache.kafka.streams.kstream.Windowed;

/** A closed window as the output records: WindowKey and WindowFeatures, built on the parsed schemas. */
final class WindowOutput {
  private final Schemas schemas;
  private final Schema featureStats;

  WindowOutput(Schemas schemas) {
    this.schemas = schemas;
    this.featureStats = schemas.featureStats();
  }

  GenericRecord key(Windowed<String> window) {
    GenericRecord key = new GenericData.Record(schemas.windowKey());
    key.put("machineId", window.key());
    key.put("windowStart", window.window().start());
    return key;
  }

  GenericRecord features(Windowed<String> window, WindowAggregate aggregate) {
    GenericRecord value = new GenericData.Record(schemas.windowFeatures());
    value.put("machineId", window.key());
    value.put("windowStart", window.window().start());
    value.put("windowEnd", window.window().end());
    value.put("count", aggregate.count());
    for (int i = 0; i < aggregate.features.length; i++) value.put(WindowAggregate.FEATURES.get(i), stats(aggregate.features[i]));
    return value;
  }

  private GenericRecord stats(WindowAggregate.Moments m) {
    GenericRecord stats = new GenericData.Record(featureStats);
    stats.put("count", m.n);
    if (m.n > 0) {
      stats.put("mean", m.mean);
      stats.put("min", m.min);
      stats.put("max", m.max);
      stats.put("stddev", m.stddev());
    }
    return stats;
  }
}
