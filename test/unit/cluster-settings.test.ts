import { expect } from 'chai';
import * as path from 'node:path';
import { clusterDriverSettings, jobJars } from '../../lib/runtime/spark-cluster';
import { kafkaClusterPorts } from '../../lib/runtime/kafka-broker';
import { driverJavaOptions, localTaskSlots, mallocArenaMax } from '../../lib/runtime/spark-server';

describe('cluster settings', () => {
  describe('clusterDriverSettings', () => {
    it('adds nothing for a local master', () => {
      expect(clusterDriverSettings('local[*]', {})).to.equal(undefined);
      expect(clusterDriverSettings('local[2]', {})).to.equal(undefined);
    });

    it('ships the Kafka source to the executors of any cluster master with spark.jars', function () {
      const jars = jobJars();
      if (!jars.length) this.skip(); // needs the jars `make setup` downloads
      const names = jars.map((j) => path.basename(j));
      for (const prefix of ['spark-sql-kafka-0-10_', 'spark-token-provider-kafka-0-10_', 'kafka-clients-', 'commons-pool2-']) {
        expect(
          names.some((n) => n.startsWith(prefix)),
          prefix,
        ).to.equal(true);
      }
      expect(
        names.some((n) => /^spark-(core|sql|mllib)_/.test(n)),
        'Spark itself is on the workers',
      ).to.equal(false);
      for (const master of ['spark://spark-master.example:7077', 'k8s://https://k8s.example:6443']) {
        const s = clusterDriverSettings(master, {});
        expect(s?.conf['spark.jars']?.split(',')).to.deep.equal(jars);
        expect(s?.jvmArgs, 'no secret for a cluster this project did not start').to.deep.equal([]);
      }
    });

    it('keeps a spark.jars the user set', () => {
      expect(clusterDriverSettings('spark://h:7077', { 'spark.jars': '/x.jar' })?.conf).to.deep.equal({});
    });
  });

  describe('kafkaClusterPorts', () => {
    const saved = { b: process.env.SPARK_TS_KAFKA_BROKER_PORTS, c: process.env.SPARK_TS_KAFKA_CONTROLLER_PORTS };
    afterEach(() => {
      for (const [k, v] of [
        ['SPARK_TS_KAFKA_BROKER_PORTS', saved.b],
        ['SPARK_TS_KAFKA_CONTROLLER_PORTS', saved.c],
      ] as const) {
        if (v === undefined) delete process.env[k];
        else process.env[k] = v;
      }
    });

    it('defaults clear of the single broker (9092/9093)', () => {
      delete process.env.SPARK_TS_KAFKA_BROKER_PORTS;
      delete process.env.SPARK_TS_KAFKA_CONTROLLER_PORTS;
      expect(kafkaClusterPorts(3)).to.deep.equal({ ports: [29092, 29093, 29094], controllerPorts: [29192, 29193, 29194] });
    });

    it('takes comma lists, and says when they are too short', () => {
      process.env.SPARK_TS_KAFKA_BROKER_PORTS = '9194, 9195,9196';
      process.env.SPARK_TS_KAFKA_CONTROLLER_PORTS = '9197,9198';
      expect(() => kafkaClusterPorts(3)).to.throw('SPARK_TS_KAFKA_CONTROLLER_PORTS names 2 port(s) but 3 brokers need 3');
      process.env.SPARK_TS_KAFKA_CONTROLLER_PORTS = '9197,9198,9199';
      expect(kafkaClusterPorts(3)).to.deep.equal({ ports: [9194, 9195, 9196], controllerPorts: [9197, 9198, 9199] });
    });
  });

  describe('localTaskSlots', () => {
    it('gives local[*] one task slot more than the cores, keeping the parallelism at the core count', () => {
      expect(localTaskSlots({ 'spark.master': 'local[*]' }, 2, undefined)).to.deep.equal({
        'spark.master': 'local[3]',
        'spark.default.parallelism': '2',
      });
      expect(localTaskSlots({}, 8, '2')).to.deep.equal({ 'spark.master': 'local[10]', 'spark.default.parallelism': '8' });
    });

    it('leaves other masters, SPARK_TS_EXTRA_TASK_SLOTS=0 and a parallelism set by the user alone', () => {
      expect(localTaskSlots({ 'spark.master': 'local[2]' }, 2, undefined)).to.deep.equal({});
      expect(localTaskSlots({ 'spark.master': 'spark://127.0.0.1:7077' }, 2, '1')).to.deep.equal({});
      expect(localTaskSlots({ 'spark.master': 'local[*]' }, 2, '0')).to.deep.equal({});
      expect(localTaskSlots({ 'spark.master': 'local[*]', 'spark.default.parallelism': '6' }, 2, '')).to.deep.equal({
        'spark.master': 'local[3]',
      });
    });

    it('rejects a count that is not a whole number >= 0, naming the variable', () => {
      for (const bad of ['-1', '1.5', 'two'])
        expect(() => localTaskSlots({}, 2, bad)).to.throw(/SPARK_TS_EXTRA_TASK_SLOTS must be a whole number >= 0/);
    });
  });

  describe('mallocArenaMax', () => {
    it("caps the server JVM's malloc arenas at 2 unless the user set MALLOC_ARENA_MAX", () => {
      expect(mallocArenaMax({})).to.equal('2');
      expect(mallocArenaMax({ MALLOC_ARENA_MAX: ' ' })).to.equal('2');
      expect(mallocArenaMax({ MALLOC_ARENA_MAX: '8' })).to.equal('8');
    });
  });

  describe('driverJavaOptions', () => {
    it('gives the server JVM the options of spark.driver.extraJavaOptions, one argument each', () => {
      expect(driverJavaOptions({})).to.deep.equal([]);
      expect(driverJavaOptions({ 'spark.driver.extraJavaOptions': '  -XX:+UseParallelGC\t-Dfoo=bar ' })).to.deep.equal([
        '-XX:+UseParallelGC',
        '-Dfoo=bar',
      ]);
    });

    it('refuses a quoted option instead of splitting it wrongly', () => {
      expect(() => driverJavaOptions({ 'spark.driver.extraJavaOptions': '-Dname="a b"' })).to.throw(/quoted options are not supported/);
    });
  });
});
