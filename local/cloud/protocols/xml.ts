/** A small XML writer for the Query, EC2 and REST-XML protocols. */

export function escapeXml(text: string): string {
  return text
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&apos;');
}

/**
 * Serialises a value as the children of an element. Arrays become repeated `listMember` elements (`member` for
 * Query, `item` for EC2), or the name that `listMemberOf(key)` gives; dates become ISO 8601; `undefined` is left out.
 */
export function toXml(
  value: unknown,
  options: { listMember: string; listMemberOf?: (key: string) => string | undefined },
): string {
  const write = (key: string, item: unknown): string => {
    if (item === undefined || item === null) return '';
    if (Array.isArray(item)) {
      const member = options.listMemberOf?.(key) ?? options.listMember;
      return `<${key}>${item.map((entry) => write(member, entry)).join('')}</${key}>`;
    }
    return `<${key}>${body(item)}</${key}>`;
  };
  const body = (item: unknown): string => {
    if (item instanceof Date) return item.toISOString();
    if (typeof item === 'object' && item !== null) {
      return Object.entries(item)
        .map(([key, entry]) => write(key, entry))
        .join('');
    }
    return escapeXml(String(item));
  };
  return body(value);
}
