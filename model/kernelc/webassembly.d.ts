/**
 * The part of the WebAssembly JS API that kernel mode uses. Node 20 has it at run time, but
 * @types/node 20 leaves its types to the DOM library, which this project does not load.
 */
declare global {
  namespace WebAssembly {
    type Exports = Record<string, unknown>;
    type Imports = Record<string, Record<string, unknown>>;
    class Module {
      constructor(bytes: Uint8Array);
      static imports(module: Module): { module: string; name: string; kind: string }[];
      static exports(module: Module): { name: string; kind: string }[];
    }
    class Instance {
      constructor(module: Module, imports?: Imports);
      readonly exports: Exports;
    }
    class Memory {
      readonly buffer: ArrayBuffer;
    }
    class CompileError extends Error {}
    class LinkError extends Error {}
    class RuntimeError extends Error {}
  }
}

export {};
