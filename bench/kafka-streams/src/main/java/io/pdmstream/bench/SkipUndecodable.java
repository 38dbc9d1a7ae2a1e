package io.pdmstream.bench;

import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.streams.errors.DeserializationExceptionHandler;
import org.apache.kafka.streams.errors.ErrorHandlerContext;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A record that does not decode is counted and skipped, and the first one is logged; Kafka
 * Streams' LogAndContinueExceptionHandler would log every one, which floods a bench with a bad
 * input. Kafka Streams makes one instance per thread, hence the static counter.
 */
public final class SkipUndecodable implements DeserializationExceptionHandler {
  private static final Logger LOG = LoggerFactory.getLogger(SkipUndecodable.class);
  private static final AtomicLong SKIPPED = new AtomicLong();

  static long skipped() {
    return SKIPPED.get();
  }

  @Override
  public DeserializationHandlerResponse handle(ErrorHandlerContext context, ConsumerRecord<byte[], byte[]> record, Exception exception) {
    if (SKIPPED.getAndIncrement() == 0) {
      LOG.warn("skipping undecodable record at {}-{}@{} (further ones are only counted): {}",
          context.topic(), context.partition(), context.offset(), exception.getMessage());
    }
    return DeserializationHandlerResponse.CONTINUE;
  }

  @Override
  public void configure(Map<String, ?> configs) {}
}
