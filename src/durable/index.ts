/** The durability layer: group commit over the synchronous core. */
export { DurableLog, type DurableLogOptions, type DurableLogStats } from './durable-log.js';
export { LogWriteFailedError } from './errors.js';
