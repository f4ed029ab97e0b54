// The classic script's own element and URL, read while it runs (the bundle
// resolves `import.meta.url` to `scriptUrl`, so the worker and worklet
// files are found beside it).
export const scriptElement = document.currentScript;
export const scriptUrl = scriptElement?.src ?? globalThis.location.href;
