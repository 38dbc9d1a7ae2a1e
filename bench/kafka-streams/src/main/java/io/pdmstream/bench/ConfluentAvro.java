package io.pdmstream.bench;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.function.Function;
import org.apache.avro.Schema;
import org.apache.avro.generic.GenericDatumReader;
import org.apache.avro.generic.GenericDatumWriter;
import org.apache.avro.generic.GenericRecord;
import org.apache.avro.io.BinaryDecoder;
import org.apache.avro.io.BinaryEncoder;
import org.apache.avro.io.DecoderFactory;
import org.apache.avro.io.EncoderFactory;
import org.apache.kafka.common.errors.SerializationException;
import org.apache.kafka.common.serialization.Deserializer;
import org.apache.kafka.common.serialization.Serde;
import org.apache.kafka.common.serialization.Serdes;
import org.apache.kafka.common.serialization.Serializer;

/**
 * Avro in the Confluent wire format (magic byte 0, 4-byte big-endian schema id, Avro binary)
 * without a registry client: Confluent's serdes are not on Maven Central. The writer schema of
 * the input is assumed to be our own file, and output ids are given by the caller, who registered
 * the schemas. Every instance is shared by all stream threads, so none keeps per-call state.
 */
final class ConfluentAvro {
  private static final byte MAGIC_BYTE = 0;
  private static final int HEADER_BYTES = 5;

  private ConfluentAvro() {}

  /** Reads the body with `writerSchema` and hands the Avro datum to `convert`. */
  static <T> Deserializer<T> deserializer(Schema writerSchema, Function<Object, T> convert) {
    GenericDatumReader<Object> reader = new GenericDatumReader<>(writerSchema);
    return (topic, data) -> {
      if (data == null) return null;
      if (data.length < HEADER_BYTES) throw new SerializationException("record of " + data.length + " bytes is shorter than the 5-byte wire-format header");
      if (data[0] != MAGIC_BYTE) throw new SerializationException("magic byte is " + data[0] + ", expected 0");
      try {
        BinaryDecoder decoder = DecoderFactory.get().binaryDecoder(data, HEADER_BYTES, data.length - HEADER_BYTES, null);
        Object datum = reader.read(null, decoder);
        if (!decoder.isEnd()) throw new SerializationException("trailing bytes after the " + writerSchema.getName() + " body");
        return convert.apply(datum);
      } catch (IOException | RuntimeException e) {
        if (e instanceof SerializationException s) throw s;
        throw new SerializationException("body does not decode as " + writerSchema.getName() + ": " + e, e);
      }
    };
  }

  static Serializer<GenericRecord> serializer(Schema schema, int schemaId) {
    GenericDatumWriter<GenericRecord> writer = new GenericDatumWriter<>(schema);
    return (topic, record) -> {
      if (record == null) return null;
      ByteArrayOutputStream out = new ByteArrayOutputStream(256);
      out.writeBytes(ByteBuffer.allocate(HEADER_BYTES).put(MAGIC_BYTE).putInt(schemaId).array());
      try {
        BinaryEncoder encoder = EncoderFactory.get().directBinaryEncoder(out, null);
        writer.write(record, encoder);
      } catch (IOException | RuntimeException e) {
        throw new SerializationException("cannot encode " + schema.getName() + ": " + e, e);
      }
      return out.toByteArray();
    };
  }

  static Serde<GenericRecord> outputSerde(Schema schema, int schemaId) {
    return Serdes.serdeFrom(serializer(schema, schemaId), (topic, data) -> {
      throw new UnsupportedOperationException("output records are never read back");
    });
  }

  /** For the source topic: the topology has no repartition, so input records are never re-written. */
  static <T> Serde<T> inputSerde(Deserializer<T> deserializer) {
    return Serdes.serdeFrom((topic, value) -> {
      throw new UnsupportedOperationException("input records are never re-serialized");
    }, deserializer);
  }
}
