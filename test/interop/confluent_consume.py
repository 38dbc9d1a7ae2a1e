"""Reads a topic as another team would: Confluent's Python client with its own Avro deserializer
and schema-registry client, nothing of ours. Prints one JSON summary line: the count, the
machines, the first reading, and the first reading with extra channels (`withExtras`, or null).

usage: confluent_consume.py BROKERS REGISTRY_URL TOPIC EXPECTED_COUNT
"""
import json
import sys
import time
from datetime import datetime

from confluent_kafka import Consumer, KafkaError
from confluent_kafka.schema_registry import SchemaRegistryClient
from confluent_kafka.schema_registry.avro import AvroDeserializer
from confluent_kafka.serialization import MessageField, SerializationContext


def main() -> None:
    brokers, registry_url, topic, expected = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
    registry = SchemaRegistryClient({"url": registry_url})
    deserialize = AvroDeserializer(registry)
    consumer = Consumer({
        "bootstrap.servers": brokers,
        "group.id": f"interop-{topic}-{time.time()}",
        "auto.offset.reset": "earliest",
        "isolation.level": "read_committed",
        "enable.auto.commit": False,
    })
    consumer.subscribe([topic])
    count, machines, first, with_extras, errors = 0, set(), None, None, []
    deadline = time.time() + 120
    while count < expected and time.time() < deadline:
        message = consumer.poll(1.0)
        if message is None:
            continue
        if message.error():
            if message.error().code() != KafkaError._PARTITION_EOF:
                errors.append(str(message.error()))
            continue
        key = deserialize(message.key(), SerializationContext(topic, MessageField.KEY))
        value = deserialize(message.value(), SerializationContext(topic, MessageField.VALUE))
        if key != value["machineId"]:
            errors.append(f"key {key} differs from machineId {value['machineId']}")
        machines.add(key)
        first = first or value
        if with_extras is None and value.get("extras"):
            with_extras = value
        count += 1
    consumer.close()
    # timestamp-millis decodes to datetime; print it back as epoch milliseconds.
    as_millis = lambda o: round(o.timestamp() * 1000) if isinstance(o, datetime) else str(o)
    summary = {"count": count, "machines": sorted(machines), "first": first, "withExtras": with_extras, "errors": errors[:5]}
    print(json.dumps(summary, default=as_millis))


if __name__ == "__main__":
    main()
