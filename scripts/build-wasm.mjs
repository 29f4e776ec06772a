// Compiles the AssemblyScript kernels (assembly/) to WebAssembly in build/. Filled in by the kernel layer.
console.log('build-wasm: no kernels yet');
