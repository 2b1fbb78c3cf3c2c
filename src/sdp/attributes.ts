/**
 * Reading and editing a= lines by name, at session or media level (RFC 8866 §5.13: "a=<attribute-name>"
 * or "a=<attribute-name>:<attribute-value>"). Names compare case-sensitively as written
 * (`rtpmap`, `ice-ufrag`); the helpers edit the section in place and keep every other line.
 */
import type { SdpLine, SdpSection } from './session-description.js';

/** An attribute line split at its first colon: `rtpmap:0 PCMU/8000` → name `rtpmap`, value `0 PCMU/8000`. */
export interface SdpAttribute {
  readonly name: string;
  /** undefined for a property attribute (`a=rtcp-mux`). */
  readonly value: string | undefined;
}

export function splitAttribute(line: string): SdpAttribute {
  const colon = line.indexOf(':');
  return colon < 0 ? { name: line, value: undefined } : { name: line.slice(0, colon), value: line.slice(colon + 1) };
}

function isNamed(line: SdpLine, name: string): boolean {
  if (line.type !== 'a' || !line.value.startsWith(name)) return false;
  return line.value.length === name.length || line.value.charCodeAt(name.length) === 0x3a;
}

/** Every attribute of the section, in order. */
export function attributesOf(section: SdpSection): SdpAttribute[] {
  const out: SdpAttribute[] = [];
  for (const line of section.lines) if (line.type === 'a') out.push(splitAttribute(line.value));
  return out;
}

/** The values of every `a=<name>` line (an empty string for a property attribute), in order. */
export function getAttributes(section: SdpSection, name: string): string[] {
  const out: string[] = [];
  for (const line of section.lines) if (isNamed(line, name)) out.push(line.value.slice(name.length + 1));
  return out;
}

/** The value of the first `a=<name>` line ('' for a property attribute); undefined when there is none. */
export function getAttribute(section: SdpSection, name: string): string | undefined {
  for (const line of section.lines) if (isNamed(line, name)) return line.value.slice(name.length + 1);
  return undefined;
}

export function hasAttribute(section: SdpSection, name: string): boolean {
  return section.lines.some((line) => isNamed(line, name));
}

function attributeLine(name: string, value: string | undefined): SdpLine {
  return { type: 'a', value: value === undefined ? name : `${name}:${value}` };
}

/** Append `a=<name>[:<value>]` after the section's last line. */
export function addAttribute(section: SdpSection, name: string, value?: string): void {
  section.lines.push(attributeLine(name, value));
}

/** Remove every `a=<name>` line; returns how many went. */
export function removeAttributes(section: SdpSection, name: string): number {
  const before = section.lines.length;
  section.lines = section.lines.filter((line) => !isNamed(line, name));
  return before - section.lines.length;
}

/**
 * Set the one `a=<name>` line: the first is replaced in its place and any others removed; when
 * there was none, it is appended.
 */
export function setAttribute(section: SdpSection, name: string, value?: string): void {
  const index = section.lines.findIndex((line) => isNamed(line, name));
  if (index < 0) {
    section.lines.push(attributeLine(name, value));
    return;
  }
  const kept = section.lines.filter((line, i) => i === index || !isNamed(line, name));
  kept[kept.indexOf(section.lines[index]!)] = attributeLine(name, value);
  section.lines = kept;
}

/** The `a=<name>` values whose first field is `key` (`a=rtpmap:<pt> ...`, `a=fmtp:<pt> ...`): the rest after the space. */
export function getKeyedAttribute(section: SdpSection, name: string, key: string): string | undefined {
  for (const value of getAttributes(section, name)) {
    const space = value.indexOf(' ');
    const head = space < 0 ? value : value.slice(0, space);
    if (head === key) return space < 0 ? '' : value.slice(space + 1);
  }
  return undefined;
}
