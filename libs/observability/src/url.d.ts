// URL is a global of every JavaScript runtime (Node, browsers) but of no `lib` a pure ES2022
// library includes; declare just what the readers use.
declare class URL {
  constructor(input: string);
  readonly protocol: string;
  readonly hostname: string;
  readonly port: string;
}
