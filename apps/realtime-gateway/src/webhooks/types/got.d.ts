/**
 * got 14 publishes its types only through package.json `exports`, which the repo's
 * `moduleResolution: "node"` does not read; at run time Node 20.20 `require()`s the ESM
 * package fine. This points the compiler at the same declarations by path. It can go
 * once the app's tsconfig uses `moduleResolution: "node16"` (or "bundler").
 */
declare module 'got' {
  export * from 'got/dist/source/index';
  export { default } from 'got/dist/source/index';
}
