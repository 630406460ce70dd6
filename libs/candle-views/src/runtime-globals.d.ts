// The Encoding API, which every JavaScript runtime we target (Node, browsers) has and no `lib` of a
// pure ES2022 library declares; only what this library uses.
declare class TextEncoder {
  encode(input: string): Uint8Array;
  encodeInto(source: string, destination: Uint8Array): { read: number; written: number };
}

declare class TextDecoder {
  decode(input?: Uint8Array): string;
}
