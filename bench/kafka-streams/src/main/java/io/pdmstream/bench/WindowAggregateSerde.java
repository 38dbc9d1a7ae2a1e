package io.pdmstream.bench;

import java.nio.ByteBuffer;
import java.util.Arrays;
import org.apache.kafka.common.errors.SerializationException;
import org.apache.kafka.common.serialization.Deserializer;
import org.apache.kafka.common.serialization.Serde;
import org.apache.kafka.common.serialization.Serializer;

/**
 * The aggregate in the window store, its changelog and the suppression buffer. The timestamp set
 * dominates the size, so it is written as deltas in varints (a reading every few seconds costs two
 * bytes, not eight). Layout:
 *
 * <pre>
 *   version (1 byte, = 1)
 *   timestamp count (varint), first timestamp (zigzag varlong), then each gap to the previous (varlong)
 *   per feature, in FEATURES order: n (varlong), and when n > 0: mean, m2, min, max (8-byte doubles)
 * </pre>
 */
final class WindowAggregateSerde implements Serde<WindowAggregate> {
  private static final byte VERSION = 1;

  @Override
  public Serializer<WindowAggregate> serializer() {
    return (topic, aggregate) -> aggregate == null ? null : write(aggregate);
  }

  @Override
  public Deserializer<WindowAggregate> deserializer() {
    return (topic, data) -> {
      if (data == null) return null;
      try {
        return read(ByteBuffer.wrap(data));
      } catch (RuntimeException e) {
        throw new SerializationException("corrupt window aggregate of " + data.length + " bytes", e);
      }
    };
  }

  static byte[] write(WindowAggregate aggregate) {
    int bound = 1 + 5 + aggregate.size * 10 + aggregate.features.length * (10 + 4 * 8);
    ByteBuffer out = ByteBuffer.allocate(bound);
    out.put(VERSION);
    putVarLong(out, aggregate.size);
    for (int i = 0; i < aggregate.size; i++) {
      if (i == 0) putVarLong(out, zigzag(aggregate.timestamps[0]));
      else putVarLong(out, aggregate.timestamps[i] - aggregate.timestamps[i - 1]);
    }
    for (WindowAggregate.Moments m : aggregate.features) {
      putVarLong(out, m.n);
      if (m.n > 0) out.putDouble(m.mean).putDouble(m.m2).putDouble(m.min).putDouble(m.max);
    }
    return Arrays.copyOf(out.array(), out.position());
  }

  static WindowAggregate read(ByteBuffer in) {
    byte version = in.get();
    if (version != VERSION) throw new IllegalStateException("unknown aggregate version " + version);
    int size = Math.toIntExact(getVarLong(in));
    long[] timestamps = new long[Math.max(8, size)];
    for (int i = 0; i < size; i++) timestamps[i] = i == 0 ? unzigzag(getVarLong(in)) : timestamps[i - 1] + getVarLong(in);
    WindowAggregate.Moments[] features = new WindowAggregate.Moments[WindowAggregate.FEATURES.size()];
    for (int f = 0; f < features.length; f++) {
      WindowAggregate.Moments m = new WindowAggregate.Moments();
      m.n = getVarLong(in);
      if (m.n > 0) {
        m.mean = in.getDouble();
        m.m2 = in.getDouble();
        m.min = in.getDouble();
        m.max = in.getDouble();
      }
      features[f] = m;
    }
    if (in.hasRemaining()) throw new IllegalStateException(in.remaining() + " trailing bytes");
    return new WindowAggregate(timestamps, size, features);
  }

  private static long zigzag(long v) {
    return (v << 1) ^ (v >> 63);
  }

  private static long unzigzag(long v) {
    return (v >>> 1) ^ -(v & 1);
  }

  private static void putVarLong(ByteBuffer out, long v) {
    while ((v & ~0x7FL) != 0) {
      out.put((byte) ((v & 0x7F) | 0x80));
      v >>>= 7;
    }
    out.put((byte) v);
  }

  private static long getVarLong(ByteBuffer in) {
    long v = 0;
    for (int shift = 0; shift < 64; shift += 7) {
      byte b = in.get();
      v |= (long) (b & 0x7F) << shift;
      if ((b & 0x80) == 0) return v;
    }
    throw new IllegalStateException("varint longer than 10 bytes");
  }
}
