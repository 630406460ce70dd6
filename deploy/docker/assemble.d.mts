/** Types of assemble.mjs (the runtime tree of an image; see the file). */
export function workspaceDirs(root: string): string[];
export function copyManifests(root: string, out: string): void;
export function runtimeClosure(root: string, dir: string): string[];
export function assembleApp(root: string, app: string, out: string): string;
