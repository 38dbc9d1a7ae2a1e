package io.pdmstream.bench;

import java.util.Arrays;
import java.util.List;
import org.apache.avro.generic.GenericRecord;

/**
 * One machine's readings in one window, as the Kafka Streams aggregator builds it: the distinct
 * event times seen (a second reading with the same machine and timestamp is a duplicate and counts
 * once, features included) and, per feature, Welford's running moments. Null features are skipped.
 * Mutable: the aggregator updates it in place and the store serializes it (WindowAggregateSerde).
 */
final class WindowAggregate {
  /** The six sensor features, in the order of window-features.avsc. */
  static final List<String> FEATURES = List.of("current", "accX", "accY", "accZ", "tempA", "tempB");

  /** Event times counted so far, ascending; `size` of them are in use. */
  long[] timestamps;
  int size;
  final Moments[] features;

  WindowAggregate() {
    this(new long[8], 0, newMoments());
  }

  WindowAggregate(long[] timestamps, int size, Moments[] features) {
    this.timestamps = timestamps;
    this.size = size;
    this.features = features;
  }

  private static Moments[] newMoments() {
    Moments[] moments = new Moments[FEATURES.size()];
    for (int i = 0; i < moments.length; i++) moments[i] = new Moments();
    return moments;
  }

  /** Readings in the window, duplicates counted once. */
  long count() {
    return size;
  }

  WindowAggregate add(GenericRecord reading) {
    if (!insertTimestamp((Long) reading.get("timestamp"))) return this;
    for (int i = 0; i < features.length; i++) {
      Object value = reading.get(FEATURES.get(i));
      if (value != null) features[i].add((Double) value);
    }
    return this;
  }

  /** Inserts `t` unless present; false when it is a duplicate. Readings mostly come in order. */
  private boolean insertTimestamp(long t) {
    int at;
    if (size == 0 || t > timestamps[size - 1]) {
      at = size;
    } else {
      int found = Arrays.binarySearch(timestamps, 0, size, t);
      if (found >= 0) return false;
      at = -found - 1;
    }
    if (size == timestamps.length) timestamps = Arrays.copyOf(timestamps, Math.max(8, size * 2));
    System.arraycopy(timestamps, at, timestamps, at + 1, size - at);
    timestamps[at] = t;
    size++;
    return true;
  }

  /** Welford's running moments of one feature: stable over long windows. */
  static final class Moments {
    long n;
    double mean;
    double m2;
    double min = Double.POSITIVE_INFINITY;
    double max = Double.NEGATIVE_INFINITY;

    void add(double value) {
      n++;
      double delta = value - mean;
      mean += delta / n;
      m2 += delta * (value - mean);
      if (value < min) min = value;
      if (value > max) max = value;
    }

    /** Population standard deviation. */
    double stddev() {
      return Math.sqrt(Math.max(0, m2 / n));
    }
  }
}
