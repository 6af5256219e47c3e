// Bundlers for edge runtimes (workerd, wrangler, esbuild with a wasm loader) import .wasm files as compiled modules.
declare module '*.wasm' {
  const module: WebAssembly.Module;
  export default module;
}
