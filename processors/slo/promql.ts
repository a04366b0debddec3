/**
 * The PromQL subset SLO files use, and the way back from Prometheus names to OTel ones.
 *
 * A query selects one metric: `NAME{MATCHERS}`, optionally inside `rate(...[RANGE])` or
 * `increase(...[RANGE])`, optionally summed: `sum(...)`, `sum by (l) (...)`, `sum(...) by (l)`
 * (`without` too), and for a native histogram optionally inside `histogram_count(...)` or
 * `histogram_fraction(LOWER, UPPER, ...)` (bounds are numbers, `Inf`, `+Inf` or `-Inf`). RANGE is a duration (`5m`, `1h30m`, `30d`) or Sloth's `{{.window}}`.
 * Grouping, the function and the range do not change which requests are counted and are
 * dropped. Anything else (binary operators, other functions and aggregations, offset, `@`,
 * subqueries) is an error naming what was not understood, with its column.
 * `parseSliExpression` additionally accepts numbers, parentheses and `+ - * /` between such
 * queries, for the few binary forms SLO files need (see spec.ts).
 *
 * Names are mapped back to what the OpenTelemetry Collector's Prometheus exporter was given:
 * `http_server_request_duration_seconds_count` is the count of the OTel histogram
 * `http.server.request.duration` (unit s); `job` is `service.name`.
 */


export type MatchOp = '=' | '!=' | '=~' | '!~';

/** One label matcher, the value unquoted. */
export interface LabelMatcher {
  readonly label: string;
  readonly op: MatchOp;
  readonly value: string;
}

/** A native-histogram function around the selector: `histogram_count(...)`, `histogram_fraction(lower, upper, ...)`. */
export type HistogramFunction = { readonly fn: 'count' } | { readonly fn: 'fraction'; readonly lower: number; readonly upper: number };

/** What a supported query selects: one Prometheus metric (as written) and its matchers. */
export interface SliQuery {
  readonly metric: string;
  readonly matchers: readonly LabelMatcher[];
  /** Set when the query reads a native histogram through histogram_count or histogram_fraction. */
  readonly histogram?: HistogramFunction;
}

/** A query, a number, or `+ - * /` between them. */
export type SliExpression =
  | { readonly type: 'query'; readonly query: SliQuery }
  | { readonly type: 'number'; readonly value: number }
  | { readonly type: 'binary'; readonly op: '+' | '-' | '*' | '/'; readonly left: SliExpression; readonly right: SliExpression };

class PromqlError extends Error {}

const aggregations = new Set([
  'avg', 'bottomk', 'count', 'count_values', 'group', 'limit_ratio', 'limitk', 'max', 'min', 'quantile', 'stddev', 'stdvar', 'topk',
]);
const keywords = new Set(['by', 'without', 'offset', 'bool', 'on', 'ignoring', 'group_left', 'group_right', 'and', 'or', 'unless', 'atan2']);
const durationRe = /^(?:\d+(?:ms|[smhdwy]))+/;
const templateRe = /^\{\{\s*\.window\s*\}\}/;

class Parser {
  private pos = 0;

  constructor(
    private readonly src: string,
    private readonly allowBinary: boolean,
  ) {}

  parse(): SliExpression {
    const expr = this.additive();
    this.skip();
    if (this.pos < this.src.length) this.trailing();
    return expr;
  }

  private fail(message: string, at = this.pos): never {
    throw new PromqlError(`column ${at + 1}: ${message}`);
  }

  /** The text at the cursor, for messages. */
  private here(): string {
    if (this.pos >= this.src.length) return 'end of query';
    const rest = this.src.slice(this.pos);
    return JSON.stringify(rest.length > 16 ? `${rest.slice(0, 16)}...` : rest);
  }

  private skip(): void {
    for (;;) {
      const c = this.src[this.pos];
      if (c === undefined) return;
      if (c === '#') {
        while (this.pos < this.src.length && this.src[this.pos] !== '\n') this.pos++;
      } else if (/\s/.test(c)) {
        this.pos++;
      } else {
        return;
      }
    }
  }

  private peek(): string {
    this.skip();
    return this.src[this.pos] ?? '';
  }

  private accept(c: string): boolean {
    if (this.peek() !== c) return false;
    this.pos++;
    return true;
  }

  private expect(c: string, what: string): void {
    if (!this.accept(c)) this.fail(`expected ${what}, got ${this.here()}`);
  }

  private word(re = /^[A-Za-z_:][A-Za-z0-9_:]*/): string | undefined {
    this.skip();
    const m = re.exec(this.src.slice(this.pos));
    if (!m) return undefined;
    this.pos += m[0].length;
    return m[0];
  }

  private peekWord(): string | undefined {
    this.skip();
    const at = this.pos;
    const w = this.word();
    this.pos = at;
    return w;
  }

  /** Unparsed text after a complete expression. */
  private trailing(): never {
    const rest = this.src.slice(this.pos);
    const op = /^(==|!=|>=|<=|[%^<>]|[-+*/])/.exec(rest);
    if (op) this.fail(`binary operator ${op[1]} is not supported`);
    const w = this.peekWord();
    if (w === 'offset') this.fail('offset modifiers are not supported');
    if (w === 'and' || w === 'or' || w === 'unless') this.fail(`set operator ${w} is not supported`);
    if (rest.startsWith('@')) this.fail('@ modifiers are not supported');
    if (rest.startsWith('[')) this.fail('a range selector needs rate() or increase() around it');
    this.fail(`unexpected ${this.here()}`);
  }

  private binaryOp(ops: string): '+' | '-' | '*' | '/' | undefined {
    const c = this.peek();
    if (!ops.includes(c) || c === '') return undefined;
    if (!this.allowBinary) this.fail(`binary operator ${c} is not supported`);
    this.pos++;
    const w = this.peekWord();
    if (w === 'bool' || w === 'on' || w === 'ignoring') this.fail(`vector matching (${w}) is not supported`);
    return c as '+' | '-' | '*' | '/';
  }

  private additive(): SliExpression {
    let left = this.multiplicative();
    for (let op = this.binaryOp('+-'); op; op = this.binaryOp('+-')) left = { type: 'binary', op, left, right: this.multiplicative() };
    return left;
  }

  private multiplicative(): SliExpression {
    let left = this.unary();
    for (let op = this.binaryOp('*/'); op; op = this.binaryOp('*/')) left = { type: 'binary', op, left, right: this.unary() };
    return left;
  }

  private unary(): SliExpression {
    const c = this.peek();
    const start = this.pos;
    if (c === '(') {
      this.pos++;
      const inner = this.additive();
      this.expect(')', ')');
      if (this.peek() === '[') this.fail('subqueries are not supported');
      return inner;
    }
    if (/[0-9.]/.test(c)) {
      const m = /^(?:\d+(?:\.\d*)?|\.\d+)(?:e[+-]?\d+)?/i.exec(this.src.slice(this.pos));
      if (!m) this.fail(`unexpected ${this.here()}`);
      if (!this.allowBinary) this.fail(`number ${m[0]} is not a query; binary expressions are not supported`);
      this.pos += m[0].length;
      return { type: 'number', value: Number(m[0]) };
    }
    if (c === '-' || c === '+') this.fail(`unary ${c} is not supported`, start);
    return { type: 'query', query: this.term() };
  }

  /** A selector, rate/increase of one, or a sum of those. */
  private term(): SliQuery {
    const c = this.peek();
    const start = this.pos;
    if (c === '(') {
      this.pos++;
      const inner = this.term();
      this.expect(')', ')');
      return inner;
    }
    if (c === '{') return this.selector(undefined, start);
    const name = this.word();
    if (name === undefined) this.fail(`expected a metric name, sum(...), rate(...) or increase(...), got ${this.here()}`);
    const next = this.peek();
    const grouped = next === '(' || this.peekWord() === 'by' || this.peekWord() === 'without';
    if (name === 'sum' && grouped) return this.sum();
    if (aggregations.has(name) && grouped) this.fail(`aggregation ${name} is not supported (only sum)`, start);
    if ((name === 'rate' || name === 'increase') && next === '(') return this.rangeFunction(name);
    if ((name === 'histogram_count' || name === 'histogram_fraction') && next === '(') return this.histogramFunction(name, start);
    if (next === '(') this.fail(`function ${name}() is not supported (only sum, rate, increase, histogram_count and histogram_fraction)`, start);
    if (keywords.has(name)) this.fail(`unexpected keyword ${name}`, start);
    return this.selector(name, start);
  }

  private sum(): SliQuery {
    const before = this.grouping();
    this.expect('(', '( after sum');
    const inner = this.term();
    this.expect(')', ') closing sum(');
    const at = this.pos;
    if (this.grouping() && before) this.fail('sum has two grouping clauses', at);
    return inner;
  }

  /** `by (a, b)` / `without (a)`, if there; true when there was one. */
  private grouping(): boolean {
    const w = this.peekWord();
    if (w !== 'by' && w !== 'without') return false;
    this.word();
    this.expect('(', `( after ${w}`);
    if (this.accept(')')) return true;
    for (;;) {
      if (this.word(/^[A-Za-z_][A-Za-z0-9_]*/) === undefined) this.fail(`expected a label name in ${w}(...), got ${this.here()}`);
      if (this.accept(')')) return true;
      this.expect(',', `, or ) in ${w}(...)`);
      if (this.accept(')')) return true;
    }
  }

  /** `histogram_count(q)` / `histogram_fraction(lower, upper, q)` around a query of a native histogram. */
  private histogramFunction(name: 'histogram_count' | 'histogram_fraction', start: number): SliQuery {
    this.expect('(', '(');
    let fn: HistogramFunction = { fn: 'count' };
    if (name === 'histogram_fraction') {
      const lower = this.bound('lower');
      this.expect(',', `, after the lower bound of ${name}(`);
      const upper = this.bound('upper');
      this.expect(',', `, after the upper bound of ${name}(`);
      if (!(lower < upper)) this.fail(`${name}() needs lower < upper, got ${lower} and ${upper}`, start);
      fn = { fn: 'fraction', lower, upper };
    }
    const inner = this.term();
    this.expect(')', `) closing ${name}(`);
    if (inner.histogram) this.fail(`${name}() of a histogram function is not supported`, start);
    return { ...inner, histogram: fn };
  }

  /** A number literal, Inf, +Inf or -Inf. */
  private bound(what: string): number {
    this.skip();
    const m = /^([+-]?)(Inf|(?:\d+(?:\.\d*)?|\.\d+)(?:e[+-]?\d+)?)/i.exec(this.src.slice(this.pos));
    if (!m) this.fail(`expected the ${what} bound (a number or +Inf), got ${this.here()}`);
    this.pos += m[0].length;
    const v = (m[2] ?? '').toLowerCase() === 'inf' ? Infinity : Number(m[2]);
    return m[1] === '-' ? -v : v;
  }

  private rangeFunction(name: string): SliQuery {
    this.expect('(', '(');
    const start = this.pos;
    const c = this.peek();
    let metric: string | undefined;
    if (c !== '{') {
      metric = this.word();
      if (metric === undefined) this.fail(`${name}() needs a range selector like name{...}[5m], got ${this.here()}`);
      if (this.peek() === '(') this.fail(`${name}() needs a range selector like name{...}[5m], got ${metric}(...)`, start);
    }
    const query = this.selector(metric, start, name);
    this.expect(')', `) closing ${name}(`);
    return query;
  }

  /** `name{matchers}`; with `rangeOf`, followed by `[range]`. */
  private selector(name: string | undefined, start: number, rangeOf?: string): SliQuery {
    const matchers: LabelMatcher[] = [];
    if (this.accept('{')) {
      while (!this.accept('}')) {
        const label = this.word(/^[A-Za-z_][A-Za-z0-9_]*/);
        if (label === undefined) this.fail(`expected a label name, got ${this.here()}`);
        this.skip();
        const op = /^(=~|!~|!=|==|=)/.exec(this.src.slice(this.pos))?.[1];
        if (op === undefined || op === '==') this.fail(`expected =, !=, =~ or !~ after ${label}, got ${this.here()}`);
        this.pos += op.length;
        matchers.push({ label, op: op as MatchOp, value: this.string() });
        if (this.accept('}')) break;
        this.expect(',', ', or }');
      }
    }
    let metric = name;
    const names = matchers.filter((m) => m.label === '__name__');
    if (names.length > 0) {
      const [only] = names;
      if (metric !== undefined || names.length > 1 || only?.op !== '=') this.fail('__name__ must be matched once with = and without a metric name', start);
      metric = only.value;
    }
    if (metric === undefined) this.fail('a selector needs a metric name', start);
    if (rangeOf !== undefined) {
      this.expect('[', `a range like [5m] or [{{.window}}] in ${rangeOf}()`);
      this.skip();
      const rest = this.src.slice(this.pos);
      const range = templateRe.exec(rest) ?? durationRe.exec(rest);
      if (!range) this.fail(`expected a duration like 5m or {{.window}}, got ${this.here()}`);
      this.pos += range[0].length;
      if (this.peek() === ':') this.fail('subqueries are not supported');
      this.expect(']', ']');
    } else if (this.peek() === '[') {
      this.fail('a range selector needs rate() or increase() around it');
    }
    const w = this.peekWord();
    if (w === 'offset') this.fail('offset modifiers are not supported');
    if (this.peek() === '@') this.fail('@ modifiers are not supported');
    return { metric, matchers: matchers.filter((m) => m.label !== '__name__') };
  }

  /** A double-, single- or back-quoted string, Go escapes decoded. */
  private string(): string {
    const quote = this.peek();
    if (quote !== '"' && quote !== "'" && quote !== '`') this.fail(`expected a quoted value, got ${this.here()}`);
    const start = this.pos;
    this.pos++;
    let out = '';
    for (;;) {
      const c = this.src[this.pos];
      if (c === undefined) this.fail('unterminated string', start);
      this.pos++;
      if (c === quote) return out;
      if (c === '\n' && quote !== '`') this.fail('newline in string', start);
      if (c !== '\\' || quote === '`') {
        out += c;
        continue;
      }
      out += this.escape();
    }
  }

  private escape(): string {
    const at = this.pos - 1;
    const c = this.src[this.pos] ?? '';
    this.pos++;
    const simple: Record<string, string> = { a: '\x07', b: '\b', f: '\f', n: '\n', r: '\r', t: '\t', v: '\v', '\\': '\\', '"': '"', "'": "'" };
    const s = simple[c];
    if (s !== undefined) return s;
    const hex = (n: number): string => {
      const digits = this.src.slice(this.pos, this.pos + n);
      if (!new RegExp(`^[0-9a-fA-F]{${n}}$`).test(digits)) this.fail(`bad escape \\${c}${digits}`, at);
      this.pos += n;
      return String.fromCodePoint(parseInt(digits, 16));
    };
    if (c === 'x') return hex(2);
    if (c === 'u') return hex(4);
    if (c === 'U') return hex(8);
    const oct = this.src.slice(this.pos - 1, this.pos + 2);
    if (/^[0-7]{3}$/.test(oct)) {
      this.pos += 2;
      return String.fromCharCode(parseInt(oct, 8));
    }
    this.fail(`unknown escape \\${c} in a string (a regex backslash is written \\\\)`, at);
  }
}

function run<T>(fn: () => T): T | { error: string } {
  try {
    return fn();
  } catch (e) {
    if (e instanceof PromqlError) return { error: e.message };
    throw e;
  }
}

/** Parses a query that selects one metric (see the module comment); `{ error }` says what is not supported. */
export function parseSliQuery(query: string): SliQuery | { error: string } {
  return run(() => {
    const expr = new Parser(query, false).parse();
    if (expr.type !== 'query') throw new PromqlError('expected a query');
    return expr.query;
  });
}

/** Like `parseSliQuery`, also accepting numbers, parentheses and `+ - * /` between queries. */
export function parseSliExpression(query: string): SliExpression | { error: string } {
  return run(() => new Parser(query, true).parse());
}

export { otelAttribute, otelMetric } from './names.js';
export type { MetricPart, OtelMetric } from './names.js';

export { formatMatcher, literalAlternatives, statusClasses } from './matchers.js';
