import { loadStackSettings } from '../settings';
import { kafkaServerProperties } from './kafka';

const parse = (text: string) => Object.fromEntries(text.split('\n').filter((l) => l.includes('=')).map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]));

describe('the single-node KRaft configuration', () => {
  const props = parse(kafkaServerProperties(loadStackSettings({ PDM_KAFKA_PORT: '29092', PDM_KAFKA_CONTROLLER_PORT: '29093' }), '/data/kafka'));

  test('one node is broker and controller, voting for itself on the controller port', () => {
    expect(props['process.roles']).toBe('broker,controller');
    expect(props['controller.quorum.voters']).toBe(`${props['node.id']}@127.0.0.1:29093`);
    expect(props.listeners).toBe('PLAINTEXT://127.0.0.1:29092,CONTROLLER://127.0.0.1:29093');
    expect(props['advertised.listeners']).toBe('PLAINTEXT://127.0.0.1:29092');
  });

  test('transactions work on one node: internal topics have one replica and min.isr 1', () => {
    expect(props['transaction.state.log.replication.factor']).toBe('1');
    expect(props['transaction.state.log.min.isr']).toBe('1');
    expect(props['offsets.topic.replication.factor']).toBe('1');
  });

  test('topics exist only when pdmctl topics creates them, with their explicit configuration', () => {
    expect(props['auto.create.topics.enable']).toBe('false');
    expect(props['log.dirs']).toBe('/data/kafka');
  });
});
