package io.pdmstream.bench;

import org.apache.avro.generic.GenericRecord;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.streams.processor.TimestampExtractor;

/** Event time is the reading's own `timestamp` (epoch ms), never the Kafka record's. Stateless. */
public final class ReadingTimestampExtractor implements TimestampExtractor {
  @Override
  public long extract(ConsumerRecord<Object, Object> record, long partitionTime) {
    // A tombstone has no event time; it keeps the partition's, and the aggregation skips it.
    if (record.value() instanceof GenericRecord reading) return (Long) reading.get("timestamp");
    return partitionTime;
  }
}
