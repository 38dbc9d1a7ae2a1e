import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { PdmError } from '../../lib/errors';
import { describeCluster } from '../../lib/kafka/admin';
import { ensureKafka } from '../artifacts';
import { serverDir, type StackContext, type StackServer } from '../server';
import { kafkaMajor, type StackSettings } from '../settings';

/** server.properties of a single KRaft node that is both broker and controller. */
export function kafkaServerProperties(settings: StackSettings, logDir: string): string {
  const host = settings.PDM_STACK_HOST;
  return [
    'process.roles=broker,controller',
    'node.id=1',
    `controller.quorum.voters=1@${host}:${settings.PDM_KAFKA_CONTROLLER_PORT}`,
    `listeners=PLAINTEXT://${host}:${settings.PDM_KAFKA_PORT},CONTROLLER://${host}:${settings.PDM_KAFKA_CONTROLLER_PORT}`,
    `advertised.listeners=PLAINTEXT://${host}:${settings.PDM_KAFKA_PORT}`,
    'controller.listener.names=CONTROLLER',
    'inter.broker.listener.name=PLAINTEXT',
    'listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT',
    `log.dirs=${logDir}`,
    'num.partitions=6',
    // One node: internal topics can only have one replica.
    'offsets.topic.replication.factor=1',
    'transaction.state.log.replication.factor=1',
    'transaction.state.log.min.isr=1',
    'min.insync.replicas=1',
    'default.replication.factor=1',
    // Tests and restarts should not wait for a rebalance delay.
    'group.initial.rebalance.delay.ms=0',
    'auto.create.topics.enable=false',
    'log.retention.check.interval.ms=60000',
    'log.cleaner.backoff.ms=5000',
    '',
  ].join('\n');
}

function loggingConfig(settings: StackSettings, dir: string): { file: string; property: string } {
  if (kafkaMajor(settings) >= 4) {
    const file = path.join(dir, 'log4j2.properties');
    fs.writeFileSync(
      file,
      [
        'status = warn',
        'appender.console.type = Console',
        'appender.console.name = STDOUT',
        'appender.console.layout.type = PatternLayout',
        'appender.console.layout.pattern = [%d] %p %m (%c)%n',
        'rootLogger.level = info',
        'rootLogger.appenderRef.stdout.ref = STDOUT',
        'logger.kafka.name = org.apache.kafka',
        'logger.kafka.level = warn',
        '',
      ].join('\n'),
    );
    return { file, property: `-Dlog4j2.configurationFile=${file}` };
  }
  const file = path.join(dir, 'log4j.properties');
  fs.writeFileSync(
    file,
    [
      'log4j.rootLogger=INFO, stdout',
      'log4j.appender.stdout=org.apache.log4j.ConsoleAppender',
      'log4j.appender.stdout.layout=org.apache.log4j.PatternLayout',
      'log4j.appender.stdout.layout.ConversionPattern=[%d] %p %m (%c)%n',
      'log4j.logger.org.apache.kafka=WARN',
      'log4j.logger.kafka.request.logger=WARN',
      '',
    ].join('\n'),
  );
  return { file, property: `-Dlog4j.configuration=file:${file}` };
}

export const kafkaServer: StackServer = {
  name: 'kafka',
  dependsOn: [],
  stopSignal: 'SIGTERM',
  title: (ctx) => `Apache Kafka ${ctx.settings.PDM_KAFKA_VERSION} (KRaft, broker+controller)`,
  address: (ctx) => `${ctx.settings.PDM_STACK_HOST}:${ctx.settings.PDM_KAFKA_PORT}`,
  ports: (ctx) => [ctx.settings.PDM_KAFKA_PORT, ctx.settings.PDM_KAFKA_CONTROLLER_PORT],
  marker: (ctx) => path.join(serverDir(ctx, 'kafka'), 'server.properties'),

  async prepare(ctx: StackContext) {
    const libs = await ensureKafka(ctx.settings, ctx.reporter);
    const dir = serverDir(ctx, 'kafka');
    const dataDir = path.join(dir, 'data');
    const properties = path.join(dir, 'server.properties');
    fs.mkdirSync(dataDir, { recursive: true });
    fs.writeFileSync(properties, kafkaServerProperties(ctx.settings, dataDir));
    const logging = loggingConfig(ctx.settings, dir);
    const classPath = `${libs}/*`;
    if (!fs.existsSync(path.join(dataDir, 'meta.properties'))) {
      const idFile = path.join(dir, 'cluster-id');
      if (!fs.existsSync(idFile)) {
        const id = spawnSync('java', [logging.property, '-cp', classPath, 'kafka.tools.StorageTool', 'random-uuid'], { encoding: 'utf8' });
        const clusterId = id.stdout.trim().split('\n').pop() ?? '';
        if (id.status !== 0 || !/^[A-Za-z0-9_-]{22}$/.test(clusterId)) throw new PdmError('STACK_SERVER_FAILED', `kafka: could not create a cluster id:\n${id.stderr}`);
        fs.writeFileSync(idFile, clusterId);
      }
      const clusterId = fs.readFileSync(idFile, 'utf8').trim();
      const format = spawnSync('java', [logging.property, '-cp', classPath, 'kafka.tools.StorageTool', 'format', '-t', clusterId, '-c', properties], { encoding: 'utf8' });
      if (format.status !== 0) throw new PdmError('STACK_SERVER_FAILED', `kafka: formatting the log folder failed:\n${format.stdout}\n${format.stderr}`);
    }
    return {
      command: 'java',
      args: [
        `-Xmx${ctx.settings.PDM_KAFKA_HEAP}`,
        '-Xms256m',
        '-XX:+UseG1GC',
        '-XX:MaxGCPauseMillis=20',
        '-Djava.awt.headless=true',
        logging.property,
        '-cp',
        classPath,
        'kafka.Kafka',
        properties,
      ],
    };
  },

  async probe(ctx) {
    const cluster = await describeCluster({ brokers: [kafkaServer.address(ctx)], clientId: 'pdmctl-stack' }, 2000);
    return cluster.brokers > 0 && cluster.controller !== null ? undefined : 'no controller elected yet';
  },
};
