import { expect } from 'chai';
import { figure, validateResults, RESULTS_SCHEMA, summaryMarkdown, type BenchResults } from '../../lib/bench/results';
import { compareResults } from '../../lib/bench/compare';
import { quantile, slopePerMinute, spread } from '../../lib/measure/stats';
import { histogramTotalMiB, parseCodeCache, parseHeapInfo } from '../../lib/measure/jvm';

const machine = {
  cores: 2,
  memory_bytes: 24 * 2 ** 30,
  cpu_model: 'cpu',
  os: 'Linux',
  java: '17',
  node: '20',
  spark: '4.0.0',
  kafka: '4.4.0',
};

function doc(figures: BenchResults['figures']): BenchResults {
  return { schema: RESULTS_SCHEMA, created_at: new Date(0).toISOString(), quick: true, repetitions: 3, machine, figures };
}

describe('bench results', () => {
  it('computes quantiles by linear interpolation and spreads', () => {
    expect(quantile([1, 2, 3, 4], 0.5)).to.equal(2.5);
    expect(quantile([5], 0.95)).to.equal(5);
    expect(spread([3, 1, 2])).to.deep.equal({ min: 1, median: 2, max: 3, n: 3 });
  });

  it('accepts a valid document and rejects non-positive or non-finite figures', () => {
    const ok = figure({ id: 'latency.x', group: 'latency', title: 'x', unit: 'ms', better: 'lower', workload: 'w' }, [1, 2, 3]);
    expect(validateResults(doc([ok]))).to.deep.equal([]);
    const zero = figure(
      { id: 'throughput.y', group: 'throughput', title: 'y', unit: 'rows/s', better: 'higher', workload: 'w' },
      [0, 1, 2],
    );
    const inf = figure({ id: 'memory.z', group: 'memory', title: 'z', unit: 'bytes', better: 'lower', workload: 'w' }, [1, 2, Infinity]);
    const errors = validateResults(doc([ok, zero, inf]));
    expect(errors.join('\n')).to.include('throughput.y: min = 0');
    expect(errors.join('\n')).to.include('memory.z: max = Infinity');
    expect(validateResults({ ...doc([ok]), repetitions: 2 })).to.include('repetitions is not an integer >= 3');
  });

  it('compares two runs by the ratio of medians, in the direction of each figure', () => {
    const meta = { group: 'latency' as const, title: 't', unit: 'ms', better: 'lower' as const, workload: 'w' };
    const a = doc([figure({ ...meta, id: 'a' }, [10, 10, 10]), figure({ ...meta, id: 'only-a' }, [1, 1, 1])]);
    const b = doc([figure({ ...meta, id: 'a' }, [5, 5, 5])]);
    const { rows, onlyA, onlyB } = compareResults(a, b);
    expect(rows).to.have.length(1);
    expect(rows[0].ratio).to.equal(0.5);
    expect(rows[0].improved).to.equal(true);
    expect(onlyA).to.deep.equal(['only-a']);
    expect(onlyB).to.deep.equal([]);
    expect(summaryMarkdown(a)).to.include('| t | 10.0 |');
  });
});

describe('measure stats: trend', () => {
  it('gives the least-squares slope of evenly spaced samples per minute', () => {
    // 10 s apart, +5 MiB per sample: 30 MiB per minute.
    expect(slopePerMinute([100, 105, 110, 115], 10)).to.be.closeTo(30, 1e-9);
    expect(slopePerMinute([200, 200, 200], 10)).to.equal(0);
    // One step up in the middle of a flat run is spread over the run, not read as its size.
    expect(slopePerMinute([0, 0, 0, 60, 60, 60], 60)).to.be.closeTo(270 / 17.5, 1e-9);
    expect(slopePerMinute([42], 10)).to.equal(null);
    expect(slopePerMinute([], 10)).to.equal(null);
  });
});

describe('measure jvm: jcmd output', () => {
  it('reads the live heap from the total line of a class histogram', () => {
    const histogram = [
      '11892:',
      ' num     #instances         #bytes  class name (module)',
      '-------------------------------------------------------',
      '   1:        240246       49474944  [B (java.base@17.0.15)',
      'Total       2942639      161957360',
      '',
    ].join('\n');
    expect(histogramTotalMiB(histogram)).to.equal(154);
    expect(histogramTotalMiB('11892:\nCommand executed successfully\n')).to.equal(null);
  });

  it('reads the committed and used heap and the committed metaspace from GC.heap_info, without a GC', () => {
    const info = [
      '11892:',
      ' garbage-first heap   total 520192K, used 153111K [0x0000000700000000, 0x0000000800000000)',
      '  region size 2048K, 1 young (2048K), 0 survivors (0K)',
      ' Metaspace       used 180000K, committed 190000K, reserved 1245184K',
    ].join('\n');
    expect(parseHeapInfo(info)).to.deep.equal({ heapCommittedMiB: 508, heapUsedMiB: 150, metaspaceCommittedMiB: 186 });
    expect(parseHeapInfo('11892:\n')).to.deep.equal({ heapCommittedMiB: null, heapUsedMiB: null, metaspaceCommittedMiB: null });
  });

  it('sums the code cache in use over every code heap', () => {
    const segmented = [
      '13040:',
      "CodeHeap 'non-profiled nmethods': size=120036Kb used=38872Kb max_used=38872Kb free=81163Kb",
      ' bounds [0x00007f11fcec7000, 0x00007f11ff4c7000, 0x00007f1204400000]',
      "CodeHeap 'profiled nmethods': size=120032Kb used=70061Kb max_used=71350Kb free=49970Kb",
      "CodeHeap 'non-nmethods': size=5692Kb used=2010Kb max_used=2099Kb free=3681Kb",
      ' total_blobs=41364 nmethods=39881 adapters=1392',
    ].join('\n');
    expect(parseCodeCache(segmented)).to.equal(Math.round((38872 + 70061 + 2010) / 1024));
    expect(parseCodeCache('CodeCache: size=245760Kb used=51200Kb max_used=51200Kb free=194560Kb')).to.equal(50);
    expect(parseCodeCache('13040:\n')).to.equal(null);
  });
});
