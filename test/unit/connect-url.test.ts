import { expect } from 'chai';
import { parseConnectUrl, connectionIdentity, InvalidUrlError } from '../../lib/connect/url';

describe('connect URL', () => {
  it('a token implies TLS, except to the local machine', () => {
    expect(parseConnectUrl('sc://spark.example.com/;token=abc').useSsl).to.equal(true);
    expect(parseConnectUrl('sc://spark.example.com').useSsl).to.equal(false);
    expect(parseConnectUrl('sc://localhost:15002/;token=abc').useSsl).to.equal(false);
    expect(parseConnectUrl('sc://127.0.0.1:15002/;token=abc').useSsl).to.equal(false);
    expect(parseConnectUrl('sc://[::1]:15002/;token=abc').useSsl).to.equal(false);
    expect(parseConnectUrl('sc://localhost/;token=abc;use_ssl=true').useSsl).to.equal(true);
  });

  it('refuses to send a token in clear text to another host', () => {
    expect(() => parseConnectUrl('sc://spark.example.com/;token=abc;use_ssl=false')).to.throw(InvalidUrlError, /only over TLS/);
  });

  it('forwards unknown parameters as gRPC metadata, and rejects keys gRPC cannot carry', () => {
    const o = parseConnectUrl('sc://h:1/;token=t;x-databricks-cluster-id=0123-abc;Region=eu%20west');
    expect(o.metadata).to.deep.equal({ 'x-databricks-cluster-id': '0123-abc', region: 'eu west' });
    expect(o.token).to.equal('t');
    expect(() => parseConnectUrl('sc://h:1/;bad key=x')).to.throw(InvalidUrlError, /metadata key/);
    expect(() => parseConnectUrl('sc://h:1/;authorization=x')).to.throw(InvalidUrlError, /reserved/);
    expect(() => parseConnectUrl('sc://h:1/;blob-bin=x')).to.throw(InvalidUrlError, /metadata key/);
  });

  it('identifies a session by endpoint, user, token, TLS, session id and metadata', () => {
    const id = (url: string) => connectionIdentity(parseConnectUrl(url), /session_id=/.test(url));
    const base = 'sc://localhost:15002/;token=a;user_id=u';
    expect(id(base)).to.equal(id(base));
    expect(id(base)).to.equal(id(`${base};user_agent=other`));
    expect(id(base)).not.to.equal(id('sc://localhost:15002/;token=b;user_id=u'));
    expect(id(base)).not.to.equal(id('sc://localhost:15002/;token=a;user_id=v'));
    expect(id(base)).not.to.equal(id(`${base};x-cluster=1`));
    expect(id(base)).not.to.equal(id('sc://localhost:15003/;token=a;user_id=u'));
    const sid = 'sc://localhost:15002/;session_id=2f1c7a1e-2b7e-4bd6-9d1e-6a0c5b1b9a11';
    expect(id(sid)).not.to.equal(id('sc://localhost:15002/;session_id=3f1c7a1e-2b7e-4bd6-9d1e-6a0c5b1b9a11'));
  });
});
