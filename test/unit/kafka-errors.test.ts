import { expect } from 'chai';
import { createRequire } from 'node:module';
import { KafkaJSError, KafkaJSNumberOfRetriesExceeded, KafkaJSProtocolError } from 'kafkajs';
import { isRebalanceError, REBALANCE_ERROR_TYPES } from '../../lib/kafka/errors';
import { StateStoreError } from '../../lib/cdc/store';

// kafkajs's own decoder of a broker error code: the error exactly as a heartbeat or commit response throws it.
const { createErrorFromCode } = createRequire(__filename)('kafkajs/src/protocol/error') as {
  createErrorFromCode: (code: number) => Error;
};

describe('kafka rebalance errors (kafka/errors)', () => {
  it('the group-membership errors kafkajs rejoins on are rebalance errors', () => {
    // UNKNOWN_MEMBER_ID (25): the session timed out, "The coordinator is not aware of this member".
    const byCode: Record<number, string> = {
      16: 'NOT_COORDINATOR_FOR_GROUP',
      22: 'ILLEGAL_GENERATION',
      25: 'UNKNOWN_MEMBER_ID',
      27: 'REBALANCE_IN_PROGRESS',
    };
    for (const [code, type] of Object.entries(byCode)) {
      const e = createErrorFromCode(Number(code));
      expect(e).to.be.instanceOf(KafkaJSProtocolError);
      expect((e as KafkaJSProtocolError).type).to.equal(type);
      expect(isRebalanceError(e), type).to.equal(true);
    }
    expect([...REBALANCE_ERROR_TYPES].sort()).to.deep.equal(Object.values(byCode).sort());
    expect((createErrorFromCode(25) as KafkaJSProtocolError).message).to.equal('The coordinator is not aware of this member');
  });

  it('anything else is not: other protocol errors, wrapped or look-alike errors, non-errors', () => {
    // UNKNOWN_TOPIC_OR_PARTITION, REQUEST_TIMED_OUT, INVALID_SESSION_TIMEOUT, FENCED_INSTANCE_ID, UNKNOWN (-1).
    for (const code of [3, 7, 26, 82, -1]) expect(isRebalanceError(createErrorFromCode(code)), `code ${code}`).to.equal(false);
    // kafkajs does not rejoin on a wrapped rebalance error (it checks the top-level type), so neither do we.
    const wrapped = new KafkaJSNumberOfRetriesExceeded(createErrorFromCode(25), { retryCount: 5, retryTime: 100 });
    expect(isRebalanceError(wrapped)).to.equal(false);
    // The same words or the same `type` field without kafkajs's class: not matched by message or shape.
    const lookalike = Object.assign(new Error('The coordinator is not aware of this member'), { type: 'UNKNOWN_MEMBER_ID', code: 25 });
    expect(isRebalanceError(lookalike)).to.equal(false);
    expect(isRebalanceError(new KafkaJSError('The group is rebalancing, so a rejoin is needed'))).to.equal(false);
    expect(isRebalanceError(new StateStoreError('stored offset beyond the partition end'))).to.equal(false);
    for (const v of [undefined, null, 'UNKNOWN_MEMBER_ID', { type: 'REBALANCE_IN_PROGRESS' }]) expect(isRebalanceError(v)).to.equal(false);
  });
});
