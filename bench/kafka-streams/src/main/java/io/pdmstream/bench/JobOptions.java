package io.pdmstream.bench;

import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.Properties;
import java.util.Set;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.streams.StreamsConfig;

/** The command line, validated once: a bad option fails at start with its name. */
record JobOptions(
    String bootstrap,
    String inputTopic,
    String outputTopic,
    String applicationId,
    long windowSizeMs,
    long graceMs,
    int keySchemaId,
    int valueSchemaId,
    String processingGuarantee,
    Path schemasDir,
    Optional<Path> stateDir,
    int threads,
    OptionalLong commitIntervalMs) {

  static final String USAGE = String.join("\n",
      "usage: java -jar pdm-window-kstreams.jar",
      "  --bootstrap HOST:PORT          Kafka bootstrap servers",
      "  --input-topic NAME             SensorReading values keyed by machine id",
      "  --output-topic NAME            WindowKey / WindowFeatures, final windows only",
      "  --application-id ID            Kafka Streams application.id (consumer group, internal topic prefix)",
      "  --window-size-ms N             tumbling window size",
      "  --grace-ms N                   how long after its end a window still takes readings",
      "  --key-schema-id N              registry id of window-key.avsc (written into each output key)",
      "  --value-schema-id N            registry id of window-features.avsc (written into each output value)",
      "  [--processing-guarantee exactly_once_v2|at_least_once]   default exactly_once_v2",
      "  [--schemas DIR]                folder of the .avsc files, default schemas",
      "  [--state-dir DIR]              default a temporary folder, deleted on exit",
      "  [--threads N]                  stream threads, default 1",
      "  [--commit-interval-ms N]       default 100 with exactly_once_v2, the Kafka Streams default otherwise");

  private static final Set<String> NAMES = Set.of(
      "bootstrap", "input-topic", "output-topic", "application-id", "window-size-ms", "grace-ms",
      "key-schema-id", "value-schema-id", "processing-guarantee", "schemas", "state-dir", "threads",
      "commit-interval-ms");

  private static final Set<String> GUARANTEES = Set.of(StreamsConfig.EXACTLY_ONCE_V2, StreamsConfig.AT_LEAST_ONCE);

  /** Parses `--name value` pairs; throws IllegalArgumentException naming the bad option. */
  static JobOptions parse(String[] args) {
    Map<String, String> values = new HashMap<>();
    for (int i = 0; i < args.length; i += 2) {
      String arg = args[i];
      if (!arg.startsWith("--") || !NAMES.contains(arg.substring(2))) throw new IllegalArgumentException("unknown option " + arg);
      if (i + 1 >= args.length) throw new IllegalArgumentException(arg + " needs a value");
      values.put(arg.substring(2), args[i + 1]);
    }
    String guarantee = values.getOrDefault("processing-guarantee", StreamsConfig.EXACTLY_ONCE_V2);
    if (!GUARANTEES.contains(guarantee)) throw new IllegalArgumentException("--processing-guarantee must be exactly_once_v2 or at_least_once, got " + guarantee);
    return new JobOptions(
        required(values, "bootstrap"),
        required(values, "input-topic"),
        required(values, "output-topic"),
        required(values, "application-id"),
        number(values, "window-size-ms", 1),
        number(values, "grace-ms", 0),
        (int) number(values, "key-schema-id", 0),
        (int) number(values, "value-schema-id", 0),
        guarantee,
        Path.of(values.getOrDefault("schemas", "schemas")),
        Optional.ofNullable(values.get("state-dir")).map(Path::of),
        values.containsKey("threads") ? (int) number(values, "threads", 1) : 1,
        values.containsKey("commit-interval-ms") ? OptionalLong.of(number(values, "commit-interval-ms", 0)) : OptionalLong.empty());
  }

  boolean exactlyOnce() {
    return processingGuarantee.equals(StreamsConfig.EXACTLY_ONCE_V2);
  }

  Properties streamsConfig(Path resolvedStateDir) {
    Properties props = new Properties();
    props.put(StreamsConfig.APPLICATION_ID_CONFIG, applicationId);
    props.put(StreamsConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
    props.put(StreamsConfig.PROCESSING_GUARANTEE_CONFIG, processingGuarantee);
    props.put(StreamsConfig.NUM_STREAM_THREADS_CONFIG, threads);
    props.put(StreamsConfig.STATE_DIR_CONFIG, resolvedStateDir.toString());
    props.put(StreamsConfig.REPLICATION_FACTOR_CONFIG, 1);
    // Kafka Streams itself defaults to 100 ms under exactly-once; pinned here so the bench does not
    // change with it. Under at-least-once its own default (30 s) applies.
    if (commitIntervalMs.isPresent()) props.put(StreamsConfig.COMMIT_INTERVAL_MS_CONFIG, commitIntervalMs.getAsLong());
    else if (exactlyOnce()) props.put(StreamsConfig.COMMIT_INTERVAL_MS_CONFIG, 100L);
    props.put(StreamsConfig.consumerPrefix(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG), "earliest");
    props.put(StreamsConfig.DEFAULT_DESERIALIZATION_EXCEPTION_HANDLER_CLASS_CONFIG, SkipUndecodable.class);
    return props;
  }

  private static String required(Map<String, String> values, String name) {
    String value = values.get(name);
    if (value == null || value.isBlank()) throw new IllegalArgumentException("--" + name + " is required");
    return value;
  }

  private static long number(Map<String, String> values, String name, long min) {
    String text = required(values, name);
    long value;
    try {
      value = Long.parseLong(text);
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException("--" + name + " must be a whole number, got " + text);
    }
    if (value < min || (name.endsWith("-id") || name.equals("threads")) && value > Integer.MAX_VALUE) {
      throw new IllegalArgumentException("--" + name + " must be at least " + min + ", got " + text);
    }
    return value;
  }
}
