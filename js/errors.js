// One error class for the whole package: a stable `code` and, for input errors, the JSON
// `path` of the field at fault.
export class LoyaltyError extends Error {
  constructor(code, path, message) {
    super(path ? `${path}: ${message}` : message);
    this.name = 'LoyaltyError';
    this.code = code;
    this.path = path ?? '';
  }
}

// The wasm boundary throws Errors whose message is {"code","path","message"} JSON.
export function fromWasm(err) {
  if (!(err instanceof Error)) return err;
  try {
    const { code, path, message } = JSON.parse(err.message);
    return new LoyaltyError(code, path, message);
  } catch {
    return err;
  }
}
