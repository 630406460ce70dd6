/**
 * A strict reader of the small XML files the chart writes for ClickHouse (users.d): elements,
 * attributes, text, comments and an optional declaration; no DTD, CDATA or processing
 * instructions. It refuses what ClickHouse's parser (Poco) refuses and the chart could plausibly
 * produce: mismatched or unclosed tags, `--` inside a comment, a stray `<` or `&`.
 */
export interface XmlElement {
  name: string;
  attrs: Record<string, string>;
  children: XmlElement[];
  /** The element's own text (trimmed), without its children's. */
  text: string;
}

const NAME = /^[A-Za-z_][-A-Za-z0-9_.]*/;
const ENTITIES: Record<string, string> = { lt: '<', gt: '>', amp: '&', quot: '"', apos: "'" };

function decode(s: string, at: number): string {
  return s.replace(/&([a-z]+);|&/g, (all, name: string | undefined) => {
    if (name && name in ENTITIES) return ENTITIES[name]!;
    throw new Error(`XML: an unknown entity or a bare & near offset ${at}: ${all}`);
  });
}

export function parseXml(text: string): XmlElement {
  let i = 0;
  const fail = (why: string): never => {
    throw new Error(`XML: ${why} at offset ${i} (${JSON.stringify(text.slice(i, i + 40))})`);
  };
  const skipMisc = () => {
    for (;;) {
      const ws = /^\s*/.exec(text.slice(i))![0].length;
      i += ws;
      if (text.startsWith('<?xml', i)) {
        const end = text.indexOf('?>', i);
        if (end < 0) fail('an unclosed declaration');
        i = end + 2;
      } else if (text.startsWith('<!--', i)) {
        const end = text.indexOf('-->', i + 4);
        if (end < 0) fail('an unclosed comment');
        if (text.slice(i + 4, end).includes('--')) fail('"--" inside a comment');
        i = end + 3;
      } else return;
    }
  };
  const element = (): XmlElement => {
    if (text[i] !== '<') fail('"<" expected');
    i++;
    const name = NAME.exec(text.slice(i))?.[0] ?? fail('an element name expected');
    i += name.length;
    const attrs: Record<string, string> = {};
    for (;;) {
      i += /^\s*/.exec(text.slice(i))![0].length;
      if (text.startsWith('/>', i)) {
        i += 2;
        return { name, attrs, children: [], text: '' };
      }
      if (text[i] === '>') {
        i++;
        break;
      }
      const m =
        /^([A-Za-z_][-A-Za-z0-9_.:]*)\s*=\s*("([^"<]*)"|'([^'<]*)')/.exec(text.slice(i)) ??
        fail(`an attribute of <${name}> expected`);
      if (m[1]! in attrs) fail(`attribute ${m[1]} twice`);
      attrs[m[1]!] = decode(m[3] ?? m[4] ?? '', i);
      i += m[0].length;
    }
    const children: XmlElement[] = [];
    let own = '';
    for (;;) {
      const lt = text.indexOf('<', i);
      if (lt < 0) fail(`<${name}> is not closed`);
      own += decode(text.slice(i, lt), i);
      i = lt;
      if (text.startsWith('<!--', i)) {
        const end = text.indexOf('-->', i + 4);
        if (end < 0) fail('an unclosed comment');
        if (text.slice(i + 4, end).includes('--')) fail('"--" inside a comment');
        i = end + 3;
      } else if (text.startsWith('</', i)) {
        const close =
          new RegExp(`^</${name.replace(/\./g, '\\.')}\\s*>`).exec(text.slice(i)) ?? fail(`</${name}> expected`);
        i += close[0].length;
        return { name, attrs, children, text: own.trim() };
      } else children.push(element());
    }
  };
  skipMisc();
  const root = element();
  skipMisc();
  if (i !== text.length) fail('content after the root element');
  return root;
}

/** The children of `el` named `name`. */
export const childrenNamed = (el: XmlElement, name: string): XmlElement[] => el.children.filter((c) => c.name === name);

/** The one child of `el` named `name`; throws when there is none or several. */
export function child(el: XmlElement, name: string): XmlElement {
  const hits = childrenNamed(el, name);
  if (hits.length !== 1) throw new Error(`<${el.name}> has ${hits.length} <${name}> children, expected one`);
  return hits[0]!;
}

/** Serialises an element back to XML (attributes and text escaped), for writing a changed tree. */
export function serializeXml(el: XmlElement, indent = ''): string {
  const esc = (s: string) =>
    s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
  const attrs = Object.entries(el.attrs)
    .map(([k, v]) => ` ${k}="${esc(v)}"`)
    .join('');
  if (el.children.length === 0 && el.text === '') return `${indent}<${el.name}${attrs}/>\n`;
  if (el.children.length === 0) return `${indent}<${el.name}${attrs}>${esc(el.text)}</${el.name}>\n`;
  return `${indent}<${el.name}${attrs}>\n${el.children.map((c) => serializeXml(c, `${indent}  `)).join('')}${indent}</${el.name}>\n`;
}
