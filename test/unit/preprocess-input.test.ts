import { expect } from 'chai';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { randomUUID } from 'node:crypto';
import { JobInputError } from '../../lib/cli/job';
import { inspectInput, parseDelimiterOption, resolveHeader } from '../../lib/preprocess/header';
import { CORRUPT_COLUMN, INPUT_COLUMN_NAMES, INPUT_COLUMNS, NUMERIC_IMPUTED_COLUMNS, inputSchemaDDL } from '../../lib/preprocess/schema';

const HEADER = INPUT_COLUMN_NAMES.join('\t');

describe('preprocess input: schema and header', () => {
  let dir: string;
  before(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), `preprocess-input-${randomUUID()}-`));
  });
  after(() => fs.rmSync(dir, { recursive: true, force: true }));
  const file = (name: string, content: string): string => {
    const p = path.join(dir, name);
    fs.writeFileSync(p, content);
    return p;
  };

  it('has the 29 Kaggle columns and an explicit DDL with the corrupt-record column last', () => {
    expect(INPUT_COLUMNS).to.have.length(29);
    const ddl = inputSchemaDDL();
    expect(ddl.split(', ')).to.have.length(30);
    expect(ddl).to.match(/^`ID` INT, `Year_Birth` INT, `Education` STRING/);
    expect(ddl).to.contain('`Income` DOUBLE').and.contain('`Dt_Customer` STRING');
    expect(ddl.endsWith(`\`${CORRUPT_COLUMN}\` STRING`)).to.equal(true);
    expect(NUMERIC_IMPUTED_COLUMNS).to.not.include('ID').and.not.include('Z_Revenue');
  });

  it('follows the header order in the DDL', () => {
    const order = [...INPUT_COLUMN_NAMES].reverse();
    expect(inputSchemaDDL(order).startsWith('`Response` INT, `Z_Revenue` INT')).to.equal(true);
  });

  it('detects tab, comma, semicolon and pipe, with CRLF or LF and a BOM', () => {
    for (const d of ['\t', ',', ';', '|']) {
      const r = resolveHeader('\uFEFF' + INPUT_COLUMN_NAMES.join(d) + '\r', undefined);
      expect(r.delimiter).to.equal(d);
      expect(r.columns).to.deep.equal(INPUT_COLUMN_NAMES);
    }
  });

  it('names missing and extra columns when the header is wrong', () => {
    const cols = INPUT_COLUMN_NAMES.filter((c) => c !== 'Income').concat('Salary');
    try {
      resolveHeader(cols.join('\t'));
      expect.fail('should throw');
    } catch (e) {
      expect(e).to.be.instanceOf(JobInputError);
      const m = (e as Error).message;
      expect(m)
        .to.contain('expected 29 columns: ID, Year_Birth')
        .and.contain('found 29 columns')
        .and.contain('missing: Income')
        .and.contain('extra: Salary');
    }
  });

  it('says the delimiter is unknown when no candidate splits the header', () => {
    expect(() => resolveHeader(INPUT_COLUMN_NAMES.join('#'))).to.throw(
      JobInputError,
      /could not detect the delimiter.*\n.*expected 29 columns/,
    );
  });

  it('checks the header against a given delimiter', () => {
    expect(() => resolveHeader(HEADER, ',')).to.throw(JobInputError, /delimiter: comma/);
    expect(resolveHeader(HEADER, '\t').delimiter).to.equal('\t');
    expect(parseDelimiterOption('tab')).to.equal('\t');
    expect(parseDelimiterOption('\\t')).to.equal('\t');
    expect(parseDelimiterOption(';')).to.equal(';');
    expect(() => parseDelimiterOption('ab')).to.throw(JobInputError, /one character/);
  });

  it('gives clear errors for a missing file, an empty file and a header-only file', () => {
    const missing = path.join(dir, 'nope.csv');
    expect(() => inspectInput(missing)).to.throw(JobInputError, `input file not found: ${missing}`);
    expect(() => inspectInput(file('empty.csv', ''))).to.throw(JobInputError, /input file is empty/);
    expect(() => inspectInput(file('blank.csv', '\r\n\r\n'))).to.throw(JobInputError, /empty first line/);
    expect(() => inspectInput(file('header.csv', HEADER + '\r\n'))).to.throw(JobInputError, /header but no data rows/);
    expect(() => inspectInput(dir)).to.throw(JobInputError, /not a file/);
  });

  it('reads only the first line and reports the line ending', () => {
    const row = INPUT_COLUMN_NAMES.map(() => '1').join('\t');
    expect(inspectInput(file('crlf.csv', `${HEADER}\r\n${row}\r\n`)).lineEnding).to.equal('CRLF');
    const lf = inspectInput(file('lf.csv', `${HEADER}\n${row}\n`));
    expect(lf).to.include({ lineEnding: 'LF', delimiter: '\t' });
  });
});
