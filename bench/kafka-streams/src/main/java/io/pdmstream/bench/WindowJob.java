package io.pdmstream.bench;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Comparator;
import java.util.Optional;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;
import java.util.stream.Stream;
import org.apache.avro.AvroRuntimeException;
import org.apache.avro.generic.GenericRecord;
import org.apache.kafka.common.serialization.Serde;
import org.apache.kafka.common.serialization.Serdes;
import org.apache.kafka.common.utils.Bytes;
import org.apache.kafka.streams.KafkaStreams;
import org.apache.kafka.streams.KeyValue;
import org.apache.kafka.streams.StreamsBuilder;
import org.apache.kafka.streams.Topology;
import org.apache.kafka.streams.errors.StreamsUncaughtExceptionHandler.StreamThreadExceptionResponse;
import org.apache.kafka.streams.kstream.Consumed;
import org.apache.kafka.streams.kstream.Grouped;
import org.apache.kafka.streams.kstream.Materialized;
import org.apache.kafka.streams.kstream.Named;
import org.apache.kafka.streams.kstream.Produced;
import org.apache.kafka.streams.kstream.Suppressed;
import org.apache.kafka.streams.kstream.Suppressed.BufferConfig;
import org.apache.kafka.streams.kstream.TimeWindows;
import org.apache.kafka.streams.state.WindowStore;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The window job written the way a Kafka Streams user would: readings keyed by machine id,
 * tumbling event-time windows with explicit grace, one final WindowFeatures per machine and
 * window (suppressed until the window closes). The comparison in `pdmctl bench window`.
 *
 * Stdout carries two lines for a harness to follow, `kstreams: RUNNING` and `kstreams: stopped`;
 * logs go to stderr.
 */
public final class WindowJob {
  private static final Logger LOG = LoggerFactory.getLogger(WindowJob.class);
  private static final Duration CLOSE_TIMEOUT = Duration.ofSeconds(60);

  private WindowJob() {}

  static Topology topology(JobOptions options, Schemas schemas) {
    Serde<String> machineIdSerde = ConfluentAvro.inputSerde(ConfluentAvro.deserializer(schemas.machineId(), Object::toString));
    Serde<GenericRecord> readingSerde = ConfluentAvro.inputSerde(ConfluentAvro.deserializer(schemas.sensorReading(), GenericRecord.class::cast));
    WindowOutput output = new WindowOutput(schemas);

    StreamsBuilder builder = new StreamsBuilder();
    builder
        .stream(options.inputTopic(), Consumed.with(machineIdSerde, readingSerde)
            .withTimestampExtractor(new ReadingTimestampExtractor())
            .withName("readings"))
        // Input is keyed by machine id already: no repartition topic.
        .groupByKey(Grouped.with(Serdes.String(), readingSerde))
        .windowedBy(TimeWindows.ofSizeAndGrace(Duration.ofMillis(options.windowSizeMs()), Duration.ofMillis(options.graceMs())))
        .aggregate(
            WindowAggregate::new,
            (machineId, reading, aggregate) -> aggregate.add(reading),
            Named.as("aggregate"),
            Materialized.<String, WindowAggregate, WindowStore<Bytes, byte[]>>as("window-aggregates")
                .withKeySerde(Serdes.String())
                .withValueSerde(new WindowAggregateSerde()))
        .suppress(Suppressed.untilWindowCloses(BufferConfig.unbounded()).withName("final-windows"))
        .toStream(Named.as("closed-windows"))
        .map((window, aggregate) -> KeyValue.pair(output.key(window), output.features(window, aggregate)), Named.as("to-window-features"))
        .to(options.outputTopic(), Produced.with(
            ConfluentAvro.outputSerde(schemas.windowKey(), options.keySchemaId()),
            ConfluentAvro.outputSerde(schemas.windowFeatures(), options.valueSchemaId()))
            .withName("window-features"));
    return builder.build();
  }

  public static void main(String[] args) throws InterruptedException {
    JobOptions options;
    Schemas schemas;
    try {
      options = JobOptions.parse(args);
      schemas = Schemas.load(options.schemasDir());
    } catch (IllegalArgumentException | UncheckedIOException | AvroRuntimeException e) {
      System.err.println("kstreams: " + e.getMessage());
      if (e instanceof IllegalArgumentException) System.err.println(JobOptions.USAGE);
      System.exit(2);
      return;
    }
    Optional<Path> temporaryStateDir = options.stateDir().isPresent() ? Optional.empty() : Optional.of(createTemporaryStateDir());
    Path stateDir = options.stateDir().orElseGet(temporaryStateDir::get);

    // The hook goes in before the client is built (a second or so of class loading), so a SIGTERM
    // that comes early still ends in a clean stop.
    AtomicReference<KafkaStreams> client = new AtomicReference<>();
    AtomicBoolean stopping = new AtomicBoolean();
    Runtime.getRuntime().addShutdownHook(new Thread(() -> {
      KafkaStreams started;
      synchronized (client) {
        if (!stopping.compareAndSet(false, true)) return;
        started = client.get();
      }
      boolean clean = stop(started, temporaryStateDir);
      // After a signal the JVM would exit with 143 whatever the hook did; a clean stop on
      // SIGTERM is a success for the harness.
      Runtime.getRuntime().halt(clean ? 0 : 1);
    }, "kstreams-shutdown"));

    KafkaStreams streams = new KafkaStreams(topology(options, schemas), options.streamsConfig(stateDir));
    AtomicBoolean announcedRunning = new AtomicBoolean();
    CountDownLatch failed = new CountDownLatch(1);
    streams.setStateListener((now, before) -> {
      // RUNNING comes back after every rebalance; the harness wants the first one.
      if (now == KafkaStreams.State.RUNNING && announcedRunning.compareAndSet(false, true)) announce("kstreams: RUNNING");
      if (now == KafkaStreams.State.ERROR) failed.countDown();
    });
    streams.setUncaughtExceptionHandler(e -> {
      LOG.error("stream thread failed, stopping", e);
      return StreamThreadExceptionResponse.SHUTDOWN_CLIENT;
    });
    synchronized (client) {
      // A stop that began while the client was being built has nothing to close: do not start.
      if (stopping.get()) return;
      client.set(streams);
      streams.start();
    }
    failed.await();
    synchronized (client) {
      if (!stopping.compareAndSet(false, true)) return;
    }
    stop(streams, temporaryStateDir);
    System.exit(1);
  }

  /** Closes the client (commits, flushes the producer) and reports; true when it closed in time. */
  private static boolean stop(KafkaStreams streams, Optional<Path> temporaryStateDir) {
    boolean clean = true;
    long dropped = 0;
    if (streams != null) {
      // Task metrics go with the tasks, so they are read before closing.
      dropped = droppedRecords(streams);
      clean = streams.close(CLOSE_TIMEOUT);
      if (!clean) LOG.warn("Kafka Streams did not close within {}", CLOSE_TIMEOUT);
    }
    long skipped = SkipUndecodable.skipped();
    if (dropped > 0 || skipped > 0) LOG.warn("dropped {} record(s): {} undecodable, the others late or without key", dropped, skipped);
    temporaryStateDir.ifPresent(WindowJob::deleteRecursively);
    announce("kstreams: stopped");
    return clean;
  }

  /** Kafka Streams' own count of records it skipped (undecodable, late, null key), over all tasks. */
  private static long droppedRecords(KafkaStreams streams) {
    return streams.metrics().values().stream()
        .filter(m -> m.metricName().name().equals("dropped-records-total"))
        .mapToLong(m -> ((Number) m.metricValue()).longValue())
        .sum();
  }

  private static void announce(String line) {
    System.out.println(line);
    System.out.flush();
  }

  private static Path createTemporaryStateDir() {
    try {
      return Files.createTempDirectory("pdm-window-kstreams-");
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  private static void deleteRecursively(Path dir) {
    try (Stream<Path> paths = Files.walk(dir)) {
      paths.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
    } catch (IOException e) {
      LOG.warn("could not delete the temporary state dir {}: {}", dir, e.toString());
    }
  }
}
