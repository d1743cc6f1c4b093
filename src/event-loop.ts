/**
 * Lets the event loop run between steps of a long synchronous loop: signal handlers (a stop
 * request) and I/O callbacks only run at a macrotask boundary, which an `await` of an already
 * settled promise is not.
 */
export const yieldToEventLoop = (): Promise<void> => new Promise<void>((r) => setImmediate(r));
